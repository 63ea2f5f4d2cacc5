"""The real ``xtracker serve`` process, driven over HTTP as a user would."""

from __future__ import annotations

import asyncio
import http.client
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.processes import cli_json, serve, xt_env
from xtracker.config import Settings

pytestmark = pytest.mark.acceptance


@pytest.fixture
def server(settings: Settings, tmp_path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    env = xt_env(settings.database.sqlalchemy_url.replace("+aiosqlite", "").replace(
        "+asyncpg", ""), tmp_path)  # fmt: skip
    created = cli_json(env, "space", "create", "Promo X")
    assert isinstance(created, dict)
    cli_json(env, "link", "create", "--space", created["space"]["slug"], "--slug", "promo",
             "--kind", "web", "--target", "https://offer.example/?click_id={uid}",
             "--auto-redirect")  # fmt: skip
    with serve(env) as url:
        yield url, created


class TestServe:
    def test_a_first_run_migrates_and_serves_landings_and_ingress(
        self, server: tuple[str, dict[str, Any]]
    ) -> None:
        url, created = server
        landing = httpx.get(f"{url}/l/promo?fbclid=IwAR1", follow_redirects=False,
                            headers={"User-Agent": "Mozilla/5.0 (iPhone)"})  # fmt: skip
        assert landing.status_code == 302
        uid = landing.headers["location"].split("click_id=")[1]
        postback = (
            f"{url}/e?token={created['ingest_token']}&event=deposit&uid={uid}"
            "&value=25&currency=USD&eid=T-1"
        )
        statuses = [httpx.get(postback).json()["status"] for _ in range(3)]
        assert statuses == ["queued", "duplicate", "duplicate"]
        bind = httpx.post(f"{url}/bind", json={"uid": uid, "tg_id": 555123},
                          headers={"Authorization": f"Bearer {created['bearer']}"})  # fmt: skip
        assert bind.json() == {"ok": True, "matched": True}

    def test_hundred_identical_deposits_at_once_count_once(
        self, server: tuple[str, dict[str, Any]]
    ) -> None:
        url, created = server
        auth = {"Authorization": f"Bearer {created['bearer']}"}
        body = {"event": "deposit", "uid": "abc123", "value": "25.00", "eid": "tx-42"}

        async def fire() -> list[str]:
            async with httpx.AsyncClient(base_url=url, headers=auth,
                                         limits=httpx.Limits(max_connections=100)) as c:  # fmt: skip
                answers = await asyncio.gather(*(c.post("/events", json=body) for _ in range(100)))
            return [a.json()["status"] for a in answers]

        statuses = asyncio.run(fire())
        assert statuses.count("queued") == 1 and statuses.count("duplicate") == 99
        events = httpx.get(f"{url}/api/spaces/{created['space']['slug']}/events", headers=auth)
        assert [(e["event"], e["value"]) for e in events.json()] == [("deposit", "25.00")]

    def test_requests_on_one_kept_alive_connection_each_get_their_own_body(
        self, server: tuple[str, dict[str, Any]]
    ) -> None:
        # The ingress stops reading a body once its Content-Length has arrived; the
        # connection must still serve the next request, whatever its framing.
        url, created = server
        host, port = url.removeprefix("http://").split(":")
        auth = {"Authorization": f"Bearer {created['bearer']}", "Content-Type": "application/json"}

        def event(eid: str) -> bytes:
            return json.dumps({"event": "deposit", "uid": "ka1", "value": "5", "eid": eid}).encode()

        def slowly(body: bytes) -> Iterator[bytes]:  # the body in two packets, 50 ms apart
            yield body[:10]
            time.sleep(0.05)
            yield body[10:]

        connection = http.client.HTTPConnection(host, int(port), timeout=10)
        answers = []
        for body, headers, chunked in (
            (event("ka-1"), {"Content-Length": str(len(event("ka-1")))}, False),
            (iter([event("ka-2")]), {"Transfer-Encoding": "chunked"}, True),
            (slowly(event("ka-3")), {"Content-Length": str(len(event("ka-3")))}, False),
            (event("ka-1"), {"Content-Length": str(len(event("ka-1")))}, False),
        ):
            connection.request("POST", "/events", body=body, headers={**auth, **headers},
                               encode_chunked=chunked)  # fmt: skip
            response = connection.getresponse()
            answers.append((response.status, json.loads(response.read())["status"]))
        connection.request("POST", "/clicks", headers={**auth, "Content-Length": "0"})
        response = connection.getresponse()
        click = json.loads(response.read())
        connection.close()
        assert answers == [(200, "queued"), (200, "queued"), (200, "queued"), (200, "duplicate")]
        assert response.status == 200 and len(click["uid"]) == 26
        events = httpx.get(f"{url}/api/spaces/{created['space']['slug']}/events", headers=auth)
        assert sorted(e["eid"] for e in events.json()) == ["ka-1", "ka-2", "ka-3"]

    def test_bad_input_gets_the_documented_errors_and_writes_nothing(
        self, server: tuple[str, dict[str, Any]]
    ) -> None:
        url, created = server
        auth = {"Authorization": f"Bearer {created['bearer']}"}
        bad_token = httpx.post(f"{url}/events", json={"event": "contact", "uid": "u"},
                               headers={"Authorization": "Bearer xtb_wrong"})  # fmt: skip
        assert (bad_token.status_code, bad_token.json()["error"]["code"]) == (401, "invalid_token")
        bad_ingest = httpx.get(f"{url}/e?token=nope&event=contact&uid=u")
        assert bad_ingest.status_code == 401
        unknown = httpx.post(f"{url}/events", json={"event": "lead", "uid": "u"}, headers=auth)
        assert (unknown.status_code, unknown.json()["error"]["code"]) == (422, "unknown_event")
        big = httpx.post(f"{url}/events", content=b"{" + b" " * (1024 * 1024 + 10) + b"}",
                         headers={**auth, "Content-Type": "application/json"})  # fmt: skip
        assert (big.status_code, big.json()["error"]["code"]) == (413, "payload_too_large")
        not_json = httpx.post(f"{url}/events", content=b"{nope", headers=auth)
        assert not_json.status_code == 400
        events = httpx.get(f"{url}/api/spaces/{created['space']['slug']}/events", headers=auth)
        assert events.json() == []

    def test_openapi_lists_ingress_and_management(self, server: tuple[str, dict[str, Any]]) -> None:
        url, _ = server
        paths = httpx.get(f"{url}/openapi.json").json()["paths"]
        for path in ("/events", "/e", "/bind", "/clicks", "/l/{slug}",
                     "/api/spaces/{space}/links", "/api/spaces/{space}/events"):  # fmt: skip
            assert path in paths
