"""Management API: alert rules, channels, and the alerts panel."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request, Response

from xtracker.alert import schemas
from xtracker.alert.service import alert_service
from xtracker.db.engine import session_scope
from xtracker.space.access import SpaceAccess, runtime_of, space_access

router = APIRouter(prefix="/api/spaces/{space}/alerts", tags=["alerts"])


@router.get("", response_model=schemas.AlertList, summary="Firing and pending alerts, history")
async def list_alerts(
    request: Request,
    access: SpaceAccess = Depends(space_access),
    history: int = Query(50, ge=0, le=500, description="how many resolved alerts"),
) -> schemas.AlertList:
    rt = runtime_of(request)
    async with session_scope(rt.sessions) as session:
        return await alert_service.overview(session, access.space, rt.settings.public_url, history)


@router.get("/rules", response_model=list[schemas.Rule], summary="The rules and thresholds")
async def list_rules(
    request: Request, access: SpaceAccess = Depends(space_access)
) -> list[schemas.Rule]:
    async with session_scope(runtime_of(request).sessions) as session:
        return await alert_service.rules(session, access.space.id)


@router.patch(
    "/rules/{kind}", response_model=schemas.Rule, summary="Turn a rule on or off, tune it"
)
async def update_rule(
    kind: str, data: schemas.RuleUpdate, request: Request,
    access: SpaceAccess = Depends(space_access),
) -> schemas.Rule:  # fmt: skip
    access.require_owner()
    rt = runtime_of(request)
    async with session_scope(rt.sessions) as session:
        return await alert_service.update_rule(
            session, access.space.id, kind, data, rt.clock.now_ms()
        )


@router.get("/channels", response_model=list[schemas.Channel], summary="Where alerts go")
async def list_channels(
    request: Request, access: SpaceAccess = Depends(space_access)
) -> list[schemas.Channel]:
    async with session_scope(runtime_of(request).sessions) as session:
        return await alert_service.channels(session, access.space.id)


@router.post(
    "/channels",
    response_model=schemas.ChannelCreated,
    status_code=201,
    summary="Add a webhook (its whsec_ secret is shown once) or a Telegram chat",
)
async def add_channel(
    data: schemas.ChannelCreate, request: Request, access: SpaceAccess = Depends(space_access)
) -> schemas.ChannelCreated:
    access.require_owner()
    rt = runtime_of(request)
    async with session_scope(rt.sessions) as session:
        return await alert_service.add_channel(
            session, access.space.id, data, rt.secrets, rt.settings, rt.clock.now_ms()
        )


@router.delete("/channels/{channel_id}", status_code=204, summary="Remove a channel")
async def remove_channel(
    channel_id: str, request: Request, access: SpaceAccess = Depends(space_access)
) -> Response:
    access.require_owner()
    async with session_scope(runtime_of(request).sessions) as session:
        await alert_service.remove_channel(session, access.space.id, channel_id)
    return Response(status_code=204)
