"""GET /l/{slug}: a uid per visit, the click recorded, the way onward."""

from __future__ import annotations

import re

import httpx

from tests.conftest import SpaceKeys
from xtracker.config import Settings
from xtracker.kit.clock import FrozenClock
from xtracker.runtime import Runtime

CHROME_ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36"
)


async def _link(http: httpx.AsyncClient, space: SpaceKeys, **fields: object) -> dict[str, object]:
    r = await http.post(f"/api/spaces/{space.slug}/links", json=fields, headers=space.auth)
    assert r.status_code == 201, r.text
    return dict(r.json())


async def _clicks(http: httpx.AsyncClient, space: SpaceKeys) -> list[dict[str, object]]:
    return list((await http.get(f"/api/spaces/{space.slug}/clicks", headers=space.auth)).json())


class TestBotLanding:
    async def test_button_leads_to_the_deeplink_with_the_visit_uid(
        self, http: httpx.AsyncClient, space: SpaceKeys
    ) -> None:
        await _link(http, space, slug="tg", kind="bot", bot_username="promo_bot",
                    title="Join us", button_label="Open Telegram")  # fmt: skip
        r = await http.get("/l/tg?fbclid=IwAR9&campaign_name=promoX",
                           headers={"User-Agent": CHROME_ANDROID})  # fmt: skip
        assert r.status_code == 200
        match = re.search(r'href="https://t\.me/promo_bot\?start=fb_([0-9a-z]{26})"', r.text)
        assert match, r.text
        assert "Open Telegram" in r.text
        (click,) = await _clicks(http, space)
        assert click["uid"] == match.group(1)
        assert click["campaign_name"] == "promoX" and click["fbclid"] == "IwAR9"
        assert click["browser"] == "Chrome Mobile 131" and click["os"] == "Android 14"
        assert click["is_bot"] is False

    async def test_every_visit_mints_a_new_uid(
        self, http: httpx.AsyncClient, space: SpaceKeys
    ) -> None:
        await _link(http, space, slug="tg", kind="bot", bot_username="promo_bot")
        for _ in range(3):
            await http.get("/l/tg", headers={"User-Agent": CHROME_ANDROID})
        uids = {c["uid"] for c in await _clicks(http, space)}
        assert len(uids) == 3


class TestWebLanding:
    async def test_auto_redirect_renders_the_target_macros(
        self, http: httpx.AsyncClient, space: SpaceKeys
    ) -> None:
        await _link(http, space, slug="offer", kind="web", auto_redirect=True,
                    target_url="https://offer.example/?click_id={uid}&c={campaign_name}&s={sub1}"
                    "&x={param.zone}")  # fmt: skip
        r = await http.get("/l/offer?campaign_name=promo%20X&sub1=a%26b&zone=77",
                           headers={"User-Agent": CHROME_ANDROID})  # fmt: skip
        assert r.status_code == 302
        (click,) = await _clicks(http, space)
        assert r.headers["location"] == (
            f"https://offer.example/?click_id={click['uid']}&c=promo%20X&s=a%26b&x=77"
        )

    async def test_unknown_macro_is_refused_at_save_naming_it(
        self, http: httpx.AsyncClient, space: SpaceKeys
    ) -> None:
        r = await http.post(
            f"/api/spaces/{space.slug}/links",
            json={"slug": "x", "kind": "web", "target_url": "https://o.example/?c={clickid}"},
            headers=space.auth,
        )
        assert r.status_code == 422
        assert r.json()["error"]["code"] == "unknown_macro"
        assert "{clickid}" in r.json()["error"]["message"]


class TestBotsAndPreviews:
    async def test_preview_fetcher_gets_the_page_but_is_flagged(
        self, http: httpx.AsyncClient, space: SpaceKeys
    ) -> None:
        await _link(http, space, slug="offer", kind="web", auto_redirect=True,
                    target_url="https://offer.example/?id={uid}")  # fmt: skip
        for ua in ("facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
                   "TelegramBot (like TwitterBot)", "curl/8.5.0"):  # fmt: skip
            r = await http.get("/l/offer", headers={"User-Agent": ua})
            assert r.status_code == 200  # the page with its preview tags, no redirect
        assert all(c["is_bot"] for c in await _clicks(http, space))

    async def test_telegram_in_app_browser_is_a_person(
        self, http: httpx.AsyncClient, space: SpaceKeys
    ) -> None:
        await _link(http, space, slug="tg", kind="bot", bot_username="promo_bot")
        await http.get("/l/tg", headers={"User-Agent": CHROME_ANDROID + " Telegram-Android/11.2.3"})
        assert [c["is_bot"] for c in await _clicks(http, space)] == [False]


class TestLandingSafety:
    async def test_unknown_and_inactive_slugs_are_404_pages(
        self, http: httpx.AsyncClient, space: SpaceKeys
    ) -> None:
        await _link(http, space, slug="tg", kind="bot", bot_username="promo_bot")
        await http.patch(f"/api/spaces/{space.slug}/links/tg", json={"active": False},
                         headers=space.auth)  # fmt: skip
        assert (await http.get("/l/tg")).status_code == 404
        assert (await http.get("/l/nope")).status_code == 404
        assert await _clicks(http, space) == []

    async def test_link_content_is_escaped(self, http: httpx.AsyncClient, space: SpaceKeys) -> None:
        await _link(http, space, slug="x", kind="bot", bot_username="promo_bot",
                    title="<script>alert(1)</script>", text='"><img src=x>')  # fmt: skip
        r = await http.get("/l/x", headers={"User-Agent": CHROME_ANDROID})
        assert "<script>alert(1)</script>" not in r.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text
        assert '"><img' not in r.text


class TestProxyHeaders:
    async def test_proxy_headers_are_ignored_unless_the_proxy_is_trusted(
        self, http: httpx.AsyncClient, space: SpaceKeys, settings: Settings, clock: FrozenClock
    ) -> None:
        await _link(http, space, slug="tg", kind="bot", bot_username="promo_bot")
        headers = {
            "User-Agent": CHROME_ANDROID,
            "CF-Connecting-IP": "8.8.8.8",
            "CF-IPCountry": "DE",
        }
        await http.get("/l/tg", headers=headers)
        clock.advance(1)  # uids sort by time: the second visit sorts second
        settings.trusted_proxies = ["203.0.113.0/24"]
        settings.__dict__.pop("trusted_proxy_networks", None)
        await http.get("/l/tg", headers=headers)
        clicks = sorted(await _clicks(http, space), key=lambda c: str(c["uid"]))
        assert (clicks[0]["ip"], clicks[0]["country"]) == ("203.0.113.9", None)
        assert (clicks[1]["ip"], clicks[1]["country"]) == ("8.8.8.8", "DE")

    async def test_country_comes_from_the_shipped_ip_database(
        self, http: httpx.AsyncClient, space: SpaceKeys, settings: Settings, runtime: Runtime
    ) -> None:
        await _link(http, space, slug="tg", kind="bot", bot_username="promo_bot")
        settings.trusted_proxies = ["203.0.113.0/24"]
        settings.__dict__.pop("trusted_proxy_networks", None)
        await http.get(
            "/l/tg", headers={"User-Agent": CHROME_ANDROID, "X-Forwarded-For": "8.8.8.8"}
        )
        (click,) = await _clicks(http, space)
        assert click["country"] == "US"
