"""What every dashboard page needs: the signed-in user, the space they may see, form errors."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, ParamSpec
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from xtracker.db.engine import session_scope
from xtracker.db.models import Space, User
from xtracker.errors import Forbidden, NotFound, XTrackerError
from xtracker.runtime import Runtime
from xtracker.space.service import space_service
from xtracker.user.access import check_csrf, current_user, runtime_of
from xtracker.user.service import OWNER, user_service

from .render import page

P = ParamSpec("P")


class SignInRequired(Exception):
    """The page needs a signed-in user; answered with a redirect to /login."""


@dataclass(frozen=True)
class SpacePage:
    user: User
    space: Space
    role: str
    rt: Runtime

    @property
    def is_owner(self) -> bool:
        return self.role == OWNER

    def require_owner(self) -> None:
        if not self.is_owner:
            raise Forbidden("viewers can look but not change anything")


async def signed_in(request: Request) -> User:
    user = await current_user(request)
    if user is None:
        raise SignInRequired()
    return user


async def space_page(request: Request, space: str) -> SpacePage:
    """The space if the signed-in user is a member; 404 for every other space."""
    user = await signed_in(request)
    rt = runtime_of(request)
    async with session_scope(rt.sessions) as session:
        found = await space_service.find(session, space)
        role = await user_service.role_in(session, user.id, found.id) if found else None
    if found is None or role is None:
        raise NotFound(f"no space {space!r}")
    request.state.space = found
    request.state.role = role
    return SpacePage(user, found, role, rt)


async def checked_form(request: Request) -> FormData:
    """The posted form, after its CSRF token matched the session's."""
    form = await request.form()
    token = form.get("csrf")
    check_csrf(request, token if isinstance(token, str) else None)
    return form


def text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def optional(form: FormData, name: str) -> str | None:
    return text(form, name) or None


def html_errors(
    handler: Callable[P, Awaitable[Response]],
) -> Callable[P, Awaitable[Response]]:
    """Render errors of a page as a page: sign-in redirect, 404/403 page, no JSON."""

    @functools.wraps(handler)
    async def wrapped(*args: P.args, **kwargs: P.kwargs) -> Response:
        request = kwargs.get("request")
        assert isinstance(request, Request)
        try:
            return await handler(*args, **kwargs)
        except SignInRequired:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
        except XTrackerError as error:
            return error_page(request, error)

    return wrapped


def error_page(request: Request, error: XTrackerError) -> Response:
    titles = {404: "Not found", 403: "Not allowed", 401: "Sign in required"}
    context: dict[str, Any] = {
        "title": titles.get(error.status, "Something went wrong"),
        "message": error.message,
        "code": error.code,
    }
    return page(request, "error.html", status=error.status, **context)
