"""Real-time monitoring: for every rule a scripted timeline on a frozen clock in which it
fires once and resolves once, stays quiet under its volume guard, and the local receivers
(a Standard Webhooks receiver, a fake Bot API) hear about it exactly twice."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import SpaceKeys
from tests.support.delivery import add_destination, fire
from tests.support.fake_dns import Zone, fake_dns
from tests.support.receivers import LocalServer, Reply, WebhookReceiver
from tests.support.tg import CHANNEL_ID, connect_bot, wired
from xtracker.alert import tasks as alert_tasks
from xtracker.alert.schemas import EvalReport
from xtracker.alert.service import evaluate
from xtracker.config import Settings
from xtracker.db.engine import make_engine, make_sessionmaker
from xtracker.domain.router import DomainRouter
from xtracker.kit.clock import FrozenClock
from xtracker.runtime import Runtime
from xtracker.worker.delivery import DeliveryWorker

MIN = 60_000
HOUR = 60 * MIN
DAY = 24 * HOUR
ORIGIN = "origin.xtracker.test"
BOT_UA = "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)"


@pytest.fixture
def now(clock: FrozenClock) -> FrozenClock:
    clock.set(int(time.time() * 1000))
    return clock


@pytest.fixture
async def hook() -> AsyncIterator[WebhookReceiver]:
    server = await WebhookReceiver().start()
    yield server
    await server.stop()


@pytest.fixture
async def out() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


class Monitor:
    """The worker's minute, run by hand: evaluate every space, send what is due."""

    def __init__(self, runtime: Runtime, clock: FrozenClock, out: httpx.AsyncClient,
                 http: httpx.AsyncClient, space: SpaceKeys, hook: WebhookReceiver) -> None:  # fmt: skip
        self.runtime, self.clock, self.out, self.http, self.space, self.hook = (
            runtime, clock, out, http, space, hook)  # fmt: skip

    async def tick(self, advance_ms: int = MIN) -> EvalReport:
        self.clock.advance(advance_ms)
        report, _sent = await alert_tasks.tick(self.runtime, self.out)
        return report

    async def alerts(self) -> dict[str, Any]:
        r = await self.http.get(f"/api/spaces/{self.space.slug}/alerts", headers=self.space.auth)
        assert r.status_code == 200, r.text
        return dict(r.json())

    def heard(self) -> list[tuple[str, str]]:
        """(type, rule) of every notification the webhook receiver accepted, in order."""
        assert self.hook.bad_signatures == 0
        assert all(n == 1 for n in self.hook.deliveries.values())
        return [(p["type"], p["data"]["rule"]) for p in self.hook.accepted.values()]

    async def fires_once_and_resolves_once(self, rule: str, resolve: Any) -> dict[str, Any]:
        """Two evaluations to fire, quiet while firing, ``resolve()``, then resolved."""
        assert (await self.tick(0)).fired == 0
        pending = await self.alerts()
        assert [a["rule"] for a in pending["pending"]] == [rule], pending
        assert self.heard() == []
        assert (await self.tick()).fired == 1
        firing = await self.alerts()
        assert [a["rule"] for a in firing["firing"]] == [rule]
        assert (await self.tick()).fired == 0
        assert self.heard() == [("alert.firing", rule)]
        await resolve()
        assert (await self.tick()).resolved == 1
        await self.tick()
        assert self.heard() == [("alert.firing", rule), ("alert.resolved", rule)]
        done = await self.alerts()
        assert done["firing"] == [] and done["pending"] == []
        [episode] = done["history"]
        assert episode["rule"] == rule and episode["state"] == "resolved"
        return dict(episode)

    async def stays_quiet(self, evaluations: int = 3) -> None:
        for _ in range(evaluations):
            report = await self.tick()
            assert report.findings == 0, report
        assert self.heard() == []
        listed = await self.alerts()
        assert listed == {"firing": [], "pending": [], "history": []}


@pytest.fixture
async def monitor(
    runtime: Runtime, now: FrozenClock, out: httpx.AsyncClient, http: httpx.AsyncClient,
    space: SpaceKeys, hook: WebhookReceiver,
) -> Monitor:  # fmt: skip
    r = await http.post(f"/api/spaces/{space.slug}/alerts/channels", headers=space.auth,
                        json={"kind": "webhook", "url": hook.url + "/alerts"})  # fmt: skip
    assert r.status_code == 201, r.text
    hook.secret = r.json()["secret"]
    return Monitor(runtime, now, out, http, space, hook)


async def link(http: httpx.AsyncClient, space: SpaceKeys, slug: str = "promo") -> str:
    r = await http.post(f"/api/spaces/{space.slug}/links", headers=space.auth,
                        json={"slug": slug, "kind": "web", "name": f"Promo {slug}",
                              "target_url": "https://offer.example/?c={uid}"})  # fmt: skip
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def clicks(
    http: httpx.AsyncClient, space: SpaceKeys, n: int, slug: str = "promo"
) -> list[str]:
    uids = []
    for _ in range(n):
        r = await http.post("/clicks", json={"link_slug": slug}, headers=space.auth)
        assert r.status_code == 200, r.text
        uids.append(r.json()["uid"])
    return uids


async def events(http: httpx.AsyncClient, space: SpaceKeys, name: str, uids: list[str]) -> None:
    batch = [{"event": name, "uid": uid, "eid": f"{name}-{uid}"} for uid in uids]
    r = await http.post("/events", json={"events": batch}, headers=space.auth)
    assert r.status_code == 200, r.text


class TestBrokenFunnel:
    async def test_clicks_without_contacts_fire_once_and_resolve_once(
        self, monitor: Monitor, http: httpx.AsyncClient, space: SpaceKeys
    ) -> None:
        await link(http, space)
        uids = await clicks(http, space, 200)

        async def first_contact() -> None:
            await events(http, space, "contact", uids[:1])

        episode = await monitor.fires_once_and_resolves_once("funnel_no_contact", first_contact)
        assert episode["object"]["kind"] == "link" and episode["object"]["name"] == "promo"
        assert episode["object"]["url"] == f"http://testserver/s/{space.slug}/links/promo"
        assert episode["summary"] == "200 clicks and no contact in 2 h"

    async def test_199_clicks_stay_under_the_volume_guard(
        self, monitor: Monitor, http: httpx.AsyncClient, space: SpaceKeys
    ) -> None:
        await link(http, space)
        await clicks(http, space, 199)
        await monitor.stays_quiet()

    async def test_bot_clicks_never_count(
        self, monitor: Monitor, http: httpx.AsyncClient, space: SpaceKeys
    ) -> None:
        await link(http, space)
        for _ in range(200):
            r = await http.get("/l/promo", headers={"User-Agent": BOT_UA})
            assert r.status_code == 200
        await monitor.stays_quiet()

    async def test_subscribers_without_registrations(
        self, monitor: Monitor, http: httpx.AsyncClient, space: SpaceKeys
    ) -> None:
        await link(http, space)
        uids = await clicks(http, space, 50)
        await events(http, space, "subscribed", uids)

        async def registration() -> None:
            await events(http, space, "registration", uids[:1])

        episode = await monitor.fires_once_and_resolves_once("funnel_no_registration", registration)
        assert episode["details"] == {"subscribed": 50, "registration": 0, "window_hours": 24}

    async def test_49_subscribers_stay_under_the_volume_guard(
        self, monitor: Monitor, http: httpx.AsyncClient, space: SpaceKeys
    ) -> None:
        await link(http, space)
        await events(http, space, "subscribed", await clicks(http, space, 49))
        await monitor.stays_quiet()

    async def test_registrations_without_deposits(
        self, monitor: Monitor, http: httpx.AsyncClient, space: SpaceKeys
    ) -> None:
        await link(http, space)
        uids = await clicks(http, space, 20)
        await events(http, space, "registration", uids)

        async def deposit() -> None:
            r = await http.post("/events", headers=space.auth,
                                json={"event": "deposit", "uid": uids[0], "value": "25"})  # fmt: skip
            assert r.status_code == 200

        await monitor.fires_once_and_resolves_once("funnel_no_deposit", deposit)

    async def test_19_registrations_stay_under_the_volume_guard(
        self, monitor: Monitor, http: httpx.AsyncClient, space: SpaceKeys
    ) -> None:
        await link(http, space)
        await events(http, space, "registration", await clicks(http, space, 19))
        await monitor.stays_quiet()


class TestConversionDrop:
    async def _baseline(self, monitor: Monitor, http: httpx.AsyncClient, space: SpaceKeys) -> None:
        await link(http, space)
        start = monitor.clock.now_ms()
        monitor.clock.set(start - 3 * DAY)
        uids = await clicks(http, space, 200)
        await events(http, space, "contact", uids[:100])  # 50 % the usual rate
        monitor.clock.set(start)

    async def test_a_step_rate_under_30_percent_of_its_7_day_rate(
        self, monitor: Monitor, http: httpx.AsyncClient, space: SpaceKeys
    ) -> None:
        await self._baseline(monitor, http, space)
        uids = await clicks(http, space, 200)
        await events(http, space, "contact", uids[:10])  # 5 % now

        async def recovers() -> None:
            await events(http, space, "contact", uids[10:100])

        episode = await monitor.fires_once_and_resolves_once("conversion_drop", recovers)
        assert episode["details"]["steps"] == [
            {"step": "click→contact", "rate": 0.05, "usual_rate": 0.5}
        ]

    async def test_under_100_in_the_denominator_stays_quiet(
        self, monitor: Monitor, http: httpx.AsyncClient, space: SpaceKeys
    ) -> None:
        await self._baseline(monitor, http, space)
        uids = await clicks(http, space, 99)
        await events(http, space, "contact", uids[:1])
        await monitor.stays_quiet()


class TestDeadLink:
    async def _history(
        self, monitor: Monitor, http: httpx.AsyncClient, space: SpaceKeys, per_day: int
    ) -> None:
        await link(http, space)
        start = monitor.clock.now_ms()
        for day in range(1, 8):
            monitor.clock.set(start - day * DAY - 30 * MIN)
            await clicks(http, space, per_day)
        monitor.clock.set(start)

    async def test_no_clicks_in_an_hour_that_usually_brings_20(
        self, monitor: Monitor, http: httpx.AsyncClient, space: SpaceKeys
    ) -> None:
        await self._history(monitor, http, space, 20)

        async def traffic_returns() -> None:
            await clicks(http, space, 1)

        episode = await monitor.fires_once_and_resolves_once("dead_link", traffic_returns)
        assert episode["details"] == {"clicks": 0, "usual_clicks": 20.0}

    async def test_an_hour_that_usually_brings_19_stays_quiet(
        self, monitor: Monitor, http: httpx.AsyncClient, space: SpaceKeys
    ) -> None:
        await self._history(monitor, http, space, 19)
        await monitor.stays_quiet()

    async def test_a_paused_link_is_not_dead(
        self, monitor: Monitor, http: httpx.AsyncClient, space: SpaceKeys
    ) -> None:
        await self._history(monitor, http, space, 30)
        r = await http.patch(f"/api/spaces/{space.slug}/links/promo", json={"active": False},
                             headers=space.auth)  # fmt: skip
        assert r.status_code == 200
        await monitor.stays_quiet()


@pytest.fixture
async def partner() -> AsyncIterator[LocalServer]:
    server = await LocalServer().start()
    yield server
    await server.stop()


async def deliver(runtime: Runtime) -> int:
    async with DeliveryWorker(runtime) as worker:
        return await worker.run_once()


class TestDestinations:
    async def test_failing_deliveries_fire_once_and_resolve_once(
        self, monitor: Monitor, http: httpx.AsyncClient, space: SpaceKeys, runtime: Runtime,
        partner: LocalServer,
    ) -> None:  # fmt: skip
        await add_destination(http, space, kind="s2s_postback", name="Partner",
                              url_template=partner.url + "/pb?c={uid}")  # fmt: skip
        partner.default = Reply(status=500, body="down")
        for n in range(10):
            await fire(http, space, event="contact", uid=f"u{n}")
        assert await deliver(runtime) == 10

        async def partner_is_back() -> None:
            partner.default = Reply()
            monitor.clock.advance(30 * MIN)
            while await deliver(runtime):
                monitor.clock.advance(MIN)
            monitor.clock.advance(31 * MIN)  # the failures leave the 60-minute window

        episode = await monitor.fires_once_and_resolves_once("destination_failing", partner_is_back)
        assert episode["object"]["kind"] == "destination"
        assert episode["object"]["name"] == "Partner"
        assert "10 of 10 attempts failed in 60 min" in episode["summary"]

    async def test_one_failure_in_nine_attempts_stays_under_the_volume_guard(
        self, monitor: Monitor, http: httpx.AsyncClient, space: SpaceKeys, runtime: Runtime,
        partner: LocalServer,
    ) -> None:  # fmt: skip
        await add_destination(http, space, kind="s2s_postback", name="Partner",
                              url_template=partner.url + "/pb?c={uid}")  # fmt: skip
        partner.then(Reply(status=500))
        for n in range(9):
            await fire(http, space, event="contact", uid=f"u{n}")
        await deliver(runtime)
        await monitor.stays_quiet()

    async def test_queued_events_without_a_success_for_30_minutes_are_silent(
        self, monitor: Monitor, http: httpx.AsyncClient, space: SpaceKeys, runtime: Runtime,
        partner: LocalServer,
    ) -> None:  # fmt: skip
        await add_destination(http, space, kind="s2s_postback", name="Partner",
                              url_template=partner.url + "/pb?c={uid}")  # fmt: skip
        await fire(http, space, event="contact", uid="u1")  # and no worker runs
        monitor.clock.advance(31 * MIN)

        async def worker_runs() -> None:
            assert await deliver(runtime) == 1

        await monitor.fires_once_and_resolves_once("destination_silent", worker_runs)

    async def test_a_queue_younger_than_30_minutes_stays_quiet(
        self, monitor: Monitor, http: httpx.AsyncClient, space: SpaceKeys
    ) -> None:
        await add_destination(http, space, kind="s2s_postback", name="Partner",
                              url_template="https://partner.example/pb?c={uid}")  # fmt: skip
        await fire(http, space, event="contact", uid="u1")
        monitor.clock.advance(25 * MIN)
        await monitor.stays_quiet(2)


class TestDomainBroken:
    @pytest.fixture
    def zone(self) -> Zone:
        return Zone(addresses={ORIGIN: "192.0.2.10"})

    @pytest.fixture
    def settings(self, settings: Settings, zone: Zone) -> Iterator[Settings]:
        with fake_dns(zone) as port:
            yield settings.model_copy(update={"dns_resolver": "127.0.0.1",
                                              "dns_resolver_port": port, "origin_host": ORIGIN})  # fmt: skip

    async def _check(self, http: httpx.AsyncClient, space: SpaceKeys) -> str:
        r = await http.post(f"/api/spaces/{space.slug}/domains/go.brand.com/check",
                            headers=space.auth)  # fmt: skip
        return str(r.json()["state"])

    async def test_a_verified_domain_failing_its_check(
        self, monitor: Monitor, http: httpx.AsyncClient, space: SpaceKeys, zone: Zone,
        runtime: Runtime,
    ) -> None:  # fmt: skip
        runtime.extras["host_router"] = DomainRouter(runtime.backend, runtime.settings)
        zone.cnames["go.brand.com"] = ORIGIN
        r = await http.post(f"/api/spaces/{space.slug}/domains", headers=space.auth,
                            json={"hostname": "go.brand.com"})  # fmt: skip
        assert r.json()["state"] == "verified"
        del zone.cnames["go.brand.com"]
        assert await self._check(http, space) == "failing"

        async def dns_fixed() -> None:
            zone.cnames["go.brand.com"] = ORIGIN
            assert await self._check(http, space) == "verified"

        episode = await monitor.fires_once_and_resolves_once("domain_broken", dns_fixed)
        assert episode["object"] == {
            "kind": "domain", "id": episode["object"]["id"], "name": "go.brand.com",
            "url": f"http://testserver/s/{space.slug}/domains",
            "api_url": f"http://testserver/api/spaces/{space.slug}/domains/go.brand.com",
        }  # fmt: skip

    async def test_a_domain_never_verified_stays_quiet(
        self, monitor: Monitor, http: httpx.AsyncClient, space: SpaceKeys
    ) -> None:
        r = await http.post(f"/api/spaces/{space.slug}/domains", headers=space.auth,
                            json={"hostname": "go.brand.com"})  # fmt: skip
        assert r.json()["state"] == "pending"
        await monitor.stays_quiet()


class TestSemantics:
    async def test_a_condition_that_clears_while_pending_says_nothing(
        self, monitor: Monitor, http: httpx.AsyncClient, space: SpaceKeys
    ) -> None:
        await link(http, space)
        uids = await clicks(http, space, 200)
        await monitor.tick(0)
        assert len((await monitor.alerts())["pending"]) == 1
        await events(http, space, "contact", uids[:1])
        await monitor.tick()
        assert await monitor.alerts() == {"firing": [], "pending": [], "history": []}
        assert monitor.heard() == []

    async def test_two_workers_evaluating_the_same_minute_count_once(
        self, monitor: Monitor, http: httpx.AsyncClient, space: SpaceKeys, runtime: Runtime,
        caplog: pytest.LogCaptureFixture,
    ) -> None:  # fmt: skip
        await link(http, space)
        await clicks(http, space, 200)
        settings, clock = runtime.settings, monitor.clock
        # Each worker process has its own engine: both read "no open alert", then both
        # insert one; the second finds the first's and leaves that space to it.
        other = make_engine(settings.database)
        try:
            other_sessions = make_sessionmaker(other)
            await asyncio.gather(evaluate(runtime.sessions, clock, settings),
                                 evaluate(other_sessions, clock, settings))  # fmt: skip
            await monitor.tick(10_000)  # a third worker, 10 s later: still the same evaluation
            listed = await monitor.alerts()
            assert [a["state"] for a in listed["pending"]] == ["pending"]
            await monitor.tick()
            await asyncio.gather(evaluate(runtime.sessions, clock, settings),
                                 evaluate(other_sessions, clock, settings))  # fmt: skip
        finally:
            await other.dispose()
        await monitor.tick(0)
        assert monitor.heard() == [("alert.firing", "funnel_no_contact")]
        assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []

    async def test_a_reminder_at_most_every_4_hours_while_firing(
        self, monitor: Monitor, http: httpx.AsyncClient, space: SpaceKeys
    ) -> None:
        await http.patch(f"/api/spaces/{space.slug}/alerts/rules/funnel_no_contact",
                         json={"params": {"window_hours": 12}}, headers=space.auth)  # fmt: skip
        await link(http, space)
        await clicks(http, space, 200)
        await monitor.tick(0)
        for _ in range(9 * 6):  # 9 hours, evaluated every 10 minutes
            await monitor.tick(10 * MIN)
        assert (
            monitor.heard()
            == [("alert.firing", "funnel_no_contact")]
            + [("alert.reminder", "funnel_no_contact")] * 2
        )
        [alert] = (await monitor.alerts())["firing"]
        assert alert["reminders"] == 2

    async def test_a_lower_threshold_set_in_the_api_applies(
        self, monitor: Monitor, http: httpx.AsyncClient, space: SpaceKeys
    ) -> None:
        r = await http.patch(f"/api/spaces/{space.slug}/alerts/rules/funnel_no_contact",
                             json={"params": {"min_clicks": 50}}, headers=space.auth)  # fmt: skip
        assert r.status_code == 200 and r.json()["params"]["min_clicks"] == 50
        await link(http, space)
        await clicks(http, space, 50)
        await monitor.tick(0)
        await monitor.tick()
        assert monitor.heard() == [("alert.firing", "funnel_no_contact")]

    async def test_disabling_a_firing_rule_resolves_its_alerts(
        self, monitor: Monitor, http: httpx.AsyncClient, space: SpaceKeys
    ) -> None:
        await link(http, space)
        await clicks(http, space, 200)
        await monitor.tick(0)
        await monitor.tick()
        r = await http.patch(f"/api/spaces/{space.slug}/alerts/rules/funnel_no_contact",
                             json={"enabled": False}, headers=space.auth)  # fmt: skip
        assert r.json()["enabled"] is False
        await monitor.tick()
        await monitor.tick()
        assert monitor.heard() == [("alert.firing", "funnel_no_contact"),
                                   ("alert.resolved", "funnel_no_contact")]  # fmt: skip

    async def test_a_receiver_that_fails_gets_the_notification_once_later(
        self, monitor: Monitor, http: httpx.AsyncClient, space: SpaceKeys
    ) -> None:
        monitor.hook.then(Reply(status=503), Reply(status=503))
        await link(http, space)
        await clicks(http, space, 200)
        await monitor.tick(0)
        await monitor.tick()
        assert monitor.heard() == []
        for _ in range(4):
            await monitor.tick()
        assert monitor.heard() == [("alert.firing", "funnel_no_contact")]
        assert len(monitor.hook.requests) == 3


class TestTelegram:
    async def test_the_space_bot_and_a_webhook_each_hear_exactly_twice(
        self, monitor: Monitor, http: httpx.AsyncClient, space: SpaceKeys, runtime: Runtime,
        now: FrozenClock,
    ) -> None:  # fmt: skip
        async with wired(runtime, now) as fake:
            await connect_bot(http, space)
            r = await http.post(f"/api/spaces/{space.slug}/alerts/channels", headers=space.auth,
                                json={"kind": "telegram", "chat_id": CHANNEL_ID})  # fmt: skip
            assert r.status_code == 201 and r.json()["own_bot"] is False
            await link(http, space)
            uids = await clicks(http, space, 200)

            async def contact() -> None:
                await events(http, space, "contact", uids[:1])

            await monitor.fires_once_and_resolves_once("funnel_no_contact", contact)
            texts = [m["text"] for m in fake.sent if m["chat_id"] == CHANNEL_ID]
        assert len(texts) == 2
        assert texts[0].startswith("🔴 <b>FIRING</b> · Broken funnel: clicks without contacts")
        assert "200 clicks and no contact in 2 h" in texts[0]
        assert texts[1].startswith("✅ <b>RESOLVED</b>")

    async def test_a_channel_with_its_own_bot_token(
        self, monitor: Monitor, http: httpx.AsyncClient, space: SpaceKeys, runtime: Runtime,
        now: FrozenClock,
    ) -> None:  # fmt: skip
        token = "7099999999:AAHanotherBotTokenForAlerts_0123456789"
        async with wired(runtime, now) as fake:
            fake.add_bot(token, 7099999999, "alerts_bot")
            fake.make_admin(CHANNEL_ID, 7099999999)
            r = await http.post(f"/api/spaces/{space.slug}/alerts/channels", headers=space.auth,
                                json={"kind": "telegram", "chat_id": str(CHANNEL_ID),
                                      "bot_token": token})  # fmt: skip
            assert r.status_code == 201 and r.json()["own_bot"] is True
            await link(http, space)
            await clicks(http, space, 200)
            await monitor.tick(0)
            await monitor.tick()
            assert [m["chat_id"] for m in fake.sent] == [CHANNEL_ID]


class TestRulesApi:
    async def test_every_rule_is_on_by_default_with_the_documented_thresholds(
        self, http: httpx.AsyncClient, space: SpaceKeys
    ) -> None:
        r = await http.get(f"/api/spaces/{space.slug}/alerts/rules", headers=space.auth)
        rules = {rule["kind"]: rule for rule in r.json()}
        assert list(rules) == [
            "dead_link", "funnel_no_contact", "funnel_no_registration", "funnel_no_deposit",
            "conversion_drop", "destination_failing", "destination_silent", "domain_broken",
        ]  # fmt: skip
        assert all(rule["enabled"] and not rule["edited"] for rule in rules.values())
        assert rules["funnel_no_contact"]["params"] == {
            "window_hours": 2, "min_clicks": 200, "for_evaluations": 2, "reminder_hours": 4}  # fmt: skip
        assert rules["destination_failing"]["params"]["failure_rate"] == 0.1

    @pytest.mark.parametrize(
        ("body", "field"),
        [({"params": {"nope": 1}}, "params.nope"), ({"params": {"min_clicks": -1}}, "params.min_clicks"),
         ({"params": {"circuit_open": 1}}, "params.circuit_open"),
         ({"params": {"for_evaluations": 0}}, "params.for_evaluations")],
    )  # fmt: skip
    async def test_bad_thresholds_are_refused(
        self, http: httpx.AsyncClient, space: SpaceKeys, body: dict[str, Any], field: str
    ) -> None:
        kind = "destination_failing" if "circuit_open" in body["params"] else "funnel_no_contact"
        r = await http.patch(f"/api/spaces/{space.slug}/alerts/rules/{kind}", json=body,
                             headers=space.auth)  # fmt: skip
        assert r.status_code == 422 and r.json()["error"]["field"] == field

    async def test_reset_returns_to_the_defaults(
        self, http: httpx.AsyncClient, space: SpaceKeys
    ) -> None:
        url = f"/api/spaces/{space.slug}/alerts/rules/dead_link"
        await http.patch(url, json={"enabled": False, "params": {"min_usual_clicks": 5}},
                         headers=space.auth)  # fmt: skip
        r = await http.patch(url, json={"reset": True}, headers=space.auth)
        assert r.json()["enabled"] is True and r.json()["params"]["min_usual_clicks"] == 20

    async def test_channels_are_listed_without_secrets_and_removed(
        self, http: httpx.AsyncClient, space: SpaceKeys
    ) -> None:
        base = f"/api/spaces/{space.slug}/alerts/channels"
        made = (await http.post(base, json={"kind": "webhook", "url": "https://ops.example/hook"},
                                headers=space.auth)).json()  # fmt: skip
        assert made["secret"].startswith("whsec_")
        listed = (await http.get(base, headers=space.auth)).json()
        assert [c["url"] for c in listed] == ["https://ops.example/hook"]
        assert "secret" not in listed[0]
        assert (await http.delete(f"{base}/{made['id']}", headers=space.auth)).status_code == 204
        assert (await http.get(base, headers=space.auth)).json() == []
