"""Signing in, the spaces screen, signing out."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import PASSWORD, Deployment, shot, sign_in

pytestmark = pytest.mark.e2e


def test_wrong_password_is_refused_with_the_api_message(page: Page, deployment: Deployment) -> None:
    page.goto("/s/promo-x")
    expect(page).to_have_url(f"{deployment.url}/login?next=%2Fs%2Fpromo-x")
    page.fill("input[name=email]", deployment.owner)
    page.fill("input[name=password]", "not the password")
    page.click("#login-submit")
    expect(page.locator("#login-error")).to_have_text("Wrong email or password.")
    shot(page, "login", docs=True)


def test_sign_in_lands_on_the_page_asked_for(page: Page, deployment: Deployment) -> None:
    page.goto("/s/promo-x/keys")
    page.fill("input[name=email]", deployment.owner)
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-submit")
    expect(page).to_have_url(f"{deployment.url}/s/promo-x/keys")
    cookie = next(c for c in page.context.cookies() if c["name"] == "xt_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"


def test_spaces_lists_only_the_users_spaces(page: Page, deployment: Deployment) -> None:
    sign_in(page, deployment.owner)
    table = page.locator("#spaces-table")
    expect(table).to_contain_text("Promo X")
    expect(table).not_to_contain_text("Other Offer")
    shot(page, "spaces", docs=True)
    page.click("#logout")
    expect(page).to_have_url(f"{deployment.url}/login")
    page.goto("/spaces")
    expect(page).to_have_url(f"{deployment.url}/login?next=%2Fspaces")


def test_creating_a_space_shows_its_secrets_once(page: Page, deployment: Deployment) -> None:
    sign_in(page, deployment.owner)
    page.fill("#space-form input[name=name]", "Casino Z")
    page.fill("#space-form input[name=timezone]", "Mars/Olympus")
    page.click("#space-form button[type=submit]")
    expect(page.locator("#form-error")).to_have_text("unknown timezone 'Mars/Olympus'")
    page.fill("#space-form input[name=timezone]", "Asia/Kolkata")
    page.click("#space-form button[type=submit]")
    expect(page.locator("#space-created")).to_be_visible()
    expect(page.locator("#secret-bearer")).to_contain_text("xtb_")
    expect(page.locator("#secret-ingest")).to_contain_text("xti_")
    page.goto("/s/casino-z/keys")
    expect(page.locator("#new-secrets")).to_have_count(0)


def test_settings_lists_members_and_edits_the_space(page: Page, deployment: Deployment) -> None:
    sign_in(page, deployment.owner)
    page.goto(f"/s/{deployment.space}/settings")
    members = page.locator("#members-table")
    expect(members.locator(f'tr[data-email="{deployment.viewer}"]')).to_contain_text("viewer")
    page.fill("#member-form input[name=email]", "nobody@example.com")
    page.click("#member-add")
    expect(page.locator("#member-error")).to_have_text("no user 'nobody@example.com'")
    page.fill("#space-settings input[name=timezone]", "Mars/Base")
    page.click("#space-save")
    expect(page.locator("#form-error")).to_have_text("unknown timezone 'Mars/Base'")
    page.goto(f"/s/{deployment.space}/settings")
    shot(page, "settings", docs=True)
