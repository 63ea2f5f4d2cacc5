"""``xtracker demo`` fills a space with a month of traffic; its deck is what the docs show.

The numbers the demo command prints (from the report module) are the numbers on the deck.
"""

from __future__ import annotations

import json
import subprocess

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Deployment, shot
from tests.support.processes import XTRACKER

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def demo(deployment: Deployment) -> dict[str, object]:
    out = subprocess.run(
        [XTRACKER, "demo", "--days", "30", "--clicks-per-day", "150", "--name", "Demo offer",
         "--json"],
        env=deployment.env, capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    made: dict[str, object] = json.loads(out.stdout)
    return made


def test_the_demo_deck_shows_the_numbers_the_demo_printed(
    page: Page, demo: dict[str, object]
) -> None:
    space = demo["space"]["slug"]  # type: ignore[index]
    page.goto("/login")
    page.fill("input[name=email]", str(demo["user"]))
    page.fill("input[name=password]", str(demo["password"]))
    page.click("#login-submit")
    page.goto(f"/s/{space}")
    page.click('.preset[data-preset="30d"]')
    expect(page.locator("body")).to_have_attribute("data-view", "preset=30d")
    for step in demo["funnel_30d"]["steps"]:  # type: ignore[index]
        expect(page.locator(f"#kpi-{step['step']}")).to_have_text(f"{step['count']:,}")
    page.select_option("#map-metric", "revenue")
    page.wait_for_timeout(1500)  # chart entry animations
    shot(page, "deck", docs=True)
    shot(page, "funnel-panel", docs=True, element="#panel-funnel")
    page.select_option("#attr-group", "ad")
    page.click('#attr-table th[data-key="epc_cents"]')
    expect(page.locator('#attr-table th[data-key="epc_cents"]')).to_have_class(
        "num sortable sorted-desc"
    )
    shot(page, "attribution-per-ad", docs=True, element="#panel-attribution")
    page.click("#theme-toggle")
    expect(page.locator("html")).to_have_attribute("data-theme", "light")
    page.wait_for_timeout(1500)
    shot(page, "deck-light", docs=True)
