"""Who may act on a space: a Bearer secret of that space, or a signed-in member."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fastapi import Request

from xtracker.db.engine import session_scope
from xtracker.db.models import Space
from xtracker.errors import Forbidden, MissingCredentials, NotFound
from xtracker.key.auth import BEARER, bearer_from_header
from xtracker.runtime import Runtime
from xtracker.space.service import space_service

OWNER = "owner"
VIEWER = "viewer"

# (request, space) → role or None; installed by the dashboard's session support.
SessionRoleResolver = Callable[[Request, Space], Awaitable[str | None]]


@dataclass(frozen=True)
class SpaceAccess:
    space: Space
    role: str
    via: str  # "bearer" | "session"

    def require_owner(self) -> None:
        if self.role != OWNER:
            raise Forbidden("viewers can look but not change anything")


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def space_access(request: Request, space: str) -> SpaceAccess:
    """Resolve the ``{space}`` path parameter (slug or id) for the caller, or refuse.

    A space the caller may not see answers 404 exactly like one that does not exist.
    """
    rt = runtime_of(request)
    async with session_scope(rt.sessions) as session:
        found = await space_service.find(session, space)
    bearer = bearer_from_header(request.headers.get("authorization"))
    if bearer is not None:
        credential = await rt.auth.authenticate(bearer, BEARER, rt.clock.now_ms())
        if found is None or found.id != credential.space_id:
            raise NotFound(f"no space {space!r}")
        return SpaceAccess(found, OWNER, "bearer")
    resolver: SessionRoleResolver | None = rt.extras.get("session_role")
    if resolver is not None and found is not None:
        role = await resolver(request, found)
        if role is not None:
            return SpaceAccess(found, role, "session")
    if resolver is not None and getattr(request.state, "user", None) is not None:
        raise NotFound(f"no space {space!r}")
    raise MissingCredentials()
