"""Retention for raw clicks: rows older than ``XTRACKER_CLICK_RETENTION_DAYS`` are deleted.

Reports read the rollups, which keep their numbers; events keep their attribution
(``link_id`` is on the event). 0 days keeps clicks forever (the default).
"""

from __future__ import annotations

import asyncio
import logging

from xtracker.db.dialect import Tx
from xtracker.runtime import Runtime

log = logging.getLogger("xtracker.retention")
DAY_MS = 24 * 3600 * 1000
CHUNK = 5000
_DELETE = "DELETE FROM click WHERE uid IN (SELECT uid FROM click WHERE ts_ms < ? LIMIT ?)"
_COUNT_OLD = "SELECT count(*) FROM click WHERE ts_ms < ?"


async def prune_clicks(runtime: Runtime, retention_days: int) -> int:
    """Delete clicks older than the retention window, in small transactions; returns how many."""
    if retention_days <= 0:
        return 0
    cutoff = runtime.clock.now_ms() - retention_days * DAY_MS
    deleted = 0
    while True:
        async with runtime.backend.reader() as tx:
            row = await tx.fetchone(_COUNT_OLD, (cutoff,))
        remaining = int(row[0]) if row else 0
        if remaining == 0:
            return deleted

        async def job(tx: Tx) -> None:
            await tx.execute(_DELETE, (cutoff, CHUNK))

        await runtime.committer.run(job)
        deleted += min(remaining, CHUNK)


async def install(runtime: Runtime, role: str) -> None:
    settings = runtime.settings
    if settings.click_retention_days <= 0:
        return
    if role != "worker" and not settings.run_worker_in_serve:
        return

    async def loop() -> None:
        while True:
            removed = await prune_clicks(runtime, settings.click_retention_days)
            if removed:
                log.info("retention: deleted %d clicks older than %d days", removed,
                         settings.click_retention_days)  # fmt: skip
            await asyncio.sleep(3600)

    runtime.start_background("click.retention", loop)
