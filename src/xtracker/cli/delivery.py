"""Commands for destinations, deliveries and the ``worker`` process."""

from __future__ import annotations

import asyncio
import logging
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
    settings,
    space_id_for,
)
from xtracker.db.engine import session_scope
from xtracker.destination import schemas
from xtracker.destination.repository import destination_repository
from xtracker.destination.service import (
    destination_service,
    parse_header,
    parse_map,
    to_schema,
)
from xtracker.outbox.service import outbox_service

destination_app = typer.Typer(
    help="Destinations: Facebook CAPI, webhooks and S2S postbacks.", no_args_is_help=True
)
deliveries_app = typer.Typer(help="Deliveries to destinations: inspect and replay.",
                             no_args_is_help=True)  # fmt: skip

SPACE = typer.Option(..., "--space", help="Space slug or id.")
MAP_HELP = "canonical=name (repeatable); 'contact=' unmaps contact."


def _time(ms: int | None) -> str:
    if ms is None:
        return ""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _headers(items: list[str]) -> dict[str, str] | None:
    if not items:
        return None
    return dict(parse_header(item) for item in items)


@destination_app.command("add")
def destination_add(
    space: str = SPACE,
    kind: str = typer.Option(..., "--kind", help="fb_capi, webhook or s2s_postback."),
    name: str | None = typer.Option(None, "--name"),
    url: str | None = typer.Option(None, "--url", help="webhook: receiver URL."),
    url_template: str | None = typer.Option(
        None, "--url-template", help="s2s_postback: URL with {macros}."
    ),
    method: str | None = typer.Option(None, "--method", help="GET|POST (s2s), POST|PUT (webhook)."),
    expected_status: int | None = typer.Option(None, "--expected-status"),
    expected_body: str | None = typer.Option(None, "--expected-body"),
    pixel_id: str | None = typer.Option(None, "--pixel-id"),
    access_token: str | None = typer.Option(None, "--access-token"),
    test_event_code: str | None = typer.Option(None, "--test-event-code"),
    action_source: str | None = typer.Option(
        None, "--action-source", help="website (default), chat or system_generated."
    ),
    mapping: list[str] = typer.Option([], "--map", help=MAP_HELP),
    header: list[str] = typer.Option([], "--header", help="'Name: value' (repeatable)."),
    proxy: str | None = typer.Option(None, "--proxy", help="HTTP proxy URL for this destination."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Add a destination; a webhook's whsec_ signing secret is printed once."""

    async def body() -> None:
        async with runtime() as rt:
            space_id = await space_id_for(rt, space)
            data = schemas.DestinationCreate(
                kind=kind, name=name, url=url, url_template=url_template, method=method,
                expected_status=expected_status, expected_body=expected_body, pixel_id=pixel_id,
                access_token=access_token, test_event_code=test_event_code,
                action_source=action_source, event_map=parse_map(mapping) or None,
                headers=_headers(header), proxy_url=proxy,
            )  # fmt: skip
            async with session_scope(rt.sessions) as session:
                destination, secret = await destination_service.create(
                    session, rt.secrets, space_id, data, rt.clock.now_ms(),
                    allow_private=rt.settings.allow_private_targets,
                )  # fmt: skip
            out = schemas.DestinationCreated(
                **to_schema(destination, rt.secrets).model_dump(), secret=secret
            )
        if as_json:
            emit_json(out)
            return
        console.print(f"[bold green]Destination added:[/] {out.name} ({out.kind}) id {out.id}")
        console.print("Event map: " + ", ".join(f"{k} → {v}" for k, v in out.event_map.items()))
        if secret:
            console.print(f"Signing secret: [bold]{secret}[/]")
            console.print("[yellow]Store it now: it is shown only once.[/]")

    run(body)


@destination_app.command("list")
def destination_list(space: str = SPACE, as_json: bool = JSON_OPTION) -> None:
    """List a space's destinations with their event maps and circuit state."""

    async def body() -> None:
        async with runtime() as rt:
            space_id = await space_id_for(rt, space)
            async with session_scope(rt.sessions) as session:
                found = await destination_service.list(session, space_id)
                out = await destination_service.schemas_for(session, rt.secrets, found)
        if as_json:
            emit_json(out)
            return
        emit_table(
            "Destinations", ["id", "kind", "name", "active", "event map", "circuit"],
            [[d.id, d.kind, d.name, d.active,
              ", ".join(f"{k}→{v}" for k, v in d.event_map.items()), d.circuit.state]
             for d in out],
        )  # fmt: skip

    run(body)


@destination_app.command("edit")
def destination_edit(
    destination_id: str = typer.Argument(..., help="Destination id."),
    space: str = SPACE,
    name: str | None = typer.Option(None, "--name"),
    url: str | None = typer.Option(None, "--url"),
    url_template: str | None = typer.Option(None, "--url-template"),
    method: str | None = typer.Option(None, "--method"),
    expected_status: int | None = typer.Option(None, "--expected-status"),
    expected_body: str | None = typer.Option(None, "--expected-body"),
    pixel_id: str | None = typer.Option(None, "--pixel-id"),
    access_token: str | None = typer.Option(None, "--access-token"),
    test_event_code: str | None = typer.Option(None, "--test-event-code"),
    action_source: str | None = typer.Option(None, "--action-source"),
    mapping: list[str] = typer.Option([], "--map", help=MAP_HELP),
    header: list[str] = typer.Option([], "--header", help="Replaces all custom headers."),
    proxy: str | None = typer.Option(None, "--proxy", help="'' removes the proxy."),
    active: bool | None = typer.Option(None, "--active/--paused"),
    rotate_secret: bool = typer.Option(False, "--rotate-secret", help="webhook: new whsec_."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Edit a destination; --map entries merge into its event map."""

    async def body() -> None:
        async with runtime() as rt:
            space_id = await space_id_for(rt, space)
            data = schemas.DestinationUpdate(
                name=name, url=url, url_template=url_template, method=method,
                expected_status=expected_status, expected_body=expected_body, pixel_id=pixel_id,
                access_token=access_token, test_event_code=test_event_code,
                action_source=action_source, event_map=parse_map(mapping) or None,
                headers=_headers(header), proxy_url=proxy, active=active,
                rotate_secret=rotate_secret,
            )  # fmt: skip
            async with session_scope(rt.sessions) as session:
                destination = await destination_service.get(session, space_id, destination_id)
                secret = await destination_service.update(
                    session, rt.secrets, destination, data, rt.clock.now_ms(),
                    allow_private=rt.settings.allow_private_targets,
                )  # fmt: skip
                circuits = await destination_repository.circuits(session, [destination.id])
                out = schemas.DestinationCreated(
                    **to_schema(destination, rt.secrets, circuits.get(destination.id)).model_dump(),
                    secret=secret,
                )
        if as_json:
            emit_json(out)
            return
        console.print(f"[bold green]Destination updated:[/] {out.name} ({out.kind})")
        if secret:
            console.print(f"New signing secret: [bold]{secret}[/] (shown once)")

    run(body)


@destination_app.command("remove")
def destination_remove(
    destination_id: str = typer.Argument(..., help="Destination id."),
    space: str = SPACE,
    as_json: bool = JSON_OPTION,
) -> None:
    """Remove a destination; its undelivered events fail permanently."""

    async def body() -> None:
        async with runtime() as rt:
            space_id = await space_id_for(rt, space)
            async with session_scope(rt.sessions) as session:
                destination = await destination_service.get(session, space_id, destination_id)
                await destination_service.delete(session, destination, rt.clock.now_ms())
        if as_json:
            emit_json({"ok": True, "removed": destination_id})
            return
        console.print(f"Destination {destination_id} removed.")

    run(body)


@deliveries_app.command("list")
def deliveries_list(
    space: str = SPACE,
    status: str | None = typer.Option(None, "--status", help="e.g. failed_permanently"),
    destination: str | None = typer.Option(None, "--destination", help="Destination id."),
    event: str | None = typer.Option(None, "--event", help="Canonical event or mapped name."),
    limit: int = typer.Option(50, "--limit"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Deliveries, newest first."""

    async def body() -> None:
        async with runtime() as rt:
            space_id = await space_id_for(rt, space)
            async with session_scope(rt.sessions) as session:
                rows = await outbox_service.list(
                    session, space_id, status=status, destination_id=destination, event=event,
                    limit=limit,
                )  # fmt: skip
        if as_json:
            emit_json(rows)
            return
        emit_table(
            "Deliveries", ["id", "created", "event", "status", "attempts", "last"],
            [[r.id, _time(r.created_at_ms), r.event, r.status, r.attempts,
              r.last_error or (r.last_status_code or "")] for r in rows],
        )  # fmt: skip

    run(body)


@deliveries_app.command("show")
def deliveries_show(
    delivery_id: str = typer.Argument(..., help="Delivery id."), as_json: bool = JSON_OPTION
) -> None:
    """One delivery with every attempt."""

    async def body() -> None:
        async with runtime() as rt, session_scope(rt.sessions) as session:
            out = await outbox_service.show(session, None, delivery_id)
        if as_json:
            emit_json(out)
            return
        console.print(f"{out.id}: {out.event} → {out.status} (event_id {out.event_id})")
        emit_table("Attempts", ["#", "at", "outcome", "status", "ms", "error"],
                   [[a.attempt, _time(a.at_ms), a.outcome, a.status_code, a.latency_ms, a.error]
                    for a in out.attempt_log])  # fmt: skip

    run(body)


@deliveries_app.command("replay")
def deliveries_replay(
    delivery_id: str = typer.Argument(..., help="Delivery id (failed_permanently)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Queue a failed delivery again, with the same event_id."""

    async def body() -> None:
        async with runtime() as rt, session_scope(rt.sessions) as session:
            out = await outbox_service.replay(session, None, delivery_id, rt.clock.now_ms())
        if as_json:
            emit_json(out)
            return
        console.print(f"Delivery {out.id} queued again (event_id {out.event_id}).")

    run(body)


def worker() -> None:
    """Run the delivery worker (and other capabilities' background work) until SIGTERM."""
    from xtracker import capabilities
    from xtracker.runtime import Runtime

    s = settings()
    logging.basicConfig(
        level=s.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )

    async def main() -> None:
        from xtracker.db.migrate import upgrade

        await asyncio.to_thread(upgrade, s)
        rt = await Runtime.open(s)
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stopping.set)
        try:
            from xtracker.worker.delivery import tune_gc

            await capabilities.install_all(rt, "worker")
            tune_gc()
            console.print(f"[bold]XTRACKER worker[/] on {s.database.dialect}; SIGTERM stops it.")
            await stopping.wait()
            delivery = rt.extras.get("delivery_worker")
            if delivery is not None:  # graceful: finish and record what is in flight
                delivery.stop()
                tasks = [t for t in rt.tasks if t.get_name() == "outbox.deliver"]
                await asyncio.wait(tasks, timeout=s.delivery_timeout_s + 5)
        finally:
            await rt.close()

    try:  # uvloop roughly doubles what one core delivers (bench/delivery.py)
        import uvloop
    except ImportError:  # pragma: no cover - uvloop comes with granian[uvloop]
        asyncio.run(main())
    else:
        uvloop.run(main())
