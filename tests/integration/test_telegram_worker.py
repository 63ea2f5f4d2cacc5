"""The installer's background loops do the whole funnel on their own: refill the pool, poll
for updates, approve and greet."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest

from tests.conftest import SpaceKeys
from tests.support.fake_telegram import FakeTelegram
from tests.support.tg import CHANNEL_ID, TOKEN, channel_link, connect_bot, rows, visit, wired
from xtracker.kit.clock import FrozenClock
from xtracker.runtime import Runtime
from xtracker.telegram.tasks import install

AVAILABLE = "SELECT count(*) FROM tg_invite WHERE status = 'available'"


@pytest.fixture
async def tg(runtime: Runtime, clock: FrozenClock) -> AsyncIterator[FakeTelegram]:
    async with wired(runtime, clock) as fake:
        runtime.settings.telegram_poll_timeout_s = 1
        await install(runtime, "worker")
        try:
            yield fake
        finally:
            for task in runtime.tasks:
                task.cancel()
            for task in runtime.tasks:
                with contextlib.suppress(BaseException):
                    await task
            runtime.tasks.clear()


async def eventually(check: Callable[[], Awaitable[bool]], timeout_s: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


async def test_the_worker_fills_the_pool_polls_approves_and_greets(
    http: httpx.AsyncClient, space: SpaceKeys, tg: FakeTelegram, runtime: Runtime
) -> None:
    await connect_bot(http, space)
    await channel_link(http, space, depth=3, drip=[{"delay_s": 0, "text": "Welcome!"}])

    async def pool_full() -> bool:
        return await rows(runtime, AVAILABLE) == [(3,)]

    await eventually(pool_full)
    invite = (await visit(http)).headers["location"]
    tg.join_request(TOKEN, CHANNEL_ID, 555123, invite)

    async def approved() -> bool:
        return tg.approved == [(CHANNEL_ID, 555123)]

    await eventually(approved)
    assert [m["text"] for m in tg.sent] == ["Welcome!"]
    assert await rows(runtime, "SELECT canonical, tg_id FROM event_inbox") == [
        ("subscribed", 555123)
    ]
    await eventually(pool_full)  # the taken link was replaced
    assert await rows(runtime, "SELECT count(*) FROM tg_invite") == [(4,)]
