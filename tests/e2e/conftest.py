"""Browser tests: a real ``xtracker serve`` (SQLite in a temp dir) driven by Debian's Chromium.

One server and one browser per session; each test opens its own browser context (its own
cookies). Screenshots of every screen go to ``test-artifacts/``; the ones the docs show are
refreshed in ``docs/img/`` with ``XTRACKER_UPDATE_DOCS_IMG=1``.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.e2e.traffic import Traffic, receiver, seed
from tests.support.processes import SERVE_LOGS, XTRACKER, cli_json, serve, xt_env

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
DOCS_IMG = ROOT / "docs" / "img"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]  # fmt: skip
PASSWORD = "e2e password 123"

pytestmark = pytest.mark.e2e


@dataclass
class Deployment:
    url: str
    env: dict[str, str]
    space: str
    bearer: str
    ingest: str
    owner: str = "owner@example.com"
    viewer: str = "viewer@example.com"
    outsider: str = "outsider@example.com"


def _user(env: dict[str, str], email: str, *args: str) -> None:
    subprocess.run([XTRACKER, "user", "create", email, "--password-stdin", *args, "--json"],
                   env=env, input=PASSWORD + "\n", text=True, capture_output=True, timeout=60,
                   check=True)  # fmt: skip


@pytest.fixture(scope="session")
def deployment(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Deployment]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: apt-get install -y chromium (scripts/setup-dev does it)")
    data = tmp_path_factory.mktemp("e2e")
    env = xt_env(f"sqlite:///{data / 'xtracker.db'}", data,
                 XTRACKER_ALLOW_PRIVATE_TARGETS="true", XTRACKER_RUN_WORKER_IN_SERVE="true",
                 XTRACKER_TRUSTED_PROXIES='["127.0.0.1"]', XTRACKER_DELIVERY_NO_DELAYS="false")  # fmt: skip
    made = cli_json(env, "space", "create", "Promo X", "--slug", "promo-x",
                    "--timezone", "Europe/Berlin")  # fmt: skip
    assert isinstance(made, dict)
    cli_json(env, "space", "create", "Other Offer", "--slug", "other-offer")
    _user(env, "owner@example.com", "--space", "promo-x", "--role", "owner")
    _user(env, "viewer@example.com", "--space", "promo-x", "--role", "viewer")
    _user(env, "outsider@example.com", "--space", "other-offer", "--role", "owner")
    with serve(env) as url:  # the default server (granian), as in production
        yield Deployment(url, env, "promo-x", str(made["bearer"]), str(made["ingest_token"]))
    if request.session.testsfailed:  # what the server said, for the CI log
        log = SERVE_LOGS / f"serve-{url.rsplit(':', 1)[1]}.log"
        print(f"\n--- {log} (last 80 lines) ---\n" + "\n".join(log.read_text().splitlines()[-80:]))


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def context(browser: Browser, deployment: Deployment) -> Iterator[BrowserContext]:
    ctx = browser.new_context(base_url=deployment.url, viewport={"width": 1440, "height": 1000},
                              color_scheme="dark", accept_downloads=True)  # fmt: skip
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    p = context.new_page()
    p.set_default_timeout(10_000)
    return p


def sign_in(page: Page, email: str) -> None:
    page.goto("/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-submit")
    page.wait_for_url("**/spaces")


def shot(page: Page, name: str, *, docs: bool = False, element: str | None = None) -> None:
    """Save a screenshot (of the page, or one element) to test-artifacts/; one the
    documentation shows also goes to docs/img/ when ``XTRACKER_UPDATE_DOCS_IMG=1`` (so an
    ordinary test run leaves the committed images alone)."""
    refresh_docs = docs and os.environ.get("XTRACKER_UPDATE_DOCS_IMG") == "1"
    targets = [ARTIFACTS / f"{name}.png"] + ([DOCS_IMG / f"{name}.png"] if refresh_docs else [])
    for path in targets:
        path.parent.mkdir(parents=True, exist_ok=True)
        if element is None:
            page.screenshot(path=str(path), full_page=True)
        else:
            page.locator(element).screenshot(path=str(path))


@pytest.fixture(scope="session")
def traffic(deployment: Deployment) -> Iterator[Traffic]:
    """Two destinations (one healthy, one refusing) and a believable funnel on two links."""
    with receiver(200) as good, receiver(400) as refusing:
        with api(deployment) as http:
            for body in ({"kind": "webhook", "name": "Partner CRM", "url": good},
                         {"kind": "s2s_postback", "name": "Affiliate network",
                          "url_template": refusing + "?clickid={uid}&payout={value}"}):  # fmt: skip
                http.post(
                    f"/api/spaces/{deployment.space}/destinations", json=body
                ).raise_for_status()
        yield seed(deployment.url, deployment.space, deployment.bearer)


def api(deployment: Deployment) -> httpx.Client:
    return httpx.Client(base_url=deployment.url, timeout=30,
                        headers={"Authorization": f"Bearer {deployment.bearer}"})  # fmt: skip
