"""Viewers look but cannot change anything; a non-member sees nothing of the space."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Deployment, shot, sign_in
from tests.e2e.traffic import Traffic

pytestmark = pytest.mark.e2e


def test_a_viewer_sees_every_screen_but_cannot_change_anything(
    page: Page, deployment: Deployment, traffic: Traffic
) -> None:
    sign_in(page, deployment.viewer)
    space = deployment.space
    page.goto(f"/s/{space}")
    expect(page.locator("#viewer-badge")).to_be_visible()
    expect(page.locator("#kpi-click")).not_to_have_text("–")
    expect(page.locator("#delivery-table button.replay")).to_have_count(0)
    page.goto(f"/s/{space}/links")
    expect(page.locator("#links-table")).to_contain_text("FB — welcome bonus")
    expect(page.locator("#link-form")).to_have_count(0)
    page.goto(f"/s/{space}/links/fb-bonus")
    expect(page.locator("#link-edit-form input[name=name]")).to_be_disabled()
    expect(page.locator("#link-save")).to_have_count(0)
    page.goto(f"/s/{space}/keys")
    expect(page.locator("#rotate-bearer")).to_have_count(0)
    page.goto(f"/s/{space}/destinations")
    expect(page.locator("#destination-form")).to_have_count(0)
    shot(page, "viewer-destinations")
    # Even a hand-made request with the viewer's own CSRF token is refused, by the API too.
    csrf = page.locator("body").get_attribute("data-csrf") or ""
    answer = page.request.post(f"/s/{space}/keys/rotate", form={"csrf": csrf, "kind": "bearer"})
    assert answer.status == 403
    api = page.request.post(f"/api/spaces/{space}/links", headers={"X-CSRF-Token": csrf},
                            data={"slug": "viewer-link", "kind": "web",
                                  "target_url": "https://x.example/?c={uid}"})  # fmt: skip
    assert api.status == 403
    assert api.json()["error"]["code"] == "forbidden"


def test_a_non_member_sees_nothing_by_any_url(
    page: Page, deployment: Deployment, traffic: Traffic
) -> None:
    sign_in(page, deployment.outsider)
    expect(page.locator("#spaces-table")).not_to_contain_text("Promo X")
    space = deployment.space
    for path in (f"/s/{space}", f"/s/{space}/links", f"/s/{space}/links/fb-bonus",
                 f"/s/{space}/links/fb-bonus/preview", f"/s/{space}/keys",
                 f"/s/{space}/destinations", f"/s/{space}/live"):  # fmt: skip
        answer = page.goto(path)
        assert answer is not None and answer.status == 404, path
        expect(page.locator("h1")).to_have_text("Not found")
        expect(page.locator("body")).not_to_contain_text("FB — welcome bonus")
    shot(page, "non-member-404")
    for path in (f"/api/spaces/{space}", f"/api/spaces/{space}/links",
                 f"/api/spaces/{space}/reports/funnel"):  # fmt: skip
        assert page.request.get(path).status == 404, path
