"""POST|GET /bind (compare-and-set, back-fill) and POST /clicks."""

from __future__ import annotations

import httpx

from tests.conftest import SpaceKeys
from xtracker.runtime import Runtime


async def _visit(http: httpx.AsyncClient, slug: str, query: str = "") -> str:
    r = await http.get(f"/l/{slug}{query}", headers={"User-Agent": "Mozilla/5.0 (iPhone)"})
    assert r.status_code in (200, 302)
    location = r.headers.get("location") or r.text
    return location


async def _web_link(http: httpx.AsyncClient, space: SpaceKeys, slug: str = "promo") -> None:
    r = await http.post(
        f"/api/spaces/{space.slug}/links",
        json={"slug": slug, "kind": "web", "target_url": "https://offer.example/?click_id={uid}",
              "auto_redirect": True},
        headers=space.auth,
    )  # fmt: skip
    assert r.status_code == 201, r.text


def _uid_from(location: str) -> str:
    return location.split("click_id=", 1)[1].split("&", 1)[0].split('"', 1)[0]


class TestBind:
    async def test_bind_matches_a_click_of_the_space(
        self, http: httpx.AsyncClient, space: SpaceKeys
    ) -> None:
        await _web_link(http, space)
        uid = _uid_from(await _visit(http, "promo"))
        r = await http.post("/bind", json={"uid": uid, "tg_id": 555123}, headers=space.auth)
        assert r.json() == {"ok": True, "matched": True}

    async def test_bind_of_an_unknown_uid_is_recorded_but_not_matched(
        self, http: httpx.AsyncClient, space: SpaceKeys
    ) -> None:
        r = await http.post("/bind", json={"uid": "nope", "tg_id": 1}, headers=space.auth)
        assert r.json() == {"ok": True, "matched": False}

    async def test_same_value_again_is_a_safe_retry_and_another_is_refused(
        self, http: httpx.AsyncClient, space: SpaceKeys
    ) -> None:
        body = {"uid": "abc", "tg_id": 555123}
        assert (await http.post("/bind", json=body, headers=space.auth)).status_code == 200
        assert (await http.post("/bind", json=body, headers=space.auth)).status_code == 200
        other = await http.post("/bind", json={"uid": "abc", "tg_id": 999}, headers=space.auth)
        assert other.status_code == 409
        assert other.json()["error"]["code"] == "already_bound"

    async def test_get_bind_takes_the_ingest_token(
        self, http: httpx.AsyncClient, space: SpaceKeys
    ) -> None:
        r = await http.get(f"/bind?token={space.ingest}&uid=abc&tg_id=42")
        assert r.json() == {"ok": True, "matched": False}
        bad = await http.get(f"/bind?token={space.bearer}&uid=abc&tg_id=42")
        assert bad.status_code == 401

    async def test_event_with_only_tg_id_is_back_filled_when_bound_and_keeps_its_key(
        self, http: httpx.AsyncClient, space: SpaceKeys
    ) -> None:
        await _web_link(http, space)
        uid = _uid_from(await _visit(http, "promo"))
        ev = {"event": "registration", "tg_id": 777, "eid": "reg-1"}
        first = (await http.post("/events", json=ev, headers=space.auth)).json()
        assert first["status"] == "queued"
        await http.post("/bind", json={"uid": uid, "tg_id": 777}, headers=space.auth)
        events = (await http.get(f"/api/spaces/{space.slug}/events", headers=space.auth)).json()
        assert events[0]["uid"] == uid and events[0]["link_id"] is not None
        again = (await http.post("/events", json=ev, headers=space.auth)).json()
        assert again == {"ok": True, "status": "duplicate", "inbox_id": first["inbox_id"]}

    async def test_tg_only_event_after_binding_is_attributed_at_once(
        self, http: httpx.AsyncClient, space: SpaceKeys
    ) -> None:
        await http.post("/bind", json={"uid": "u-9", "tg_id": 9}, headers=space.auth)
        await http.post("/events", json={"event": "contact", "tg_id": 9}, headers=space.auth)
        events = (await http.get(f"/api/spaces/{space.slug}/events", headers=space.auth)).json()
        assert events[0]["uid"] == "u-9"


class TestPostClicks:
    async def test_click_backfill_parses_campaign_fields_and_fbclid(
        self, http: httpx.AsyncClient, space: SpaceKeys, runtime: Runtime
    ) -> None:
        await _web_link(http, space)
        r = await http.post(
            "/clicks",
            json={"link_slug": "promo", "raw_query": "?fbclid=IwAR1&campaign_id=120&ad_name=Blue"},
            headers=space.auth,
        )
        uid = r.json()["uid"]
        assert set(r.json()) == {"uid"}
        clicks = (
            await http.get(f"/api/spaces/{space.slug}/clicks?uid={uid}", headers=space.auth)
        ).json()
        click = clicks[0]
        assert (click["fbclid"], click["campaign_id"], click["ad_name"]) == ("IwAR1", "120", "Blue")
        assert click["fbc"] == f"fb.1.{runtime.clock.now_ms()}.IwAR1"
        assert click["source"] == "api" and click["is_bot"] is False

    async def test_empty_body_mints_a_bare_click(
        self, http: httpx.AsyncClient, space: SpaceKeys
    ) -> None:
        r = await http.post("/clicks", json={}, headers=space.auth)
        assert len(r.json()["uid"]) == 26
        no_body = await http.post("/clicks", headers=space.auth)
        assert no_body.status_code == 200 and len(no_body.json()["uid"]) == 26
        no_event = await http.post("/events", headers=space.auth)
        assert no_event.status_code == 422

    async def test_unknown_link_slug_is_404(
        self, http: httpx.AsyncClient, space: SpaceKeys
    ) -> None:
        r = await http.post("/clicks", json={"link_slug": "nope"}, headers=space.auth)
        assert r.status_code == 404 and r.json()["error"]["field"] == "link_slug"
