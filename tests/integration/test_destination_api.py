"""Destinations in the management API: kinds, documented default maps, secrets, validation."""

from __future__ import annotations

import httpx
import orjson
from standardwebhooks.webhooks import Webhook

from tests.conftest import SpaceKeys, make_space
from tests.support.delivery import add_destination, scalar
from xtracker.runtime import Runtime


def url(space: SpaceKeys, rest: str = "") -> str:
    return f"/api/spaces/{space.slug}/destinations{rest}"


class TestCreate:
    async def test_webhook_gets_the_documented_default_map_and_a_whsec_secret_once(
        self, http: httpx.AsyncClient, space: SpaceKeys
    ) -> None:
        made = await add_destination(http, space, kind="webhook", url="https://hooks.example.com/x")
        assert made["event_map"] == {
            "contact": "contact",
            "subscribed": "subscribed",
            "registration": "registration",
            "deposit": "deposit",
        }
        assert made["secret"].startswith("whsec_")
        Webhook(made["secret"])  # a valid Standard Webhooks secret
        assert made["config"] == {"url": "https://hooks.example.com/x", "method": "POST"}
        shown = (await http.get(url(space, f"/{made['id']}"), headers=space.auth)).json()
        assert "secret" not in shown and shown["circuit"]["state"] == "closed"

    async def test_fb_capi_defaults_follow_meta_standard_events(
        self, http: httpx.AsyncClient, space: SpaceKeys, runtime: Runtime
    ) -> None:
        made = await add_destination(
            http,
            space,
            kind="fb_capi",
            pixel_id="123456789012345",
            access_token="EAAB-secret",
            test_event_code="TEST123",
        )
        assert made["event_map"] == {
            "contact": "Contact",
            "subscribed": "Lead",
            "registration": "CompleteRegistration",
            "deposit": "Purchase",
        }
        assert made["config"]["action_source"] == "website"
        assert made["has_access_token"] is True and made["secret"] is None
        assert "EAAB-secret" not in orjson.dumps(made).decode()
        stored = await scalar(
            runtime, "SELECT secret_enc FROM destination WHERE id = ?", made["id"]
        )
        assert "EAAB-secret" not in stored
        assert "EAAB-secret" in runtime.secrets.decrypt(stored)

    async def test_several_canonicals_may_map_to_one_name_and_empty_unmaps(
        self, http: httpx.AsyncClient, space: SpaceKeys
    ) -> None:
        made = await add_destination(
            http, space, kind="s2s_postback",
            url_template="https://aff.example.com/pb?c={uid}&g={event}",
            event_map={"subscribed": "lead", "registration": "lead", "deposit": "conv",
                       "contact": None},
        )  # fmt: skip
        assert made["event_map"] == {
            "subscribed": "lead",
            "registration": "lead",
            "deposit": "conv",
        }
        assert made["config"]["method"] == "GET" and made["config"]["expected_status"] == 200

    async def test_unknown_macro_is_refused_naming_it(
        self, http: httpx.AsyncClient, space: SpaceKeys
    ) -> None:
        r = await http.post(
            url(space),
            headers=space.auth,
            json={"kind": "s2s_postback", "url_template": "https://aff.example.com/?c={clickid}"},
        )
        assert r.status_code == 422
        error = r.json()["error"]
        assert error["code"] == "unknown_macro" and "{clickid}" in error["message"]
        assert error["field"] == "url_template"

    async def test_fb_capi_needs_a_token_and_a_numeric_pixel(
        self, http: httpx.AsyncClient, space: SpaceKeys
    ) -> None:
        r = await http.post(
            url(space), headers=space.auth, json={"kind": "fb_capi", "pixel_id": "123456"}
        )
        assert r.status_code == 422 and r.json()["error"]["field"] == "access_token"
        r = await http.post(
            url(space),
            headers=space.auth,
            json={"kind": "fb_capi", "pixel_id": "px", "access_token": "t"},
        )
        assert r.status_code == 422 and r.json()["error"]["field"] == "pixel_id"

    async def test_an_unknown_canonical_in_the_map_is_refused(
        self, http: httpx.AsyncClient, space: SpaceKeys
    ) -> None:
        r = await http.post(
            url(space),
            headers=space.auth,
            json={
                "kind": "webhook",
                "url": "https://h.example.com",
                "event_map": {"purchase": "x"},
            },
        )
        assert r.status_code == 422 and r.json()["error"]["field"] == "event_map"


class TestPublicTargets:
    async def test_private_webhook_urls_are_refused_unless_the_server_allows_them(
        self, http: httpx.AsyncClient, space: SpaceKeys, runtime: Runtime
    ) -> None:
        runtime.settings.allow_private_targets = False
        for bad in ("http://localhost:8080/hook", "http://127.0.0.1/hook", "http://10.1.2.3/h",
                    "http://169.254.169.254/latest", "http://[::1]/h", "http://192.168.0.10/h",
                    "http://0.0.0.0/h", "http://app.localhost/h"):  # fmt: skip
            r = await http.post(
                url(space), headers=space.auth, json={"kind": "webhook", "url": bad}
            )
            assert r.status_code == 422, bad
            assert r.json()["error"]["field"] == "url"
            assert "XTRACKER_ALLOW_PRIVATE_TARGETS" in r.json()["error"]["message"]
        r = await http.post(
            url(space),
            headers=space.auth,
            json={"kind": "s2s_postback", "url_template": "http://127.0.0.1/pb?c={uid}"},
        )
        assert r.status_code == 422
        runtime.settings.allow_private_targets = True
        await add_destination(http, space, kind="webhook", url="http://127.0.0.1:9/hook")


class TestEditAndRemove:
    async def test_edit_merges_the_map_replaces_headers_and_rotates_the_secret(
        self, http: httpx.AsyncClient, space: SpaceKeys
    ) -> None:
        made = await add_destination(http, space, kind="webhook", url="https://h.example.com/a",
                                     headers={"X-Api-Key": "k1"})  # fmt: skip
        assert made["headers"] == ["X-Api-Key"]
        r = await http.patch(
            url(space, f"/{made['id']}"),
            headers=space.auth,
            json={
                "event_map": {"deposit": "Purchase", "contact": ""},
                "headers": {"X-Other": "v"},
                "rotate_secret": True,
                "proxy_url": "http://proxy.example.com:3128",
            },
        )
        assert r.status_code == 200, r.text
        edited = r.json()
        assert edited["event_map"] == {
            "subscribed": "subscribed",
            "registration": "registration",
            "deposit": "Purchase",
        }
        assert edited["headers"] == ["X-Other"]
        assert edited["secret"].startswith("whsec_") and edited["secret"] != made["secret"]
        assert edited["proxy_url"] == "http://proxy.example.com:3128"

    async def test_settings_of_another_kind_are_refused(
        self, http: httpx.AsyncClient, space: SpaceKeys
    ) -> None:
        made = await add_destination(http, space, kind="webhook", url="https://h.example.com/a")
        r = await http.patch(
            url(space, f"/{made['id']}"), headers=space.auth, json={"pixel_id": "123456"}
        )
        assert r.status_code == 422 and r.json()["error"]["field"] == "pixel_id"

    async def test_remove_fails_its_undelivered_events(
        self, http: httpx.AsyncClient, space: SpaceKeys, runtime: Runtime
    ) -> None:
        made = await add_destination(http, space, kind="webhook", url="https://h.example.com/a")
        await http.post("/events", json={"event": "contact", "uid": "u1"}, headers=space.auth)
        r = await http.delete(url(space, f"/{made['id']}"), headers=space.auth)
        assert r.status_code == 204
        assert (await http.get(url(space), headers=space.auth)).json() == []
        status = await scalar(runtime, "SELECT status FROM event_outbox")
        assert status == "failed_permanently"

    async def test_another_space_cannot_see_or_touch_it(
        self, http: httpx.AsyncClient, space: SpaceKeys, runtime: Runtime
    ) -> None:
        made = await add_destination(http, space, kind="webhook", url="https://h.example.com/a")
        other = await make_space(runtime, "Other")
        r = await http.get(f"/api/spaces/{other.slug}/destinations/{made['id']}",
                           headers=other.auth)  # fmt: skip
        assert r.status_code == 404
        r = await http.get(url(space), headers=other.auth)
        assert r.status_code == 404
