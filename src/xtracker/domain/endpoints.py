"""Management API: a space's custom landing domains."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response

from xtracker.db.engine import session_scope
from xtracker.domain import schemas
from xtracker.domain.service import domain_service, to_schema
from xtracker.domain.tasks import checker_for, forget_routes
from xtracker.space.access import SpaceAccess, runtime_of, space_access

router = APIRouter(prefix="/api/spaces/{space}/domains", tags=["domains"])


@router.get("", response_model=list[schemas.Domain], summary="List custom domains")
async def list_domains(
    request: Request, access: SpaceAccess = Depends(space_access)
) -> list[schemas.Domain]:
    rt = runtime_of(request)
    async with session_scope(rt.sessions) as session:
        return await domain_service.views(session, access.space.id, rt.settings)


@router.post(
    "",
    response_model=schemas.Domain,
    status_code=201,
    summary="Add a domain (then create the CNAME it shows; it is checked right away)",
)
async def add_domain(
    data: schemas.DomainCreate, request: Request, access: SpaceAccess = Depends(space_access)
) -> schemas.Domain:
    access.require_owner()
    rt = runtime_of(request)
    async with session_scope(rt.sessions) as session:
        domain = await domain_service.add(
            session, access.space.id, data.hostname, rt.settings, rt.clock.now_ms()
        )
    if data.check:
        async with session_scope(rt.sessions) as session:
            domain = await domain_service.get(session, access.space.id, domain.hostname)
            await domain_service.check(
                session, domain, checker_for(rt), rt.settings, rt.clock.now_ms()
            )
    forget_routes(rt)
    return to_schema(domain, rt.settings)


@router.get("/{hostname}", response_model=schemas.Domain, summary="One domain")
async def get_domain(
    hostname: str, request: Request, access: SpaceAccess = Depends(space_access)
) -> schemas.Domain:
    rt = runtime_of(request)
    async with session_scope(rt.sessions) as session:
        domain = await domain_service.get(session, access.space.id, hostname)
    return to_schema(domain, rt.settings)


@router.post("/{hostname}/check", response_model=schemas.Domain, summary="Check DNS now")
async def check_domain(
    hostname: str, request: Request, access: SpaceAccess = Depends(space_access)
) -> schemas.Domain:
    access.require_owner()
    rt = runtime_of(request)
    async with session_scope(rt.sessions) as session:
        domain = await domain_service.get(session, access.space.id, hostname)
        await domain_service.check(session, domain, checker_for(rt), rt.settings, rt.clock.now_ms())
    forget_routes(rt)
    return to_schema(domain, rt.settings)


@router.delete("/{hostname}", status_code=204, summary="Remove a domain (404 there at once)")
async def remove_domain(
    hostname: str, request: Request, access: SpaceAccess = Depends(space_access)
) -> Response:
    access.require_owner()
    rt = runtime_of(request)
    async with session_scope(rt.sessions) as session:
        domain = await domain_service.get(session, access.space.id, hostname)
        await domain_service.remove(session, domain)
    forget_routes(rt)
    return Response(status_code=204)
