"""Join requests → subscribed once → approve → welcome drip; joins, leaves and hourly stats."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.conftest import SpaceKeys
from tests.support.fake_telegram import FakeTelegram
from tests.support.tg import (
    CHANNEL_ID,
    TOKEN,
    channel_link,
    connect_bot,
    rows,
    visit,
    wired,
)
from xtracker.kit.clock import FrozenClock
from xtracker.runtime import Runtime
from xtracker.telegram import repository as repo
from xtracker.telegram.service import telegram_service

USER = 555123
DRIP = [
    {"delay_s": 0, "text": "Welcome! Tap to open the bot", "button_text": "Open",
     "button_url": "https://t.me/promo_funnel_bot?start=hi"},
    {"delay_s": 60, "text": "Today's signal is pinned"},
    {"delay_s": 3600, "text": "One hour in: any questions?"},
]  # fmt: skip


@pytest.fixture
async def tg(runtime: Runtime, clock: FrozenClock) -> AsyncIterator[FakeTelegram]:
    async with wired(runtime, clock) as fake:
        yield fake


async def _funnel(
    http: httpx.AsyncClient, space: SpaceKeys, runtime: Runtime, **link: Any
) -> tuple[str, str]:
    """Connected bot, a channel link, one visit: returns (invite link, the visit's uid)."""
    bot = await connect_bot(http, space, webhook_url="https://track.example.com")
    await channel_link(http, space, **link)
    await telegram_service.refill_once(runtime)
    invite = (await visit(http)).headers["location"]
    [(uid,)] = await rows(runtime, "SELECT uid FROM click")
    runtime.extras["test_bot_id"] = bot["id"]
    return invite, uid


async def _deliver(
    http: httpx.AsyncClient, runtime: Runtime, tg: FakeTelegram, update: dict[str, Any]
) -> httpx.Response:
    bot_id = runtime.extras["test_bot_id"]
    secret = tg.webhooks[TOKEN]["secret_token"]
    return await http.post(f"/telegram/webhook/{bot_id}", json=update,
                           headers={"X-Telegram-Bot-Api-Secret-Token": secret})  # fmt: skip


async def _run_until_idle(runtime: Runtime) -> None:
    while await telegram_service.run_due_actions(runtime):
        pass


class TestJoinRequest:
    async def test_join_request_is_subscribed_once_bound_approved_and_greeted(
        self, http: httpx.AsyncClient, space: SpaceKeys, tg: FakeTelegram, runtime: Runtime
    ) -> None:
        invite, uid = await _funnel(http, space, runtime, drip=DRIP[:1])
        update = tg.join_request(TOKEN, CHANNEL_ID, USER, invite)
        first = await _deliver(http, runtime, tg, update)
        again = await _deliver(http, runtime, tg, update)  # Telegram repeats the update
        assert first.json() == {"ok": True, "status": "processed"}
        assert again.json() == {"ok": True, "status": "duplicate"}
        events = await rows(runtime, "SELECT canonical, uid, tg_id, source, eid FROM event_inbox")
        assert events == [("subscribed", uid, USER, "telegram", f"tg-join:{CHANNEL_ID}:{USER}")]
        assert await rows(runtime, "SELECT uid, tg_id FROM binding") == [(uid, USER)]
        assert await rows(runtime, "SELECT status FROM tg_invite WHERE uid = ?", uid) == [("used",)]
        await _run_until_idle(runtime)
        assert tg.approved == [(CHANNEL_ID, USER)]
        assert [m["text"] for m in tg.sent] == ["Welcome! Tap to open the bot"]
        assert tg.sent[0]["chat_id"] == USER  # user_chat_id
        assert tg.sent[0]["reply_markup"] == {
            "inline_keyboard": [[{"text": "Open", "url": "https://t.me/promo_funnel_bot?start=hi"}]]
        }
        assert tg.calls.index(("sendmessage", tg.calls_of("sendMessage")[0])) < tg.calls.index(
            ("approvechatjoinrequest", tg.calls_of("approveChatJoinRequest")[0])
        )  # greeted inside the window, before the request is processed

    async def test_the_same_user_asking_again_under_a_new_update_is_not_counted_twice(
        self, http: httpx.AsyncClient, space: SpaceKeys, tg: FakeTelegram, runtime: Runtime
    ) -> None:
        invite, _uid = await _funnel(http, space, runtime, drip=DRIP[:1])
        await _deliver(http, runtime, tg, tg.join_request(TOKEN, CHANNEL_ID, USER, invite))
        await _run_until_idle(runtime)
        await _deliver(http, runtime, tg, tg.join_request(TOKEN, CHANNEL_ID, USER, invite))
        await _run_until_idle(runtime)
        assert await rows(runtime, "SELECT count(*) FROM event_inbox") == [(1,)]
        assert len(tg.sent) == 1  # greeted once
        assert tg.approved == [(CHANNEL_ID, USER), (CHANNEL_ID, USER)]  # but let in again

    async def test_without_auto_approve_the_request_waits_for_an_admin(
        self, http: httpx.AsyncClient, space: SpaceKeys, tg: FakeTelegram, runtime: Runtime
    ) -> None:
        invite, _uid = await _funnel(http, space, runtime, auto_approve=False)
        await _deliver(http, runtime, tg, tg.join_request(TOKEN, CHANNEL_ID, USER, invite))
        await _run_until_idle(runtime)
        assert tg.approved == [] and (CHANNEL_ID, USER) in tg.requests
        assert await rows(runtime, "SELECT canonical FROM event_inbox") == [("subscribed",)]

    async def test_a_join_without_a_known_invite_link_is_organic(
        self, http: httpx.AsyncClient, space: SpaceKeys, tg: FakeTelegram, runtime: Runtime
    ) -> None:
        await _funnel(http, space, runtime)
        await _deliver(http, runtime, tg, tg.join_request(TOKEN, CHANNEL_ID, 777, None))
        foreign = "https://t.me/+SomeoneElsesLink"
        await _deliver(http, runtime, tg, tg.join_request(TOKEN, CHANNEL_ID, 778, foreign))
        assert await rows(runtime, "SELECT count(*) FROM event_inbox") == [(0,)]
        organic = await rows(
            runtime, "SELECT tg_id, organic, uid FROM tg_member_event ORDER BY tg_id"
        )
        assert organic == [(777, True, None), (778, True, None)]
        stats = (await http.get(f"/api/spaces/{space.slug}/telegram/stats",
                                headers=space.auth)).json()  # fmt: skip
        assert sum(p["organic"] for p in stats[0]["points"]) == 2

    async def test_a_wrong_secret_token_is_refused(
        self, http: httpx.AsyncClient, space: SpaceKeys, tg: FakeTelegram, runtime: Runtime
    ) -> None:
        invite, _uid = await _funnel(http, space, runtime)
        update = tg.join_request(TOKEN, CHANNEL_ID, USER, invite)
        bot_id = runtime.extras["test_bot_id"]
        for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "guess"}):
            r = await http.post(f"/telegram/webhook/{bot_id}", json=update, headers=headers)
            assert r.status_code == 401
            assert r.json()["error"]["code"] == "invalid_secret_token"
        assert await rows(runtime, "SELECT count(*) FROM tg_update") == [(0,)]

    async def test_old_update_ids_and_finished_actions_are_pruned(
        self, http: httpx.AsyncClient, space: SpaceKeys, tg: FakeTelegram, runtime: Runtime,
        clock: FrozenClock,
    ) -> None:  # fmt: skip
        invite, _uid = await _funnel(http, space, runtime, drip=DRIP[:1])
        await _deliver(http, runtime, tg, tg.join_request(TOKEN, CHANNEL_ID, USER, invite))
        await _run_until_idle(runtime)
        clock.advance(6 * 24 * 3_600_000)
        await telegram_service.prune(runtime)
        assert await rows(runtime, "SELECT count(*) FROM tg_update") == [(1,)]
        clock.advance(25 * 24 * 3_600_000)
        await telegram_service.prune(runtime)
        assert await rows(runtime, "SELECT count(*) FROM tg_update") == [(0,)]
        assert await rows(runtime, "SELECT count(*) FROM tg_action") == [(0,)]
        assert await rows(runtime, "SELECT count(*) FROM event_inbox") == [(1,)]


class TestDrip:
    async def test_messages_go_in_order_with_their_delays(
        self, http: httpx.AsyncClient, space: SpaceKeys, tg: FakeTelegram, runtime: Runtime,
        clock: FrozenClock,
    ) -> None:  # fmt: skip
        invite, _uid = await _funnel(http, space, runtime, drip=DRIP)
        start = clock.now_ms() // 1000
        await _deliver(http, runtime, tg, tg.join_request(TOKEN, CHANNEL_ID, USER, invite))
        tg.started.add((TOKEN, USER))  # the user opened the bot from the first message
        for _ in range(70):  # second by second through the first minute
            await telegram_service.run_due_actions(runtime)
            clock.advance(1000)
        clock.set((start + 3659) * 1000)
        await _run_until_idle(runtime)
        assert len(tg.sent) == 2  # the third is not due yet
        clock.advance(1000)
        await _run_until_idle(runtime)
        assert [(m["text"], m["at"] - start) for m in tg.sent] == [
            ("Welcome! Tap to open the bot", 0),
            ("Today's signal is pinned", 60),
            ("One hour in: any questions?", 3660),
        ]
        statuses = await rows(runtime, "SELECT kind, status FROM tg_action ORDER BY seq")
        assert statuses == [("message", "done"), ("approve", "done"), ("message", "done"),
                            ("message", "done")]  # fmt: skip

    async def test_one_chat_gets_at_most_one_message_a_second(
        self, http: httpx.AsyncClient, space: SpaceKeys, tg: FakeTelegram, runtime: Runtime,
        clock: FrozenClock,
    ) -> None:  # fmt: skip
        burst = [{"delay_s": 0, "text": f"part {i}"} for i in range(3)]
        invite, _uid = await _funnel(http, space, runtime, drip=burst, auto_approve=False)
        start = clock.now_ms() // 1000
        await _deliver(http, runtime, tg, tg.join_request(TOKEN, CHANNEL_ID, USER, invite))
        for _ in range(5):
            await _run_until_idle(runtime)
            clock.advance(500)
        assert [(m["text"], m["at"] - start) for m in tg.sent] == [
            ("part 0", 0), ("part 1", 1), ("part 2", 2)
        ]  # fmt: skip

    async def test_flood_control_is_waited_out(
        self, http: httpx.AsyncClient, space: SpaceKeys, tg: FakeTelegram, runtime: Runtime,
        clock: FrozenClock,
    ) -> None:  # fmt: skip
        invite, _uid = await _funnel(http, space, runtime, drip=DRIP[:1])
        tg.fail("sendMessage", 429, "Too Many Requests: retry after 5", retry_after=5)
        await _deliver(http, runtime, tg, tg.join_request(TOKEN, CHANNEL_ID, USER, invite))
        await _run_until_idle(runtime)
        assert tg.sent == [] and tg.approved == []
        clock.advance(4_000)
        await _run_until_idle(runtime)
        assert len(tg.calls_of("sendMessage")) == 1  # nothing sent before retry_after
        clock.advance(1_000)
        await _run_until_idle(runtime)
        assert [m["text"] for m in tg.sent] == ["Welcome! Tap to open the bot"]
        assert tg.approved == [(CHANNEL_ID, USER)]

    async def test_a_user_who_blocked_the_bot_gets_nothing_more_but_is_approved(
        self, http: httpx.AsyncClient, space: SpaceKeys, tg: FakeTelegram, runtime: Runtime,
        clock: FrozenClock,
    ) -> None:  # fmt: skip
        invite, _uid = await _funnel(http, space, runtime, drip=DRIP)
        tg.blocked.add(USER)
        await _deliver(http, runtime, tg, tg.join_request(TOKEN, CHANNEL_ID, USER, invite))
        for _ in range(4):
            await _run_until_idle(runtime)
            clock.advance(3_600_000)
        assert tg.sent == [] and len(tg.calls_of("sendMessage")) == 1
        assert tg.approved == [(CHANNEL_ID, USER)]
        statuses = await rows(runtime, "SELECT kind, status FROM tg_action ORDER BY seq")
        assert statuses == [("message", "stopped"), ("approve", "done"), ("message", "stopped"),
                            ("message", "stopped")]  # fmt: skip

    async def test_the_schedule_survives_a_restart(
        self, http: httpx.AsyncClient, space: SpaceKeys, tg: FakeTelegram, runtime: Runtime,
        clock: FrozenClock,
    ) -> None:  # fmt: skip
        invite, _uid = await _funnel(http, space, runtime, drip=DRIP[:2], auto_approve=False)
        await _deliver(http, runtime, tg, tg.join_request(TOKEN, CHANNEL_ID, USER, invite))
        # A worker claimed the first message and died before sending it.
        claimed = await runtime.committer.run(repo.claim_actions_job(clock.now_ms(), 60_000, 10))
        assert [a.kind for a in claimed] == ["message"]
        await _run_until_idle(runtime)
        assert tg.sent == []  # leased to the dead worker
        clock.advance(61_000)  # the lease ran out; the second message is due too
        await _run_until_idle(runtime)
        clock.advance(1_000)
        await _run_until_idle(runtime)
        assert [m["text"] for m in tg.sent] == [DRIP[0]["text"], DRIP[1]["text"]]

    async def test_the_first_message_must_fit_the_five_minute_window(
        self, http: httpx.AsyncClient, space: SpaceKeys, tg: FakeTelegram, runtime: Runtime
    ) -> None:
        await _funnel(http, space, runtime)
        r = await http.put(f"/api/spaces/{space.slug}/telegram/links/promo/drip",
                           json={"steps": [{"delay_s": 600, "text": "late"}]},
                           headers=space.auth)  # fmt: skip
        assert r.status_code == 422 and r.json()["error"]["field"] == "steps.0.delay_s"


class TestChannelStats:
    async def test_joins_leaves_and_member_counts_make_the_hourly_series(
        self, http: httpx.AsyncClient, space: SpaceKeys, tg: FakeTelegram, runtime: Runtime,
        clock: FrozenClock,
    ) -> None:  # fmt: skip
        invite, uid = await _funnel(http, space, runtime)
        await _deliver(http, runtime, tg, tg.join_request(TOKEN, CHANNEL_ID, USER, invite))
        await _run_until_idle(runtime)  # approval: Telegram sends the chat_member join
        for update in tg.updates[TOKEN]:
            if "chat_member" in update:
                await _deliver(http, runtime, tg, update)
        for user in (901, 902):
            await _deliver(
                http, runtime, tg, tg.member_update(TOKEN, CHANNEL_ID, user, "left", "member")
            )
        assert await telegram_service.record_member_counts(runtime) == 1
        clock.advance(3_600_000)
        await _deliver(
            http, runtime, tg, tg.member_update(TOKEN, CHANNEL_ID, 901, "member", "left")
        )
        await _deliver(
            http, runtime, tg, tg.member_update(TOKEN, CHANNEL_ID, 902, "member", "kicked")
        )
        await telegram_service.record_member_counts(runtime)
        r = await http.get(f"/api/spaces/{space.slug}/telegram/stats?hours=3", headers=space.auth)
        [channel] = r.json()
        assert channel["chat_id"] == CHANNEL_ID and channel["title"] == "Promo signals"
        points = [(p["joins"], p["leaves"], p["join_requests"], p["attributed"], p["member_count"])
                  for p in channel["points"]]  # fmt: skip
        assert points == [(0, 0, 0, 0, None), (3, 0, 1, 1, 1204), (0, 2, 0, 0, 1202)]
        joins = await rows(
            runtime, "SELECT uid FROM tg_member_event WHERE kind = 'join' AND uid IS NOT NULL"
        )
        assert joins == [(uid,)]  # the approved join is traced back to its visit


class TestLongPolling:
    async def test_updates_are_confirmed_and_repeats_change_nothing(
        self, http: httpx.AsyncClient, space: SpaceKeys, tg: FakeTelegram, runtime: Runtime
    ) -> None:
        await connect_bot(http, space)
        await channel_link(http, space)
        await telegram_service.refill_once(runtime)
        invite = (await visit(http)).headers["location"]
        update = tg.join_request(TOKEN, CHANNEL_ID, USER, invite)
        tg.updates[TOKEN].append(dict(update))  # delivered twice in one batch
        bot = await _bot(runtime)
        assert await telegram_service.poll_once(runtime, bot, 0) == 2
        assert tg.calls_of("getUpdates")[-1]["allowed_updates"][:2] == [
            "chat_join_request", "chat_member"
        ]  # fmt: skip
        bot = await _bot(runtime)
        assert bot.update_offset == update["update_id"] + 1
        await telegram_service.poll_once(runtime, bot, 0)  # confirms: the queue empties
        assert tg.calls_of("getUpdates")[-1]["offset"] == update["update_id"] + 1
        assert tg.updates[TOKEN] == []
        assert await rows(runtime, "SELECT count(*) FROM event_inbox") == [(1,)]


async def _bot(runtime: Runtime) -> Any:
    from xtracker.db.engine import session_scope

    async with session_scope(runtime.sessions) as session:
        bots = await repo.all_bots(session)
    return bots[0]
