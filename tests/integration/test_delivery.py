"""The delivery worker against local receivers: exactly-once at the receiver, the retry policy
of SPEC §5, Retry-After, the circuit breaker, replay, public-target checks at send time."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.conftest import SpaceKeys
from tests.support.delivery import add_destination, deliveries, delivery, fire, scalar
from tests.support.receivers import LocalServer, Reply, WebhookReceiver
from xtracker.kit.clock import FrozenClock
from xtracker.kit.hashing import dispatch_event_id
from xtracker.runtime import Runtime
from xtracker.sender.netguard import StaticResolver
from xtracker.worker.delivery import DeliveryWorker


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    server = await WebhookReceiver().start()
    yield server
    await server.stop()


@pytest.fixture
def now(clock: FrozenClock) -> FrozenClock:
    """Signatures are checked against the real time (±5 min): start the clock there."""
    clock.set(int(time.time() * 1000))
    return clock


async def webhook_to(http: httpx.AsyncClient, space: SpaceKeys, receiver: WebhookReceiver,
                     **extra: object) -> dict[str, object]:  # fmt: skip
    made = await add_destination(http, space, kind="webhook", url=receiver.url + "/hook", **extra)
    receiver.secret = str(made["secret"])
    return made


async def run_once(runtime: Runtime, **kwargs: object) -> int:
    async with DeliveryWorker(runtime, **kwargs) as worker:  # type: ignore[arg-type]
        return await worker.run_once()


class TestWebhookDelivery:
    async def test_the_documented_body_arrives_signed_once(
        self, http: httpx.AsyncClient, space: SpaceKeys, runtime: Runtime,
        receiver: WebhookReceiver, now: FrozenClock,
    ) -> None:  # fmt: skip
        made = await webhook_to(http, space, receiver, event_map={"deposit": "Purchase"},
                                headers={"X-Api-Key": "k-1"})  # fmt: skip
        inbox_id = await fire(http, space, event="deposit", uid="abc123", value="25",
                              occurred_at_ms=1765432100000, tg_id=555123)  # fmt: skip
        assert await run_once(runtime) == 1
        event_id = dispatch_event_id(inbox_id, str(made["id"]))
        assert receiver.bad_signatures == 0
        assert receiver.deliveries == {event_id: 1}
        assert receiver.accepted[event_id] == {
            "event": "Purchase", "canonical": "deposit", "event_id": event_id,
            "occurred_at_ms": 1765432100000,
            "click": {"uid": "abc123", "tg_id": 555123, "fbclid": None, "campaign_id": None,
                      "campaign_name": None, "country": None},
            "data": {"value": "25.00", "currency": "USD"},
        }  # fmt: skip
        seen = receiver.requests[0]
        assert seen.headers["Content-Type"] == "application/json"
        assert seen.headers["X-Api-Key"] == "k-1"
        assert seen.headers["webhook-id"] == event_id
        assert abs(int(seen.headers["webhook-timestamp"]) - now.now_ms() // 1000) <= 1
        [row] = await deliveries(http, space, status="sent")
        assert row["event_id"] == event_id and row["attempts"] == 1
        detail = await delivery(http, space, row["id"])
        [attempt] = detail["attempt_log"]
        assert attempt["outcome"] == "sent" and attempt["status_code"] == 200
        assert attempt["response_excerpt"] == "ok"
        assert attempt["worker"] and str(os.getpid()) in attempt["worker"]

    async def test_an_unmapped_event_is_not_sent(
        self, http: httpx.AsyncClient, space: SpaceKeys, runtime: Runtime,
        receiver: WebhookReceiver, now: FrozenClock,
    ) -> None:  # fmt: skip
        await webhook_to(http, space, receiver, event_map={"contact": None})
        await fire(http, space, event="contact", uid="u1")
        await fire(http, space, event="subscribed", uid="u1")
        assert await run_once(runtime) == 1
        assert [p["event"] for p in receiver.accepted.values()] == ["subscribed"]

    async def test_a_paused_destination_keeps_its_events_until_resumed(
        self, http: httpx.AsyncClient, space: SpaceKeys, runtime: Runtime,
        receiver: WebhookReceiver, now: FrozenClock,
    ) -> None:  # fmt: skip
        made = await webhook_to(http, space, receiver)
        await fire(http, space, event="contact", uid="u1")
        await http.patch(f"/api/spaces/{space.slug}/destinations/{made['id']}",
                         json={"active": False}, headers=space.auth)  # fmt: skip
        assert await run_once(runtime) == 0
        await http.patch(f"/api/spaces/{space.slug}/destinations/{made['id']}",
                         json={"active": True}, headers=space.auth)  # fmt: skip
        assert await run_once(runtime) == 1 and len(receiver.accepted) == 1


class TestRetryPolicyAtWork:
    async def test_500_429_and_a_timeout_are_retried_then_it_lands_once(
        self, http: httpx.AsyncClient, space: SpaceKeys, runtime: Runtime,
        receiver: WebhookReceiver, now: FrozenClock,
    ) -> None:  # fmt: skip
        runtime.settings.delivery_no_delays = True
        runtime.settings.delivery_timeout_s = 0.3
        await webhook_to(http, space, receiver)
        await fire(http, space, event="registration", uid="u1", eid="r-1")
        receiver.then(Reply(500, "boom"), Reply(429, "slow down"), Reply(stall_s=1.0))
        for expected in ("retrying", "retrying", "retrying", "sent"):
            assert await run_once(runtime) == 1
            [row] = await deliveries(http, space)
            assert row["status"] == expected
        assert row["attempts"] == 4 and len(receiver.accepted) == 1
        log = (await delivery(http, space, row["id"]))["attempt_log"]
        assert [(a["outcome"], a["status_code"]) for a in log] == [
            ("retry", 500),
            ("retry", 429),
            ("retry", None),
            ("sent", 200),
        ]
        assert log[0]["response_excerpt"] == "boom"
        assert log[2]["error"].startswith("timeout")
        # every retry carried the same webhook-id
        assert len({r.headers["webhook-id"] for r in receiver.requests}) == 1

    @pytest.mark.parametrize("status", [400, 401, 410])
    async def test_other_4xx_fail_at_once_without_burning_retries(
        self, http: httpx.AsyncClient, space: SpaceKeys, runtime: Runtime,
        receiver: WebhookReceiver, now: FrozenClock, status: int,
    ) -> None:  # fmt: skip
        await webhook_to(http, space, receiver)
        await fire(http, space, event="contact", uid="u1")
        receiver.then(Reply(status, "nope"))
        assert await run_once(runtime) == 1
        [row] = await deliveries(http, space)
        assert row["status"] == "failed_permanently" and row["attempts"] == 1
        assert row["last_status_code"] == status and row["last_error"] == f"HTTP {status}"
        assert await run_once(runtime) == 0

    async def test_a_redirect_is_a_failure_and_is_not_followed(
        self, http: httpx.AsyncClient, space: SpaceKeys, runtime: Runtime,
        receiver: WebhookReceiver, now: FrozenClock,
    ) -> None:  # fmt: skip
        await webhook_to(http, space, receiver)
        await fire(http, space, event="contact", uid="u1")
        receiver.then(Reply(301, "", {"Location": receiver.url + "/elsewhere"}))
        await run_once(runtime)
        [row] = await deliveries(http, space)
        assert row["status"] == "failed_permanently" and "redirect" in row["last_error"]
        assert len(receiver.requests) == 1

    async def test_retry_after_is_honoured(
        self, http: httpx.AsyncClient, space: SpaceKeys, runtime: Runtime,
        receiver: WebhookReceiver, now: FrozenClock,
    ) -> None:  # fmt: skip
        await webhook_to(http, space, receiver)
        await fire(http, space, event="contact", uid="u1")
        receiver.then(Reply(503, "maintenance", {"Retry-After": "120"}))
        sent_at = now.now_ms()
        await run_once(runtime)
        [row] = await deliveries(http, space)
        assert row["status"] == "retrying" and row["next_attempt_at_ms"] == sent_at + 120_000
        now.advance(119_000)
        assert await run_once(runtime) == 0
        now.advance(1_000)
        assert await run_once(runtime) == 1
        assert (await deliveries(http, space))[0]["status"] == "sent"

    async def test_the_first_retry_comes_after_about_thirty_seconds(
        self, http: httpx.AsyncClient, space: SpaceKeys, runtime: Runtime,
        receiver: WebhookReceiver, now: FrozenClock,
    ) -> None:  # fmt: skip
        await webhook_to(http, space, receiver)
        await fire(http, space, event="contact", uid="u1")
        receiver.then(Reply(502))
        start = now.now_ms()
        await run_once(runtime)
        [row] = await deliveries(http, space)
        assert 24_000 <= row["next_attempt_at_ms"] - start <= 36_000

    async def test_max_attempts_end_in_failed_permanently(
        self, http: httpx.AsyncClient, space: SpaceKeys, runtime: Runtime,
        receiver: WebhookReceiver, now: FrozenClock,
    ) -> None:  # fmt: skip
        runtime.settings.delivery_no_delays = True
        runtime.settings.delivery_max_attempts = 3
        await webhook_to(http, space, receiver)
        await fire(http, space, event="contact", uid="u1")
        receiver.default = Reply(500, "down")
        for _ in range(3):
            await run_once(runtime)
        [row] = await deliveries(http, space)
        assert row["status"] == "failed_permanently" and row["attempts"] == 3
        assert row["last_error"].startswith("gave up after 3 attempts")


class TestCircuitBreaker:
    async def test_it_opens_after_consecutive_failures_probes_once_and_closes(
        self, http: httpx.AsyncClient, space: SpaceKeys, runtime: Runtime,
        receiver: WebhookReceiver, now: FrozenClock,
    ) -> None:  # fmt: skip
        runtime.settings.delivery_circuit_threshold = 3
        runtime.settings.delivery_first_retry_s = 1
        made = await webhook_to(http, space, receiver)
        dest_url = f"/api/spaces/{space.slug}/destinations/{made['id']}"
        for n in range(5):
            await fire(http, space, event="contact", uid=f"u{n}")
        receiver.default = Reply(503, "down")
        assert await run_once(runtime) == 5
        circuit = (await http.get(dest_url, headers=space.auth)).json()["circuit"]
        assert circuit["state"] == "open" and circuit["consecutive_failures"] == 5
        assert circuit["probe_at_ms"] == now.now_ms() + 30_000
        now.advance(10_000)  # the retries are due, but the circuit holds them
        await fire(http, space, event="contact", uid="late")
        assert await run_once(runtime) == 0
        now.advance(20_000)
        receiver.default = Reply(200, "ok")
        assert await run_once(runtime) == 1  # half-open: exactly one probe
        circuit = (await http.get(dest_url, headers=space.auth)).json()["circuit"]
        assert circuit == {"state": "closed", "consecutive_failures": 0, "probe_at_ms": None}
        assert await run_once(runtime) == 5
        assert len(receiver.accepted) == 6

    async def test_a_failed_probe_reopens_it_for_longer(
        self, http: httpx.AsyncClient, space: SpaceKeys, runtime: Runtime,
        receiver: WebhookReceiver, now: FrozenClock,
    ) -> None:  # fmt: skip
        runtime.settings.delivery_circuit_threshold = 2
        made = await webhook_to(http, space, receiver)
        for n in range(3):
            await fire(http, space, event="contact", uid=f"u{n}")
        receiver.default = Reply(500)
        await run_once(runtime)
        now.advance(31_000)
        assert await run_once(runtime) == 1
        circuit = await scalar(runtime, "SELECT state || ':' || times_opened FROM destination_circuit"
                               " WHERE destination_id = ?", made["id"])  # fmt: skip
        assert circuit == "open:2"
        probe_at = await scalar(runtime, "SELECT probe_at_ms FROM destination_circuit")
        assert probe_at == now.now_ms() + 60_000


class TestReplay:
    async def test_a_failed_delivery_is_replayed_with_the_same_event_id(
        self, http: httpx.AsyncClient, space: SpaceKeys, runtime: Runtime,
        receiver: WebhookReceiver, now: FrozenClock,
    ) -> None:  # fmt: skip
        await webhook_to(http, space, receiver)
        await fire(http, space, event="contact", uid="u1")
        receiver.then(Reply(400, "bad"))
        await run_once(runtime)
        [row] = await deliveries(http, space, status="failed_permanently")
        r = await http.post(f"/api/spaces/{space.slug}/deliveries/{row['id']}/replay",
                            headers=space.auth)  # fmt: skip
        assert r.status_code == 200 and r.json()["status"] == "pending"
        assert await run_once(runtime) == 1
        [again] = await deliveries(http, space)
        assert again["status"] == "sent" and again["event_id"] == row["event_id"]
        assert [q.headers["webhook-id"] for q in receiver.requests] == [row["event_id"]] * 2
        assert len((await delivery(http, space, row["id"]))["attempt_log"]) == 2
        r = await http.post(f"/api/spaces/{space.slug}/deliveries/{row['id']}/replay",
                            headers=space.auth)  # fmt: skip
        assert r.status_code == 409

    async def test_bulk_replay_of_a_destination(
        self, http: httpx.AsyncClient, space: SpaceKeys, runtime: Runtime,
        receiver: WebhookReceiver, now: FrozenClock,
    ) -> None:  # fmt: skip
        made = await webhook_to(http, space, receiver)
        for n in range(3):
            await fire(http, space, event="contact", uid=f"u{n}")
        receiver.default = Reply(404)
        await run_once(runtime)
        r = await http.post(f"/api/spaces/{space.slug}/deliveries/replay",
                            params={"destination": made["id"]}, headers=space.auth)  # fmt: skip
        assert r.json() == {"replayed": 3}
        receiver.default = Reply(200)
        assert await run_once(runtime) == 3

    async def test_deliveries_filter_by_status_destination_and_event(
        self, http: httpx.AsyncClient, space: SpaceKeys, runtime: Runtime,
        receiver: WebhookReceiver, now: FrozenClock,
    ) -> None:  # fmt: skip
        made = await webhook_to(http, space, receiver, event_map={"deposit": "conv"})
        await fire(http, space, event="contact", uid="u1")
        await fire(http, space, event="deposit", uid="u1", value=5)
        assert len(await deliveries(http, space, status="pending")) == 2
        assert len(await deliveries(http, space, destination=made["id"])) == 2
        assert [d["event"] for d in await deliveries(http, space, event="deposit")] == ["conv"]
        assert [d["canonical"] for d in await deliveries(http, space, event="conv")] == ["deposit"]
        r = await http.get(f"/api/spaces/{space.slug}/deliveries", params={"status": "lost"},
                           headers=space.auth)  # fmt: skip
        assert r.status_code == 422


class TestPublicTargetsAtSendTime:
    async def test_a_name_resolving_to_a_private_address_is_refused_when_sending(
        self, http: httpx.AsyncClient, space: SpaceKeys, runtime: Runtime,
        receiver: WebhookReceiver, now: FrozenClock,
    ) -> None:  # fmt: skip
        made = await add_destination(http, space, kind="webhook",
                                     url=f"http://hooks.example.com:{receiver.port}/hook")  # fmt: skip
        receiver.secret = str(made["secret"])
        await fire(http, space, event="contact", uid="u1")
        dns = StaticResolver({"hooks.example.com": "127.0.0.1"})
        runtime.settings.allow_private_targets = False
        await run_once(runtime, resolver=dns)
        [row] = await deliveries(http, space)
        assert row["status"] == "failed_permanently"
        assert "127.0.0.1" in row["last_error"] and "not public" in row["last_error"]
        assert receiver.requests == []
        runtime.settings.allow_private_targets = True
        await http.post(f"/api/spaces/{space.slug}/deliveries/{row['id']}/replay",
                        headers=space.auth)  # fmt: skip
        await run_once(runtime, resolver=dns)
        assert (await deliveries(http, space))[0]["status"] == "sent"
        assert len(receiver.accepted) == 1


class TestRemovedDestination:
    async def test_rows_of_a_removed_destination_fail_instead_of_waiting(
        self, http: httpx.AsyncClient, space: SpaceKeys, runtime: Runtime,
        receiver: WebhookReceiver, now: FrozenClock,
    ) -> None:  # fmt: skip
        made = await webhook_to(http, space, receiver)
        await fire(http, space, event="contact", uid="u1")
        await http.delete(f"/api/spaces/{space.slug}/destinations/{made['id']}", headers=space.auth)
        assert await run_once(runtime) == 0
        assert (await deliveries(http, space))[0]["last_error"] == "destination removed"


async def test_a_local_server_helper_answers(receiver: LocalServer) -> None:
    async with httpx.AsyncClient() as client:
        assert (await client.get(receiver.url + "/x")).status_code == 200


class TestProxy:
    async def test_a_destination_sends_through_its_own_http_proxy(
        self, http: httpx.AsyncClient, space: SpaceKeys, runtime: Runtime, now: FrozenClock,
    ) -> None:  # fmt: skip
        proxy = await LocalServer().start()  # a forward proxy answering for the target itself
        try:
            made = await add_destination(http, space, kind="webhook",
                                         url="http://hooks.partner.example/in",
                                         proxy_url=proxy.url)  # fmt: skip
            await fire(http, space, event="contact", uid="u1")
            await run_once(runtime)
            [seen] = proxy.requests
            assert seen.headers["Host"] == "hooks.partner.example"
            assert seen.url == "http://hooks.partner.example/in"
            assert seen.headers["webhook-id"] == (await deliveries(http, space))[0]["event_id"]
            assert (await deliveries(http, space))[0]["status"] == "sent"
            assert made["proxy_url"] == proxy.url
        finally:
            await proxy.stop()


class TestLeases:
    async def test_rows_of_a_dead_worker_return_when_the_lease_ends_and_its_late_answer_is_ignored(
        self, http: httpx.AsyncClient, space: SpaceKeys, runtime: Runtime,
        receiver: WebhookReceiver, now: FrozenClock,
    ) -> None:  # fmt: skip
        from xtracker.outbox import repository as repo
        from xtracker.outbox.policy import CircuitPolicy

        await webhook_to(http, space, receiver)
        for n in range(3):
            await fire(http, space, event="contact", uid=f"u{n}")
        lease_until = now.now_ms() + 60_000

        async def dead_worker_claims(tx):  # type: ignore[no-untyped-def]
            claimed = await repo.claim(tx, "dead-worker", now.now_ms(), lease_until, 10)
            return await repo.load(tx, claimed.ids)

        dispatches = await runtime.committer.run(dead_worker_claims)
        assert len(dispatches) == 3
        assert {d["status"] for d in await deliveries(http, space)} == {"sending"}
        assert await run_once(runtime) == 0  # leased: nobody else touches them
        now.advance(60_001)
        assert await run_once(runtime) == 3  # the lease ended: back in the queue
        assert len(receiver.accepted) == 3
        late = repo.Result(
            dispatch=dispatches[0], owner="dead-worker", status="failed_permanently",
            outcome="failed", next_attempt_at_ms=now.now_ms(), status_code=500, latency_ms=1,
            error="late", excerpt=None, at_ms=now.now_ms(), transient=False, reachable=True,
            probe=False,
        )  # fmt: skip

        async def late_answer(tx):  # type: ignore[no-untyped-def]
            await repo.record(tx, [late], CircuitPolicy())

        await runtime.committer.run(late_answer)
        assert {d["status"] for d in await deliveries(http, space)} == {"sent"}


class TestDeliveryConnection:
    async def test_on_sqlite_its_commits_skip_the_fsync_and_it_adds_no_checkpointer(
        self, runtime: Runtime
    ) -> None:
        """Delivery state is re-derivable (a row sent again keeps its event_id), so on SQLite
        the worker writes through a connection of its own that does not fsync each commit;
        the file's checkpointer thread stays the runtime's. On PostgreSQL it shares the
        runtime's writer."""
        checkpointers = sum(1 for t in threading.enumerate() if t.name == "xtracker-checkpoint")
        async with DeliveryWorker(runtime) as worker:
            if runtime.backend.dialect == "sqlite":
                async with worker.committer.backend.transaction() as tx:
                    assert await tx.fetchone("PRAGMA synchronous") == (1,)  # NORMAL
                async with runtime.backend.transaction() as tx:
                    assert await tx.fetchone("PRAGMA synchronous") == (2,)  # FULL: ingest
            else:
                assert worker.committer is runtime.committer
            running = sum(1 for t in threading.enumerate() if t.name == "xtracker-checkpoint")
            assert running == checkpointers
        async with runtime.backend.transaction() as tx:  # the runtime's backend still works
            await tx.fetchone("SELECT 1")
