"""Bind is a compare-and-set: the first tg_id wins, the same again is a safe retry.

Binding back-fills the space's events that came with only this tg_id: they get the uid
(and the click's link) but keep their dedup key.
"""

from __future__ import annotations

from typing import Any

from xtracker.db.dialect import Tx
from xtracker.errors import AlreadyBound
from xtracker.report.rollup import SELECT_CLICK_DIMS, move_events

INSERT_BINDING = (
    "INSERT INTO binding (space_id, uid, tg_id, created_at_ms) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (space_id, uid) DO NOTHING"
)
SELECT_BINDING = "SELECT tg_id FROM binding WHERE space_id = ? AND uid = ?"
BACKFILL_EVENTS = (
    "UPDATE event_inbox SET uid = ?, link_id = ? WHERE space_id = ? AND tg_id = ? AND uid IS NULL"
)


def bind_job(space_id: str, uid: str, tg_id: int, now_ms: int) -> Any:
    async def job(tx: Tx) -> dict[str, Any]:
        await tx.execute(INSERT_BINDING, (space_id, uid, tg_id, now_ms))
        row = await tx.fetchone(SELECT_BINDING, (space_id, uid))
        assert row is not None
        if row[0] != tg_id:
            raise AlreadyBound(f"uid {uid} is already bound to another tg_id", field="tg_id")
        click = await tx.fetchone(SELECT_CLICK_DIMS, (uid, space_id))
        link_id = click[0] if click else None
        await move_events(tx, space_id, tg_id, click)  # report rollups follow the back-fill
        await tx.execute(BACKFILL_EVENTS, (uid, link_id, space_id, tg_id))
        return {"ok": True, "matched": click is not None}

    return job
