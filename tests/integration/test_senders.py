"""Senders against local servers speaking the real protocols.

fb_capi: the events must equal what Meta's own ``facebook-business`` SDK builds for the same
event (compared field by field), batched up to 1000 a request. s2s_postback: the documented
example fires exactly the documented URL.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from facebook_business.adobjects.serverside.action_source import ActionSource
from facebook_business.adobjects.serverside.custom_data import CustomData
from facebook_business.adobjects.serverside.event import Event
from facebook_business.adobjects.serverside.event_request import EventRequest
from facebook_business.adobjects.serverside.user_data import UserData
from facebook_business.api import FacebookAdsApi

from tests.conftest import SpaceKeys
from tests.support.delivery import add_destination, deliveries, fire, visit
from tests.support.receivers import LocalServer, MetaGraph, Reply, meta_error
from xtracker.kit.clock import FrozenClock
from xtracker.kit.hashing import dispatch_event_id, sha256_hex
from xtracker.runtime import Runtime
from xtracker.sender.netguard import StaticResolver
from xtracker.worker.delivery import DeliveryWorker

TOKEN = "EAAB-token"
PIXEL = "123456789012345"
UA = "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 Chrome/131.0 Mobile"


@pytest.fixture
async def graph(runtime: Runtime) -> AsyncIterator[MetaGraph]:
    server = await MetaGraph(TOKEN).start()
    runtime.settings.meta_graph_url = server.url
    yield server
    await server.stop()


@pytest.fixture
async def network() -> AsyncIterator[LocalServer]:
    server = await LocalServer().start()
    yield server
    await server.stop()


@pytest.fixture
def now(clock: FrozenClock) -> FrozenClock:
    clock.set(int(time.time() * 1000))
    return clock


async def run_once(runtime: Runtime, **kwargs: Any) -> int:
    async with DeliveryWorker(runtime, **kwargs) as worker:
        return await worker.run_once()


async def make_link(http: httpx.AsyncClient, space: SpaceKeys) -> None:
    r = await http.post(
        f"/api/spaces/{space.slug}/links",
        headers=space.auth,
        json={"slug": "promo", "kind": "web", "target_url": "https://offer.example/?c={uid}"},
    )
    assert r.status_code == 201, r.text


def sdk_event(**kw: Any) -> dict[str, Any]:
    user = UserData(external_ids=[kw["external_id"]], client_ip_address=kw.get("ip"),
                    client_user_agent=kw.get("ua"), fbc=kw.get("fbc"), fbp=kw.get("fbp"))  # fmt: skip
    custom = CustomData(value=kw["value"], currency=kw["currency"]) if "value" in kw else None
    event = Event(event_name=kw["name"], event_time=kw["time"], event_id=kw["event_id"],
                  event_source_url=kw.get("url"), action_source=kw["source"],
                  user_data=user, custom_data=custom)  # fmt: skip
    normalized: dict[str, Any] = event.normalize()
    return normalized


class TestFacebookCapi:
    async def test_events_equal_what_the_facebook_business_sdk_builds(
        self, http: httpx.AsyncClient, space: SpaceKeys, runtime: Runtime,
        graph: MetaGraph, now: FrozenClock,
    ) -> None:  # fmt: skip
        await make_link(http, space)
        uid = await visit(http, runtime, "/l/promo?fbclid=IwAR0abc&campaign_id=120&campaign_name=promoX",
                          **{"User-Agent": UA, "Cookie": "_fbp=fb.1.1596403881668.1116446470"})  # fmt: skip
        made = await add_destination(http, space, kind="fb_capi", pixel_id=PIXEL,
                                     access_token=TOKEN, test_event_code="TEST4242")  # fmt: skip
        occurred = now.now_ms() - 60_000
        deposit = await fire(http, space, event="deposit", uid=uid, value="25", eid="tx-1",
                             occurred_at_ms=occurred)  # fmt: skip
        lead = await fire(http, space, event="subscribed", uid=uid, occurred_at_ms=occurred)
        assert await run_once(runtime) == 2
        assert len(graph.requests) == 1  # one batch
        seen = graph.requests[0]
        assert seen.path == f"/{runtime.settings.meta_api_version}/{PIXEL}/events"
        assert seen.query["access_token"] == TOKEN
        [body] = graph.bodies
        assert body["test_event_code"] == "TEST4242"
        fbc = await _click_value(runtime, uid, "fbc")
        common = dict(external_id=sha256_hex(uid), ip="203.0.113.9", ua=UA, fbc=fbc,
                      fbp="fb.1.1596403881668.1116446470", time=occurred // 1000,
                      url="http://testserver/l/promo", source=ActionSource.WEBSITE)  # fmt: skip
        expected = {
            "Purchase": sdk_event(name="Purchase", value=25.0, currency="USD",
                                  event_id=dispatch_event_id(deposit, made["id"]), **common),
            "Lead": sdk_event(name="Lead", event_id=dispatch_event_id(lead, made["id"]), **common),
        }  # fmt: skip
        got = {e["event_name"]: e for e in body["data"]}
        assert got.keys() == expected.keys()
        for name, sdk in expected.items():
            assert set(got[name]) == set(sdk), name
            for key in sdk:
                assert got[name][key] == sdk[key], (name, key)
        assert fbc.startswith("fb.1.") and fbc.endswith(".IwAR0abc")

    async def test_our_fake_graph_speaks_what_the_real_sdk_sends(self, graph: MetaGraph) -> None:
        api = FacebookAdsApi.init(access_token=TOKEN)
        api._session.GRAPH = graph.url
        event = Event(event_name="Lead", event_time=1_765_432_100, event_id="e1",
                      action_source=ActionSource.CHAT,
                      user_data=UserData(external_ids=["x"]))  # fmt: skip
        response = await asyncio.to_thread(
            EventRequest(pixel_id=PIXEL, events=[event], test_event_code="T1").execute
        )
        assert response.events_received == 1
        assert graph.events == [event.normalize()] and graph.bodies[0]["test_event_code"] == "T1"

    async def test_up_to_1000_events_go_in_one_request(
        self, http: httpx.AsyncClient, space: SpaceKeys, runtime: Runtime,
        graph: MetaGraph, now: FrozenClock,
    ) -> None:  # fmt: skip
        await add_destination(http, space, kind="fb_capi", pixel_id=PIXEL, access_token=TOKEN,
                              action_source="chat")  # fmt: skip
        events = [{"event": "contact", "uid": f"u{n}"} for n in range(1000)]
        events.append({"event": "contact", "uid": "u1000"})
        for start in (0, 500, 1000):
            r = await http.post("/events", json={"events": events[start:start + 500]},
                                headers=space.auth)  # fmt: skip
            assert r.status_code == 200
        async with DeliveryWorker(runtime, batch=2000) as worker:
            assert await worker.run_once(1001) == 1001
        assert sorted(len(b["data"]) for b in graph.bodies) == [1, 1000]
        assert {e["action_source"] for e in graph.events} == {"chat"}
        assert "event_source_url" not in graph.events[0]  # no click: no landing URL

    async def test_events_older_than_seven_days_fail_with_that_reason(
        self, http: httpx.AsyncClient, space: SpaceKeys, runtime: Runtime,
        graph: MetaGraph, now: FrozenClock,
    ) -> None:  # fmt: skip
        await add_destination(http, space, kind="fb_capi", pixel_id=PIXEL, access_token=TOKEN)
        await fire(http, space, event="registration", uid="u1",
                   occurred_at_ms=now.now_ms() - 8 * 86_400_000)  # fmt: skip
        await run_once(runtime)
        [row] = await deliveries(http, space)
        assert row["status"] == "failed_permanently"
        assert "older than 7 days" in row["last_error"]
        assert graph.requests == []

    async def test_an_invalid_token_fails_at_once_and_a_temporary_error_is_retried(
        self, http: httpx.AsyncClient, space: SpaceKeys, runtime: Runtime,
        graph: MetaGraph, now: FrozenClock,
    ) -> None:  # fmt: skip
        runtime.settings.delivery_no_delays = True
        await add_destination(http, space, kind="fb_capi", pixel_id=PIXEL, access_token="wrong")
        await fire(http, space, event="contact", uid="u1")
        await run_once(runtime)
        [row] = await deliveries(http, space)
        assert row["status"] == "failed_permanently"
        assert row["last_error"] == "Meta error 190: Invalid OAuth access token."
        await http.patch(f"/api/spaces/{space.slug}/destinations/{row['destination_id']}",
                         json={"access_token": TOKEN}, headers=space.auth)  # fmt: skip
        await http.post(f"/api/spaces/{space.slug}/deliveries/{row['id']}/replay",
                        headers=space.auth)  # fmt: skip
        graph.then(meta_error(2, status=400, message="Service temporarily unavailable"))
        await run_once(runtime)
        assert (await deliveries(http, space))[0]["status"] == "retrying"
        await run_once(runtime)
        assert (await deliveries(http, space))[0]["status"] == "sent"
        assert len(graph.events) == 1


async def _click_value(runtime: Runtime, uid: str, column: str) -> str:
    async with runtime.backend.reader() as tx:
        row = await tx.fetchone(f"SELECT {column} FROM click WHERE uid = ?", (uid,))
    assert row is not None
    return str(row[0])


class TestS2sPostback:
    async def test_the_documented_example_fires_exactly_the_documented_url(
        self, http: httpx.AsyncClient, space: SpaceKeys, runtime: Runtime,
        network: LocalServer, now: FrozenClock,
    ) -> None:  # fmt: skip
        template = ("http://aff.example.com:{port}/postback?clickid={uid}&goal={canonical}"
                    "&sum={value}&cur={currency}").replace("{port}", str(network.port))  # fmt: skip
        await add_destination(http, space, kind="s2s_postback", url_template=template)
        await fire(http, space, event="deposit", uid="abc123", value=25)
        await run_once(runtime, resolver=StaticResolver({"aff.example.com": "127.0.0.1"}))
        [seen] = network.requests
        assert seen.method == "GET"
        assert seen.url == (f"http://aff.example.com:{network.port}"
                            "/postback?clickid=abc123&goal=deposit&sum=25.00&cur=USD")  # fmt: skip
        assert (await deliveries(http, space))[0]["status"] == "sent"

    async def test_macros_are_url_encoded_and_missing_ones_render_empty(
        self, http: httpx.AsyncClient, space: SpaceKeys, runtime: Runtime,
        network: LocalServer, now: FrozenClock,
    ) -> None:  # fmt: skip
        await make_link(http, space)
        uid = await visit(http, runtime, "/l/promo?campaign_name=Promo%20X%26Y&sub1=z1&aff=42",
                          **{"User-Agent": UA})  # fmt: skip
        await add_destination(
            http, space, kind="s2s_postback", method="POST",
            url_template=network.url + "/pb?c={uid}&n={campaign_name}&s={sub1}&a={param.aff}"
            "&v={value}&e={event}&l={link}&t={tg_id}&id={event_id}",
            event_map={"registration": "reg ok"},
        )  # fmt: skip
        inbox = await fire(http, space, event="registration", uid=uid)
        await run_once(runtime)
        [seen] = network.requests
        assert seen.method == "POST"
        [dest] = (await http.get(f"/api/spaces/{space.slug}/destinations",
                                 headers=space.auth)).json()  # fmt: skip
        assert seen.url == (f"{network.url}/pb?c={uid}&n=Promo%20X%26Y&s=z1&a=42&v=&e=reg%20ok"
                            f"&l=promo&t=&id={dispatch_event_id(inbox, dest['id'])}")  # fmt: skip

    async def test_success_is_exactly_the_expected_status_and_body(
        self, http: httpx.AsyncClient, space: SpaceKeys, runtime: Runtime,
        network: LocalServer, now: FrozenClock,
    ) -> None:  # fmt: skip
        await add_destination(http, space, kind="s2s_postback", expected_status=200,
                              expected_body="OK", url_template=network.url + "/pb?c={uid}")  # fmt: skip
        for uid in ("u1", "u2", "u3"):
            await fire(http, space, event="contact", uid=uid)
        network.then(Reply(201, "OK"), Reply(200, "ERROR: unknown click"), Reply(200, "OK"))
        async with DeliveryWorker(runtime, concurrency=1) as worker:
            await worker.run_once()
        rows = {r["uid"]: r for r in await deliveries(http, space)}
        outcomes = sorted((r["status"], r["last_error"]) for r in rows.values())
        assert outcomes == [
            ("failed_permanently", "HTTP 201, expected 200"),
            ("failed_permanently", "answer does not contain 'OK'"),
            ("sent", None),
        ]
