"""Users, sessions, CSRF and membership isolation (SQLite and PostgreSQL)."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import SpaceKeys, make_space
from tests.integration.dashboard_support import PASSWORD, csrf_from, make_user, sign_in
from xtracker.app import XTrackerApp
from xtracker.config import Settings
from xtracker.db.engine import session_scope
from xtracker.db.models import LoginFailure, WebSession
from xtracker.kit.clock import FrozenClock
from xtracker.runtime import Runtime
from xtracker.user import access
from xtracker.user.service import user_service


@pytest.fixture(autouse=True)
async def sessions_on(runtime: Runtime) -> None:
    await access.install(runtime, "serve")


@pytest.fixture
async def browser(app: XTrackerApp) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.20", 52000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


class TestPasswords:
    async def test_password_is_stored_as_argon2_hash(self, runtime: Runtime) -> None:
        await make_user(runtime, "ann@example.com")
        async with session_scope(runtime.sessions) as session:
            user = await user_service.get_by_email(session, "ANN@example.com")
        assert user.password_hash.startswith("$argon2id$")
        assert PASSWORD not in user.password_hash

    async def test_short_password_is_refused(self, runtime: Runtime) -> None:
        from xtracker.user.errors import WeakPassword

        with pytest.raises(WeakPassword):
            async with session_scope(runtime.sessions) as session:
                await user_service.create(session, "bob@example.com", "short", 0)

    async def test_duplicate_email_is_refused(self, runtime: Runtime) -> None:
        from xtracker.user.errors import EmailTaken

        await make_user(runtime, "ann@example.com")
        with pytest.raises(EmailTaken):
            async with session_scope(runtime.sessions) as session:
                await user_service.create(session, "Ann@Example.com", PASSWORD, 0)


class TestLogin:
    async def test_login_sets_a_secure_httponly_lax_cookie_stored_hashed(
        self, runtime: Runtime, http: httpx.AsyncClient
    ) -> None:
        await make_user(runtime, "ann@example.com")
        form = await http.get("/login")
        answer = await http.post("/login", data={
            "email": "ann@example.com", "password": PASSWORD, "csrf": csrf_from(form.text),
        })  # fmt: skip
        assert answer.status_code == 303
        cookie = next(
            v for k, v in answer.headers.multi_items()
            if k == "set-cookie" and v.startswith("xt_session=")
        )  # fmt: skip
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie
        token = cookie.split(";")[0].split("=", 1)[1]
        async with session_scope(runtime.sessions) as session:
            rows = (await session.execute(WebSession.__table__.select())).all()
        assert len(rows) == 1 and token not in str(rows[0])

    async def test_cookie_is_secure_when_public_url_is_https(
        self, runtime: Runtime, http: httpx.AsyncClient
    ) -> None:
        runtime.settings.public_url = "https://track.example.com"
        await make_user(runtime, "ann@example.com")
        form = await http.get("/login")
        answer = await http.post("/login", data={
            "email": "ann@example.com", "password": PASSWORD, "csrf": csrf_from(form.text),
        })  # fmt: skip
        assert "Secure" in answer.headers["set-cookie"]

    async def test_wrong_password_shows_the_form_again(
        self, runtime: Runtime, http: httpx.AsyncClient
    ) -> None:
        await make_user(runtime, "ann@example.com")
        form = await http.get("/login")
        answer = await http.post("/login", data={
            "email": "ann@example.com", "password": "wrong password", "csrf": csrf_from(form.text),
        })  # fmt: skip
        assert answer.status_code == 401
        assert "Wrong email or password." in answer.text
        assert "xt_session" not in http.cookies

    async def test_login_without_csrf_is_refused(
        self, runtime: Runtime, http: httpx.AsyncClient
    ) -> None:
        await make_user(runtime, "ann@example.com")
        await http.get("/login")
        answer = await http.post(
            "/login", data={"email": "ann@example.com", "password": PASSWORD, "csrf": "forged"}
        )
        assert answer.status_code == 403
        assert "xt_session" not in http.cookies

    async def test_pages_redirect_to_login_when_signed_out(self, http: httpx.AsyncClient) -> None:
        answer = await http.get("/spaces")
        assert answer.status_code == 303
        assert answer.headers["location"] == "/login?next=%2Fspaces"

    async def test_logout_ends_the_session_server_side(
        self, runtime: Runtime, http: httpx.AsyncClient
    ) -> None:
        await make_user(runtime, "ann@example.com")
        csrf = await sign_in(http, "ann@example.com")
        token = http.cookies["xt_session"]
        answer = await http.post("/logout", data={"csrf": csrf})
        assert answer.status_code == 303
        http.cookies.set("xt_session", token)  # a stolen copy of the cookie no longer works
        assert (await http.get("/spaces")).status_code == 303

    async def test_logout_without_csrf_is_refused(
        self, runtime: Runtime, http: httpx.AsyncClient
    ) -> None:
        await make_user(runtime, "ann@example.com")
        await sign_in(http, "ann@example.com")
        assert (await http.post("/logout", data={"csrf": "nope"})).status_code == 403
        assert (await http.get("/spaces")).status_code == 200


async def _attempt(http: httpx.AsyncClient, password: str) -> httpx.Response:
    form = await http.get("/login")
    return await http.post("/login", data={
        "email": "ann@example.com", "password": password, "csrf": csrf_from(form.text),
    })  # fmt: skip


async def _failure_rows(runtime: Runtime) -> list[tuple[str, str, int]]:
    async with session_scope(runtime.sessions) as session:
        rows = (await session.execute(LoginFailure.__table__.select())).all()
    return [tuple(row) for row in rows]


class TestThrottle:
    async def test_ten_wrong_passwords_make_the_email_wait_then_it_works_again(
        self, runtime: Runtime, http: httpx.AsyncClient, clock: FrozenClock
    ) -> None:
        await make_user(runtime, "ann@example.com")
        for _ in range(10):
            assert (await _attempt(http, "wrong password")).status_code == 401
        locked = await _attempt(http, PASSWORD)  # even the right password waits
        assert locked.status_code == 429 and "too many failed sign-ins" in locked.text
        assert int(locked.headers["retry-after"]) > 0
        assert "xt_session" not in http.cookies
        clock.advance(15 * 60 * 1000)
        assert (await _attempt(http, PASSWORD)).status_code == 303

    async def test_every_server_process_counts_the_same_failures(
        self, settings: Settings, runtime: Runtime, http: httpx.AsyncClient, clock: FrozenClock
    ) -> None:
        """Two runtimes on one database are two ``serve`` workers: guesses spread over both
        still add up to the one limit."""
        await make_user(runtime, "ann@example.com")
        other = await Runtime.open(settings, clock=clock)
        try:
            await access.install(other, "serve")
            transport = httpx.ASGITransport(
                app=XTrackerApp(settings, runtime=other), client=("203.0.113.9", 51001)
            )
            async with httpx.AsyncClient(
                transport=transport, base_url="http://testserver"
            ) as other_http:
                for client in (http, other_http) * 5:
                    assert (await _attempt(client, "wrong password")).status_code == 401
                assert (await _attempt(other_http, PASSWORD)).status_code == 429
                assert (await _attempt(http, PASSWORD)).status_code == 429
        finally:
            await other.close()

    async def test_what_is_counted_is_stored_keyed_never_as_typed_and_old_rows_go(
        self, runtime: Runtime, http: httpx.AsyncClient, clock: FrozenClock
    ) -> None:
        await make_user(runtime, "ann@example.com")
        assert (await _attempt(http, "wrong password")).status_code == 401
        rows = await _failure_rows(runtime)
        assert len(rows) == 2  # one for the email, one for the client address
        assert "ann@example.com" not in str(rows) and "203.0.113.9" not in str(rows)
        clock.advance(15 * 60 * 1000)
        assert (await _attempt(http, "wrong password")).status_code == 401
        rows_now = await _failure_rows(runtime)
        assert len(rows_now) == 2 and {r[0] for r in rows_now}.isdisjoint(r[0] for r in rows)

    async def test_signing_in_forgives_the_email_but_not_the_address(
        self, runtime: Runtime, http: httpx.AsyncClient
    ) -> None:
        await make_user(runtime, "ann@example.com")
        for _ in range(9):
            assert (await _attempt(http, "wrong password")).status_code == 401
        assert (await _attempt(http, PASSWORD)).status_code == 303
        assert len(await _failure_rows(runtime)) == 9  # the address's nine stay counted
        http.cookies.clear()
        for _ in range(10):  # the email starts again from nothing: ten more before the wait
            assert (await _attempt(http, "wrong password")).status_code == 401
        assert (await _attempt(http, PASSWORD)).status_code == 429


class TestMembership:
    async def test_non_member_gets_404_on_every_url_of_the_space(
        self, runtime: Runtime, http: httpx.AsyncClient, space: SpaceKeys
    ) -> None:
        await make_user(runtime, "eve@example.com")
        csrf = await sign_in(http, "eve@example.com")
        for path in (f"/s/{space.slug}", f"/s/{space.slug}/links", f"/s/{space.slug}/keys",
                     f"/s/{space.id}/keys", f"/s/{space.slug}/destinations",
                     f"/api/spaces/{space.slug}", f"/api/spaces/{space.slug}/links"):  # fmt: skip
            answer = await http.get(path)
            assert answer.status_code == 404, path
            assert space.slug not in answer.text.replace(f"'{space.slug}'", "") or path
        rotate = await http.post(
            f"/s/{space.slug}/keys/rotate", data={"csrf": csrf, "kind": "bearer"}
        )
        assert rotate.status_code == 404
        api = await http.post(f"/api/spaces/{space.slug}/keys/rotate", json={"kind": "bearer"},
                              headers={"X-CSRF-Token": csrf})  # fmt: skip
        assert api.status_code == 404
        assert space.slug not in (await http.get("/spaces")).text

    async def test_viewer_sees_but_cannot_change(
        self, runtime: Runtime, http: httpx.AsyncClient, space: SpaceKeys
    ) -> None:
        await make_user(runtime, "val@example.com", space=space.slug, role="viewer")
        csrf = await sign_in(http, "val@example.com")
        assert (await http.get(f"/s/{space.slug}/keys")).status_code == 200
        links = await http.get(f"/s/{space.slug}/links")
        assert links.status_code == 200 and 'id="link-form"' not in links.text
        rotate = await http.post(
            f"/s/{space.slug}/keys/rotate", data={"csrf": csrf, "kind": "bearer"}
        )
        assert rotate.status_code == 403
        created = await http.post(f"/s/{space.slug}/links", data={
            "csrf": csrf, "slug": "v1", "kind": "web", "target_url": "https://x.example/{uid}",
        })  # fmt: skip
        assert created.status_code == 403
        api = await http.post(f"/api/spaces/{space.slug}/links",
                              json={"slug": "v2", "kind": "web", "target_url": "https://x.example/"},
                              headers={"X-CSRF-Token": csrf})  # fmt: skip
        assert api.status_code == 403
        assert api.json()["error"]["code"] == "forbidden"

    async def test_session_reads_the_api_but_writes_only_with_csrf_header(
        self, runtime: Runtime, http: httpx.AsyncClient, space: SpaceKeys
    ) -> None:
        await make_user(runtime, "own@example.com", space=space.slug)
        csrf = await sign_in(http, "own@example.com")
        assert (await http.get(f"/api/spaces/{space.slug}")).json()["slug"] == space.slug
        body = {"slug": "s1", "kind": "web", "target_url": "https://x.example/?c={uid}"}
        refused = await http.post(f"/api/spaces/{space.slug}/links", json=body)
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "csrf_failed"
        made = await http.post(
            f"/api/spaces/{space.slug}/links", json=body, headers={"X-CSRF-Token": csrf}
        )
        assert made.status_code == 201

    async def test_signed_in_user_creates_a_space_and_owns_it(
        self, runtime: Runtime, http: httpx.AsyncClient
    ) -> None:
        await make_user(runtime, "own@example.com")
        csrf = await sign_in(http, "own@example.com")
        made = await http.post("/api/spaces", json={"name": "Offer Y"},
                               headers={"X-CSRF-Token": csrf})  # fmt: skip
        assert made.status_code == 201
        body = made.json()
        assert body["bearer"].startswith("xtb_") and body["ingest_token"].startswith("xti_")
        mine = (await http.get("/api/spaces")).json()
        assert [(m["space"]["slug"], m["role"]) for m in mine] == [("offer-y", "owner")]

    async def test_creating_a_space_needs_a_session_and_csrf(
        self, runtime: Runtime, http: httpx.AsyncClient, space: SpaceKeys
    ) -> None:
        anonymous = await http.post("/api/spaces", json={"name": "X"}, headers=space.auth)
        assert anonymous.status_code == 401
        await make_user(runtime, "own@example.com")
        await sign_in(http, "own@example.com")
        assert (await http.post("/api/spaces", json={"name": "X"})).status_code == 403

    async def test_two_users_see_only_their_own_spaces(
        self, runtime: Runtime, http: httpx.AsyncClient, browser: httpx.AsyncClient
    ) -> None:
        a = await make_space(runtime, "Alpha")
        b = await make_space(runtime, "Beta")
        await make_user(runtime, "a@example.com", space=a.slug)
        await make_user(runtime, "b@example.com", space=b.slug)
        await sign_in(http, "a@example.com")
        await sign_in(browser, "b@example.com")
        page_a = (await http.get("/spaces")).text
        page_b = (await browser.get("/spaces")).text
        assert "Alpha" in page_a and "Beta" not in page_a
        assert "Beta" in page_b and "Alpha" not in page_b
        assert (await http.get(f"/s/{b.slug}/links")).status_code == 404
        assert (await browser.get(f"/api/spaces/{a.slug}/links")).status_code == 404
        await browser.aclose()


class TestMembers:
    async def test_owner_adds_a_viewer_changes_the_role_and_removes_them(
        self, runtime: Runtime, http: httpx.AsyncClient, space: SpaceKeys
    ) -> None:
        await make_user(runtime, "own@example.com", space=space.slug)
        await make_user(runtime, "val@example.com")
        base = f"/api/spaces/{space.slug}/members"
        added = await http.put(base, json={"email": "val@example.com", "role": "viewer"},
                               headers=space.auth)  # fmt: skip
        assert [(m["email"], m["role"]) for m in added.json()] == [
            ("own@example.com", "owner"), ("val@example.com", "viewer"),
        ]  # fmt: skip
        await http.put(base, json={"email": "val@example.com", "role": "owner"}, headers=space.auth)
        gone = await http.delete(f"{base}/own@example.com", headers=space.auth)
        assert gone.status_code == 204
        left = (await http.get(base, headers=space.auth)).json()
        assert [(m["email"], m["role"]) for m in left] == [("val@example.com", "owner")]

    async def test_the_last_owner_cannot_leave_or_be_demoted(
        self, runtime: Runtime, http: httpx.AsyncClient, space: SpaceKeys
    ) -> None:
        await make_user(runtime, "own@example.com", space=space.slug)
        base = f"/api/spaces/{space.slug}/members"
        demote = await http.put(base, json={"email": "own@example.com", "role": "viewer"},
                                headers=space.auth)  # fmt: skip
        assert demote.status_code == 409 and demote.json()["error"]["code"] == "last_owner"
        leave = await http.delete(f"{base}/own@example.com", headers=space.auth)
        assert leave.status_code == 409

    async def test_members_page_uses_the_same_rules(
        self, runtime: Runtime, http: httpx.AsyncClient, space: SpaceKeys
    ) -> None:
        await make_user(runtime, "own@example.com", space=space.slug)
        await make_user(runtime, "val@example.com")
        csrf = await sign_in(http, "own@example.com")
        page = f"/s/{space.slug}/members"
        missing = await http.post(
            page, data={"csrf": csrf, "email": "x@example.com", "role": "viewer"}
        )
        assert missing.status_code == 404 and "no user" in missing.text
        added = await http.post(
            page, data={"csrf": csrf, "email": "val@example.com", "role": "viewer"}
        )
        assert added.status_code == 303
        assert 'data-email="val@example.com"' in (await http.get(f"/s/{space.slug}/settings")).text
        last = await http.post(page, data={"csrf": csrf, "email": "own@example.com", "remove": "1"})
        assert last.status_code == 409 and 'data-code="last_owner"' in last.text
        edited = await http.post(f"/s/{space.slug}/settings",
                                 data={"csrf": csrf, "name": "Promo Y", "timezone": "Nowhere/X"})  # fmt: skip
        assert edited.status_code == 422 and "unknown timezone" in edited.text

    async def test_a_viewer_cannot_manage_members(
        self, runtime: Runtime, http: httpx.AsyncClient, space: SpaceKeys
    ) -> None:
        await make_user(runtime, "val@example.com", space=space.slug, role="viewer")
        csrf = await sign_in(http, "val@example.com")
        answer = await http.put(f"/api/spaces/{space.slug}/members",
                                json={"email": "val@example.com", "role": "owner"},
                                headers={"X-CSRF-Token": csrf})  # fmt: skip
        assert answer.status_code == 403
        page = await http.post(f"/s/{space.slug}/members",
                               data={"csrf": csrf, "email": "val@example.com", "role": "owner"})  # fmt: skip
        assert page.status_code == 403
