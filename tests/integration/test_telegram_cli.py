"""``xtracker telegram …``: connect, channels, channel links, drip, polling and stats."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.support.fake_telegram import FakeTelegram, threaded
from tests.support.tg import CHANNEL_ID, TOKEN, fake_for
from xtracker.cli.main import app
from xtracker.config import Settings
from xtracker.link.service import KIND_HOOKS, SUPPORTED_KINDS


@pytest.fixture
def tg(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeTelegram]:
    with threaded(fake_for()) as fake:
        env = {
            "XTRACKER_DATABASE_URL": settings.database_url or "",
            "XTRACKER_DATA_DIR": str(settings.data_dir),
            "XTRACKER_SECRET_KEY": "cli-test-secret",
            "XTRACKER_TELEGRAM_API_URL": fake.url,
            "XTRACKER_TELEGRAM_REFILL_PAUSE_MS": "0",
        }
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        try:
            yield fake
        finally:
            SUPPORTED_KINDS.discard("channel")
            KIND_HOOKS.pop("channel", None)


def xt(*args: str) -> Any:
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_a_channel_funnel_is_set_up_and_read_from_the_command_line(tg: FakeTelegram) -> None:
    space = xt("space", "create", "Promo X", "--slug", "promo-x")["space"]["slug"]
    bot = xt("telegram", "connect", "--space", space, "--token", TOKEN)
    assert (bot["username"], bot["mode"]) == ("promo_funnel_bot", "polling")
    channels = xt("telegram", "channels", "--space", space, "--add", "@promo_channel")
    assert [(c["chat_id"], c["title"]) for c in channels] == [(CHANNEL_ID, "Promo signals")]
    made = xt("telegram", "link", "create", "--space", space, "--slug", "promo",
              "--channel", str(CHANNEL_ID), "--pool-depth", "3", "--no-auto-approve")  # fmt: skip
    assert made["link"]["kind"] == "channel" and made["link"]["url"].endswith("/l/promo")
    pools = xt("telegram", "link", "list", "--space", space)
    assert pools == [{"slug": "promo", "chat_id": CHANNEL_ID, "auto_approve": False,
                      "pool_depth": 3, "available": 3, "taken": 0, "used": 0}]  # fmt: skip
    drip = xt("telegram", "drip", "set", "--space", space, "--slug", "promo",
              "--step", "0|Welcome!|Open the bot|https://t.me/promo_funnel_bot?start=hi",
              "--step", "90|Today's signal is pinned")  # fmt: skip
    assert [s["delay_s"] for s in drip["steps"]] == [0, 90]
    assert xt("telegram", "drip", "show", "--space", space, "--slug", "promo") == drip

    tg.join_request(TOKEN, CHANNEL_ID, 777, None)  # through the public username: organic
    tg.member_update(TOKEN, CHANNEL_ID, 778, "left", "member")
    assert xt("telegram", "poll", "--space", space, "--once") == {"updates": 2, "actions": 0}
    assert xt("telegram", "poll", "--space", space, "--once") == {"updates": 0, "actions": 0}

    [channel] = xt("telegram", "stats", "--space", space, "--hours", "2")
    assert channel["chat_id"] == CHANNEL_ID and len(channel["points"]) == 2
    now = channel["points"][-1]
    assert (now["join_requests"], now["organic"], now["joins"], now["leaves"]) == (1, 1, 1, 0)


def test_a_bad_drip_step_is_refused_with_the_error_shape(tg: FakeTelegram) -> None:
    space = xt("space", "create", "Promo Y", "--slug", "promo-y")["space"]["slug"]
    xt("telegram", "connect", "--space", space, "--token", TOKEN)
    xt("telegram", "link", "create", "--space", space, "--slug", "promo", "--channel",
       "@promo_channel", "--pool-depth", "0")  # fmt: skip
    result = CliRunner().invoke(app, ["telegram", "drip", "set", "--space", space, "--slug",
                                      "promo", "--step", "600|too late"])  # fmt: skip
    assert result.exit_code == 1
    assert json.loads(result.stderr)["error"]["field"] == "steps.0.delay_s"
