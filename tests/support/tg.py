"""Shared set-up for the Telegram funnel tests: a fake Bot API wired into a runtime."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from tests.conftest import SpaceKeys
from tests.support.fake_telegram import FakeTelegram
from xtracker.kit.clock import FrozenClock
from xtracker.runtime import Runtime
from xtracker.telegram.service import close_state
from xtracker.telegram.tasks import register, unregister

TOKEN = "7012345678:AAHfakeTokenForTests_0123456789abcdef"
BOT_USER_ID = 7012345678
BOT_USERNAME = "promo_funnel_bot"
CHANNEL_ID = -1001987654321
CHANNEL_USERNAME = "promo_channel"


def fake_for(clock: FrozenClock | None = None) -> FakeTelegram:
    """A fake Bot API with our bot, admin (may invite users) of a public channel."""
    fake = FakeTelegram(now_s=(lambda: clock.now_ms() / 1000) if clock else None)
    fake.add_bot(TOKEN, BOT_USER_ID, BOT_USERNAME)
    fake.add_channel(CHANNEL_ID, "Promo signals", username=CHANNEL_USERNAME, members=1200)
    fake.make_admin(CHANNEL_ID, BOT_USER_ID)
    return fake


@asynccontextmanager
async def wired(runtime: Runtime, clock: FrozenClock) -> AsyncIterator[FakeTelegram]:
    """A running fake Bot API; ``runtime`` talks to it and knows ``channel`` links."""
    async with fake_for(clock) as fake:
        runtime.settings.telegram_api_url = fake.url
        runtime.settings.telegram_refill_pause_ms = 0
        register(runtime)
        try:
            yield fake
        finally:
            unregister(runtime)
            await close_state(runtime)


async def connect_bot(
    http: httpx.AsyncClient, space: SpaceKeys, webhook_url: str | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"token": TOKEN}
    if webhook_url:
        body["webhook_url"] = webhook_url
    r = await http.put(f"/api/spaces/{space.slug}/telegram/bot", json=body, headers=space.auth)
    assert r.status_code == 200, r.text
    return dict(r.json())


async def channel_link(
    http: httpx.AsyncClient,
    space: SpaceKeys,
    slug: str = "promo",
    *,
    depth: int = 3,
    auto_approve: bool = True,
    auto_redirect: bool = True,
    drip: list[dict[str, Any]] | None = None,
) -> None:
    r = await http.post(
        f"/api/spaces/{space.slug}/links",
        json={"slug": slug, "kind": "channel", "channel": str(CHANNEL_ID),
              "auto_redirect": auto_redirect},
        headers=space.auth,
    )  # fmt: skip
    assert r.status_code == 201, r.text
    r = await http.patch(
        f"/api/spaces/{space.slug}/telegram/links/{slug}",
        json={"pool_depth": depth, "auto_approve": auto_approve},
        headers=space.auth,
    )
    assert r.status_code == 200, r.text
    if drip is not None:
        r = await http.put(
            f"/api/spaces/{space.slug}/telegram/links/{slug}/drip",
            json={"steps": drip},
            headers=space.auth,
        )
        assert r.status_code == 200, r.text


BROWSER = (
    "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/131.0.0.0 Mobile Safari/537.36"
)


async def visit(http: httpx.AsyncClient, slug: str = "promo", **headers: str) -> httpx.Response:
    return await http.get(f"/l/{slug}", headers={"user-agent": BROWSER, **headers})


async def rows(runtime: Runtime, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    async with runtime.backend.reader() as tx:
        return await tx.fetchall(sql, params)
