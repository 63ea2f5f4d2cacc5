"""Management API for a signed-in user: the spaces they belong to, and creating one."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response

from xtracker.db.engine import session_scope
from xtracker.errors import MissingCredentials
from xtracker.space import schemas as space_schemas
from xtracker.space.access import SpaceAccess, space_access
from xtracker.space.service import space_service
from xtracker.user.access import CSRF_HEADER, check_csrf, current_user, runtime_of
from xtracker.user.schemas import Member, MemberSet, MemberSpace
from xtracker.user.service import OWNER, user_service

router = APIRouter(prefix="/api/spaces", tags=["spaces"])


@router.get("", response_model=list[MemberSpace], summary="The spaces you are a member of")
async def list_my_spaces(request: Request) -> list[MemberSpace]:
    user = await current_user(request)
    if user is None:
        raise MissingCredentials("sign in to the dashboard to list your spaces")
    rt = runtime_of(request)
    async with session_scope(rt.sessions) as session:
        rows = await user_service.spaces_of(session, user.id)
    return [
        MemberSpace(space=space_schemas.Space.model_validate(space), role=role)
        for space, role in rows
    ]


@router.post(
    "",
    response_model=space_schemas.SpaceCreated,
    status_code=201,
    summary="Create a space (signed-in users; you become its owner)",
)
async def create_space(
    data: space_schemas.SpaceCreate, request: Request
) -> space_schemas.SpaceCreated:
    user = await current_user(request)
    if user is None:
        raise MissingCredentials("sign in to the dashboard to create spaces")
    check_csrf(request, request.headers.get(CSRF_HEADER))
    rt = runtime_of(request)
    now = rt.clock.now_ms()
    async with session_scope(rt.sessions) as session:
        space, bearer, ingest = await space_service.create(session, data, now)
        await user_service.grant(session, user, space, OWNER, now)
    return space_schemas.SpaceCreated(
        space=space_schemas.Space.model_validate(space), bearer=bearer, ingest_token=ingest
    )


async def _members(request: Request, space_id: str) -> list[Member]:
    rt = runtime_of(request)
    async with session_scope(rt.sessions) as session:
        rows = await user_service.members_of(session, space_id)
    return [Member(email=user.email, role=role, since_ms=since) for user, role, since in rows]


@router.get("/{space}/members", response_model=list[Member], summary="Who can see this space")
async def list_members(
    request: Request, access: SpaceAccess = Depends(space_access)
) -> list[Member]:
    return await _members(request, access.space.id)


@router.put(
    "/{space}/members",
    response_model=list[Member],
    summary="Give an existing user a role in this space (owner or viewer)",
)
async def set_member(
    data: MemberSet, request: Request, access: SpaceAccess = Depends(space_access)
) -> list[Member]:
    access.require_owner()
    rt = runtime_of(request)
    async with session_scope(rt.sessions) as session:
        await user_service.set_member(
            session, access.space, data.email, data.role, rt.clock.now_ms()
        )
    return await _members(request, access.space.id)


@router.delete("/{space}/members/{email}", status_code=204, summary="Take away a user's access")
async def remove_member(
    email: str, request: Request, access: SpaceAccess = Depends(space_access)
) -> Response:
    access.require_owner()
    rt = runtime_of(request)
    async with session_scope(rt.sessions) as session:
        await user_service.remove_member(session, access.space, email)
    return Response(status_code=204)
