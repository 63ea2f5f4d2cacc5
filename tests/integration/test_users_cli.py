"""``xtracker user``: create (password from stdin), grant, revoke, password, list."""

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
    runner = CliRunner()

    def invoke(*args: str, stdin: str | None = None, ok: bool = True) -> Any:
        result = runner.invoke(app, list(args), input=stdin)
        if ok:
            assert result.exit_code == 0, result.output
            return json.loads(result.stdout) if "--json" in args else result.stdout
        return result

    return invoke


class TestUserCli:
    def test_create_with_a_space_then_list(self, cli: Any) -> None:
        cli("space", "create", "Promo X", "--json")
        made = cli("user", "create", "Ann@Example.com", "--password-stdin", "--space", "promo-x",
                   "--role", "viewer", "--json", stdin="a long password\n")  # fmt: skip
        assert made["email"] == "ann@example.com" and made["role"] == "viewer"
        listed = cli("user", "list", "--json")
        assert listed[0]["spaces"] == [{"slug": "promo-x", "role": "viewer"}]

    def test_grant_changes_the_role_and_revoke_removes_it(self, cli: Any) -> None:
        cli("space", "create", "Promo X", "--json")
        cli("user", "create", "ann@example.com", "--password-stdin", "--json",
            stdin="a long password\n")  # fmt: skip
        assert cli("user", "grant", "ann@example.com", "promo-x", "--json")["role"] == "owner"
        cli("user", "grant", "ann@example.com", "promo-x", "--role", "viewer", "--json")
        assert cli("user", "list", "--json")[0]["spaces"] == [{"slug": "promo-x", "role": "viewer"}]
        assert cli("user", "revoke", "ann@example.com", "promo-x", "--json")["removed"] is True
        assert cli("user", "list", "--json")[0]["spaces"] == []

    def test_refusals_print_the_error_shape(self, cli: Any) -> None:
        weak = cli("user", "create", "a@example.com", "--password-stdin", "--json",
                   stdin="short\n", ok=False)  # fmt: skip
        assert weak.exit_code == 1
        assert json.loads(weak.stderr)["error"]["code"] == "weak_password"
        bad_role = cli("user", "create", "a@example.com", "--password-stdin", "--space", "nope",
                       "--json", stdin="a long password\n", ok=False)  # fmt: skip
        assert json.loads(bad_role.stderr)["error"]["code"] == "not_found"
        cli("space", "create", "Promo X", "--json")
        cli(
            "user", "create", "a@example.com", "--password-stdin", "--json", stdin="long enough 1\n"
        )
        role = cli("user", "grant", "a@example.com", "promo-x", "--role", "admin", "--json",
                   ok=False)  # fmt: skip
        assert json.loads(role.stderr)["error"]["field"] == "role"

    def test_password_change_signs_the_user_out(self, cli: Any) -> None:
        cli(
            "user", "create", "a@example.com", "--password-stdin", "--json", stdin="long enough 1\n"
        )
        out = cli("user", "password", "a@example.com", "--password-stdin", "--json",
                  stdin="long enough 2\n")  # fmt: skip
        assert out == {"email": "a@example.com", "password_changed": True}
