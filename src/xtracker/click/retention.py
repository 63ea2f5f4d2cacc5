"""Retention for raw clicks: rows older than ``XTRACKER_CLICK_RETENTION_DAYS`` are deleted.

Reports read the rollups, which keep their numbers; events keep their attribution
(``link_id`` is on the event). 0 days keeps clicks forever (the default).
"""

from __future__ import annotations

from xtracker.ops.retention import DAY_MS, delete_in_chunks, install_hourly
from xtracker.runtime import Runtime

__all__ = ["DAY_MS", "install", "prune_clicks"]

_DELETE = "DELETE FROM click WHERE uid IN (SELECT uid FROM click WHERE ts_ms < ? LIMIT ?)"
_COUNT_OLD = "SELECT count(*) FROM click WHERE ts_ms < ?"


async def prune_clicks(runtime: Runtime, retention_days: int) -> int:
    """Delete clicks older than the retention window, in small transactions; returns how many."""
    if retention_days <= 0:
        return 0
    cutoff = runtime.clock.now_ms() - retention_days * DAY_MS
    return await delete_in_chunks(runtime, _COUNT_OLD, _DELETE, (cutoff,))


async def install(runtime: Runtime, role: str) -> None:
    install_hourly(runtime, role, name="click.retention", prune=prune_clicks, rows="clicks",
                   days=runtime.settings.click_retention_days)  # fmt: skip
