"""Who is signed in: the session cookie, its CSRF token, and the API's session hook.

``session_role`` is installed as ``runtime.extras["session_role"]`` so every
``/api/spaces/{space}/...`` route also accepts a dashboard session. A session may change
things only with its CSRF token in ``X-CSRF-Token`` (a cookie alone never writes).
"""

from __future__ import annotations

from fastapi import Request, Response

from xtracker.db.engine import session_scope
from xtracker.db.models import Space, User
from xtracker.runtime import Runtime
from xtracker.user.errors import CsrfFailed
from xtracker.user.service import csrf_for, csrf_matches, session_service, user_service
from xtracker.user.throttle import LoginThrottle

SESSION_COOKIE = "xt_session"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER = "x-csrf-token"
_UNSET = object()


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def cookie_secure(request: Request) -> bool:
    settings = runtime_of(request).settings
    if settings.cookie_secure is not None:
        return settings.cookie_secure
    return request.url.scheme == "https" or settings.public_url.startswith("https://")


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    rt = runtime_of(request)
    response.set_cookie(
        SESSION_COOKIE, token, max_age=int(rt.settings.session_ttl_hours * 3600), path="/",
        secure=cookie_secure(request), httponly=True, samesite="lax",
    )  # fmt: skip


def clear_session_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", secure=cookie_secure(request),
                           httponly=True, samesite="lax")  # fmt: skip


async def current_user(request: Request) -> User | None:
    """The signed-in user (looked up once per request), also left in ``request.state.user``."""
    cached = getattr(request.state, "_xt_user", _UNSET)
    if cached is not _UNSET:
        return cached  # type: ignore[return-value]
    user: User | None = None
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        rt = runtime_of(request)
        async with session_scope(rt.sessions) as session:
            user = await session_service.resolve(session, token, rt.clock.now_ms())
    request.state._xt_user = user
    request.state.user = user
    return user


def csrf_token(request: Request) -> str:
    """The CSRF token of this request's session ("" when signed out)."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return ""
    return csrf_for(runtime_of(request).settings.resolved_secret_key(), token)


def check_csrf(request: Request, given: str | None) -> None:
    expected = csrf_token(request)
    if not expected or not csrf_matches(expected, given):
        raise CsrfFailed()


async def session_role(request: Request, space: Space) -> str | None:
    """The signed-in user's role in ``space``, or None (not signed in, or not a member)."""
    user = await current_user(request)
    if user is None:
        return None
    rt = runtime_of(request)
    async with session_scope(rt.sessions) as session:
        role = await user_service.role_in(session, user.id, space.id)
    if role is not None and request.method not in SAFE_METHODS:
        check_csrf(request, request.headers.get(CSRF_HEADER))
    return role


def login_throttle(request: Request) -> LoginThrottle:
    return _throttle(runtime_of(request))


def _throttle(runtime: Runtime) -> LoginThrottle:
    """The runtime's sign-in throttle, made on first use."""
    throttle: LoginThrottle | None = runtime.extras.get("login_throttle")
    if throttle is None:
        throttle = LoginThrottle(runtime.sessions, runtime.settings.resolved_secret_key())
        runtime.extras["login_throttle"] = throttle
    return throttle


async def install(runtime: Runtime, role: str) -> None:
    runtime.extras["session_role"] = session_role
    _throttle(runtime)
