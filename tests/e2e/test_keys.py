"""The API-keys screen: rotation shows the new secret once, in ready-to-paste code."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest
from playwright.sync_api import Dialog, Page, expect

from tests.e2e.conftest import Deployment, api, shot, sign_in
from tests.e2e.traffic import Traffic, visit

pytestmark = pytest.mark.e2e


def test_rotating_the_ingest_token_fills_the_snippets_and_keeps_the_old_one_24h(
    page: Page, deployment: Deployment
) -> None:
    sign_in(page, deployment.owner)
    page.goto(f"/s/{deployment.space}/keys")
    expect(page.locator("#code-postback-deposit")).to_contain_text("token=<INGEST_TOKEN>")
    page.once("dialog", lambda d: Dialog.accept(d))
    page.click("#rotate-ingest")
    token = page.locator("#secret-ingest").inner_text()
    assert token.startswith("xti_") and token != deployment.ingest
    postback = page.locator("#code-postback-deposit").inner_text()
    assert f"{deployment.url}/e?token={token}&event=deposit" in postback
    expect(page.locator("#keys-table")).to_contain_text("current")
    shot(page, "keys", docs=True)
    with httpx.Client(base_url=deployment.url) as http:
        for candidate in (token, deployment.ingest):  # the new one, and the old one in grace
            answer = http.get("/e", params={"token": candidate, "event": "contact", "uid": "nope"})
            assert answer.status_code == 200, answer.text
    page.reload()  # shown once: a reload re-asks the server, which no longer has it
    expect(page.locator("#new-secrets")).to_have_count(0)
    expect(page.locator("#code-postback-deposit")).to_contain_text("token=<INGEST_TOKEN>")


def test_rotating_the_bearer_gives_working_curl_and_python(
    page: Page, deployment: Deployment, traffic: Traffic
) -> None:
    sign_in(page, deployment.owner)
    page.goto(f"/s/{deployment.space}/keys")
    page.once("dialog", lambda d: Dialog.accept(d))
    page.click("#rotate-bearer")
    bearer = page.locator("#secret-bearer").inner_text()
    assert bearer.startswith("xtb_")
    expect(page.locator("#code-curl-event")).to_contain_text(f"Authorization: Bearer {bearer}")
    expect(page.locator("#code-python")).to_contain_text(
        f'AsyncClient("{deployment.url}", "{bearer}")'
    )
    # the snippets run as shown, once the placeholders are real values
    with httpx.Client(base_url=deployment.url) as http:
        uid = visit(http, "fb-bonus", "US", ("120001", "UGC video — testimonial"), "promoX")
    python = page.locator("#code-python").inner_text().replace("<UID>", uid)
    ran = subprocess.run([sys.executable, "-c", python.replace("<ORDER_ID>", f"py-{uid}")],
                         capture_output=True, text=True, timeout=60)  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    curl = page.locator("#code-curl-event").inner_text().replace("<UID>", uid)
    out = subprocess.run(["bash", "-c", curl.replace("<ORDER_ID>", f"curl-{uid}")],
                         capture_output=True, text=True, timeout=60)  # fmt: skip
    assert '"status":"queued"' in out.stdout.replace(" ", ""), out.stdout + out.stderr
    with api(deployment) as http:
        deposits = http.get(f"/api/spaces/{deployment.space}/reports/live").json()["items"]
    assert {i["value"] for i in deposits if i["uid"] == uid and i["event"] == "deposit"} == {
        "25.00"
    }
    with httpx.Client(base_url=deployment.url) as http:
        me = http.get(f"/api/spaces/{deployment.space}",
                      headers={"Authorization": f"Bearer {bearer}"})  # fmt: skip
        assert me.status_code == 200
        old = http.get(f"/api/spaces/{deployment.space}",
                       headers={"Authorization": f"Bearer {deployment.bearer}"})  # fmt: skip
        assert old.status_code == 200  # still valid for 24 hours
