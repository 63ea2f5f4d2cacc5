"""Management API for the channel funnel, and the webhook Telegram pushes updates to."""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from xtracker.db.engine import session_scope
from xtracker.errors import InvalidJSON, ValidationFailed
from xtracker.link.service import link_service
from xtracker.space.access import SpaceAccess, runtime_of, space_access
from xtracker.telegram import repository as repo
from xtracker.telegram import schemas
from xtracker.telegram.service import state_of, telegram_service

router = APIRouter(prefix="/api/spaces/{space}/telegram", tags=["telegram"])
webhook_router = APIRouter(tags=["telegram"])


@router.put("/bot", response_model=schemas.Bot, summary="Connect the space's bot")
async def connect_bot(
    data: schemas.BotConnect, request: Request, access: SpaceAccess = Depends(space_access)
) -> schemas.Bot:
    """Checks the token with getMe, stores it encrypted, and sets the webhook (with a secret
    token) when ``webhook_url`` is given, else switches the bot to long polling."""
    access.require_owner()
    rt = runtime_of(request)
    async with session_scope(rt.sessions) as session:
        bot = await telegram_service.connect(session, rt, access.space.id, data)
    state_of(rt).bots_wake.set()  # committed: a polling loop may start for it now
    return telegram_service.bot_schema(bot)


@router.get("/bot", response_model=schemas.Bot, summary="The space's bot")
async def get_bot(request: Request, access: SpaceAccess = Depends(space_access)) -> schemas.Bot:
    rt = runtime_of(request)
    async with session_scope(rt.sessions) as session:
        bot = await telegram_service.require_bot(session, access.space.id)
    return telegram_service.bot_schema(bot)


@router.get("/channels", response_model=list[schemas.Channel], summary="Connected channels")
async def list_channels(
    request: Request, access: SpaceAccess = Depends(space_access)
) -> list[schemas.Channel]:
    rt = runtime_of(request)
    async with session_scope(rt.sessions) as session:
        channels = await repo.channels_of_space(session, access.space.id)
    return [schemas.Channel(chat_id=c.chat_id, title=c.title, username=c.username,
                            created_at_ms=c.created_at_ms) for c in channels]  # fmt: skip


@router.post("/channels", response_model=schemas.Channel, status_code=201,
             summary="Add a channel where the bot is an admin")  # fmt: skip
async def add_channel(
    data: schemas.ChannelAdd, request: Request, access: SpaceAccess = Depends(space_access)
) -> schemas.Channel:
    access.require_owner()
    rt = runtime_of(request)
    async with session_scope(rt.sessions) as session:
        c = await telegram_service.add_channel(session, rt, access.space.id, data.chat)
    return schemas.Channel(chat_id=c.chat_id, title=c.title, username=c.username,
                           created_at_ms=c.created_at_ms)  # fmt: skip


@router.get("/links", response_model=list[schemas.ChannelLink],
            summary="Channel links with their invite pools")  # fmt: skip
async def list_channel_links(
    request: Request, access: SpaceAccess = Depends(space_access)
) -> list[schemas.ChannelLink]:
    rt = runtime_of(request)
    async with session_scope(rt.sessions) as session:
        pairs = await repo.channel_links_of_space(session, access.space.id)
        return [await telegram_service.channel_link_schema(session, link, cl)
                for cl, link in pairs]  # fmt: skip


@router.patch("/links/{slug}", response_model=schemas.ChannelLink,
              summary="Auto-approve and invite pool depth of a channel link")  # fmt: skip
async def update_channel_link(
    slug: str,
    data: schemas.ChannelLinkSettings,
    request: Request,
    access: SpaceAccess = Depends(space_access),
) -> schemas.ChannelLink:
    access.require_owner()
    rt = runtime_of(request)
    async with session_scope(rt.sessions) as session:
        link = await link_service.get(session, access.space.id, slug)
        if link.kind != "channel":
            raise ValidationFailed(f"{slug} is a {link.kind} link, not a channel link")
        settings = await telegram_service.configure_link(session, rt, link, None, data)
        return await telegram_service.channel_link_schema(session, link, settings)


@router.get("/links/{slug}/drip", response_model=schemas.Drip, summary="A link's welcome drip")
async def get_drip(
    slug: str, request: Request, access: SpaceAccess = Depends(space_access)
) -> schemas.Drip:
    rt = runtime_of(request)
    async with session_scope(rt.sessions) as session:
        link = await link_service.get(session, access.space.id, slug)
        steps = await repo.drip_steps(session, link.id)
    return schemas.Drip(steps=[schemas.DripStep(delay_s=s.delay_s, text=s.text,
                                                button_text=s.button_text,
                                                button_url=s.button_url) for s in steps])  # fmt: skip


@router.put("/links/{slug}/drip", response_model=schemas.Drip,
            summary="Replace a link's welcome drip")  # fmt: skip
async def put_drip(
    slug: str, data: schemas.Drip, request: Request, access: SpaceAccess = Depends(space_access)
) -> schemas.Drip:
    """Messages are sent in order to everyone whose join request comes through the link:
    the first ``delay_s`` after the request (at most 240 s), each next one ``delay_s`` after
    the previous."""
    access.require_owner()
    rt = runtime_of(request)
    async with session_scope(rt.sessions) as session:
        link = await link_service.get(session, access.space.id, slug)
        await telegram_service.set_drip(session, link, data.steps)
    return data


@router.get("/stats", response_model=list[schemas.ChannelStats],
            summary="Hourly channel stats: joins, leaves, join requests, member count")  # fmt: skip
async def channel_stats(
    request: Request,
    access: SpaceAccess = Depends(space_access),
    hours: int = Query(48, ge=1, le=24 * 90, description="how many hours back"),
) -> list[schemas.ChannelStats]:
    rt = runtime_of(request)
    async with session_scope(rt.sessions) as session:
        return await telegram_service.stats(session, access.space.id, rt.clock.now_ms(), hours)


@webhook_router.post("/telegram/webhook/{bot_id}", summary="Telegram pushes updates here")
async def webhook(bot_id: str, request: Request) -> JSONResponse:
    """Checks ``X-Telegram-Bot-Api-Secret-Token`` on every request (401 otherwise); a
    repeated update is answered 200 and changes nothing."""
    rt = runtime_of(request)
    async with session_scope(rt.sessions) as session:
        bot = await repo.bot_by_id(session, bot_id)
    header = request.headers.get("x-telegram-bot-api-secret-token")
    if not telegram_service.webhook_secret_ok(bot, header):
        return JSONResponse(
            {"ok": False, "error": {"code": "invalid_secret_token",
                                    "message": "X-Telegram-Bot-Api-Secret-Token does not match",
                                    "field": None}},
            status_code=401,
        )  # fmt: skip
    assert bot is not None
    try:
        update = orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        raise InvalidJSON() from None
    if not isinstance(update, dict):
        raise InvalidJSON("an update is a JSON object")
    outcome = await telegram_service.handle_update(rt, bot.id, bot.space_id, update)
    return JSONResponse({"ok": True, "status": outcome.status})
