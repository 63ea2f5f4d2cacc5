"""The ``xtracker`` commands with ``--json``, on the configured database."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from xtracker.cli.main import app
from xtracker.config import Settings


@pytest.fixture
def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Any:
    url = settings.database.sqlalchemy_url.replace("+aiosqlite", "").replace("+asyncpg", "")
    monkeypatch.setenv("XTRACKER_DATABASE_URL", url)
    monkeypatch.setenv("XTRACKER_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("XTRACKER_SECRET_KEY", "cli-test")
    monkeypatch.setenv("XTRACKER_PUBLIC_URL", "https://t.example")
    runner = CliRunner()

    def invoke(*args: str, ok: bool = True) -> Any:
        result = runner.invoke(app, list(args))
        if ok:
            assert result.exit_code == 0, result.output
            return json.loads(result.stdout) if "--json" in args else result.stdout
        return result

    return invoke


class TestCli:
    def test_space_create_prints_the_documented_json(self, cli: Any) -> None:
        out = cli("space", "create", "Promo X", "--json")
        assert set(out) == {"space", "bearer", "ingest_token"}
        assert set(out["space"]) == {"id", "slug", "name"}
        assert out["space"]["slug"] == "promo-x" and out["bearer"].startswith("xtb_")

    def test_link_create_prints_the_link_with_its_landing_url(self, cli: Any) -> None:
        space = cli("space", "create", "Promo X", "--json")["space"]["slug"]
        link = cli("link", "create", "--space", space, "--slug", "s1", "--kind", "web",
                   "--target", "https://offer.example/?c={uid}", "--json")  # fmt: skip
        assert link["url"] == "https://t.example/l/s1" and link["kind"] == "web"
        listed = cli("link", "list", "--space", space, "--json")
        assert [x["slug"] for x in listed] == ["s1"]

    def test_refused_link_prints_the_error_shape_and_fails(self, cli: Any) -> None:
        space = cli("space", "create", "Promo X", "--json")["space"]["slug"]
        result = cli("link", "create", "--space", space, "--slug", "s1", "--kind", "web",
                     "--target", "https://o.example/?c={nope}", "--json", ok=False)  # fmt: skip
        assert result.exit_code == 1
        assert json.loads(result.stderr)["error"]["code"] == "unknown_macro"

    def test_key_rotate_events_and_clicks_list(self, cli: Any) -> None:
        space = cli("space", "create", "Promo X", "--json")["space"]["slug"]
        rotated = cli("key", "rotate", "--space", space, "--kind", "ingest", "--json")
        assert rotated["secret"].startswith("xti_") and rotated["kind"] == "ingest"
        assert cli("events", "list", "--space", space, "--json") == []
        assert cli("clicks", "list", "--space", space, "--json") == []
        assert "Promo X" in cli("space", "list")


class TestCliChannelLinks:
    def test_channel_link_through_the_core_command_asks_for_its_channel(self, cli: Any) -> None:
        space = cli("space", "create", "Promo X", "--json")["space"]["slug"]
        result = cli("link", "create", "--space", space, "--slug", "ch", "--kind", "channel",
                     "--json", ok=False)  # fmt: skip
        assert result.exit_code == 1
        error = json.loads(result.stderr)["error"]
        assert "Telegram channel funnel set up" not in error["message"]
