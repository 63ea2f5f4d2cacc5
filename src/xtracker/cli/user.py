"""``xtracker user``: dashboard users and their access to spaces."""

from __future__ import annotations

import sys
from typing import Any

import typer

from xtracker.cli.common import JSON_OPTION, console, emit_json, emit_table, run, runtime
from xtracker.db.engine import session_scope
from xtracker.space.service import space_service
from xtracker.user.service import session_service, user_service

user_app = typer.Typer(help="Dashboard users and their access to spaces.", no_args_is_help=True)

ROLE_OPTION = typer.Option("owner", "--role", help="owner (everything) or viewer (read-only).")


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


@user_app.command("create")
def user_create(
    email: str,
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from the first line of stdin."
    ),
    space: str | None = typer.Option(None, "--space", help="Give access to this space (slug)."),
    role: str = ROLE_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Create a dashboard user (the password is stored as an argon2 hash)."""
    password = _read_password(password_stdin)

    async def body() -> None:
        async with runtime() as rt, session_scope(rt.sessions) as session:
            now = rt.clock.now_ms()
            found = await space_service.get(session, space) if space else None
            user = await user_service.create(session, email, password, now)
            if found is not None:
                await user_service.grant(session, user, found, role, now)
        out = {"id": user.id, "email": user.email,
               "space": found.slug if found else None, "role": role if found else None}  # fmt: skip
        if as_json:
            emit_json(out)
            return
        console.print(f"[bold green]User created:[/] {user.email}")
        if found is not None:
            console.print(f"{role} of space {found.slug}")

    run(body)


@user_app.command("grant")
def user_grant(
    email: str,
    space: str = typer.Argument(..., help="Space slug or id."),
    role: str = ROLE_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Give a user a role in a space (or change their role)."""

    async def body() -> None:
        async with runtime() as rt, session_scope(rt.sessions) as session:
            user = await user_service.get_by_email(session, email)
            found = await space_service.get(session, space)
            await user_service.grant(session, user, found, role, rt.clock.now_ms())
        if as_json:
            emit_json({"email": user.email, "space": found.slug, "role": role})
            return
        console.print(f"{user.email} is now [bold]{role}[/] of {found.slug}")

    run(body)


@user_app.command("revoke")
def user_revoke(
    email: str,
    space: str = typer.Argument(..., help="Space slug or id."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Take away a user's access to a space."""

    async def body() -> None:
        async with runtime() as rt, session_scope(rt.sessions) as session:
            user = await user_service.get_by_email(session, email)
            found = await space_service.get(session, space)
            removed = await user_service.revoke(session, user, found)
        if as_json:
            emit_json({"email": user.email, "space": found.slug, "removed": removed})
            return
        console.print(f"{user.email} {'removed from' if removed else 'was not a member of'} "
                      f"{found.slug}")  # fmt: skip

    run(body)


@user_app.command("password")
def user_password(
    email: str,
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from the first line of stdin."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Set a new password (signs the user out everywhere)."""
    password = _read_password(password_stdin)

    async def body() -> None:
        async with runtime() as rt, session_scope(rt.sessions) as session:
            user = await user_service.get_by_email(session, email)
            await user_service.set_password(session, user, password)
            await session_service.end_all(session, user)
        if as_json:
            emit_json({"email": user.email, "password_changed": True})
            return
        console.print(f"Password changed for {user.email}; their sessions are signed out.")

    run(body)


@user_app.command("list")
def user_list(as_json: bool = JSON_OPTION) -> None:
    """List users and the spaces they can see."""

    async def body() -> None:
        rows: list[dict[str, Any]] = []
        async with runtime() as rt, session_scope(rt.sessions) as session:
            for user in await user_service.list_all(session):
                spaces = await user_service.spaces_of(session, user.id)
                member = [{"slug": s.slug, "role": r} for s, r in spaces]
                rows.append({"id": user.id, "email": user.email, "spaces": member})
        if as_json:
            emit_json(rows)
            return
        table = [
            [r["email"], ", ".join(f"{s['slug']} ({s['role']})" for s in r["spaces"])] for r in rows
        ]
        emit_table("Users", ["email", "spaces"], table)

    run(body)
