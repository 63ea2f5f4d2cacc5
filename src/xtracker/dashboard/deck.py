"""The ops deck page, its live feed (Server-Sent Events) and the map geometry.

The deck's numbers come from the reports API in the browser; the live feed is pushed from
here: every ~0.5 s the connection polls the report module's ``LiveTail`` (a database read,
so events written by any process show up) and sends new clicks and events as ``item``
events. The browser's EventSource reconnects by itself; the page also retries with backoff.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from xtracker.db.engine import session_scope
from xtracker.kit.aio import uncancellable
from xtracker.link.service import link_service
from xtracker.report.schemas import LiveItem
from xtracker.report.service import LiveTail

from .common import html_errors, signed_in, space_page
from .geo import world_topology
from .render import page

router = APIRouter(include_in_schema=False)
log = logging.getLogger("xtracker.dashboard.live")

POLL_S = 0.5
HEARTBEAT_S = 15.0
STREAM_MAX_S = 5.0  # then the browser reconnects (RECONNECT_MS) and resumes by Last-Event-ID
RECONNECT_MS = 300
FIRST_BATCH = 30
PRESETS = [("today", "Today"), ("yesterday", "Yesterday"), ("7d", "7 days"),
           ("30d", "30 days"), ("custom", "Custom")]  # fmt: skip


def _has_api(request: Request, path: str) -> bool:
    """Is a route of another capability mounted (alerts, Telegram stats)?"""
    paths: dict[str, Any] = request.app.openapi().get("paths", {})
    return path in paths


@router.get("/s/{space}")
@html_errors
async def deck(request: Request, space: str) -> Response:
    sp = await space_page(request, space)
    async with session_scope(sp.rt.sessions) as session:
        links = await link_service.list(session, sp.space.id)
    api = f"/api/spaces/{sp.space.slug}"
    has_alerts = _has_api(request, "/api/spaces/{space}/alerts")
    has_channel_stats = _has_api(request, "/api/spaces/{space}/telegram/stats")
    config = {
        "space": sp.space.slug,
        "api": api,
        "live": f"/s/{sp.space.slug}/live",
        "world": "/dashboard/world.json",
        "currency": sp.space.currency,
        "timezone": sp.space.timezone,
        "canChange": sp.is_owner,
        "replay": f"{api}/deliveries/replay?destination={{id}}",
        "alerts": f"{api}/alerts?history=5" if has_alerts else None,
        "channelStats": f"{api}/telegram/stats?hours=168" if has_channel_stats else None,
        "links": [{"id": link.id, "slug": link.slug, "name": link.name} for link in links],
    }
    return page(request, "deck.html", sp=sp, links=links, presets=PRESETS, config=config,
                has_alerts=has_alerts, has_channel_stats=has_channel_stats)  # fmt: skip


@router.get("/dashboard/world.json")
@html_errors
async def world(request: Request) -> Response:
    await signed_in(request)
    return Response(world_topology(), media_type="application/json",
                    headers={"Cache-Control": "private, max-age=86400"})  # fmt: skip


def _sse(event: str, data: Any, event_id: str | None = None) -> bytes:
    head = f"id: {event_id}\n" if event_id else ""
    return f"{head}event: {event}\ndata: ".encode() + orjson.dumps(data) + b"\n\n"


@router.get("/s/{space}/live")
@html_errors
async def live(request: Request, space: str) -> Response:
    """Server-Sent Events: ``item`` events (a LiveItem each) for new clicks and events.

    A stream ends after ``STREAM_MAX_S``; the browser reconnects at once with
    ``Last-Event-ID`` and the new stream resumes after that item. Short streams keep a
    server's graceful shutdown short: ASGI servers wait for open responses to finish.
    """
    sp = await space_page(request, space)
    tail = LiveTail(sp.space.id)
    resume_after = request.headers.get("last-event-id") or None

    async def poll() -> list[LiveItem]:
        async with session_scope(sp.rt.sessions) as session:
            return await tail.poll(session, sp.rt.clock.now_ms())

    async def stream() -> AsyncIterator[bytes]:
        yield f"retry: {RECONNECT_MS}\n\n".encode()
        first = True
        idle = 0.0
        started = time.monotonic()
        # A client that goes away cancels this generator (Starlette listens for the
        # disconnect); the stream also ends by itself after STREAM_MAX_S.
        while time.monotonic() - started < STREAM_MAX_S:
            try:
                # A poll the cancel would stop halfway through its query makes SQLAlchemy
                # throw the pooled connection away: let it finish (a few ms), then stop.
                items = await uncancellable(poll())
            except Exception:  # one failed read must not end the feed for good
                log.exception("live feed: poll failed for space %s", sp.space.slug)
                await asyncio.sleep(POLL_S)
                continue
            if first:
                first = False
                items = [i for i in items if i.id > resume_after] if resume_after else items
                items = items[-FIRST_BATCH:]
            for item in items:
                yield _sse("item", item.model_dump(mode="json"), item.id)
            idle = 0.0 if items else idle + POLL_S
            if idle >= HEARTBEAT_S:
                idle = 0.0
                yield b": keep-alive\n\n"
            await asyncio.sleep(POLL_S)

    return StreamingResponse(stream(), media_type="text/event-stream", headers={
        "Cache-Control": "no-store", "X-Accel-Buffering": "no",
    })  # fmt: skip
