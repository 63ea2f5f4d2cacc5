"""Management API: links."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response

from xtracker.db.engine import session_scope
from xtracker.link import schemas
from xtracker.link.service import link_service, to_schema
from xtracker.space.access import SpaceAccess, runtime_of, space_access

router = APIRouter(prefix="/api/spaces/{space}/links", tags=["links"])


@router.get("", response_model=list[schemas.Link], summary="List links")
async def list_links(
    request: Request, access: SpaceAccess = Depends(space_access)
) -> list[schemas.Link]:
    rt = runtime_of(request)
    async with session_scope(rt.sessions) as session:
        links = await link_service.list(session, access.space.id)
    return [to_schema(link, rt.settings.public_url) for link in links]


@router.post("", response_model=schemas.Link, status_code=201, summary="Create a link")
async def create_link(
    data: schemas.LinkCreate, request: Request, access: SpaceAccess = Depends(space_access)
) -> schemas.Link:
    access.require_owner()
    rt = runtime_of(request)
    async with session_scope(rt.sessions) as session:
        link = await link_service.create(session, access.space.id, data, rt.clock.now_ms())
    return to_schema(link, rt.settings.public_url)


@router.get("/{slug}", response_model=schemas.Link, summary="One link")
async def get_link(
    slug: str, request: Request, access: SpaceAccess = Depends(space_access)
) -> schemas.Link:
    rt = runtime_of(request)
    async with session_scope(rt.sessions) as session:
        link = await link_service.get(session, access.space.id, slug)
    return to_schema(link, rt.settings.public_url)


@router.patch("/{slug}", response_model=schemas.Link, summary="Edit a link")
async def update_link(
    slug: str,
    data: schemas.LinkUpdate,
    request: Request,
    access: SpaceAccess = Depends(space_access),
) -> schemas.Link:
    access.require_owner()
    rt = runtime_of(request)
    async with session_scope(rt.sessions) as session:
        link = await link_service.get(session, access.space.id, slug)
        await link_service.update(session, link, data, rt.clock.now_ms())
    rt.links.forget(slug)
    return to_schema(link, rt.settings.public_url)


@router.delete("/{slug}", status_code=204, summary="Delete a link (its clicks stay)")
async def delete_link(
    slug: str, request: Request, access: SpaceAccess = Depends(space_access)
) -> Response:
    access.require_owner()
    rt = runtime_of(request)
    async with session_scope(rt.sessions) as session:
        link = await link_service.get(session, access.space.id, slug)
        await link_service.delete(session, link)
    rt.links.forget(slug)
    return Response(status_code=204)
