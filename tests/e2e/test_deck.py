"""The ops deck: the same numbers as the API, the live feed, CSV export, filters."""

from __future__ import annotations

import csv
import io
import re
import subprocess
import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Deployment, api, shot, sign_in
from tests.e2e.traffic import Traffic, send, visit
from tests.support.processes import XTRACKER, free_port, stop

pytestmark = pytest.mark.e2e


def open_deck(page: Page, deployment: Deployment) -> None:
    sign_in(page, deployment.owner)
    page.goto(f"/s/{deployment.space}")
    expect(page.locator("body")).to_have_attribute("data-loaded", re.compile(r"^[1-9]"))
    expect(page.locator("#live-state")).to_have_text("live")


def test_funnel_and_attribution_match_the_api(
    page: Page, deployment: Deployment, traffic: Traffic
) -> None:
    open_deck(page, deployment)
    with api(deployment) as http:
        funnel = http.get(f"/api/spaces/{deployment.space}/reports/funnel").json()
        attribution = http.get(f"/api/spaces/{deployment.space}/reports/attribution",
                               params={"sort": "revenue_cents", "order": "desc"}).json()  # fmt: skip
    page.reload()
    expect(page.locator("body")).to_have_attribute("data-loaded", re.compile(r"^[1-9]"))
    assert funnel["steps"][0]["count"] > 0
    for step in funnel["steps"]:
        expect(page.locator(f"#kpi-{step['step']}")).to_have_text(f"{step['count']:,}")
        row = page.locator(f'#funnel-table tr[data-step="{step["step"]}"]')
        expect(row.locator(".count")).to_have_text(f"{step['count']:,}")
    cliff = funnel["biggest_cliff"]
    assert cliff is not None
    expect(page.locator(f'#funnel-table tr[data-step="{cliff}"]')).to_have_class("cliff")
    expect(page.locator("#kpi-revenue")).to_have_text(
        f"{funnel['revenue']['amount']} {funnel['revenue']['currency']}"
    )
    rows = page.locator("#attr-table tbody tr")
    expect(rows).to_have_count(len(attribution["rows"]))
    for i, expected in enumerate(attribution["rows"]):
        row = rows.nth(i)
        expect(row.locator(".clicks")).to_have_text(f"{expected['clicks']:,}")
        expect(row.locator(".deposit")).to_have_text(f"{expected['deposit']:,}")
        expect(row.locator(".revenue")).to_have_text(expected["revenue"])
        expect(row.locator(".epc")).to_have_text(expected["epc"])
    expect(page.locator("#attr-table tfoot .revenue")).to_have_text(
        attribution["totals"]["revenue"]
    )
    page.wait_for_timeout(600)  # let the charts finish their entry animation
    shot(page, "deck-test-traffic")


def test_attribution_per_ad_sorts_and_exports_csv(
    page: Page, deployment: Deployment, traffic: Traffic
) -> None:
    open_deck(page, deployment)
    page.select_option("#attr-group", "ad")
    expect(page.locator("#attr-table tbody tr").first.locator(".name")).to_contain_text("—")
    page.click('#attr-table th[data-key="clicks"]')
    expect(page.locator('#attr-table th[data-key="clicks"]')).to_have_class(
        "num sortable sorted-desc"
    )
    clicks = [
        int(t.replace(",", "")) for t in page.locator("#attr-table tbody .clicks").all_inner_texts()
    ]
    assert clicks == sorted(clicks, reverse=True) and len(clicks) >= 3
    shot(page, "attribution-per-ad-test-traffic", element="#panel-attribution")
    with page.expect_download() as download_info:
        page.click("#attr-csv")
    exported = download_info.value.path().read_text()
    with api(deployment) as http:
        expected = http.get(f"/api/spaces/{deployment.space}/reports/attribution", params={
            "group_by": "ad", "sort": "clicks", "order": "desc", "format": "csv", "preset": "7d",
        }).text  # fmt: skip
    assert exported == expected
    table = list(csv.DictReader(io.StringIO(exported)))
    assert [int(r["clicks"]) for r in table[:-1]] == clicks  # then the totals row
    assert len(table) == len(clicks) + 1


def test_an_event_sent_by_http_shows_in_the_live_feed_within_2_s(
    page: Page, deployment: Deployment, traffic: Traffic
) -> None:
    open_deck(page, deployment)
    with httpx.Client(base_url=deployment.url, timeout=10,
                      headers={"Authorization": f"Bearer {deployment.bearer}"}) as http:  # fmt: skip
        uid = visit(http, "fb-retarget", "BR", ("120002", "Static — bonus 100%"), "retarget-7d")
        expect(page.locator(f'#live-feed li[data-id="{uid}"]')).to_be_visible(timeout=2_000)
        sent_at = time.monotonic()
        send(http, "deposit", uid, value="75.00", eid=f"live-{uid[-6:]}")
        item = page.locator("#live-feed li", has_text="75.00 USD")
        expect(item).to_be_visible(timeout=2_000)
        elapsed = time.monotonic() - sent_at
    assert elapsed < 2.0
    expect(item.locator(".ev-deposit")).to_have_text("deposit")
    shot(page, "live-feed", element="#panel-live")


def _serve_on(deployment: Deployment, port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([XTRACKER, "serve", "--port", str(port), "--server", "uvicorn"],
                            env=deployment.env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, "xtracker serve did not start"
        time.sleep(0.1)


def test_live_feed_reconnects_when_the_server_restarts(
    page: Page, deployment: Deployment, traffic: Traffic
) -> None:
    sign_in(page, deployment.owner)  # the session lives in the database: any server takes it
    port = free_port()
    proc = _serve_on(deployment, port)
    try:
        page.goto(f"http://127.0.0.1:{port}/s/{deployment.space}")
        expect(page.locator("#live-state")).to_have_text("live")
        stop(proc)
        expect(page.locator("#live-state")).to_have_text("reconnecting…", timeout=10_000)
        proc = _serve_on(deployment, port)
        expect(page.locator("#live-state")).to_have_text("live", timeout=20_000)
        with httpx.Client(base_url=deployment.url, timeout=10) as http:  # another process
            uid = visit(http, "fb-bonus", "IN", ("120003", "Carousel — app screens"), "promoX")
        expect(page.locator(f'#live-feed li[data-id="{uid}"]')).to_be_visible(timeout=2_000)
    finally:
        stop(proc)


def test_date_and_link_filters_change_the_numbers_like_the_api(
    page: Page, deployment: Deployment, traffic: Traffic
) -> None:
    open_deck(page, deployment)
    with api(deployment) as http:
        yesterday = http.get(f"/api/spaces/{deployment.space}/reports/funnel",
                             params={"preset": "yesterday"}).json()  # fmt: skip
        one_link = http.get(f"/api/spaces/{deployment.space}/reports/funnel",
                            params={"preset": "yesterday", "link": "fb-retarget"}).json()  # fmt: skip
        start_ms = yesterday["range"]["start_ms"]
        yesterday_date = (
            datetime.fromtimestamp(start_ms / 1000, UTC)
            .astimezone(ZoneInfo(yesterday["range"]["timezone"]))
            .date()
            .isoformat()
        )
        today_link = http.get(f"/api/spaces/{deployment.space}/reports/funnel",
                              params={"preset": "today", "link": "fb-retarget"}).json()  # fmt: skip
    body = page.locator("body")
    page.click('.preset[data-preset="yesterday"]')
    expect(body).to_have_attribute("data-view", "preset=yesterday")
    expect(page.locator("#kpi-click")).to_have_text(f"{yesterday['steps'][0]['count']:,}")
    page.select_option("#f-link", "fb-retarget")
    expect(body).to_have_attribute("data-view", "preset=yesterday&link=fb-retarget")
    expect(page.locator("#kpi-click")).to_have_text(f"{one_link['steps'][0]['count']:,}")
    page.click('.preset[data-preset="today"]')
    expect(body).to_have_attribute("data-view", "preset=today&link=fb-retarget")
    expect(page.locator("#kpi-click")).to_have_text(f"{today_link['steps'][0]['count']:,}")
    page.click('.preset[data-preset="custom"]')
    page.fill("#f-start", yesterday_date)
    page.fill("#f-end", yesterday_date)
    page.click("#f-apply")
    view = f"preset=custom&start={yesterday_date}&end={yesterday_date}&link=fb-retarget"
    expect(body).to_have_attribute("data-view", view)
    expect(page.locator("#kpi-click")).to_have_text(f"{one_link['steps'][0]['count']:,}")


def test_the_deck_in_the_light_theme(page: Page, deployment: Deployment, traffic: Traffic) -> None:
    open_deck(page, deployment)
    page.click("#theme-toggle")
    expect(page.locator("html")).to_have_attribute("data-theme", "light")
    page.wait_for_timeout(800)
    shot(page, "deck-light-test-traffic")
    page.reload()
    expect(page.locator("html")).to_have_attribute("data-theme", "light")


def test_campaign_filter_and_replay_from_the_delivery_matrix(
    page: Page, deployment: Deployment, traffic: Traffic
) -> None:
    open_deck(page, deployment)
    with api(deployment) as http:
        campaign = http.get(f"/api/spaces/{deployment.space}/reports/funnel",
                            params={"campaign": "retarget-7d"}).json()  # fmt: skip
    page.fill("#f-campaign", "retarget-7d")
    expect(page.locator("body")).to_have_attribute("data-view", "preset=7d&campaign=retarget-7d")
    expect(page.locator("#kpi-click")).to_have_text(f"{campaign['steps'][0]['count']:,}")
    row = page.locator("#delivery-table tr", has_text="Affiliate network")
    expect(row.locator(".failed")).not_to_have_text("0", timeout=15_000)
    row.locator("button.replay").click()
    expect(page.locator("#delivery-note")).to_have_text(
        re.compile(
            r"^Replayed [1-9][0-9]* failed deliveries of Affiliate network \(same event_id\)\.$"
        )
    )
