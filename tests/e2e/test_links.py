"""The links screen: create with validation, edit, landing preview, per-link numbers."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Deployment, api, shot, sign_in
from tests.e2e.traffic import Traffic, visit

pytestmark = pytest.mark.e2e

NASTY = '<script>alert("x")</script> Promo'


def test_create_link_validates_like_the_api_and_escapes_names(
    page: Page, deployment: Deployment
) -> None:
    sign_in(page, deployment.owner)
    page.goto(f"/s/{deployment.space}/links")
    form = page.locator("#link-form")
    form.locator("input[name=slug]").fill("tg-promo")
    form.locator("input[name=name]").fill(NASTY)
    form.locator("select[name=kind]").select_option("web")
    form.locator("input[name=target_url]").fill("https://offer.example/?c={nope}")
    form.locator("#link-create").click()
    with api(deployment) as http:
        expected = http.post(f"/api/spaces/{deployment.space}/links", json={
            "slug": "tg-promo", "kind": "web", "target_url": "https://offer.example/?c={nope}",
        }).json()["error"]["message"]  # fmt: skip
    expect(page.locator("#form-error")).to_have_text(expected)
    form.locator("input[name=target_url]").fill("https://offer.example/?click_id={uid}")
    form.locator("input[name=title]").fill("Bonus 100% today")
    form.locator("#link-create").click()
    expect(page).to_have_url(f"{deployment.url}/s/{deployment.space}/links/tg-promo?saved=1")
    expect(page.locator("#link-title")).to_have_text(NASTY)  # text, not markup
    preview = page.frame_locator("#landing-preview")
    expect(preview.locator("h1")).to_have_text("Bonus 100% today")
    page.locator("#link-edit-form input[name=button_label]").fill("Claim now")
    page.locator("#link-save").click()
    expect(page.locator("#saved")).to_be_visible()
    expect(page.frame_locator("#landing-preview").locator("a.btn")).to_have_text("Claim now")
    shot(page, "link-edit", docs=True)
    with api(deployment) as http:
        link = http.get(f"/api/spaces/{deployment.space}/links/tg-promo").json()
    assert link["name"] == NASTY and link["button_label"] == "Claim now"


def test_links_list_shows_clicks_and_revenue_from_the_report(
    page: Page, deployment: Deployment, traffic: Traffic
) -> None:
    sign_in(page, deployment.owner)
    page.goto(f"/s/{deployment.space}/links")
    with api(deployment) as http:
        rows = http.get(f"/api/spaces/{deployment.space}/reports/attribution",
                        params={"preset": "30d", "group_by": "link"}).json()["rows"]  # fmt: skip
    for row in rows:
        if not row["link_slug"]:
            continue
        tr = page.locator(f'#links-table tr[data-slug="{row["link_slug"]}"]')
        expect(tr.locator(".clicks")).to_have_text(str(row["clicks"]))
        expect(tr.locator(".revenue")).to_have_text(row["revenue"])
    shot(page, "links", docs=True)


def test_a_link_named_script_is_text_on_the_deck_too(
    page: Page, deployment: Deployment, traffic: Traffic
) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    with api(deployment) as http:
        http.post(f"/api/spaces/{deployment.space}/links", json={
            "slug": "xss-check", "name": NASTY, "kind": "web",
            "target_url": "https://offer.example/?click_id={uid}",
        })  # fmt: skip
        uid = visit(http, "xss-check", "FR", ("120009", NASTY), NASTY)
    sign_in(page, deployment.owner)
    page.goto(f"/s/{deployment.space}")
    expect(page.locator(f'#live-feed li[data-id="{uid}"]')).to_contain_text(NASTY)
    expect(page.locator("#attr-table tbody .name", has_text=NASTY)).to_have_count(1)
    page.select_option("#attr-group", "ad")
    expect(page.locator("#attr-table tbody .name", has_text=NASTY)).to_have_count(1)
    page.select_option("#f-link", "xss-check")
    expect(page.locator("body")).to_have_attribute("data-view", "preset=7d&link=xss-check")
    assert dialogs == []
    assert page.locator("script:not([src]):not([type])").count() == 0
