"""``xtracker telegram``: connect the bot, channels, channel links, the welcome drip, stats,
and long polling for servers without a public URL."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from datetime import UTC, datetime

import typer

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
from xtracker.link import schemas as link_schemas
from xtracker.link.service import link_service, to_schema
from xtracker.runtime import Runtime
from xtracker.telegram import repository as repo
from xtracker.telegram import schemas
from xtracker.telegram.service import close_state, telegram_service
from xtracker.telegram.tasks import register, start_loops, unregister

telegram_app = typer.Typer(
    help="The Telegram channel funnel: bot, channels, invite pools, welcome drip, stats.",
    no_args_is_help=True,
)
tg_link_app = typer.Typer(help="Channel links.", no_args_is_help=True)
drip_app = typer.Typer(help="A channel link's welcome drip.", no_args_is_help=True)
telegram_app.add_typer(tg_link_app, name="link")
telegram_app.add_typer(drip_app, name="drip")
SPACE = typer.Option(..., "--space", help="Space slug or id.")


async def _close(rt: Runtime) -> None:
    unregister(rt)
    await close_state(rt)


@telegram_app.command("connect")
def connect(
    space: str = SPACE,
    token: str = typer.Option(..., "--token", help="The bot token from @BotFather."),
    webhook_url: str | None = typer.Option(
        None,
        "--webhook-url",
        help="The tracker's public HTTPS URL; updates are then pushed to"
        " URL/telegram/webhook/<bot id>. Without it: long polling.",
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Connect the space's bot (token checked with getMe, stored encrypted)."""

    async def body() -> None:
        async with runtime() as rt:
            space_id = await space_id_for(rt, space)
            try:
                async with session_scope(rt.sessions) as session:
                    bot = await telegram_service.connect(
                        session, rt, space_id, schemas.BotConnect(token=token,
                                                                  webhook_url=webhook_url)
                    )  # fmt: skip
            finally:
                await _close(rt)
        out = telegram_service.bot_schema(bot)
        if as_json:
            emit_json(out)
            return
        console.print(f"[bold green]Connected[/] @{out.username} ({out.mode})")
        if out.mode == "polling":
            console.print("Updates come by long polling: keep `xtracker serve` (with its worker)"
                          " or `xtracker telegram poll` running.")  # fmt: skip

    run(body)


@telegram_app.command("channels")
def channels(
    space: str = SPACE,
    add: str | None = typer.Option(None, "--add", help="Add a channel: chat id or @username."),
    as_json: bool = JSON_OPTION,
) -> None:
    """List the space's channels (or add one where the bot is an admin)."""

    async def body() -> None:
        async with runtime() as rt:
            space_id = await space_id_for(rt, space)
            try:
                async with session_scope(rt.sessions) as session:
                    if add:
                        await telegram_service.add_channel(session, rt, space_id, add)
                    rows = await repo.channels_of_space(session, space_id)
            finally:
                await _close(rt)
        out = [schemas.Channel(chat_id=c.chat_id, title=c.title, username=c.username,
                               created_at_ms=c.created_at_ms) for c in rows]  # fmt: skip
        if as_json:
            emit_json(out)
            return
        emit_table("Channels", ["chat id", "title", "username"],
                   [[c.chat_id, c.title, c.username] for c in out])  # fmt: skip

    run(body)


@tg_link_app.command("create")
def link_create(
    space: str = SPACE,
    slug: str = typer.Option(..., "--slug"),
    channel: str = typer.Option(..., "--channel", help="The channel: chat id or @username."),
    name: str | None = typer.Option(None, "--name"),
    title: str | None = typer.Option(None, "--title", help="Landing title."),
    text: str | None = typer.Option(None, "--text", help="Landing text."),
    button: str | None = typer.Option(None, "--button", help="Landing button label."),
    auto_redirect: bool = typer.Option(False, "--auto-redirect", help="Skip the button."),
    pixel: str | None = typer.Option(None, "--pixel", help="Meta Pixel id for the landing."),
    auto_approve: bool = typer.Option(True, "--auto-approve/--no-auto-approve"),
    pool_depth: int | None = typer.Option(None, "--pool-depth", help="Invite links kept ready."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Create a channel link: each landing visit gets its own invite link to the channel."""

    async def body() -> None:
        async with runtime() as rt:
            register(rt)
            space_id = await space_id_for(rt, space)
            data = link_schemas.LinkCreate(
                slug=slug, kind="channel", channel=channel, name=name, title=title, text=text,
                button_label=button, auto_redirect=auto_redirect, pixel_id=pixel,
            )  # fmt: skip
            try:
                async with session_scope(rt.sessions) as session:
                    link = await link_service.create(session, space_id, data, rt.clock.now_ms())
                    settings = await telegram_service.configure_link(
                        session, rt, link, None,
                        schemas.ChannelLinkSettings(auto_approve=auto_approve,
                                                    pool_depth=pool_depth),
                    )  # fmt: skip
                    pool = await telegram_service.channel_link_schema(session, link, settings)
                # Fill the pool now so the first visits need not wait on Telegram.
                await telegram_service.refill_once(rt)
            finally:
                await _close(rt)
            out = to_schema(link, rt.settings.public_url)
        if as_json:
            emit_json({"link": out.model_dump(mode="json"), "channel": pool.model_dump()})
            return
        console.print(f"[bold green]Channel link created:[/] {out.slug} → landing {out.url}")

    run(body)


@tg_link_app.command("set")
def link_set(
    space: str = SPACE,
    slug: str = typer.Option(..., "--slug"),
    channel: str | None = typer.Option(None, "--channel", help="Move to another channel."),
    auto_approve: bool | None = typer.Option(None, "--auto-approve/--no-auto-approve"),
    pool_depth: int | None = typer.Option(None, "--pool-depth"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Change a channel link's channel, auto-approve or invite pool depth."""

    async def body() -> None:
        async with runtime() as rt:
            space_id = await space_id_for(rt, space)
            try:
                async with session_scope(rt.sessions) as session:
                    link = await link_service.get(session, space_id, slug)
                    if link.kind != "channel":
                        raise ValidationFailed(f"{slug} is a {link.kind} link, not a channel link")
                    settings = await telegram_service.configure_link(
                        session, rt, link, channel,
                        schemas.ChannelLinkSettings(auto_approve=auto_approve,
                                                    pool_depth=pool_depth),
                    )  # fmt: skip
                    out = await telegram_service.channel_link_schema(session, link, settings)
            finally:
                await _close(rt)
        if as_json:
            emit_json(out)
            return
        console.print(f"{out.slug}: auto-approve {out.auto_approve}, pool {out.available}/"
                      f"{out.pool_depth} ready")  # fmt: skip

    run(body)


@tg_link_app.command("list")
def link_list(space: str = SPACE, as_json: bool = JSON_OPTION) -> None:
    """Channel links with their invite pools."""

    async def body() -> None:
        async with runtime() as rt:
            space_id = await space_id_for(rt, space)
            async with session_scope(rt.sessions) as session:
                out = [await telegram_service.channel_link_schema(session, link, cl)
                       for cl, link in await repo.channel_links_of_space(session, space_id)]  # fmt: skip
        if as_json:
            emit_json(out)
            return
        emit_table("Channel links", ["slug", "chat id", "auto-approve", "ready", "taken", "used"],
                   [[x.slug, x.chat_id, x.auto_approve, f"{x.available}/{x.pool_depth}",
                     x.taken, x.used] for x in out])  # fmt: skip

    run(body)


def _parse_step(raw: str) -> schemas.DripStep:
    parts = raw.split("|")
    if len(parts) not in (2, 4) or not parts[0].strip().isdigit():
        raise ValidationFailed(
            "a step is 'DELAY_S|TEXT' or 'DELAY_S|TEXT|BUTTON TEXT|BUTTON URL'", field="step"
        )
    button_text, button_url = (parts[2], parts[3]) if len(parts) == 4 else (None, None)
    return schemas.DripStep(delay_s=int(parts[0]), text=parts[1].replace("\\n", "\n"),
                            button_text=button_text, button_url=button_url)  # fmt: skip


@drip_app.command("set")
def drip_set(
    space: str = SPACE,
    slug: str = typer.Option(..., "--slug"),
    step: list[str] = typer.Option(
        [],
        "--step",
        help="Repeatable, in order: 'DELAY_S|TEXT' or"
        " 'DELAY_S|TEXT|BUTTON TEXT|BUTTON URL'. No --step clears the drip.",
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Replace a channel link's welcome drip (the first delay is at most 240 s)."""

    async def body() -> None:
        steps = [_parse_step(s) for s in step]
        async with runtime() as rt:
            space_id = await space_id_for(rt, space)
            async with session_scope(rt.sessions) as session:
                link = await link_service.get(session, space_id, slug)
                await telegram_service.set_drip(session, link, steps)
        if as_json:
            emit_json(schemas.Drip(steps=steps))
            return
        console.print(f"[bold green]Welcome drip of {slug}:[/] {len(steps)} message(s)")

    run(body)


@drip_app.command("show")
def drip_show(space: str = SPACE, slug: str = typer.Option(..., "--slug"),
              as_json: bool = JSON_OPTION) -> None:  # fmt: skip
    """Show a channel link's welcome drip."""

    async def body() -> None:
        async with runtime() as rt:
            space_id = await space_id_for(rt, space)
            async with session_scope(rt.sessions) as session:
                link = await link_service.get(session, space_id, slug)
                rows = await repo.drip_steps(session, link.id)
        steps = [schemas.DripStep(delay_s=r.delay_s, text=r.text, button_text=r.button_text,
                                  button_url=r.button_url) for r in rows]  # fmt: skip
        if as_json:
            emit_json(schemas.Drip(steps=steps))
            return
        emit_table(f"Welcome drip of {slug}", ["#", "delay s", "text", "button"],
                   [[i + 1, s.delay_s, s.text, s.button_url or ""]
                    for i, s in enumerate(steps)])  # fmt: skip

    run(body)


@telegram_app.command("stats")
def stats(
    space: str = SPACE,
    hours: int = typer.Option(48, "--hours", min=1, max=24 * 90),
    as_json: bool = JSON_OPTION,
) -> None:
    """Hourly channel stats: joins, leaves, join requests (attributed/organic), members."""

    async def body() -> None:
        async with runtime() as rt:
            space_id = await space_id_for(rt, space)
            async with session_scope(rt.sessions) as session:
                out = await telegram_service.stats(session, space_id, rt.clock.now_ms(), hours)
        if as_json:
            emit_json(out)
            return
        for channel in out:
            emit_table(
                f"{channel.title} ({channel.chat_id})",
                ["hour (UTC)", "joins", "leaves", "requests", "attributed", "organic", "members"],
                [[datetime.fromtimestamp(p.hour_ms / 1000, UTC).strftime("%Y-%m-%d %H:00"),
                  p.joins, p.leaves, p.join_requests, p.attributed, p.organic, p.member_count]
                 for p in channel.points
                 if p.joins or p.leaves or p.join_requests or p.member_count is not None],
            )  # fmt: skip

    run(body)


@telegram_app.command("poll")
def poll(
    space: str = SPACE,
    once: bool = typer.Option(False, "--once", help="One getUpdates round, send what is due."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Receive updates by long polling and run the funnel's background work (Ctrl-C stops)."""

    async def body() -> None:
        async with runtime() as rt:
            space_id = await space_id_for(rt, space)
            register(rt)
            async with session_scope(rt.sessions) as session:
                bot = await telegram_service.require_bot(session, space_id)
            if bot.mode != "polling":
                raise ValidationFailed(
                    "this bot receives updates by webhook: reconnect it without --webhook-url"
                )
            try:
                if once:
                    updates = await telegram_service.poll_once(rt, bot, 0)
                    await telegram_service.refill_once(rt)
                    sent = await telegram_service.run_due_actions(rt)
                    result = {"updates": updates, "actions": sent}
                    if as_json:
                        emit_json(result)
                    else:
                        console.print(f"{updates} update(s), {sent} action(s)")
                    return
                console.print(f"Polling @{bot.username}; Ctrl-C stops.")
                start_loops(rt)
                stop = asyncio.Event()
                loop = asyncio.get_running_loop()
                for sig in (signal.SIGINT, signal.SIGTERM):
                    with contextlib.suppress(NotImplementedError):
                        loop.add_signal_handler(sig, stop.set)
                await stop.wait()
            finally:
                for task in rt.tasks:
                    task.cancel()
                await _close(rt)

    run(body)
