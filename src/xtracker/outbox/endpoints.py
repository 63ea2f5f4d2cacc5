"""Management API: deliveries (the outbox), their attempts, and replay."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request

from xtracker.db.engine import session_scope
from xtracker.outbox import schemas
from xtracker.outbox.service import outbox_service
from xtracker.space.access import SpaceAccess, runtime_of, space_access

router = APIRouter(prefix="/api/spaces/{space}/deliveries", tags=["deliveries"])


@router.get("", response_model=list[schemas.Delivery], summary="List deliveries, newest first")
async def list_deliveries(
    request: Request,
    access: SpaceAccess = Depends(space_access),
    status: str | None = Query(None, description=" | ".join(schemas.STATUSES)),
    destination: str | None = Query(None, description="destination id"),
    event: str | None = Query(None, description="canonical event or mapped name"),
    limit: int = Query(100, ge=1, le=1000),
) -> list[schemas.Delivery]:
    rt = runtime_of(request)
    async with session_scope(rt.sessions) as session:
        return await outbox_service.list(
            session, access.space.id, status=status, destination_id=destination, event=event,
            limit=limit,
        )  # fmt: skip


@router.post(
    "/replay", response_model=schemas.ReplayResult,
    summary="Replay every failed_permanently delivery (optionally of one destination)",
)  # fmt: skip
async def replay_failed(
    request: Request,
    access: SpaceAccess = Depends(space_access),
    destination: str | None = Query(None, description="destination id"),
) -> schemas.ReplayResult:
    access.require_owner()
    rt = runtime_of(request)
    async with session_scope(rt.sessions) as session:
        count = await outbox_service.replay_failed(
            session, access.space.id, rt.clock.now_ms(), destination
        )
    return schemas.ReplayResult(replayed=count)


@router.get(
    "/{delivery_id}", response_model=schemas.DeliveryDetail, summary="One delivery with attempts"
)
async def get_delivery(
    delivery_id: str, request: Request, access: SpaceAccess = Depends(space_access)
) -> schemas.DeliveryDetail:
    rt = runtime_of(request)
    async with session_scope(rt.sessions) as session:
        return await outbox_service.show(session, access.space.id, delivery_id)


@router.post(
    "/{delivery_id}/replay", response_model=schemas.DeliveryDetail,
    summary="Replay a failed_permanently delivery (same event_id)",
)  # fmt: skip
async def replay_delivery(
    delivery_id: str, request: Request, access: SpaceAccess = Depends(space_access)
) -> schemas.DeliveryDetail:
    access.require_owner()
    rt = runtime_of(request)
    async with session_scope(rt.sessions) as session:
        return await outbox_service.replay(session, access.space.id, delivery_id, rt.clock.now_ms())
