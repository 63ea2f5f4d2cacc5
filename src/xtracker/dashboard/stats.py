"""Per-link numbers for the links screens, from the report module (never computed here)."""

from __future__ import annotations

from xtracker.db.engine import session_scope
from xtracker.report import service as reports
from xtracker.report.schemas import AttributionRow

from .common import SpacePage

LINK_STATS_PRESET = "30d"
LINK_STATS_NOTE = "Clicks, deposits and revenue of the last 30 days in the space's timezone."


async def link_totals(sp: SpacePage) -> dict[str, AttributionRow]:
    """link id → its attribution row (clicks, each event, revenue, EPC) for the last 30 days."""
    async with session_scope(sp.rt.sessions) as session:
        f = await reports.make_filter(
            session, sp.space, now_ms=sp.rt.clock.now_ms(), preset=LINK_STATS_PRESET
        )
        report = await reports.attribution(session, f, group_by="link")
    return {row.link_id: row for row in report.rows if row.link_id}
