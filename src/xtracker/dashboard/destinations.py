"""Destinations: add any kind, edit the event map, watch delivery status, replay failures.

Forms go through the destination service with the same validation (and the same messages)
as ``/api/spaces/{space}/destinations``; numbers come from the report and outbox services.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from xtracker.db.engine import session_scope
from xtracker.destination import schemas as dest_schemas
from xtracker.destination.service import destination_service, parse_header
from xtracker.errors import ValidationFailed, XTrackerError
from xtracker.event.canonical import CANONICAL_EVENTS
from xtracker.outbox.service import outbox_service
from xtracker.report import service as reports

from .common import SpacePage, checked_form, html_errors, optional, space_page, text
from .pages import first_error
from .render import page

router = APIRouter(include_in_schema=False)

KIND_FIELDS = {
    "webhook": ("url", "method"),
    "s2s_postback": ("url_template", "method", "expected_status", "expected_body"),
    "fb_capi": ("pixel_id", "access_token", "test_event_code", "action_source"),
}
KIND_LABELS = {"fb_capi": "Meta Conversions API", "webhook": "Webhook",
               "s2s_postback": "S2S postback"}  # fmt: skip


def _headers(form: FormData) -> dict[str, str] | None:
    raw = text(form, "headers")
    if not raw:
        return None
    return dict(parse_header(line) for line in raw.splitlines() if line.strip())


def _fields(form: FormData, kind: str, *, creating: bool) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if name := optional(form, "name"):
        values["name"] = name
    for field in KIND_FIELDS.get(kind, ()):
        value = optional(form, field)
        if value is None:
            continue
        if field == "expected_status":
            if not value.isdigit():
                raise ValidationFailed("expected_status must be a number", field=field)
            values[field] = int(value)
        else:
            values[field] = value
    if kind == "s2s_postback" and not creating and "expected_body" not in values:
        values["expected_body"] = ""  # an emptied field clears the check
    proxy = optional(form, "proxy_url")
    if proxy is not None or not creating:
        values["proxy_url"] = proxy or ""
    if kind != "fb_capi" and (headers := _headers(form)) is not None:
        values["headers"] = headers
    if any(f"map_{c}" in form for c in CANONICAL_EVENTS):
        values["event_map"] = {c: optional(form, f"map_{c}") for c in CANONICAL_EVENTS}
    if not creating:
        values["active"] = form.get("active") == "on"
        values["rotate_secret"] = form.get("rotate_secret") == "on"
    return values


async def _delivery_rows(sp: SpacePage) -> dict[str, Any]:
    async with session_scope(sp.rt.sessions) as session:
        f = await reports.make_filter(session, sp.space, now_ms=sp.rt.clock.now_ms(), preset="30d")
        matrix = await reports.deliveries(session, f)
    return {row.destination_id: row for row in matrix.destinations}


async def _list_page(request: Request, space: str, status: int = 200, **extra: Any) -> Response:
    sp = await space_page(request, space)
    async with session_scope(sp.rt.sessions) as session:
        found = await destination_service.list(session, sp.space.id)
        items = await destination_service.schemas_for(session, sp.rt.secrets, found)
    return page(request, "destinations.html", status=status, sp=sp, destinations=items,
                stats=await _delivery_rows(sp), kinds=KIND_LABELS,
                defaults=dest_schemas.DEFAULT_EVENT_MAPS, canonicals=CANONICAL_EVENTS,
                **extra)  # fmt: skip


@router.get("/s/{space}/destinations")
@html_errors
async def destinations(request: Request, space: str) -> Response:
    return await _list_page(request, space)


@router.post("/s/{space}/destinations")
@html_errors
async def create_destination(request: Request, space: str) -> Response:
    sp = await space_page(request, space)
    sp.require_owner()
    form = await checked_form(request)
    kind = text(form, "kind")
    values: dict[str, Any] = {"kind": kind}
    try:
        values.update(_fields(form, kind, creating=True))
        data = dest_schemas.DestinationCreate.model_validate(values)
        async with session_scope(sp.rt.sessions) as session:
            destination, secret = await destination_service.create(
                session, sp.rt.secrets, sp.space.id, data, sp.rt.clock.now_ms(),
                allow_private=sp.rt.settings.allow_private_targets,
            )  # fmt: skip
    except ValidationError as exc:
        return await _list_page(request, space, 422, error=first_error(exc), values=dict(form))
    except XTrackerError as error:
        return await _list_page(request, space, error.status, error=error, values=dict(form))
    return await _detail_page(request, space, destination.id, secret=secret, created=True)


async def _detail_page(
    request: Request, space: str, destination_id: str, status: int = 200, **extra: Any
) -> Response:
    sp = await space_page(request, space)
    async with session_scope(sp.rt.sessions) as session:
        found = await destination_service.get(session, sp.space.id, destination_id)
        (item,) = await destination_service.schemas_for(session, sp.rt.secrets, [found])
        recent = await outbox_service.list(
            session, sp.space.id, status=None, destination_id=found.id, event=None, limit=25
        )
    stats = (await _delivery_rows(sp)).get(found.id)
    return page(request, "destination_edit.html", status=status, sp=sp, d=item, stats=stats,
                canonical_url=f"/s/{sp.space.slug}/destinations/{item.id}",
                recent=recent, kinds=KIND_LABELS, canonicals=CANONICAL_EVENTS,
                saved=request.query_params.get("saved") == "1",
                replayed=request.query_params.get("replayed"), **extra)  # fmt: skip


@router.get("/s/{space}/destinations/{destination_id}")
@html_errors
async def destination_detail(request: Request, space: str, destination_id: str) -> Response:
    return await _detail_page(request, space, destination_id)


@router.post("/s/{space}/destinations/{destination_id}")
@html_errors
async def update_destination(request: Request, space: str, destination_id: str) -> Response:
    sp = await space_page(request, space)
    sp.require_owner()
    form = await checked_form(request)
    try:
        async with session_scope(sp.rt.sessions) as session:
            found = await destination_service.get(session, sp.space.id, destination_id)
            data = dest_schemas.DestinationUpdate.model_validate(
                _fields(form, found.kind, creating=False)
            )
            secret = await destination_service.update(
                session, sp.rt.secrets, found, data, sp.rt.clock.now_ms(),
                allow_private=sp.rt.settings.allow_private_targets,
            )  # fmt: skip
    except ValidationError as exc:
        return await _detail_page(request, space, destination_id, 422, error=first_error(exc))
    except XTrackerError as error:
        if error.status == 404:
            raise
        return await _detail_page(request, space, destination_id, error.status, error=error)
    if secret is not None:
        return await _detail_page(request, space, destination_id, secret=secret)
    return RedirectResponse(
        f"/s/{sp.space.slug}/destinations/{destination_id}?saved=1", status_code=303
    )


@router.post("/s/{space}/destinations/{destination_id}/replay")
@html_errors
async def replay_destination(request: Request, space: str, destination_id: str) -> Response:
    sp = await space_page(request, space)
    sp.require_owner()
    await checked_form(request)
    async with session_scope(sp.rt.sessions) as session:
        found = await destination_service.get(session, sp.space.id, destination_id)
        count = await outbox_service.replay_failed(
            session, sp.space.id, sp.rt.clock.now_ms(), found.id
        )
    return RedirectResponse(
        f"/s/{sp.space.slug}/destinations/{destination_id}?replayed={count}", status_code=303
    )
