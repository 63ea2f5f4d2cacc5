"""Dashboard pages over ASGI on SQLite and PostgreSQL: forms, CSRF, messages, escaping."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from markupsafe import escape
from sqlalchemy import event
from sqlalchemy.util.concurrency import await_

from tests.conftest import SpaceKeys
from tests.integration.dashboard_support import make_user, sign_in
from xtracker.runtime import Runtime
from xtracker.user import access

NASTY = '<script>alert("x")</script>'


@pytest.fixture(autouse=True)
async def sessions_on(runtime: Runtime) -> None:
    await access.install(runtime, "serve")


@pytest.fixture
async def owner(runtime: Runtime, http: httpx.AsyncClient, space: SpaceKeys) -> str:
    await make_user(runtime, "own@example.com", space=space.slug)
    return await sign_in(http, "own@example.com")


WEB = {"kind": "web", "target_url": "https://offer.example/?click_id={uid}"}


class TestLinksScreen:
    async def test_creating_a_link_escapes_its_name_everywhere(
        self, http: httpx.AsyncClient, space: SpaceKeys, owner: str
    ) -> None:
        made = await http.post(f"/s/{space.slug}/links",
                               data={"csrf": owner, "slug": "promo", "name": NASTY, **WEB})  # fmt: skip
        assert made.status_code == 303
        for path in (f"/s/{space.slug}/links", f"/s/{space.slug}/links/promo", f"/s/{space.slug}"):
            html = (await http.get(path)).text
            assert NASTY not in html, path
            assert "&lt;script&gt;" in html or "\\u003cscript\\u003e" in html, path

    async def test_form_errors_are_the_api_errors(
        self, http: httpx.AsyncClient, space: SpaceKeys, owner: str
    ) -> None:
        for bad in ({"slug": "-bad", **WEB}, {"slug": "ok", "kind": "web", "target_url": "ftp://x"},
                    {"slug": "ok", "kind": "bot", "bot_username": "nobot1"},
                    {"slug": "ok", "kind": "web", "target_url": "https://x.example/{nope}"},
            {"slug": "ok", "kind": "channel", "channel": "@promo_channel"}):  # fmt: skip
            api = await http.post(f"/api/spaces/{space.slug}/links", json=bad, headers=space.auth)
            page = await http.post(f"/s/{space.slug}/links", data={"csrf": owner, **bad})
            error = api.json()["error"]
            assert page.status_code == api.status_code
            assert f'data-code="{error["code"]}"' in page.text
            assert str(escape(error["message"])) in page.text

    async def test_a_form_without_the_csrf_token_changes_nothing(
        self, http: httpx.AsyncClient, space: SpaceKeys, owner: str
    ) -> None:
        answer = await http.post(f"/s/{space.slug}/links", data={"slug": "x1", **WEB})
        assert answer.status_code == 403
        forged = await http.post(
            f"/s/{space.slug}/links", data={"csrf": "0" * 64, "slug": "x1", **WEB}
        )
        assert forged.status_code == 403
        assert (await http.get(f"/api/spaces/{space.slug}/links", headers=space.auth)).json() == []

    async def test_editing_a_link_and_previewing_its_landing(
        self, http: httpx.AsyncClient, space: SpaceKeys, owner: str
    ) -> None:
        await http.post(f"/s/{space.slug}/links", data={"csrf": owner, "slug": "p1", **WEB})
        saved = await http.post(f"/s/{space.slug}/links/p1", data={
            "csrf": owner, "name": "Promo", "title": NASTY, "button_label": "Go", "active": "on",
            "target_url": WEB["target_url"],
        })  # fmt: skip
        assert saved.status_code == 303
        preview = await http.get(f"/s/{space.slug}/links/p1/preview")
        assert preview.status_code == 200
        assert "&lt;script&gt;" in preview.text and NASTY not in preview.text
        assert "click_id=PREVIEWUID" in preview.text
        clicks = await http.get(f"/api/spaces/{space.slug}/reports/funnel", headers=space.auth)
        assert clicks.json()["steps"][0]["count"] == 0  # a preview is not a click


class TestKeysScreen:
    async def test_rotation_shows_the_secret_once_and_it_works(
        self, http: httpx.AsyncClient, space: SpaceKeys, owner: str
    ) -> None:
        page = await http.post(
            f"/s/{space.slug}/keys/rotate", data={"csrf": owner, "kind": "bearer"}
        )
        assert page.status_code == 200
        secret = page.text.split('id="secret-bearer" class="copy" data-copy="')[1].split('"')[0]
        assert secret.startswith("xtb_")
        assert f"Authorization: Bearer {secret}" in page.text
        me = await http.get(f"/api/spaces/{space.slug}",
                            headers={"Authorization": f"Bearer {secret}"})  # fmt: skip
        assert me.status_code == 200
        again = await http.get(f"/s/{space.slug}/keys")
        assert secret not in again.text

    async def test_unknown_kind_is_the_api_message(
        self, http: httpx.AsyncClient, space: SpaceKeys, owner: str
    ) -> None:
        page = await http.post(f"/s/{space.slug}/keys/rotate", data={"csrf": owner, "kind": "x"})
        assert page.status_code == 422
        assert "kind must be bearer or ingest" in page.text


class TestDestinationsScreen:
    async def test_add_a_webhook_and_edit_its_event_map(
        self, http: httpx.AsyncClient, space: SpaceKeys, owner: str
    ) -> None:
        page = await http.post(f"/s/{space.slug}/destinations", data={
            "csrf": owner, "kind": "webhook", "name": "CRM", "url": "https://hooks.example.com/x",
            "method": "POST", "headers": "X-Api-Key: k1",
        })  # fmt: skip
        assert page.status_code == 200 and "whsec_" in page.text
        (made,) = (
            await http.get(f"/api/spaces/{space.slug}/destinations", headers=space.auth)
        ).json()
        assert made["headers"] == ["X-Api-Key"]
        saved = await http.post(f"/s/{space.slug}/destinations/{made['id']}", data={
            "csrf": owner, "name": "CRM", "url": "https://hooks.example.com/x", "method": "POST",
            "map_contact": "", "map_subscribed": "lead", "map_registration": "lead",
            "map_deposit": "conv", "active": "on",
        })  # fmt: skip
        assert saved.status_code == 303
        after = (await http.get(f"/api/spaces/{space.slug}/destinations/{made['id']}",
                                headers=space.auth)).json()  # fmt: skip
        assert after["event_map"] == {
            "subscribed": "lead",
            "registration": "lead",
            "deposit": "conv",
        }
        assert after["headers"] == ["X-Api-Key"]  # an empty headers field keeps them

    async def test_destination_errors_are_the_api_errors(
        self, http: httpx.AsyncClient, space: SpaceKeys, owner: str
    ) -> None:
        bad = {"kind": "s2s_postback", "url_template": "https://n.example/?c={nope}"}
        api = await http.post(
            f"/api/spaces/{space.slug}/destinations", json=bad, headers=space.auth
        )
        page = await http.post(f"/s/{space.slug}/destinations", data={"csrf": owner, **bad})
        assert page.status_code == api.status_code == 422
        assert str(escape(api.json()["error"]["message"])) in page.text


class TestPagesAndAssets:
    async def test_static_assets_are_served_by_xtracker(self, http: httpx.AsyncClient) -> None:
        for path in ("/static/vendor/echarts.min.js", "/static/vendor/topojson-client.min.js",
                     "/static/app.css", "/static/deck.js"):  # fmt: skip
            answer = await http.get(path)
            assert answer.status_code == 200, path

    async def test_world_map_names_countries_by_alpha2(
        self, http: httpx.AsyncClient, owner: str
    ) -> None:
        topo = (await http.get("/dashboard/world.json")).json()
        names = {g["properties"]["iso2"] for g in topo["objects"]["countries"]["geometries"]}
        assert {"US", "IN", "BR", "DE", "FJ", "RU"} <= names
        assert "AQ" not in names  # Antarctica is left off

    async def test_pages_send_a_strict_content_security_policy(
        self, http: httpx.AsyncClient, space: SpaceKeys, owner: str
    ) -> None:
        deck = await http.get(f"/s/{space.slug}")
        assert deck.status_code == 200
        assert "script-src 'self'" in deck.headers["content-security-policy"]
        assert "cdn" not in deck.text.lower()
        assert deck.headers["x-frame-options"] == "SAMEORIGIN"

    async def test_the_landing_and_api_paths_are_untouched(
        self, http: httpx.AsyncClient, space: SpaceKeys
    ) -> None:
        assert (await http.get("/l/nothing-here")).status_code == 404
        assert (await http.get("/healthz")).json() == {"ok": True}
        assert (await http.post("/events", json={})).status_code == 401


class TestLiveFeed:
    async def test_a_viewer_leaving_mid_poll_leaves_the_connection_pool_whole(
        self, runtime: Runtime, http: httpx.AsyncClient, space: SpaceKeys, owner: str
    ) -> None:
        """A closed tab cancels the stream; a poll it cancelled halfway through its query
        used to invalidate that pooled connection (a new one per closed tab) and leave a
        close task pending, which shutdown then reported as destroyed."""
        engine = runtime.engine.sync_engine
        polling = asyncio.Event()
        invalidated: list[object] = []

        def slow_live_query(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            if "FROM click" in statement and not polling.is_set():
                polling.set()
                await_(asyncio.sleep(0.3))  # the query is still running when the tab closes

        event.listen(engine, "before_cursor_execute", slow_live_query)
        event.listen(engine, "invalidate", lambda *args: invalidated.append(args))
        try:
            viewer = asyncio.create_task(http.get(f"/s/{space.slug}/live"))
            await asyncio.wait_for(polling.wait(), 5)
            viewer.cancel()
            with pytest.raises(asyncio.CancelledError):
                await viewer
            await asyncio.sleep(0.5)
        finally:
            event.remove(engine, "before_cursor_execute", slow_live_query)
        assert invalidated == []
        pending = [t for t in asyncio.all_tasks() if "graceful_close" in repr(t.get_coro())]
        assert pending == []

    async def test_the_stream_sends_new_items_and_resumes_after_last_event_id(
        self, http: httpx.AsyncClient, space: SpaceKeys, owner: str
    ) -> None:
        first = (await http.post("/clicks", json={}, headers=space.auth)).json()["uid"]
        second = (await http.post("/clicks", json={}, headers=space.auth)).json()["uid"]
        sent = await http.post(
            "/events", json={"event": "contact", "uid": second}, headers=space.auth
        )
        inbox_id = sent.json()["inbox_id"]
        whole = await http.get(f"/s/{space.slug}/live")  # ends by itself after a few seconds
        assert whole.headers["content-type"].startswith("text/event-stream")
        ids = [line[4:] for line in whole.text.splitlines() if line.startswith("id: ")]
        assert sorted(ids) == sorted([first, second, inbox_id])
        resumed = await http.get(f"/s/{space.slug}/live", headers={"Last-Event-ID": ids[0]})
        assert [line[4:] for line in resumed.text.splitlines() if line.startswith("id: ")] == ids[
            1:
        ]
        assert "event: item" in resumed.text
