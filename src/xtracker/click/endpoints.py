"""Management API: clicks."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request

from xtracker.click import schemas
from xtracker.click.service import click_service
from xtracker.db.engine import session_scope
from xtracker.space.access import SpaceAccess, runtime_of, space_access

router = APIRouter(prefix="/api/spaces/{space}", tags=["clicks"])


@router.get("/clicks", response_model=list[schemas.Click], summary="Look clicks up, newest first")
async def list_clicks(
    request: Request,
    access: SpaceAccess = Depends(space_access),
    link: str | None = None,
    uid: str | None = None,
    before_ms: int | None = None,
    limit: int = Query(default=100, ge=1, le=1000),
) -> list[schemas.Click]:
    async with session_scope(runtime_of(request).sessions) as session:
        return await click_service.list(
            session, access.space.id, link_slug=link, uid=uid, before_ms=before_ms, limit=limit
        )
