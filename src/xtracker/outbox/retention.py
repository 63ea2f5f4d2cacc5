"""Retention for delivery attempts: rows older than ``XTRACKER_ATTEMPT_RETENTION_DAYS``
(90 by default) are deleted, space by space along the ``(space_id, at_ms)`` index.

Every event → destination row keeps its status, attempt count and last error, so a
delivery's outcome stays visible; only the per-attempt history of old deliveries goes.
Every dashboard preset (up to 30 days) keeps its latency and success figures.
"""

from __future__ import annotations

import asyncio
import logging

from xtracker.db.dialect import Tx
from xtracker.runtime import Runtime

log = logging.getLogger("xtracker.retention")
DAY_MS = 24 * 3600 * 1000
CHUNK = 5000
_SPACES = "SELECT id FROM space"
_DELETE = (
    "DELETE FROM delivery_attempt WHERE id IN (SELECT id FROM delivery_attempt"
    " WHERE space_id = ? AND at_ms < ? LIMIT ?)"
)
_COUNT_OLD = "SELECT count(*) FROM delivery_attempt WHERE space_id = ? AND at_ms < ?"


async def prune_attempts(runtime: Runtime, retention_days: int) -> int:
    """Delete attempts older than the window, in small transactions; returns how many."""
    if retention_days <= 0:
        return 0
    cutoff = runtime.clock.now_ms() - retention_days * DAY_MS
    async with runtime.backend.reader() as tx:
        spaces = [str(row[0]) for row in await tx.fetchall(_SPACES)]
    deleted = 0
    for space_id in spaces:
        while True:
            async with runtime.backend.reader() as tx:
                row = await tx.fetchone(_COUNT_OLD, (space_id, cutoff))
            remaining = int(row[0]) if row else 0
            if remaining == 0:
                break

            async def job(tx: Tx, space_id: str = space_id) -> None:
                await tx.execute(_DELETE, (space_id, cutoff, CHUNK))

            await runtime.committer.run(job)
            deleted += min(remaining, CHUNK)
    return deleted


async def install(runtime: Runtime, role: str) -> None:
    settings = runtime.settings
    if settings.attempt_retention_days <= 0:
        return
    if role != "worker" and not settings.run_worker_in_serve:
        return

    async def loop() -> None:
        while True:
            removed = await prune_attempts(runtime, settings.attempt_retention_days)
            if removed:
                log.info("retention: deleted %d delivery attempts older than %d days", removed,
                         settings.attempt_retention_days)  # fmt: skip
            await asyncio.sleep(3600)

    runtime.start_background("delivery.attempt_retention", loop)
