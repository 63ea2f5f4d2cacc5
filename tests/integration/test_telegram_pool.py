"""Bot connection, channel links and the pre-minted invite-link pool (SPEC §6.1)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.conftest import SpaceKeys
from tests.support.fake_telegram import FakeTelegram
from tests.support.tg import (
    BOT_USER_ID,
    BROWSER,
    CHANNEL_ID,
    TOKEN,
    channel_link,
    connect_bot,
    rows,
    visit,
    wired,
)
from xtracker.config import Settings
from xtracker.kit.clock import FrozenClock
from xtracker.runtime import Runtime
from xtracker.telegram import repository as repo
from xtracker.telegram.service import close_state, telegram_service


@pytest.fixture
async def tg(runtime: Runtime, clock: FrozenClock) -> AsyncIterator[FakeTelegram]:
    async with wired(runtime, clock) as fake:
        yield fake


class TestConnect:
    async def test_token_is_checked_with_get_me_and_stored_encrypted(
        self, http: httpx.AsyncClient, space: SpaceKeys, tg: FakeTelegram, runtime: Runtime
    ) -> None:
        bot = await connect_bot(http, space)
        assert bot["username"] == "promo_funnel_bot" and bot["bot_user_id"] == BOT_USER_ID
        assert bot["mode"] == "polling"
        assert tg.calls_of("getMe") and tg.calls_of("deleteWebhook")
        [(stored,)] = await rows(runtime, "SELECT token_enc FROM tg_bot")
        assert TOKEN not in stored and runtime.secrets.decrypt(stored) == TOKEN

    async def test_a_wrong_token_is_refused(
        self, http: httpx.AsyncClient, space: SpaceKeys, tg: FakeTelegram
    ) -> None:
        r = await http.put(
            f"/api/spaces/{space.slug}/telegram/bot",
            json={"token": "1:AAwrongwrongwrongwrongwrong"},
            headers=space.auth,
        )
        assert r.status_code == 422
        assert r.json()["error"]["code"] == "invalid_bot_token"

    async def test_webhook_mode_sets_a_secret_token_and_asks_for_join_requests(
        self, http: httpx.AsyncClient, space: SpaceKeys, tg: FakeTelegram
    ) -> None:
        bot = await connect_bot(http, space, webhook_url="https://track.example.com")
        assert bot["mode"] == "webhook"
        hook = tg.webhooks[TOKEN]
        assert hook["url"] == f"https://track.example.com/telegram/webhook/{bot['id']}"
        assert len(hook["secret_token"]) >= 32
        assert {"chat_join_request", "chat_member"} <= set(hook["allowed_updates"])


class TestChannelLinks:
    async def test_a_channel_link_needs_its_channel(
        self, http: httpx.AsyncClient, space: SpaceKeys, tg: FakeTelegram
    ) -> None:
        await connect_bot(http, space)
        r = await http.post(f"/api/spaces/{space.slug}/links",
                            json={"slug": "promo", "kind": "channel"}, headers=space.auth)  # fmt: skip
        assert r.status_code == 422 and r.json()["error"]["field"] == "channel"
        listed = await http.get(f"/api/spaces/{space.slug}/links", headers=space.auth)
        assert listed.json() == []  # nothing half-made stays behind

    async def test_a_channel_link_needs_the_bot_connected_first(
        self, http: httpx.AsyncClient, space: SpaceKeys, tg: FakeTelegram
    ) -> None:
        r = await http.post(
            f"/api/spaces/{space.slug}/links",
            json={"slug": "promo", "kind": "channel", "channel": str(CHANNEL_ID)},
            headers=space.auth,
        )
        assert r.status_code == 422 and "connect the space's Telegram bot" in r.text

    async def test_the_bot_must_be_an_admin_who_may_invite_users(
        self, http: httpx.AsyncClient, space: SpaceKeys, tg: FakeTelegram
    ) -> None:
        await connect_bot(http, space)
        tg.make_admin(CHANNEL_ID, BOT_USER_ID, can_invite_users=False)
        r = await http.post(
            f"/api/spaces/{space.slug}/links",
            json={"slug": "promo", "kind": "channel", "channel": str(CHANNEL_ID)},
            headers=space.auth,
        )
        assert r.status_code == 422
        assert r.json()["error"]["code"] == "bot_not_admin"
        assert "can_invite_users" in r.json()["error"]["message"]

    async def test_a_channel_by_username_is_stored_with_its_id_and_title(
        self, http: httpx.AsyncClient, space: SpaceKeys, tg: FakeTelegram
    ) -> None:
        await connect_bot(http, space)
        r = await http.post(f"/api/spaces/{space.slug}/telegram/channels",
                            json={"chat": "@promo_channel"}, headers=space.auth)  # fmt: skip
        assert r.status_code == 201
        assert r.json()["chat_id"] == CHANNEL_ID and r.json()["title"] == "Promo signals"


class TestPool:
    async def test_refill_mints_join_request_links_named_after_the_link_up_to_the_depth(
        self, http: httpx.AsyncClient, space: SpaceKeys, tg: FakeTelegram, runtime: Runtime
    ) -> None:
        await connect_bot(http, space)
        slug = "spring-promo-with-a-very-long-slug-name"
        await channel_link(http, space, slug, depth=4)
        await telegram_service.refill_once(runtime)
        await telegram_service.refill_once(runtime)  # already full: mints nothing more
        calls = tg.calls_of("createChatInviteLink")
        assert len(calls) == 4
        for params in calls:
            assert params["creates_join_request"] is True
            assert "member_limit" not in params
            assert params["name"] == slug[:32] and len(params["name"]) <= 32
        pools = (await http.get(f"/api/spaces/{space.slug}/telegram/links",
                                headers=space.auth)).json()  # fmt: skip
        assert pools == [{"slug": slug, "chat_id": CHANNEL_ID, "auto_approve": True,
                          "pool_depth": 4, "available": 4, "taken": 0, "used": 0}]  # fmt: skip

    async def test_each_visit_takes_one_invite_bound_to_its_uid(
        self, http: httpx.AsyncClient, space: SpaceKeys, tg: FakeTelegram, runtime: Runtime
    ) -> None:
        await connect_bot(http, space)
        await channel_link(http, space, depth=2)
        await telegram_service.refill_once(runtime)
        minted = len(tg.calls_of("createChatInviteLink"))
        first, second = await visit(http), await visit(http)
        assert first.status_code == second.status_code == 302
        assert first.headers["location"] != second.headers["location"]
        assert len(tg.calls_of("createChatInviteLink")) == minted  # no visit waited on Telegram
        taken = await rows(runtime, "SELECT invite_link, uid FROM tg_invite WHERE status='taken'")
        clicks = {uid for (uid,) in await rows(runtime, "SELECT uid FROM click")}
        assert {link for link, _ in taken} == {
            first.headers["location"],
            second.headers["location"],
        }
        assert {uid for _, uid in taken} == clicks and len(clicks) == 2

    async def test_concurrent_visits_never_share_an_invite(
        self, http: httpx.AsyncClient, space: SpaceKeys, tg: FakeTelegram, runtime: Runtime
    ) -> None:
        await connect_bot(http, space)
        await channel_link(http, space, depth=12)
        await telegram_service.refill_once(runtime)
        answers = await asyncio.gather(*(visit(http) for _ in range(12)))
        links = [a.headers["location"] for a in answers]
        assert len(set(links)) == 12
        uids = await rows(runtime, "SELECT DISTINCT uid FROM tg_invite WHERE status='taken'")
        assert len(uids) == 12

    async def test_two_processes_take_distinct_invites(
        self, http: httpx.AsyncClient, space: SpaceKeys, tg: FakeTelegram, runtime: Runtime,
        settings: Settings, clock: FrozenClock,
    ) -> None:  # fmt: skip
        await connect_bot(http, space)
        await channel_link(http, space, depth=30)
        await telegram_service.refill_once(runtime)
        [(link_id,)] = await rows(runtime, "SELECT id FROM link")
        other = await Runtime.open(settings, clock=clock, with_geo=False)  # its own connections
        try:
            jobs = [
                (runtime if i % 2 else other).committer.run(
                    repo.take_invite_job(link_id, f"uid{i:02d}", clock.now_ms())
                )
                for i in range(30)
            ]
            got = await asyncio.gather(*jobs)
        finally:
            await other.close()
        assert None not in got and len(set(got)) == 30
        taken = await rows(
            runtime, "SELECT count(DISTINCT uid) FROM tg_invite WHERE uid IS NOT NULL"
        )
        assert taken == [(30,)]

    async def test_an_empty_pool_mints_an_invite_for_the_visit(
        self, http: httpx.AsyncClient, space: SpaceKeys, tg: FakeTelegram, runtime: Runtime
    ) -> None:
        await connect_bot(http, space)
        await channel_link(http, space, depth=0)
        answer = await visit(http)
        assert answer.status_code == 302
        [params] = tg.calls_of("createChatInviteLink")
        assert params["creates_join_request"] is True and "member_limit" not in params
        [(link, status, uid)] = await rows(
            runtime, "SELECT invite_link, status, uid FROM tg_invite"
        )
        [(click_uid,)] = await rows(runtime, "SELECT uid FROM click")
        assert (link, status, uid) == (answer.headers["location"], "taken", click_uid)

    async def test_visits_beyond_the_pool_mint_their_own_and_the_pool_refills(
        self, http: httpx.AsyncClient, space: SpaceKeys, tg: FakeTelegram, runtime: Runtime
    ) -> None:
        await connect_bot(http, space)
        await channel_link(http, space, depth=2)
        await telegram_service.refill_once(runtime)
        answers = [await visit(http) for _ in range(3)]
        assert len({a.headers["location"] for a in answers}) == 3
        assert len(tg.calls_of("createChatInviteLink")) == 3  # two pre-minted, one inline
        await telegram_service.refill_once(runtime)
        pool = (await http.get(f"/api/spaces/{space.slug}/telegram/links",
                               headers=space.auth)).json()[0]  # fmt: skip
        assert (pool["available"], pool["taken"]) == (2, 3)

    async def test_deleting_the_link_drops_its_pool_and_drip(
        self, http: httpx.AsyncClient, space: SpaceKeys, tg: FakeTelegram, runtime: Runtime
    ) -> None:
        await connect_bot(http, space)
        await channel_link(http, space, depth=2, drip=[{"delay_s": 0, "text": "hi"}])
        await telegram_service.refill_once(runtime)
        r = await http.delete(f"/api/spaces/{space.slug}/links/promo", headers=space.auth)
        assert r.status_code == 204
        for table in ("tg_invite", "tg_channel_link", "tg_drip_step"):
            assert await rows(runtime, f"SELECT count(*) FROM {table}") == [(0,)]

    async def test_the_landing_says_so_when_telegram_is_unreachable(
        self, http: httpx.AsyncClient, space: SpaceKeys, tg: FakeTelegram, runtime: Runtime
    ) -> None:
        await connect_bot(http, space)
        await channel_link(http, space, depth=0)
        tg.fail("createChatInviteLink", 502, "Bad Gateway")
        answer = await visit(http)
        assert answer.status_code == 503
        assert "could not reach Telegram" in answer.text
        assert await rows(runtime, "SELECT count(*) FROM click") == [(1,)]  # still counted

    async def test_refill_waits_out_flood_control(
        self, http: httpx.AsyncClient, space: SpaceKeys, tg: FakeTelegram, runtime: Runtime,
        clock: FrozenClock,
    ) -> None:  # fmt: skip
        await connect_bot(http, space)
        await channel_link(http, space, depth=5)
        tg.fail("createChatInviteLink", 429, "Too Many Requests: retry after 7", retry_after=7,
                when=lambda p: len(tg.calls_of("createChatInviteLink")) == 3)  # fmt: skip
        wait_s = await telegram_service.refill_once(runtime)
        assert wait_s == 7.0
        assert await rows(runtime, "SELECT count(*) FROM tg_invite") == [(2,)]
        calls = len(tg.calls_of("createChatInviteLink"))
        clock.advance(6_000)
        await telegram_service.refill_once(runtime)
        assert len(tg.calls_of("createChatInviteLink")) == calls  # still inside retry_after
        clock.advance(1_000)
        await telegram_service.refill_once(runtime)
        assert await rows(runtime, "SELECT count(*) FROM tg_invite") == [(5,)]

    async def test_a_head_request_does_not_use_up_an_invite(
        self, http: httpx.AsyncClient, space: SpaceKeys, tg: FakeTelegram, runtime: Runtime
    ) -> None:
        await connect_bot(http, space)
        await channel_link(http, space, depth=1)
        await telegram_service.refill_once(runtime)
        answer = await http.head("/l/promo", headers={"user-agent": BROWSER})
        assert answer.status_code == 200
        assert await rows(runtime, "SELECT status FROM tg_invite") == [("available",)]

    async def test_link_previews_do_not_use_up_invites(
        self, http: httpx.AsyncClient, space: SpaceKeys, tg: FakeTelegram, runtime: Runtime
    ) -> None:
        await connect_bot(http, space)
        await channel_link(http, space, depth=1, auto_redirect=False)
        await telegram_service.refill_once(runtime)
        answer = await visit(http, **{"user-agent": "TelegramBot (like TwitterBot)"})
        assert answer.status_code == 200
        assert await rows(runtime, "SELECT status FROM tg_invite") == [("available",)]


async def test_a_singleton_lease_is_one_processs_until_it_expires(
    runtime: Runtime, settings: Settings, clock: FrozenClock
) -> None:
    """Long polling a bot and refilling pools run in one process at a time."""
    other = await Runtime.open(settings, clock=clock, with_geo=False)
    try:
        assert await telegram_service.claim_lease(runtime, "poll:bot1", 60_000)
        assert not await telegram_service.claim_lease(other, "poll:bot1", 60_000)
        assert await telegram_service.claim_lease(other, "refill", 60_000)  # another job
        clock.advance(30_000)
        assert await telegram_service.claim_lease(runtime, "poll:bot1", 60_000)  # renewed
        clock.advance(60_001)
        assert await telegram_service.claim_lease(other, "poll:bot1", 60_000)  # expired: taken
        assert not await telegram_service.claim_lease(runtime, "poll:bot1", 60_000)
    finally:
        await close_state(other)
        await other.close()
        await close_state(runtime)


async def test_state_closes_cleanly_without_use(runtime: Runtime) -> None:
    await close_state(runtime)  # nothing opened: nothing to close
