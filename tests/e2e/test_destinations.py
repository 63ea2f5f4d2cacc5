"""The destinations screen: add any kind, edit the event map, live status, replay."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Deployment, api, shot, sign_in
from tests.e2e.traffic import Traffic, receiver, send, visit

pytestmark = pytest.mark.e2e


def test_add_a_webhook_edit_its_map_and_see_deliveries(
    page: Page, deployment: Deployment, traffic: Traffic
) -> None:
    sign_in(page, deployment.owner)
    page.goto(f"/s/{deployment.space}/destinations")
    form = page.locator("#destination-form")
    form.locator("select[name=kind]").select_option("fb_capi")
    form.locator("input[name=pixel_id]").fill("12345678901")
    form.locator("#destination-create").click()
    with api(deployment) as http:
        expected = http.post(f"/api/spaces/{deployment.space}/destinations",
                             json={"kind": "fb_capi", "pixel_id": "12345678901"}).json()  # fmt: skip
    expect(page.locator("#form-error")).to_have_text(expected["error"]["message"])

    with receiver(200) as good, receiver(400) as bad:
        form.locator("select[name=kind]").select_option("webhook")
        form.locator("input[name=name]").fill("CRM webhook")
        form.locator("fieldset[data-kind=webhook] input[name=url]").fill(good)
        form.locator("#destination-create").click()
        expect(page.locator("#destination-created")).to_be_visible()
        expect(page.locator("#signing-secret")).to_contain_text("whsec_")
        edit = page.locator("#destination-edit-form")
        edit.locator("input[name=map_deposit]").fill("conv")
        edit.locator("input[name=map_contact]").fill("")
        edit.locator("#destination-save").click()
        expect(page.locator("#saved")).to_be_visible()
        expect(edit.locator("input[name=map_deposit]")).to_have_value("conv")
        expect(edit.locator("input[name=map_contact]")).to_have_value("")
        with api(deployment) as http:
            mine = [d for d in http.get(f"/api/spaces/{deployment.space}/destinations").json()
                    if d["name"] == "CRM webhook"]  # fmt: skip
            assert mine[0]["event_map"] == {
                "subscribed": "subscribed",
                "registration": "registration",
                "deposit": "conv",
            }
            http.post(f"/api/spaces/{deployment.space}/destinations", json={
                "kind": "s2s_postback", "name": "Network postback", "url_template": bad + "?c={uid}",
                "method": "GET",
            }).raise_for_status()  # fmt: skip
            uid = visit(http, "fb-bonus", "DE", ("120001", "UGC video — testimonial"), "promoX")
            send(http, "deposit", uid, value="40.00", eid=f"dest-{uid[-6:]}")
        # the delivery status on the page follows the worker live (polling the reports API)
        sent = page.locator('tr[data-destination] [data-stat="sent"]')
        expect(sent).to_have_text("1", timeout=15_000)
        page.goto(f"/s/{deployment.space}/destinations")
        row = page.locator("#destinations-table tr", has_text="Network postback")
        expect(row.locator('[data-stat="failed_permanently"]')).not_to_have_text(
            "0", timeout=15_000
        )
        shot(page, "destinations", docs=True)
        row.locator("a.dest-name").click()
        deadline = time.monotonic() + 10
        while "failed_permanently" not in page.locator("#recent-deliveries").inner_text():
            assert time.monotonic() < deadline
            page.reload()
        page.click("#replay-failed")
        expect(page.locator("#replayed")).to_contain_text("failed deliveries queued again")
        shot(page, "destination-edit", docs=True)
