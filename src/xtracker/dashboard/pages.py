"""Sign-in, spaces, links and API keys: the setup screens."""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import ValidationError

from xtracker.db.engine import session_scope
from xtracker.errors import ValidationFailed, XTrackerError
from xtracker.key.service import key_service
from xtracker.landing.links import LinkInfo
from xtracker.landing.page import LandingContent, render_landing
from xtracker.landing.targets import TargetUnavailable
from xtracker.link import schemas as link_schemas
from xtracker.link.service import link_service, to_schema
from xtracker.space import schemas as space_schemas
from xtracker.space.service import space_service
from xtracker.user.access import (
    SESSION_COOKIE,
    clear_session_cookie,
    cookie_secure,
    current_user,
    login_throttle,
    runtime_of,
    set_session_cookie,
)
from xtracker.user.errors import CsrfFailed, InvalidLogin
from xtracker.user.service import OWNER, csrf_matches, session_service, user_service

from .common import checked_form, html_errors, optional, signed_in, space_page, text
from .render import STATIC, page
from .snippets import build_snippets
from .stats import LINK_STATS_NOTE, link_totals

router = APIRouter(include_in_schema=False)
router.mount("/static", StaticFiles(directory=STATIC), name="static")

LOGIN_CSRF_COOKIE = "xt_login_csrf"
PREVIEW_UID = "PREVIEWUID0000000000000000"
PURE_TARGETS = ("bot", "web")


def _safe_next(value: str | None) -> str:
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/spaces"


def first_error(exc: ValidationError) -> ValidationFailed:
    first = exc.errors()[0]
    field = ".".join(str(p) for p in first.get("loc", ())) or None
    message = str(first.get("msg", "invalid value"))
    return ValidationFailed(f"{field}: {message}" if field else message, field=field)


# sign-in ---------------------------------------------------------------------------------


@router.get("/")
@html_errors
async def home(request: Request) -> Response:
    await signed_in(request)
    return RedirectResponse("/spaces", status_code=303)


def _login_page(
    request: Request, error: str | None, email: str = "", status: int = 200
) -> Response:
    token = secrets.token_urlsafe(24)
    response = page(request, "login.html", status=status, error=error, email=email,
                    login_csrf=token, next=_safe_next(request.query_params.get("next")))  # fmt: skip
    response.set_cookie(LOGIN_CSRF_COOKIE, token, max_age=3600, path="/login",
                        secure=cookie_secure(request), httponly=True, samesite="lax")  # fmt: skip
    return response


@router.get("/login")
async def login_form(request: Request) -> Response:
    if await current_user(request) is not None:
        return RedirectResponse(_safe_next(request.query_params.get("next")), status_code=303)
    return _login_page(request, None)


@router.post("/login")
async def login(request: Request) -> Response:
    form = await request.form()
    email = text(form, "email")
    given = form.get("csrf")
    if not csrf_matches(
        request.cookies.get(LOGIN_CSRF_COOKIE, ""), given if isinstance(given, str) else None
    ):
        return _login_page(request, CsrfFailed().message, email, status=403)
    rt = runtime_of(request)
    throttle = login_throttle(request)
    address = request.client.host if request.client else ""
    now = rt.clock.now_ms()
    try:
        await throttle.check(email, address, now)
        async with session_scope(rt.sessions) as session:
            user = await user_service.authenticate(session, email, text(form, "password"))
            token = await session_service.start(
                session, user, now, int(rt.settings.session_ttl_hours * 3600_000)
            )
    except XTrackerError as error:
        if isinstance(error, InvalidLogin):
            await throttle.failed(email, address, now)
        response = _login_page(request, error.message, email, status=error.status)
        response.headers.update(error.headers())
        return response
    await throttle.succeeded(email)
    response = RedirectResponse(_safe_next(optional(form, "next")), status_code=303)
    set_session_cookie(request, response, token)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
@html_errors
async def logout(request: Request) -> Response:
    await checked_form(request)
    rt = runtime_of(request)
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        async with session_scope(rt.sessions) as session:
            await session_service.end(session, token)
    response = RedirectResponse("/login", status_code=303)
    clear_session_cookie(request, response)
    return response


# spaces ----------------------------------------------------------------------------------


async def _spaces_page(request: Request, status: int = 200, **extra: Any) -> Response:
    user = await signed_in(request)
    rt = runtime_of(request)
    async with session_scope(rt.sessions) as session:
        rows = await user_service.spaces_of(session, user.id)
    return page(request, "spaces.html", status=status, spaces=rows, **extra)


@router.get("/spaces")
@html_errors
async def spaces(request: Request) -> Response:
    return await _spaces_page(request)


@router.post("/spaces")
@html_errors
async def create_space(request: Request) -> Response:
    user = await signed_in(request)
    form = await checked_form(request)
    rt = runtime_of(request)
    values = {"name": text(form, "name"), "slug": optional(form, "slug"),
              "timezone": text(form, "timezone") or "UTC",
              "currency": text(form, "currency") or "USD"}  # fmt: skip
    try:
        data = space_schemas.SpaceCreate.model_validate(values)
        now = rt.clock.now_ms()
        async with session_scope(rt.sessions) as session:
            space, bearer, ingest = await space_service.create(session, data, now)
            await user_service.grant(session, user, space, OWNER, now)
    except ValidationError as exc:
        return await _spaces_page(request, 422, error=first_error(exc), values=values)
    except XTrackerError as error:
        return await _spaces_page(request, error.status, error=error, values=values)
    return await _keys_page(request, space.slug, bearer=bearer, ingest=ingest, created=True)


# links -----------------------------------------------------------------------------------

LINK_FIELDS = ("name", "target_url", "bot_username", "title", "text", "button_label",
               "image_url", "pixel_id")  # fmt: skip


def _link_values(form: Any) -> dict[str, Any]:
    values: dict[str, Any] = {name: text(form, name) for name in LINK_FIELDS}
    values["auto_redirect"] = form.get("auto_redirect") == "on"
    values["active"] = form.get("active") == "on"
    values["tags"] = [t.strip() for t in text(form, "tags").split(",") if t.strip()]
    if channel := text(form, "channel"):  # empty keeps a channel link's current channel
        values["channel"] = channel
    return values


async def _links_page(request: Request, space: str, status: int = 200, **extra: Any) -> Response:
    sp = await space_page(request, space)
    async with session_scope(sp.rt.sessions) as session:
        links = await link_service.list(session, sp.space.id)
    schemas_ = [to_schema(link, sp.rt.settings.public_url) for link in links]
    totals = await link_totals(sp)
    return page(request, "links.html", status=status, sp=sp, links=schemas_, totals=totals,
                totals_note=LINK_STATS_NOTE,
                kinds=["web", "bot", "channel"], **extra)  # fmt: skip


@router.get("/s/{space}/links")
@html_errors
async def links(request: Request, space: str) -> Response:
    return await _links_page(request, space)


@router.post("/s/{space}/links")
@html_errors
async def create_link(request: Request, space: str) -> Response:
    sp = await space_page(request, space)
    sp.require_owner()
    form = await checked_form(request)
    values = _link_values(form)
    values["active"] = True
    values.update(slug=text(form, "slug"), kind=text(form, "kind"))
    try:
        data = link_schemas.LinkCreate.model_validate(
            {k: v for k, v in values.items() if v != "" and v != []}
        )
        async with session_scope(sp.rt.sessions) as session:
            link = await link_service.create(session, sp.space.id, data, sp.rt.clock.now_ms())
    except ValidationError as exc:
        return await _links_page(request, space, 422, error=first_error(exc), values=values)
    except XTrackerError as error:
        return await _links_page(request, space, error.status, error=error, values=values)
    return RedirectResponse(f"/s/{sp.space.slug}/links/{link.slug}?saved=1", status_code=303)


async def _link_page(
    request: Request, space: str, slug: str, status: int = 200, **extra: Any
) -> Response:
    sp = await space_page(request, space)
    async with session_scope(sp.rt.sessions) as session:
        link = await link_service.get(session, sp.space.id, slug)
    totals = await link_totals(sp)
    return page(request, "link_edit.html", status=status, sp=sp,
                link=to_schema(link, sp.rt.settings.public_url),
                stats=totals.get(link.id), saved=request.query_params.get("saved") == "1",
                **extra)  # fmt: skip


@router.get("/s/{space}/links/{slug}")
@html_errors
async def link_detail(request: Request, space: str, slug: str) -> Response:
    return await _link_page(request, space, slug)


@router.post("/s/{space}/links/{slug}")
@html_errors
async def update_link(request: Request, space: str, slug: str) -> Response:
    sp = await space_page(request, space)
    sp.require_owner()
    form = await checked_form(request)
    values = _link_values(form)
    try:
        data = link_schemas.LinkUpdate.model_validate(values)
        async with session_scope(sp.rt.sessions) as session:
            link = await link_service.get(session, sp.space.id, slug)
            await link_service.update(session, link, data, sp.rt.clock.now_ms())
    except ValidationError as exc:
        return await _link_page(request, space, slug, 422, error=first_error(exc))
    except XTrackerError as error:
        if error.status == 404:
            raise
        return await _link_page(request, space, slug, error.status, error=error)
    sp.rt.links.forget(slug)
    return RedirectResponse(f"/s/{sp.space.slug}/links/{slug}?saved=1", status_code=303)


@router.get("/s/{space}/links/{slug}/preview")
@html_errors
async def link_preview(request: Request, space: str, slug: str) -> Response:
    """The link's real landing page, rendered without recording a click or firing the pixel."""
    sp = await space_page(request, space)
    async with session_scope(sp.rt.sessions) as session:
        link = await link_service.get(session, sp.space.id, slug)
    content = LandingContent(link.title, link.text, link.button_label, link.image_url, None)
    info = LinkInfo(link.id, link.space_id, link.slug, link.kind, link.target_url,
                    link.bot_username, content, link.auto_redirect, link.active)  # fmt: skip
    # Only the pure resolvers: a channel link's resolver hands out (uses up) an invite link.
    resolver = sp.rt.resolvers.get(link.kind) if link.kind in PURE_TARGETS else None
    target: str | None = None
    note = "Preview: no click is recorded and the button is not live."
    if link.kind not in PURE_TARGETS:
        target = "#"
        note = "Preview: every visitor gets their own invite link; none is used up here."
    if resolver is not None:
        try:
            target = await resolver(info, {"uid": PREVIEW_UID}, {})
        except (TargetUnavailable, XTrackerError) as exc:
            note = f"Preview: the button has no target yet ({exc})."
    body = render_landing(content, target, uid=PREVIEW_UID, note=note)
    return Response(body, media_type="text/html; charset=utf-8", headers={
        "Cache-Control": "no-store", "X-Frame-Options": "SAMEORIGIN",
        "Content-Security-Policy": "script-src 'none'; frame-ancestors 'self'",
    })  # fmt: skip


# API keys --------------------------------------------------------------------------------


async def _keys_page(
    request: Request,
    space: str,
    *,
    bearer: str | None = None,
    ingest: str | None = None,
    created: bool = False,
    rotated: str | None = None,
) -> Response:
    sp = await space_page(request, space)
    async with session_scope(sp.rt.sessions) as session:
        keys = await key_service.list(session, sp.space.id)
    now = sp.rt.clock.now_ms()
    live = [k for k in keys if k.expires_at_ms is None or k.expires_at_ms > now]
    snippets = build_snippets(sp.rt.settings.public_url, sp.space.slug, bearer, ingest)
    return page(request, "keys.html", sp=sp, keys=live, snippets=snippets, bearer=bearer,
                canonical_url=f"/s/{sp.space.slug}/keys",
                ingest=ingest, created=created, rotated=rotated,
                public_url=sp.rt.settings.public_url.rstrip("/"))  # fmt: skip


@router.get("/s/{space}/keys")
@html_errors
async def keys(request: Request, space: str) -> Response:
    return await _keys_page(request, space)


@router.post("/s/{space}/keys/rotate")
@html_errors
async def rotate_key(request: Request, space: str) -> Response:
    sp = await space_page(request, space)
    sp.require_owner()
    form = await checked_form(request)
    kind = text(form, "kind")
    grace_ms = int(sp.rt.settings.key_grace_hours * 3600 * 1000)
    async with session_scope(sp.rt.sessions) as session:
        secret, _until = await key_service.rotate(
            session, sp.space.id, kind, sp.rt.clock.now_ms(), grace_ms
        )
    sp.rt.auth.forget()
    return await _keys_page(
        request, space, rotated=kind,
        bearer=secret if kind == "bearer" else None, ingest=secret if kind == "ingest" else None,
    )  # fmt: skip
