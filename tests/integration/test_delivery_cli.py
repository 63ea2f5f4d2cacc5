"""``xtracker destination …`` and ``xtracker deliveries …`` with ``--json``; the delivery loop
inside ``serve`` (the installer)."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from tests.conftest import SpaceKeys
from tests.support.delivery import add_destination, deliveries, fire
from tests.support.receivers import WebhookReceiver
from xtracker.cli.main import app
from xtracker.config import Settings
from xtracker.event.ingest import ingest_job
from xtracker.event.parse import parse_event
from xtracker.kit.clock import FrozenClock
from xtracker.runtime import Runtime
from xtracker.worker import tasks


@pytest.fixture
def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Any:
    url = settings.database.sqlalchemy_url.replace("+aiosqlite", "").replace("+asyncpg", "")
    monkeypatch.setenv("XTRACKER_DATABASE_URL", url)
    monkeypatch.setenv("XTRACKER_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("XTRACKER_SECRET_KEY", "cli-test")
    runner = CliRunner()

    def invoke(*args: str, ok: bool = True) -> Any:
        result = runner.invoke(app, list(args))
        if ok:
            assert result.exit_code == 0, result.output
            return json.loads(result.stdout) if "--json" in args else result.stdout
        return result

    return invoke


def fire_sync(space_id: str, event: dict[str, Any]) -> None:
    async def go() -> None:
        rt = await Runtime.open(Settings(), with_geo=False)
        try:
            now = rt.clock.now_ms()
            await rt.committer.run(ingest_job(space_id, [parse_event(event, now_ms=now)], now))
        finally:
            await rt.close()

    asyncio.run(go())


class TestDestinationCli:
    def test_add_webhook_prints_it_with_the_secret_shown_once(self, cli: Any) -> None:
        space = cli("space", "create", "Promo X", "--json")["space"]["slug"]
        made = cli("destination", "add", "--space", space, "--kind", "webhook",
                   "--url", "https://hooks.example.com/x", "--header", "X-Api-Key: k1",
                   "--proxy", "http://proxy.example.com:3128", "--json")  # fmt: skip
        assert made["secret"].startswith("whsec_") and made["headers"] == ["X-Api-Key"]
        assert made["proxy_url"] == "http://proxy.example.com:3128"
        [listed] = cli("destination", "list", "--space", space, "--json")
        assert listed["id"] == made["id"] and "secret" not in listed

    def test_add_s2s_and_fb_capi_with_maps(self, cli: Any) -> None:
        space = cli("space", "create", "Promo X", "--json")["space"]["slug"]
        s2s = cli("destination", "add", "--space", space, "--kind", "s2s_postback",
                  "--url-template", "https://aff.example.com/pb?c={uid}&g={event}",
                  "--method", "POST", "--expected-status", "202", "--expected-body", "OK",
                  "--map", "deposit=conv", "--map", "subscribed=lead", "--map", "contact=",
                  "--json")  # fmt: skip
        assert s2s["event_map"] == {"subscribed": "lead", "registration": "registration",
                                    "deposit": "conv"}  # fmt: skip
        assert s2s["config"] == {"url_template": "https://aff.example.com/pb?c={uid}&g={event}",
                                 "method": "POST", "expected_status": 202,
                                 "expected_body": "OK"}  # fmt: skip
        meta = cli("destination", "add", "--space", space, "--kind", "fb_capi",
                   "--pixel-id", "123456789", "--access-token", "EAAB", "--test-event-code",
                   "T1", "--action-source", "chat", "--json")  # fmt: skip
        assert meta["config"]["action_source"] == "chat" and meta["has_access_token"]
        edited = cli("destination", "edit", meta["id"], "--space", space, "--map", "contact=",
                     "--paused", "--json")  # fmt: skip
        assert "contact" not in edited["event_map"] and edited["active"] is False

    def test_an_unknown_macro_is_refused_naming_it(self, cli: Any) -> None:
        space = cli("space", "create", "Promo X", "--json")["space"]["slug"]
        result = cli("destination", "add", "--space", space, "--kind", "s2s_postback",
                     "--url-template", "https://a.example.com/?c={click}", "--json", ok=False)  # fmt: skip
        assert result.exit_code == 1
        error = json.loads(result.stderr)["error"]
        assert error["code"] == "unknown_macro" and "{click}" in error["message"]

    def test_remove_then_list_and_replay_deliveries(self, cli: Any) -> None:
        created = cli("space", "create", "Promo X", "--json")["space"]
        made = cli("destination", "add", "--space", created["slug"], "--kind", "webhook",
                   "--url", "https://hooks.example.com/x", "--json")  # fmt: skip
        fire_sync(created["id"], {"event": "contact", "uid": "u1"})
        [pending] = cli("deliveries", "list", "--space", created["slug"], "--json")
        assert pending["status"] == "pending" and pending["event"] == "contact"
        assert cli("destination", "remove", made["id"], "--space", created["slug"], "--json") == {
            "ok": True, "removed": made["id"]}  # fmt: skip
        [failed] = cli("deliveries", "list", "--space", created["slug"], "--status",
                       "failed_permanently", "--json")  # fmt: skip
        assert failed["last_error"] == "destination removed"
        shown = cli("deliveries", "show", failed["id"], "--json")
        assert shown["event_id"] == pending["event_id"] and shown["attempt_log"] == []
        replayed = cli("deliveries", "replay", failed["id"], "--json")
        assert replayed["status"] == "pending" and replayed["event_id"] == pending["event_id"]
        again = cli("deliveries", "replay", failed["id"], "--json", ok=False)
        assert json.loads(again.stderr)["error"]["code"] == "conflict"


class TestWorkerInServe:
    async def test_the_serve_role_delivers_new_events_within_a_second(
        self, http: httpx.AsyncClient, space: SpaceKeys, runtime: Runtime, clock: FrozenClock
    ) -> None:
        clock.set(int(time.time() * 1000))
        receiver = await WebhookReceiver().start()
        try:
            made = await add_destination(http, space, kind="webhook", url=receiver.url + "/h")
            receiver.secret = made["secret"]
            await tasks.install(runtime, "serve")
            assert "delivery_worker" in runtime.extras
            await fire(http, space, event="subscribed", uid="u1")
            deadline = time.monotonic() + 1.0
            while not receiver.accepted:
                assert time.monotonic() < deadline, "not delivered within a second"
                await asyncio.sleep(0.02)
            while (await deliveries(http, space))[0]["status"] != "sent":
                assert time.monotonic() < deadline + 1
                await asyncio.sleep(0.02)
        finally:
            await runtime.close()  # stops the loop
            await receiver.stop()

    async def test_serve_leaves_delivery_to_workers_when_told(self, runtime: Runtime) -> None:
        runtime.settings.run_worker_in_serve = False
        await tasks.install(runtime, "serve")
        assert runtime.tasks == [] and "delivery_worker" not in runtime.extras
