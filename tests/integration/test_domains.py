"""Custom landing domains: DNS verification against a real (local) DNS server, Host routing,
and the Cloudflare trusted-proxy headers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from tests.conftest import SpaceKeys, make_space
from tests.support.fake_dns import Zone, fake_dns
from xtracker.cli.main import app as cli_app
from xtracker.config import Settings
from xtracker.domain import tasks as domain_tasks
from xtracker.domain.router import DomainRouter
from xtracker.kit.clock import FrozenClock
from xtracker.runtime import Runtime

ORIGIN = "origin.xtracker.test"
DAY_MS = 86_400_000
UA = {
    "User-Agent": "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36"
}


@pytest.fixture
def zone() -> Zone:
    return Zone(addresses={ORIGIN: "192.0.2.10", "other.example.net": "192.0.2.99"})


@pytest.fixture
def dns_port(zone: Zone) -> Iterator[int]:
    with fake_dns(zone) as port:
        yield port


@pytest.fixture
def settings(settings: Settings, dns_port: int) -> Settings:
    return settings.model_copy(
        update={"dns_resolver": "127.0.0.1", "dns_resolver_port": dns_port,
                "dns_timeout_s": 2.0, "origin_host": ORIGIN,
                "trusted_proxies": ["203.0.113.0/24"]}
    )  # fmt: skip


@pytest.fixture
def routed(runtime: Runtime) -> DomainRouter:
    router = DomainRouter(runtime.backend, runtime.settings)
    runtime.extras["host_router"] = router
    return router


async def _add(http: httpx.AsyncClient, space: SpaceKeys, host: str) -> dict[str, Any]:
    r = await http.post(f"/api/spaces/{space.slug}/domains", json={"hostname": host},
                        headers=space.auth)  # fmt: skip
    assert r.status_code == 201, r.text
    return dict(r.json())


async def _check(http: httpx.AsyncClient, space: SpaceKeys, host: str) -> dict[str, Any]:
    r = await http.post(f"/api/spaces/{space.slug}/domains/{host}/check", headers=space.auth)
    assert r.status_code == 200, r.text
    return dict(r.json())


async def _web_link(http: httpx.AsyncClient, space: SpaceKeys, slug: str) -> None:
    r = await http.post(
        f"/api/spaces/{space.slug}/links", headers=space.auth,
        json={"slug": slug, "kind": "web", "target_url": f"https://offer.example/{slug}?c={{uid}}",
              "title": f"Landing {slug}", "auto_redirect": True},
    )  # fmt: skip
    assert r.status_code == 201, r.text


class TestVerification:
    async def test_new_domain_without_dns_is_pending_and_shows_the_record(
        self, http: httpx.AsyncClient, space: SpaceKeys, routed: DomainRouter
    ) -> None:
        d = await _add(http, space, "Go.MyBrand.com")
        assert d["hostname"] == "go.mybrand.com" and d["state"] == "pending"
        assert d["serving"] is False
        assert d["record"] == {"type": "CNAME", "name": "go.mybrand.com", "value": ORIGIN}
        assert d["txt_record"]["name"] == "_xtracker.go.mybrand.com"
        assert "does not exist" in d["last_error"]

    async def test_cname_to_the_origin_verifies(
        self, http: httpx.AsyncClient, space: SpaceKeys, zone: Zone, routed: DomainRouter
    ) -> None:
        zone.cnames["go.mybrand.com"] = ORIGIN
        d = await _add(http, space, "go.mybrand.com")
        assert d["state"] == "verified" and d["serving"] is True
        assert d["chain"] == ["go.mybrand.com", ORIGIN] and d["last_error"] is None

    async def test_a_chain_through_a_cdn_is_followed(
        self, http: httpx.AsyncClient, space: SpaceKeys, zone: Zone, routed: DomainRouter
    ) -> None:
        zone.cnames["go.mybrand.com"] = "edge.cdn.example"
        zone.cnames["edge.cdn.example"] = ORIGIN
        d = await _add(http, space, "go.mybrand.com")
        assert d["state"] == "verified"
        assert d["chain"] == ["go.mybrand.com", "edge.cdn.example", ORIGIN]

    async def test_a_cname_pointing_elsewhere_stays_pending(
        self, http: httpx.AsyncClient, space: SpaceKeys, zone: Zone, routed: DomainRouter
    ) -> None:
        zone.cnames["go.mybrand.com"] = "other.example.net"
        d = await _add(http, space, "go.mybrand.com")
        assert d["state"] == "pending"
        assert d["last_error"] == f"the CNAME chain ends at other.example.net, not at {ORIGIN}"

    async def test_a_proxied_cname_verifies_by_its_txt_record(
        self, http: httpx.AsyncClient, space: SpaceKeys, zone: Zone, routed: DomainRouter
    ) -> None:
        zone.addresses["go.mybrand.com"] = "104.16.0.1"  # the proxy's address, no CNAME
        d = await _add(http, space, "go.mybrand.com")
        assert d["state"] == "pending"
        zone.txts["_xtracker.go.mybrand.com"] = [d["txt_record"]["value"]]
        assert (await _check(http, space, "go.mybrand.com"))["state"] == "verified"

    async def test_failing_keeps_serving_then_is_disabled_after_the_grace_period(
        self,
        http: httpx.AsyncClient,
        space: SpaceKeys,
        zone: Zone,
        clock: FrozenClock,
        routed: DomainRouter,
    ) -> None:
        await _web_link(http, space, "s1")
        zone.cnames["go.mybrand.com"] = ORIGIN
        await _add(http, space, "go.mybrand.com")
        del zone.cnames["go.mybrand.com"]
        clock.advance(3_600_000)
        failing = await _check(http, space, "go.mybrand.com")
        assert failing["state"] == "failing" and failing["serving"] is True
        assert failing["failing_since_ms"] == clock.now_ms()
        assert failing["disables_at_ms"] == clock.now_ms() + 7 * DAY_MS
        r = await http.get("/s1", headers={**UA, "Host": "go.mybrand.com"})
        assert r.status_code == 302

        clock.advance(7 * DAY_MS)
        disabled = await _check(http, space, "go.mybrand.com")
        assert disabled["state"] == "disabled" and disabled["serving"] is False
        r = await http.get("/s1", headers={**UA, "Host": "go.mybrand.com"})
        assert r.status_code == 404

        zone.cnames["go.mybrand.com"] = ORIGIN
        again = await _check(http, space, "go.mybrand.com")
        assert again["state"] == "verified" and again["failing_since_ms"] is None
        assert (await http.get("/s1", headers={**UA, "Host": "go.mybrand.com"})).status_code == 302

    async def test_a_dns_outage_fails_the_check_with_the_reason(
        self, http: httpx.AsyncClient, space: SpaceKeys, zone: Zone, routed: DomainRouter
    ) -> None:
        zone.cnames["go.mybrand.com"] = ORIGIN
        await _add(http, space, "go.mybrand.com")
        zone.servfail = True
        d = await _check(http, space, "go.mybrand.com")
        assert d["state"] == "failing" and d["last_error"].startswith("DNS lookup failed")

    async def test_the_worker_rechecks_only_domains_that_are_due(
        self,
        http: httpx.AsyncClient,
        space: SpaceKeys,
        zone: Zone,
        clock: FrozenClock,
        runtime: Runtime,
        routed: DomainRouter,
    ) -> None:
        zone.cnames["go.mybrand.com"] = ORIGIN
        await _add(http, space, "go.mybrand.com")
        del zone.cnames["go.mybrand.com"]
        clock.advance(30 * 60_000)
        assert await domain_tasks.check_domains(runtime) == 0
        clock.advance(31 * 60_000)
        assert await domain_tasks.check_domains(runtime) == 1
        listed = (await http.get(f"/api/spaces/{space.slug}/domains", headers=space.auth)).json()
        assert [d["state"] for d in listed] == ["failing"]

    async def test_a_domain_belongs_to_one_space_only(
        self, http: httpx.AsyncClient, space: SpaceKeys, runtime: Runtime, routed: DomainRouter
    ) -> None:
        other = await make_space(runtime, "Other")
        await _add(http, space, "go.mybrand.com")
        r = await http.post(f"/api/spaces/{other.slug}/domains",
                            json={"hostname": "www.go.mybrand.com"}, headers=other.auth)  # fmt: skip
        assert r.status_code == 409 and r.json()["error"]["code"] == "domain_taken"
        r = await http.get(f"/api/spaces/{other.slug}/domains/go.mybrand.com", headers=other.auth)
        assert r.status_code == 404

    @pytest.mark.parametrize(
        "host", ["localhost", "203.0.113.1", "mybrand", "origin.xtracker.test"]
    )
    async def test_hosts_that_cannot_be_custom_domains_are_refused(
        self, http: httpx.AsyncClient, space: SpaceKeys, host: str, routed: DomainRouter
    ) -> None:
        r = await http.post(f"/api/spaces/{space.slug}/domains", json={"hostname": host},
                            headers=space.auth)  # fmt: skip
        assert r.status_code == 422 and r.json()["error"]["field"] == "hostname"


class TestHostRouting:
    @pytest.fixture
    async def two(
        self, http: httpx.AsyncClient, space: SpaceKeys, zone: Zone, runtime: Runtime,
        routed: DomainRouter,
    ) -> SpaceKeys:  # fmt: skip
        other = await make_space(runtime, "Other")
        await _web_link(http, space, "a1")
        await _web_link(http, other, "b1")
        zone.cnames["go.alpha.com"] = ORIGIN
        zone.cnames["go.beta.com"] = ORIGIN
        await _add(http, space, "go.alpha.com")
        await _add(http, other, "go.beta.com")
        await _add(http, other, "pending.beta.com")
        return other

    async def test_a_verified_domain_serves_its_space_landings_at_the_root(
        self, http: httpx.AsyncClient, two: SpaceKeys
    ) -> None:
        r = await http.get("/a1?fbclid=x", headers={**UA, "Host": "go.alpha.com"})
        assert r.status_code == 302 and r.headers["location"].startswith("https://offer.example/a1")
        r = await http.get("/b1", headers={**UA, "Host": "go.beta.com"})
        assert r.status_code == 302

    async def test_host_is_matched_without_case_port_and_www(
        self, http: httpx.AsyncClient, two: SpaceKeys
    ) -> None:
        for host in ("GO.ALPHA.COM", "go.alpha.com:443", "www.go.alpha.com", "go.alpha.com."):
            r = await http.get("/a1", headers={**UA, "Host": host})
            assert r.status_code == 302, host

    async def test_another_space_slug_is_404_on_a_domain(
        self, http: httpx.AsyncClient, two: SpaceKeys
    ) -> None:
        r = await http.get("/b1", headers={**UA, "Host": "go.alpha.com"})
        assert r.status_code == 404 and "b1" not in r.text and "offer.example" not in r.text

    @pytest.mark.parametrize("host", ["unknown.example.org", "pending.beta.com"])
    async def test_unknown_and_pending_hosts_are_404_before_any_link_lookup(
        self, http: httpx.AsyncClient, two: SpaceKeys, runtime: Runtime, host: str
    ) -> None:
        runtime.links.forget()
        for path in ("/a1", "/b1", "/l/a1", f"/api/spaces/{two.slug}/links", "/"):
            r = await http.get(path, headers={**UA, "Host": host, **two.auth})
            assert r.status_code == 404, path
            assert "offer.example" not in r.text
        assert runtime.links._cache == {}  # no slug was looked up for those hosts

    async def test_the_tracker_own_hosts_keep_l_slug_routing(
        self, http: httpx.AsyncClient, two: SpaceKeys
    ) -> None:
        for host in ("testserver", ORIGIN, "localhost:8000", "127.0.0.1", "[::1]:8000", "xtracker"):
            r = await http.get("/l/b1", headers={**UA, "Host": host})
            assert r.status_code == 302, host

    async def test_before_any_domain_every_host_is_the_tracker_own(
        self, http: httpx.AsyncClient, space: SpaceKeys, routed: DomainRouter
    ) -> None:
        await _web_link(http, space, "s1")
        r = await http.get("/l/s1", headers={**UA, "Host": "trk.mycompany.com"})
        assert r.status_code == 302
        await _add(http, space, "go.mybrand.com")  # pending, but now domains are in use
        r = await http.get("/l/s1", headers={**UA, "Host": "trk.mycompany.com"})
        assert r.status_code == 404

    async def test_a_removed_domain_is_404_at_once(
        self, http: httpx.AsyncClient, space: SpaceKeys, two: SpaceKeys
    ) -> None:
        assert (await http.get("/a1", headers={**UA, "Host": "go.alpha.com"})).status_code == 302
        r = await http.delete(f"/api/spaces/{space.slug}/domains/go.alpha.com", headers=space.auth)
        assert r.status_code == 204
        assert (await http.get("/a1", headers={**UA, "Host": "go.alpha.com"})).status_code == 404

    async def test_the_clicks_record_the_custom_host(
        self, http: httpx.AsyncClient, space: SpaceKeys, two: SpaceKeys, runtime: Runtime
    ) -> None:
        await http.get("/a1", headers={**UA, "Host": "go.alpha.com"})
        async with runtime.backend.reader() as tx:
            rows = await tx.fetchall("SELECT space_id, host FROM click")
        assert rows == [(space.id, "go.alpha.com")]

    async def test_install_puts_the_router_in_place(self, runtime: Runtime) -> None:
        runtime.extras.pop("host_router", None)
        await domain_tasks.install(runtime, "cli")
        assert isinstance(runtime.extras["host_router"], DomainRouter)
        assert runtime.tasks == []


class TestBehindCloudflare:
    async def test_a_trusted_proxy_gives_the_client_ip_and_country(
        self, http: httpx.AsyncClient, space: SpaceKeys
    ) -> None:
        await _web_link(http, space, "s1")
        await http.get("/l/s1", headers={**UA, "CF-Connecting-IP": "198.51.100.7", "CF-IPCountry": "IN",
                                         "X-Forwarded-For": "192.0.2.1"})  # fmt: skip
        (click,) = (await http.get(f"/api/spaces/{space.slug}/clicks", headers=space.auth)).json()
        assert click["ip"] == "198.51.100.7" and click["country"] == "IN"

    async def test_x_forwarded_for_first_hop_without_cloudflare_headers(
        self, http: httpx.AsyncClient, space: SpaceKeys
    ) -> None:
        await _web_link(http, space, "s1")
        await http.get("/l/s1", headers={**UA, "X-Forwarded-For": "198.51.100.8, 203.0.113.5"})
        (click,) = (await http.get(f"/api/spaces/{space.slug}/clicks", headers=space.auth)).json()
        assert click["ip"] == "198.51.100.8"

    async def test_an_untrusted_peer_cannot_spoof_ip_or_country(
        self, settings: Settings, runtime: Runtime, http: httpx.AsyncClient, space: SpaceKeys
    ) -> None:
        await _web_link(http, space, "s1")
        from xtracker.app import XTrackerApp

        transport = httpx.ASGITransport(app=XTrackerApp(settings, runtime=runtime),
                                        client=("8.8.8.8", 4000))  # fmt: skip
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as other:
            await other.get("/l/s1", headers={"CF-Connecting-IP": "198.51.100.7",
                                               "CF-IPCountry": "IN"})  # fmt: skip
        (click,) = (await http.get(f"/api/spaces/{space.slug}/clicks", headers=space.auth)).json()
        assert click["ip"] == "8.8.8.8" and click["country"] == "US"


class TestDomainCli:
    def test_add_list_check_remove_with_json(
        self, settings: Settings, zone: Zone, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        url = settings.database.sqlalchemy_url.replace("+aiosqlite", "").replace("+asyncpg", "")
        for key, value in {
            "DATABASE_URL": url, "DATA_DIR": str(settings.data_dir), "SECRET_KEY": "cli-test",
            "DNS_RESOLVER": "127.0.0.1", "DNS_RESOLVER_PORT": str(settings.dns_resolver_port),
            "ORIGIN_HOST": ORIGIN,
        }.items():  # fmt: skip
            monkeypatch.setenv(f"XTRACKER_{key}", value)
        runner = CliRunner()

        def cli(*args: str) -> Any:
            result = runner.invoke(cli_app, [*args, "--json"])
            assert result.exit_code == 0, result.output
            return json.loads(result.stdout)

        space = cli("space", "create", "Promo X")["space"]["slug"]
        added = cli("domain", "add", "go.mybrand.com", "--space", space)
        assert added["state"] == "pending" and added["record"]["value"] == ORIGIN
        zone.cnames["go.mybrand.com"] = ORIGIN
        assert cli("domain", "check", "go.mybrand.com", "--space", space)["state"] == "verified"
        assert [d["state"] for d in cli("domain", "list", "--space", space)] == ["verified"]
        assert cli("domain", "remove", "go.mybrand.com", "--space", space)["ok"] is True
        assert cli("domain", "list", "--space", space) == []
