"""The space's settings: name, timezone and currency, and who may see it (members)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from xtracker.db.engine import session_scope
from xtracker.errors import XTrackerError
from xtracker.space import schemas as space_schemas
from xtracker.space.service import space_service
from xtracker.user.service import ROLES, user_service

from .common import checked_form, html_errors, optional, space_page, text
from .pages import first_error
from .render import page

router = APIRouter(include_in_schema=False)


async def _settings_page(request: Request, space: str, status: int = 200, **extra: Any) -> Response:
    sp = await space_page(request, space)
    async with session_scope(sp.rt.sessions) as session:
        members = await user_service.members_of(session, sp.space.id)
    return page(request, "settings.html", status=status, sp=sp, members=members, roles=ROLES,
                saved=request.query_params.get("saved"),
                canonical_url=f"/s/{sp.space.slug}/settings", **extra)  # fmt: skip


@router.get("/s/{space}/settings")
@html_errors
async def settings(request: Request, space: str) -> Response:
    return await _settings_page(request, space)


@router.post("/s/{space}/settings")
@html_errors
async def update_space(request: Request, space: str) -> Response:
    sp = await space_page(request, space)
    sp.require_owner()
    form = await checked_form(request)
    values = {"name": optional(form, "name"), "timezone": optional(form, "timezone"),
              "currency": optional(form, "currency")}  # fmt: skip
    try:
        data = space_schemas.SpaceUpdate.model_validate(values)
        async with session_scope(sp.rt.sessions) as session:
            found = await space_service.get(session, sp.space.id)
            await space_service.update(session, found, data)
    except ValidationError as exc:
        return await _settings_page(request, space, 422, error=first_error(exc))
    except XTrackerError as error:
        return await _settings_page(request, space, error.status, error=error)
    return RedirectResponse(f"/s/{sp.space.slug}/settings?saved=space", status_code=303)


@router.post("/s/{space}/members")
@html_errors
async def set_member(request: Request, space: str) -> Response:
    sp = await space_page(request, space)
    sp.require_owner()
    form = await checked_form(request)
    try:
        async with session_scope(sp.rt.sessions) as session:
            if form.get("remove") == "1":
                await user_service.remove_member(session, sp.space, text(form, "email"))
            else:
                await user_service.set_member(session, sp.space, text(form, "email"),
                                              text(form, "role"), sp.rt.clock.now_ms())  # fmt: skip
    except XTrackerError as error:
        return await _settings_page(request, space, error.status, member_error=error)
    return RedirectResponse(f"/s/{sp.space.slug}/settings?saved=members", status_code=303)
