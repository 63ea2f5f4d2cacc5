"""The aiogram ``/start`` handler printed in docs/telegram-channel-funnel.md, run as written:
aiogram against the fake Bot API, the XTRACKER client against a real HTTP server."""

from __future__ import annotations

import asyncio
import re
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Update

from tests.conftest import SpaceKeys
from tests.support.fake_telegram import FakeTelegram
from tests.support.tg import BOT_USERNAME, TOKEN, rows, visit, wired
from xtracker.app import XTrackerApp
from xtracker.kit.clock import FrozenClock
from xtracker.runtime import Runtime

PAGE = Path(__file__).resolve().parents[2] / "docs" / "telegram-channel-funnel.md"


def handler_source() -> str:
    blocks = re.findall(r"```python[^\n]*\n(.*?)```", PAGE.read_text(), flags=re.DOTALL)
    [source] = [b for b in blocks if "CommandStart" in b]
    return source


@pytest.fixture
async def tg(runtime: Runtime, clock: FrozenClock) -> AsyncIterator[FakeTelegram]:
    async with wired(runtime, clock) as fake:
        yield fake


@pytest.fixture
async def server_url(app: XTrackerApp) -> AsyncIterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.get_running_loop().create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task


def start_update(update_id: int, user_id: int, text: str) -> Update:
    user = {"id": user_id, "is_bot": False, "first_name": "Ann"}
    return Update.model_validate({
        "update_id": update_id,
        "message": {"message_id": update_id, "date": 1_765_432_100, "text": text,
                    "chat": {"id": user_id, "type": "private", "first_name": "Ann"},
                    "from": user,
                    "entities": [{"type": "bot_command", "offset": 0, "length": 6}]},
    })  # fmt: skip


async def test_the_documented_start_handler_binds_and_fires_contact_and_subscribed(
    http: httpx.AsyncClient,
    space: SpaceKeys,
    tg: FakeTelegram,
    runtime: Runtime,
    server_url: str,
    monkeypatch: pytest.MonkeyPatch,
    clock: FrozenClock,
) -> None:
    clock.set(int(time.time() * 1000))  # the documented client stamps events with real time
    made = await http.post(f"/api/spaces/{space.slug}/links", headers=space.auth,
                           json={"slug": "bot-promo", "kind": "bot", "bot_username": BOT_USERNAME,
                                 "auto_redirect": True})  # fmt: skip
    assert made.status_code == 201
    target = (await visit(http, "bot-promo")).headers["location"]
    assert target.startswith(f"https://t.me/{BOT_USERNAME}?start=fb_")
    payload = target.split("start=", 1)[1]
    uid = payload[3:]

    monkeypatch.setenv("XT_URL", server_url)
    monkeypatch.setenv("XT_BEARER", space.bearer)
    namespace: dict[str, Any] = {"__name__": "docs_bot"}
    exec(compile(handler_source(), str(PAGE), "exec"), namespace)  # noqa: S102 - the docs' code
    dispatcher = Dispatcher()
    dispatcher.include_router(namespace["router"])
    session = AiohttpSession(api=TelegramAPIServer.from_base(tg.url))
    async with Bot(TOKEN, session=session) as bot:
        tg.started.add((TOKEN, 555123))
        tg.started.add((TOKEN, 600001))
        await dispatcher.feed_update(bot, start_update(1, 555123, f"/start {payload}"))
        await dispatcher.feed_update(bot, start_update(2, 555123, f"/start {payload}"))  # again
        await dispatcher.feed_update(bot, start_update(3, 600001, "/start"))  # no deeplink
    await namespace["xt"].aclose()

    assert await rows(runtime, "SELECT uid, tg_id FROM binding") == [(uid, 555123)]
    events = await rows(
        runtime, "SELECT canonical, uid, tg_id, link_id IS NOT NULL FROM event_inbox"
        " ORDER BY tg_id, canonical"
    )  # fmt: skip
    assert events == [
        ("contact", uid, 555123, True),
        ("subscribed", uid, 555123, True),
        ("contact", None, 600001, False),
        ("subscribed", None, 600001, False),
    ]
    assert [m["text"] for m in tg.sent] == ["Welcome! You are in."] * 3
