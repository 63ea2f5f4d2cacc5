"""Management API: the space itself and its keys."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from xtracker.db.engine import session_scope
from xtracker.key.service import key_service
from xtracker.space import schemas
from xtracker.space.access import SpaceAccess, runtime_of, space_access
from xtracker.space.service import space_service

router = APIRouter(prefix="/api/spaces/{space}", tags=["spaces"])


@router.get("", response_model=schemas.Space, summary="The space")
async def get_space(access: SpaceAccess = Depends(space_access)) -> schemas.Space:
    return schemas.Space.model_validate(access.space)


@router.patch("", response_model=schemas.Space, summary="Edit name, timezone or currency")
async def update_space(
    data: schemas.SpaceUpdate, request: Request, access: SpaceAccess = Depends(space_access)
) -> schemas.Space:
    access.require_owner()
    async with session_scope(runtime_of(request).sessions) as session:
        space = await space_service.get(session, access.space.id)
        await space_service.update(session, space, data)
    return schemas.Space.model_validate(space)


@router.post(
    "/keys/rotate",
    response_model=schemas.KeyRotated,
    summary="Rotate the Bearer secret or the ingest token (the old one works 24 h more)",
)
async def rotate_key(
    data: schemas.KeyRotate, request: Request, access: SpaceAccess = Depends(space_access)
) -> schemas.KeyRotated:
    access.require_owner()
    rt = runtime_of(request)
    grace_ms = int(rt.settings.key_grace_hours * 3600 * 1000)
    async with session_scope(rt.sessions) as session:
        secret, until = await key_service.rotate(
            session, access.space.id, data.kind, rt.clock.now_ms(), grace_ms
        )
    return schemas.KeyRotated(kind=data.kind, secret=secret, previous_valid_until_ms=until)
