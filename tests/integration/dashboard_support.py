"""Helpers for the dashboard and user tests: users, memberships, a signed-in client."""

from __future__ import annotations

import re

import httpx

from xtracker.db.engine import session_scope
from xtracker.runtime import Runtime
from xtracker.space.service import space_service
from xtracker.user.service import user_service

PASSWORD = "correct horse battery"
_CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')


async def make_user(
    runtime: Runtime, email: str, *, space: str | None = None, role: str = "owner"
) -> str:
    async with session_scope(runtime.sessions) as session:
        user = await user_service.create(session, email, PASSWORD, runtime.clock.now_ms())
        if space is not None:
            found = await space_service.get(session, space)
            await user_service.grant(session, user, found, role, runtime.clock.now_ms())
    return user.id


def csrf_from(html: str) -> str:
    match = _CSRF_FIELD.search(html)
    assert match, "the page has a CSRF field"
    return match.group(1)


async def sign_in(http: httpx.AsyncClient, email: str, password: str = PASSWORD) -> str:
    """Sign in through the login form; returns the session's CSRF token."""
    form = await http.get("/login")
    answer = await http.post(
        "/login", data={"email": email, "password": password, "csrf": csrf_from(form.text)}
    )
    assert answer.status_code == 303, answer.text
    spaces = await http.get("/spaces")
    return csrf_from(spaces.text)
