"""``xtracker alert``: monitoring rules, the alerts in force, notification channels."""

from __future__ import annotations

from datetime import UTC, datetime

import typer

from xtracker.alert import schemas
from xtracker.alert.service import alert_service
from xtracker.cli.common import (
    JSON_OPTION,
    console,
    emit_json,
    emit_table,
    run,
    runtime,
    space_id_for,
)
from xtracker.db.engine import session_scope
from xtracker.errors import ValidationFailed
from xtracker.space.service import space_service

alert_app = typer.Typer(help="Real-time monitoring: rules, alerts, channels.", no_args_is_help=True)
SPACE_OPTION = typer.Option(..., "--space", help="Space slug or id.")


def _time(ms: int | None) -> str:
    return "" if ms is None else datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M")


def _value(text: str) -> int | float | bool:
    lowered = text.strip().lower()
    if lowered in ("true", "on", "yes"):
        return True
    if lowered in ("false", "off", "no"):
        return False
    try:
        return int(lowered)
    except ValueError:
        pass
    try:
        return float(lowered)
    except ValueError:
        raise ValidationFailed(f"{text!r} is not a number or true/false") from None


@alert_app.command("rules")
def alert_rules(space: str = SPACE_OPTION, as_json: bool = JSON_OPTION) -> None:
    """The space's rules, on or off, with the thresholds in force."""

    async def body() -> list[schemas.Rule]:
        async with runtime() as rt:
            space_id = await space_id_for(rt, space)
            async with session_scope(rt.sessions) as session:
                return await alert_service.rules(session, space_id)

    out = run(body)
    if as_json:
        emit_json(out)
        return
    emit_table(
        "Alert rules",
        ["rule", "on", "thresholds", "what it watches"],
        [[r.kind, "yes" if r.enabled else "no",
          ", ".join(f"{k}={v}" for k, v in r.params.items()), r.description] for r in out],
    )  # fmt: skip


@alert_app.command("edit")
def alert_edit(
    kind: str,
    space: str = SPACE_OPTION,
    enable: bool | None = typer.Option(None, "--enable/--disable", help="Turn the rule on/off."),
    set_: list[str] = typer.Option([], "--set", help="A threshold, e.g. --set min_clicks=300."),
    reset: bool = typer.Option(False, "--reset", help="Back to the defaults first."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Turn a rule on or off and change its thresholds."""

    async def body() -> schemas.Rule:
        params = {}
        for item in set_:
            key, sep, value = item.partition("=")
            if not sep:
                raise ValidationFailed(f"--set needs key=value, got {item!r}", field="set")
            params[key.strip()] = _value(value)
        data = schemas.RuleUpdate(enabled=enable, params=params or None, reset=reset)
        async with runtime() as rt:
            space_id = await space_id_for(rt, space)
            async with session_scope(rt.sessions) as session:
                return await alert_service.update_rule(
                    session, space_id, kind, data, rt.clock.now_ms()
                )

    out = run(body)
    if as_json:
        emit_json(out)
        return
    state = "on" if out.enabled else "off"
    console.print(
        f"[bold]{out.kind}[/] is {state}: " + ", ".join(f"{k}={v}" for k, v in out.params.items())
    )


@alert_app.command("list")
def alert_list(
    space: str = SPACE_OPTION,
    history: int = typer.Option(20, help="How many resolved alerts to show."),
    as_json: bool = JSON_OPTION,
) -> None:
    """What is firing now, what is about to, and what was resolved recently."""

    async def body() -> schemas.AlertList:
        async with runtime() as rt, session_scope(rt.sessions) as session:
            found = await space_service.get(session, space)
            return await alert_service.overview(session, found, rt.settings.public_url, history)

    out = run(body)
    if as_json:
        emit_json(out)
        return
    rows = [[a.state, a.title, f"{a.object.kind} {a.object.name}", a.summary,
             _time(a.fired_at_ms or a.started_at_ms), _time(a.resolved_at_ms)]
            for a in [*out.firing, *out.pending, *out.history]]  # fmt: skip
    if not rows:
        console.print("[green]All quiet: nothing is firing.[/]")
        return
    emit_table("Alerts", ["state", "rule", "object", "summary", "since", "resolved"], rows)


@alert_app.command("channels")
def alert_channels(space: str = SPACE_OPTION, as_json: bool = JSON_OPTION) -> None:
    """Where the space's alerts go."""

    async def body() -> list[schemas.Channel]:
        async with runtime() as rt:
            space_id = await space_id_for(rt, space)
            async with session_scope(rt.sessions) as session:
                return await alert_service.channels(session, space_id)

    out = run(body)
    if as_json:
        emit_json(out)
        return
    emit_table("Alert channels", ["id", "kind", "name", "target"],
               [[c.id, c.kind, c.name, c.url or c.chat_id] for c in out])  # fmt: skip


@alert_app.command("channel-add")
def alert_channel_add(
    space: str = SPACE_OPTION,
    webhook: str | None = typer.Option(None, help="A webhook URL (signed, Standard Webhooks)."),
    telegram_chat: str | None = typer.Option(None, help="A Telegram chat id or @channel."),
    bot_token: str | None = typer.Option(
        None, help="Telegram: a bot token; default = the space's connected bot."
    ),
    name: str = typer.Option("", help="A name to recognise it by."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Send alerts to a webhook or a Telegram chat (the webhook secret is shown once)."""

    async def body() -> schemas.ChannelCreated:
        if bool(webhook) == bool(telegram_chat):
            raise ValidationFailed("give exactly one of --webhook or --telegram-chat")
        data = schemas.ChannelCreate(
            kind="webhook" if webhook else "telegram", name=name, url=webhook,
            chat_id=telegram_chat, bot_token=bot_token,
        )  # fmt: skip
        async with runtime() as rt:
            space_id = await space_id_for(rt, space)
            async with session_scope(rt.sessions) as session:
                return await alert_service.add_channel(
                    session, space_id, data, rt.secrets, rt.settings, rt.clock.now_ms()
                )

    out = run(body)
    if as_json:
        emit_json(out)
        return
    console.print(f"[green]Channel added:[/] {out.name} ({out.id})")
    if out.secret:
        console.print(f"Signing secret: [bold]{out.secret}[/] (shown once)")


@alert_app.command("channel-remove")
def alert_channel_remove(
    channel_id: str, space: str = SPACE_OPTION, as_json: bool = JSON_OPTION
) -> None:
    """Stop sending alerts to a channel."""

    async def body() -> None:
        async with runtime() as rt:
            space_id = await space_id_for(rt, space)
            async with session_scope(rt.sessions) as session:
                await alert_service.remove_channel(session, space_id, channel_id)

    run(body)
    emit_json({"ok": True, "removed": channel_id}) if as_json else console.print("Removed.")
