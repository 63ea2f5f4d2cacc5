"""The delivery matrix after a real worker run, and the live feed across writes."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.conftest import SpaceKeys
from tests.integration.report_support import T0, create_link, send, visit
from tests.support.delivery import add_destination, fire
from tests.support.receivers import LocalServer, Reply, WebhookReceiver
from xtracker.db.engine import session_scope
from xtracker.errors import ValidationFailed
from xtracker.kit.clock import FrozenClock
from xtracker.report import service
from xtracker.runtime import Runtime
from xtracker.worker.delivery import DeliveryWorker


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    server = await WebhookReceiver().start()
    yield server
    await server.stop()


class TestDeliveryMatrix:
    async def test_statuses_success_rate_latency_and_last_error(
        self,
        http: httpx.AsyncClient,
        space: SpaceKeys,
        runtime: Runtime,
        receiver: WebhookReceiver,
        clock: FrozenClock,
    ) -> None:
        clock.set(int(time.time() * 1000))  # signatures are checked against the real time
        runtime.settings.delivery_no_delays = True
        made = await add_destination(http, space, kind="webhook", url=receiver.url + "/hook")
        receiver.secret = str(made["secret"])
        network = await LocalServer().start()  # an affiliate network answering 200 "ok"
        await add_destination(
            http,
            space,
            kind="s2s_postback",
            name="Network",
            url_template=network.url + "/pb?c={uid}",
        )
        for n in range(3):
            await fire(http, space, event="registration", uid=f"u{n}", eid=f"r-{n}")
        receiver.then(Reply(500, "boom"), Reply(410, "gone"))
        network.then(Reply(503, "busy"))
        try:
            async with DeliveryWorker(runtime) as worker:
                assert await worker.run_once() == 6
        finally:
            await network.stop()
        answer = await http.get(
            f"/api/spaces/{space.slug}/reports/deliveries?preset=today", headers=space.auth
        )
        assert answer.status_code == 200
        matrix = answer.json()
        assert matrix["statuses"] == [
            "pending",
            "sending",
            "sent",
            "retrying",
            "failed_permanently",
        ]
        rows = {d["name"]: d for d in matrix["destinations"]}
        assert set(rows) == {made["name"], "Network"}
        hook, net = rows[made["name"]], rows["Network"]
        assert (hook["sent"], hook["retrying"], hook["failed_permanently"]) == (1, 1, 1)
        assert (net["sent"], net["retrying"], net["failed_permanently"]) == (2, 1, 0)
        assert hook["success_rate"] == 0.5 and net["success_rate"] == 1.0
        assert hook["last_error"] and net["last_error"]
        for d in rows.values():
            assert d["attempts"] == 3 and d["latency_ms_avg"] is not None
            assert d["circuit"]["state"] == "closed" and d["total"] == 3


class TestLiveFeed:
    async def test_newest_first_then_only_what_came_after_the_cursor(
        self, runtime: Runtime, http: httpx.AsyncClient, space: SpaceKeys, clock: FrozenClock
    ) -> None:
        link = await create_link(http, space, "feed")
        uid = await visit(runtime, space.id, link, clock.now_ms(), country="BR", ad_name="Reel")
        await visit(runtime, space.id, link, clock.now_ms(), bot=True)
        clock.advance(5)
        await send(http, space, {"event": "deposit", "uid": uid, "value": "12.5"})
        answer = await http.get(f"/api/spaces/{space.slug}/reports/live", headers=space.auth)
        first = answer.json()
        kinds = [(i["kind"], i.get("event")) for i in first["items"]]
        assert kinds == [("click", None), ("event", "deposit")]  # the bot is not shown
        assert first["items"][0]["country"] == "BR" and first["items"][0]["ad_name"] == "Reel"
        assert first["items"][1]["value"] == "12.50" and first["items"][1]["link_id"] == link
        clock.advance(1000)
        await send(http, space, {"event": "deposit", "uid": uid, "value": "3", "eid": "x"})
        later = await http.get(
            f"/api/spaces/{space.slug}/reports/live",
            params={"after": first["cursor"]},
            headers=space.auth,
        )
        assert [i["value"] for i in later.json()["items"]] == ["3.00"]
        again = await http.get(
            f"/api/spaces/{space.slug}/reports/live",
            params={"after": later.json()["cursor"]},
            headers=space.auth,
        )
        assert again.json()["items"] == [] and again.json()["cursor"] == later.json()["cursor"]
        bad = await http.get(f"/api/spaces/{space.slug}/reports/live?after=!!", headers=space.auth)
        assert bad.status_code == 422

    async def test_a_push_feed_never_repeats_and_never_misses_a_late_commit(
        self, runtime: Runtime, http: httpx.AsyncClient, space: SpaceKeys, clock: FrozenClock
    ) -> None:
        link = await create_link(http, space, "tail")
        tail = service.LiveTail(space.id, lookback_ms=10_000)
        await visit(runtime, space.id, link, clock.now_ms())
        async with session_scope(runtime.sessions) as session:
            assert len(await tail.poll(session, clock.now_ms())) == 1
            assert await tail.poll(session, clock.now_ms()) == []
        clock.advance(2000)
        await visit(runtime, space.id, link, clock.now_ms())
        # minted earlier but committed later (a slow request): still delivered, once
        await visit(runtime, space.id, link, clock.now_ms() - 1500)
        async with session_scope(runtime.sessions) as session:
            assert len(await tail.poll(session, clock.now_ms())) == 2
            assert await tail.poll(session, clock.now_ms()) == []

    async def test_the_feed_is_per_space(
        self, runtime: Runtime, http: httpx.AsyncClient, space: SpaceKeys
    ) -> None:
        link = await create_link(http, space, "mine")
        await visit(runtime, space.id, link, T0)
        async with session_scope(runtime.sessions) as session:
            assert (await service.live_feed(session, "someone-else")).items == []
            with pytest.raises(ValidationFailed):
                await service.live_feed(session, space.id, "not a cursor")
