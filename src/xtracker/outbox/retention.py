"""Retention for delivery attempts: rows older than ``XTRACKER_ATTEMPT_RETENTION_DAYS``
(90 by default) are deleted, space by space along the ``(space_id, at_ms)`` index.

Every event → destination row keeps its status, attempt count and last error, so a
delivery's outcome stays visible; only the per-attempt history of old deliveries goes.
Every dashboard preset (up to 30 days) keeps its latency and success figures.
"""

from __future__ import annotations

from xtracker.ops.retention import DAY_MS, delete_in_chunks, install_hourly
from xtracker.runtime import Runtime

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
        deleted += await delete_in_chunks(runtime, _COUNT_OLD, _DELETE, (space_id, cutoff))
    return deleted


async def install(runtime: Runtime, role: str) -> None:
    install_hourly(runtime, role, name="delivery.attempt_retention", prune=prune_attempts,
                   rows="delivery attempts", days=runtime.settings.attempt_retention_days)  # fmt: skip
