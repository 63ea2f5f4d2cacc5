"""POST /events and GET /e: the documented answers and exactly-once."""

from __future__ import annotations

import asyncio

import httpx

from tests.conftest import SpaceKeys, make_space
from xtracker.kit.clock import FrozenClock
from xtracker.runtime import Runtime


async def _count(runtime: Runtime, sql: str, *params: object) -> int:
    async with runtime.backend.reader() as tx:
        row = await tx.fetchone(sql, params)
    assert row is not None
    return int(row[0])


class TestPostEvents:
    async def test_first_event_is_queued_with_an_inbox_id(
        self, http: httpx.AsyncClient, space: SpaceKeys
    ) -> None:
        r = await http.post(
            "/events", json={"event": "contact", "uid": "abc123"}, headers=space.auth
        )
        assert r.status_code == 200
        body = r.json()
        assert body["ok"] is True and body["status"] == "queued"
        assert isinstance(body["inbox_id"], str) and len(body["inbox_id"]) == 26
        assert "warnings" not in body

    async def test_refire_with_same_eid_is_duplicate_at_any_time(
        self, http: httpx.AsyncClient, space: SpaceKeys, clock: FrozenClock
    ) -> None:
        deposit = {"event": "deposit", "uid": "abc123", "value": "25", "eid": "tx-42"}
        first = (await http.post("/events", json=deposit, headers=space.auth)).json()
        clock.advance(7_000)
        second = (await http.post("/events", json=deposit, headers=space.auth)).json()
        clock.advance(66_000)
        third = (await http.post("/events", json=deposit, headers=space.auth)).json()
        assert first["status"] == "queued"
        assert second == {"ok": True, "status": "duplicate", "inbox_id": first["inbox_id"]}
        assert third["status"] == "duplicate"

    async def test_same_event_without_eid_dedups_on_occurred_at_ms(
        self, http: httpx.AsyncClient, space: SpaceKeys, runtime: Runtime
    ) -> None:
        ev = {"event": "registration", "uid": "u1", "occurred_at_ms": 1_765_432_000_000}
        a = (await http.post("/events", json=ev, headers=space.auth)).json()
        b = (await http.post("/events", json=ev, headers=space.auth)).json()
        c = (
            await http.post(
                "/events", json={**ev, "occurred_at_ms": 1_765_432_000_001}, headers=space.auth
            )
        ).json()
        assert (a["status"], b["status"], c["status"]) == ("queued", "duplicate", "queued")
        assert await _count(runtime, "SELECT count(*) FROM event_inbox") == 2

    async def test_value_on_a_non_money_event_is_ignored_with_a_warning(
        self, http: httpx.AsyncClient, space: SpaceKeys, runtime: Runtime
    ) -> None:
        r = await http.post(
            "/events", json={"event": "subscribed", "uid": "u1", "value": 9}, headers=space.auth
        )
        body = r.json()
        assert body["status"] == "queued"
        assert body["warnings"] == ["value is ignored for subscribed: only deposit carries money"]
        assert (
            await _count(runtime, "SELECT count(*) FROM event_inbox WHERE value_cents IS NULL") == 1
        )

    async def test_deposit_amount_is_stored_exactly_in_cents(
        self, http: httpx.AsyncClient, space: SpaceKeys, runtime: Runtime
    ) -> None:
        await http.post(
            "/events",
            json={"event": "deposit", "uid": "u1", "value": 0.1 + 0.2, "eid": "a"},
            headers=space.auth,
        )
        await http.post(
            "/events",
            json={"event": "deposit", "uid": "u1", "value": "19.99", "currency": "eur", "eid": "b"},
            headers=space.auth,
        )
        r = await http.get(f"/api/spaces/{space.slug}/events", headers=space.auth)
        values = sorted((e["value"], e["currency"]) for e in r.json())
        assert values == [("0.30", "USD"), ("19.99", "EUR")]

    async def test_duplicate_with_another_amount_is_recorded_as_a_conflict(
        self, http: httpx.AsyncClient, space: SpaceKeys
    ) -> None:
        base = {"event": "deposit", "uid": "u1", "eid": "tx-9"}
        await http.post("/events", json={**base, "value": "25.00"}, headers=space.auth)
        r = await http.post("/events", json={**base, "value": "250.00"}, headers=space.auth)
        assert r.json()["status"] == "duplicate"
        conflicts = (
            await http.get(f"/api/spaces/{space.slug}/conflicts", headers=space.auth)
        ).json()
        assert [(c["first_value"], c["value"]) for c in conflicts] == [("25.00", "250.00")]

    async def test_unknown_event_is_refused_and_writes_nothing(
        self, http: httpx.AsyncClient, space: SpaceKeys, runtime: Runtime
    ) -> None:
        r = await http.post("/events", json={"event": "purchase", "uid": "u1"}, headers=space.auth)
        assert r.status_code == 422
        assert r.json()["ok"] is False
        assert r.json()["error"]["code"] == "unknown_event"
        assert r.json()["error"]["field"] == "event"
        assert await _count(runtime, "SELECT count(*) FROM event_inbox") == 0

    async def test_batch_answers_in_order_and_refuses_whole_on_a_bad_item(
        self, http: httpx.AsyncClient, space: SpaceKeys, runtime: Runtime
    ) -> None:
        batch = [
            {"event": "contact", "uid": "u1"},
            {"event": "deposit", "uid": "u1", "value": "10", "eid": "x"},
            {"event": "deposit", "uid": "u1", "value": "10", "eid": "x"},
        ]
        r = await http.post("/events", json={"events": batch}, headers=space.auth)
        assert [x["status"] for x in r.json()["results"]] == ["queued", "queued", "duplicate"]
        bad = await http.post(
            "/events",
            json={"events": [{"event": "contact", "uid": "u2"}, {"event": "nope"}]},
            headers=space.auth,
        )
        assert bad.status_code == 422
        assert bad.json()["error"]["field"] == "events[1].event"
        assert await _count(runtime, "SELECT count(*) FROM event_inbox WHERE uid = 'u2'") == 0

    async def test_body_over_one_mib_is_413(
        self, http: httpx.AsyncClient, space: SpaceKeys
    ) -> None:
        big = {"event": "contact", "uid": "u1", "eid": "x" * (1024 * 1024)}
        r = await http.post("/events", json=big, headers=space.auth)
        assert r.status_code == 413
        assert r.json()["error"]["code"] == "payload_too_large"

    async def test_concurrent_identical_deposits_count_once(
        self, http: httpx.AsyncClient, space: SpaceKeys, runtime: Runtime
    ) -> None:
        ev = {"event": "deposit", "uid": "u1", "value": "25", "eid": "tx-same"}
        answers = await asyncio.gather(
            *(http.post("/events", json=ev, headers=space.auth) for _ in range(100))
        )
        statuses = sorted(a.json()["status"] for a in answers)
        assert statuses.count("queued") == 1 and statuses.count("duplicate") == 99
        assert await _count(runtime, "SELECT count(*) FROM event_inbox") == 1


class TestAuth:
    async def test_bad_bearer_is_401(self, http: httpx.AsyncClient, space: SpaceKeys) -> None:
        r = await http.post(
            "/events", json={"event": "contact", "uid": "u"}, headers={"Authorization": "Bearer no"}
        )
        assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_token"

    async def test_ingest_token_is_not_a_bearer(
        self, http: httpx.AsyncClient, space: SpaceKeys
    ) -> None:
        r = await http.post(
            "/events",
            json={"event": "contact", "uid": "u"},
            headers={"Authorization": f"Bearer {space.ingest}"},
        )
        assert r.status_code == 401

    async def test_bearer_is_never_accepted_in_a_url(
        self, http: httpx.AsyncClient, space: SpaceKeys
    ) -> None:
        r = await http.get("/e", params={"token": space.bearer, "event": "contact", "uid": "u"})
        assert r.status_code == 401

    async def test_a_space_key_never_reaches_another_space(
        self, http: httpx.AsyncClient, space: SpaceKeys, runtime: Runtime
    ) -> None:
        other = await make_space(runtime, "Other")
        r = await http.get(f"/api/spaces/{other.slug}/events", headers=space.auth)
        assert r.status_code == 404

    async def test_rotated_secret_works_for_24_hours_then_fails(
        self, http: httpx.AsyncClient, space: SpaceKeys, clock: FrozenClock, runtime: Runtime
    ) -> None:
        r = await http.post(
            f"/api/spaces/{space.slug}/keys/rotate", json={"kind": "bearer"}, headers=space.auth
        )
        new = r.json()["secret"]
        ev = {"event": "contact", "uid": "u"}
        assert (await http.post("/events", json=ev, headers=space.auth)).status_code == 200
        new_auth = {"Authorization": f"Bearer {new}"}
        assert (await http.post("/events", json=ev, headers=new_auth)).status_code == 200
        clock.advance(24 * 3600 * 1000 + 1)
        runtime.auth.forget()
        assert (await http.post("/events", json=ev, headers=space.auth)).status_code == 401
        assert (await http.post("/events", json=ev, headers=new_auth)).status_code == 200


class TestGetE:
    async def test_pocket_option_postback_records_a_deposit_once(
        self, http: httpx.AsyncClient, space: SpaceKeys, runtime: Runtime
    ) -> None:
        url = f"/e?token={space.ingest}&event=deposit&uid=abc123&value=25.5&currency=USD&eid=T-1"
        first = await http.get(url)
        again = await http.get(url)
        assert first.status_code == 200 and first.json()["status"] == "queued"
        assert again.json()["status"] == "duplicate"
        events = (await http.get(f"/api/spaces/{space.slug}/events", headers=space.auth)).json()
        assert [(e["value"], e["source"]) for e in events] == [("25.50", "postback")]

    async def test_t_is_the_occurred_time_in_ms(
        self, http: httpx.AsyncClient, space: SpaceKeys
    ) -> None:
        await http.get(f"/e?token={space.ingest}&event=contact&uid=u&t=1765432000000")
        events = (await http.get(f"/api/spaces/{space.slug}/events", headers=space.auth)).json()
        assert events[0]["occurred_at_ms"] == 1765432000000
