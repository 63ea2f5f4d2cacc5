"""Commands for spaces, keys, links, events and clicks."""

from __future__ import annotations

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
from xtracker.click.service import click_service
from xtracker.db.engine import session_scope
from xtracker.event.service import event_service
from xtracker.key.service import key_service
from xtracker.link import schemas as link_schemas
from xtracker.link.service import link_service, to_schema
from xtracker.space import schemas as space_schemas
from xtracker.space.service import space_service

space_app = typer.Typer(help="Spaces: one per offer or funnel.", no_args_is_help=True)
key_app = typer.Typer(help="Bearer secrets and ingest tokens.", no_args_is_help=True)
link_app = typer.Typer(help="Links and their landing pages.", no_args_is_help=True)
events_app = typer.Typer(help="Recorded events.", no_args_is_help=True)
clicks_app = typer.Typer(help="Recorded clicks.", no_args_is_help=True)


def _time(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")


@space_app.command("create")
def space_create(
    name: str,
    slug: str | None = typer.Option(None, help="URL-safe id; derived from the name if omitted."),
    timezone: str = typer.Option("UTC", help="IANA timezone for day boundaries."),
    currency: str = typer.Option("USD", help="Default currency."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Create a space and print its Bearer secret and ingest token (shown once)."""

    async def body() -> None:
        async with runtime() as rt, session_scope(rt.sessions) as session:
            data = space_schemas.SpaceCreate(
                name=name, slug=slug, timezone=timezone, currency=currency
            )
            space, bearer, ingest = await space_service.create(session, data, rt.clock.now_ms())
        out = space_schemas.SpaceCreated(
            space=space_schemas.Space.model_validate(space), bearer=bearer, ingest_token=ingest
        )
        if as_json:
            emit_json(
                {"space": {"id": space.id, "slug": space.slug, "name": space.name},
                 "bearer": bearer, "ingest_token": ingest}
            )  # fmt: skip
            return
        console.print(f"[bold green]Space created:[/] {out.space.name} ({out.space.slug})")
        console.print(f"Bearer secret:  [bold]{bearer}[/]")
        console.print(f"Ingest token:   [bold]{ingest}[/]")
        console.print("[yellow]Store them now: they are shown only once.[/]")

    run(body)


@space_app.command("list")
def space_list(as_json: bool = JSON_OPTION) -> None:
    """List spaces."""

    async def body() -> None:
        async with runtime() as rt, session_scope(rt.sessions) as session:
            spaces = [
                space_schemas.Space.model_validate(s) for s in await space_service.list(session)
            ]
        if as_json:
            emit_json(spaces)
            return
        emit_table("Spaces", ["slug", "name", "timezone", "currency", "id"],
                   [[s.slug, s.name, s.timezone, s.currency, s.id] for s in spaces])  # fmt: skip

    run(body)


@key_app.command("rotate")
def key_rotate(
    space: str = typer.Option(..., "--space", help="Space slug or id."),
    kind: str = typer.Option("bearer", help="bearer or ingest."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Rotate a secret; the previous one keeps working for 24 hours."""

    async def body() -> None:
        async with runtime() as rt:
            space_id = await space_id_for(rt, space)
            grace = int(rt.settings.key_grace_hours * 3600 * 1000)
            async with session_scope(rt.sessions) as session:
                secret, until = await key_service.rotate(
                    session, space_id, kind, rt.clock.now_ms(), grace
                )
        if as_json:
            emit_json({"kind": kind, "secret": secret, "previous_valid_until_ms": until})
            return
        console.print(f"New {kind} secret: [bold]{secret}[/] (shown once)")
        console.print(f"The previous one works until {_time(until)} UTC.")

    run(body)


@link_app.command("create")
def link_create(
    space: str = typer.Option(..., "--space", help="Space slug or id."),
    slug: str = typer.Option(..., "--slug"),
    kind: str = typer.Option(..., "--kind", help="bot, web or channel."),
    target: str | None = typer.Option(None, "--target", help="web: target URL with {macros}."),
    bot: str | None = typer.Option(None, "--bot", help="bot: the bot's @username."),
    name: str | None = typer.Option(None, "--name"),
    title: str | None = typer.Option(None, "--title", help="Landing title."),
    text: str | None = typer.Option(None, "--text", help="Landing text."),
    button: str | None = typer.Option(None, "--button", help="Landing button label."),
    image: str | None = typer.Option(None, "--image", help="Landing image URL."),
    auto_redirect: bool = typer.Option(False, "--auto-redirect", help="Skip the button."),
    pixel: str | None = typer.Option(None, "--pixel", help="Meta Pixel id for the landing."),
    tag: list[str] = typer.Option([], "--tag", help="Repeatable."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Create a link; prints it with its landing URL."""

    async def body() -> None:
        async with runtime() as rt:
            space_id = await space_id_for(rt, space)
            data = link_schemas.LinkCreate(
                slug=slug, kind=kind, target_url=target, bot_username=bot, name=name, title=title,
                text=text, button_label=button, image_url=image, auto_redirect=auto_redirect,
                pixel_id=pixel, tags=tag or None,
            )  # fmt: skip
            async with session_scope(rt.sessions) as session:
                link = await link_service.create(session, space_id, data, rt.clock.now_ms())
            out = to_schema(link, rt.settings.public_url)
        if as_json:
            emit_json(out)
            return
        console.print(f"[bold green]Link created:[/] {out.slug} → landing {out.url}")

    run(body)


@link_app.command("list")
def link_list(
    space: str = typer.Option(..., "--space", help="Space slug or id."), as_json: bool = JSON_OPTION
) -> None:
    """List a space's links."""

    async def body() -> None:
        async with runtime() as rt:
            space_id = await space_id_for(rt, space)
            async with session_scope(rt.sessions) as session:
                links = [to_schema(x, rt.settings.public_url)
                         for x in await link_service.list(session, space_id)]  # fmt: skip
        if as_json:
            emit_json(links)
            return
        emit_table("Links", ["slug", "kind", "name", "active", "landing"],
                   [[x.slug, x.kind, x.name, x.active, x.url] for x in links])  # fmt: skip

    run(body)


@events_app.command("list")
def events_list(
    space: str = typer.Option(..., "--space", help="Space slug or id."),
    uid: str | None = typer.Option(None),
    event: str | None = typer.Option(None),
    limit: int = typer.Option(50),
    as_json: bool = JSON_OPTION,
) -> None:
    """Recorded events, newest first."""

    async def body() -> None:
        async with runtime() as rt:
            space_id = await space_id_for(rt, space)
            async with session_scope(rt.sessions) as session:
                rows = await event_service.list(
                    session, space_id, uid=uid, event=event, limit=limit
                )
        if as_json:
            emit_json(rows)
            return
        table = [
            [_time(r.received_at_ms), r.event, r.uid, r.tg_id,
             f"{r.value} {r.currency}" if r.value else "", r.eid]
            for r in rows
        ]  # fmt: skip
        emit_table("Events", ["received", "event", "uid", "tg_id", "value", "eid"], table)

    run(body)


@clicks_app.command("list")
def clicks_list(
    space: str = typer.Option(..., "--space", help="Space slug or id."),
    link: str | None = typer.Option(None, "--link", help="Link slug."),
    limit: int = typer.Option(50),
    as_json: bool = JSON_OPTION,
) -> None:
    """Recorded clicks, newest first."""

    async def body() -> None:
        async with runtime() as rt:
            space_id = await space_id_for(rt, space)
            async with session_scope(rt.sessions) as session:
                rows = await click_service.list(session, space_id, link_slug=link, limit=limit)
        if as_json:
            emit_json(rows)
            return
        emit_table("Clicks", ["time", "uid", "country", "device", "browser", "campaign", "bot"],
                   [[_time(r.ts_ms), r.uid, r.country, r.device, r.browser, r.campaign_name,
                     "bot" if r.is_bot else ""] for r in rows])  # fmt: skip

    run(body)
