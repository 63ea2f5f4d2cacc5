"""``xtracker domain``: custom landing domains (add, list, check, remove)."""

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
from xtracker.db.engine import session_scope
from xtracker.domain import schemas
from xtracker.domain.service import domain_service, to_schema
from xtracker.domain.tasks import checker_for

domain_app = typer.Typer(help="Custom landing domains via CNAME.", no_args_is_help=True)
SPACE_OPTION = typer.Option(..., "--space", help="Space slug or id.")


def _time(ms: int | None) -> str:
    return "" if ms is None else datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M")


def _show(domain: schemas.Domain) -> None:
    colour = {"verified": "green", "failing": "yellow", "disabled": "red"}.get(domain.state, "cyan")
    console.print(f"[bold]{domain.hostname}[/]  [{colour}]{domain.state}[/]")
    if domain.state != "verified":
        console.print("Create this record at your DNS provider:")
        console.print(f"  {domain.record.name}  CNAME  {domain.record.value}")
        console.print("Behind Cloudflare's proxy (orange cloud) add this TXT record as well:")
        console.print(f"  {domain.txt_record.name}  TXT  {domain.txt_record.value}")
    if domain.chain:
        console.print("DNS chain: " + " → ".join(domain.chain))
    if domain.last_error:
        console.print(f"[yellow]{domain.last_error}[/]")
    if domain.disables_at_ms:
        console.print(f"Stops serving at {_time(domain.disables_at_ms)} UTC unless DNS is fixed.")


@domain_app.command("add")
def domain_add(
    hostname: str,
    space: str = SPACE_OPTION,
    check: bool = typer.Option(True, help="Check DNS right away."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Add a domain and print the CNAME record to create."""

    async def body() -> schemas.Domain:
        async with runtime() as rt:
            space_id = await space_id_for(rt, space)
            async with session_scope(rt.sessions) as session:
                domain = await domain_service.add(
                    session, space_id, hostname, rt.settings, rt.clock.now_ms()
                )
                if check:
                    await domain_service.check(
                        session, domain, checker_for(rt), rt.settings, rt.clock.now_ms()
                    )
            return to_schema(domain, rt.settings)

    out = run(body)
    emit_json(out) if as_json else _show(out)


@domain_app.command("list")
def domain_list(space: str = SPACE_OPTION, as_json: bool = JSON_OPTION) -> None:
    """List the space's domains with their states."""

    async def body() -> list[schemas.Domain]:
        async with runtime() as rt:
            space_id = await space_id_for(rt, space)
            async with session_scope(rt.sessions) as session:
                return await domain_service.views(session, space_id, rt.settings)

    out = run(body)
    if as_json:
        emit_json(out)
        return
    emit_table(
        "Domains",
        ["hostname", "state", "CNAME to", "checked", "failing since", "error"],
        [[d.hostname, d.state, d.record.value, _time(d.checked_at_ms), _time(d.failing_since_ms),
          d.last_error] for d in out],
    )  # fmt: skip


@domain_app.command("check")
def domain_check(hostname: str, space: str = SPACE_OPTION, as_json: bool = JSON_OPTION) -> None:
    """Check a domain's DNS now."""

    async def body() -> schemas.Domain:
        async with runtime() as rt:
            space_id = await space_id_for(rt, space)
            async with session_scope(rt.sessions) as session:
                domain = await domain_service.get(session, space_id, hostname)
                await domain_service.check(
                    session, domain, checker_for(rt), rt.settings, rt.clock.now_ms()
                )
            return to_schema(domain, rt.settings)

    out = run(body)
    emit_json(out) if as_json else _show(out)


@domain_app.command("remove")
def domain_remove(hostname: str, space: str = SPACE_OPTION, as_json: bool = JSON_OPTION) -> None:
    """Remove a domain: its host answers 404 from then on."""

    async def body() -> None:
        async with runtime() as rt:
            space_id = await space_id_for(rt, space)
            async with session_scope(rt.sessions) as session:
                domain = await domain_service.get(session, space_id, hostname)
                await domain_service.remove(session, domain)

    run(body)
    if as_json:
        emit_json({"ok": True, "removed": hostname})
    else:
        console.print(f"Removed {hostname}.")
