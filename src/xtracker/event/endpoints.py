"""Management API: events and conflicts."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request

from xtracker.db.engine import session_scope
from xtracker.event import schemas
from xtracker.event.service import event_service
from xtracker.space.access import SpaceAccess, runtime_of, space_access

router = APIRouter(prefix="/api/spaces/{space}", tags=["events"])


@router.get("/events", response_model=list[schemas.Event], summary="Look events up, newest first")
async def list_events(
    request: Request,
    access: SpaceAccess = Depends(space_access),
    uid: str | None = None,
    event: str | None = None,
    tg_id: int | None = None,
    before_ms: int | None = None,
    limit: int = Query(default=100, ge=1, le=1000),
) -> list[schemas.Event]:
    async with session_scope(runtime_of(request).sessions) as session:
        return await event_service.list(
            session, access.space.id, uid=uid, event=event, tg_id=tg_id, before_ms=before_ms,
            limit=limit,
        )  # fmt: skip


@router.get(
    "/conflicts",
    response_model=list[schemas.Conflict],
    summary="Duplicates whose amount or currency differed from the first",
)
async def list_conflicts(
    request: Request,
    access: SpaceAccess = Depends(space_access),
    limit: int = Query(default=100, ge=1, le=1000),
) -> list[schemas.Conflict]:
    async with session_scope(runtime_of(request).sessions) as session:
        return await event_service.conflicts(session, access.space.id, limit)
