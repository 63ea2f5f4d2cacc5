"""Shared CLI plumbing: settings, a runtime per command, JSON or Rich output, errors."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import typer
from pydantic import BaseModel
from rich.console import Console
from rich.table import Table

from xtracker.config import Settings
from xtracker.db.engine import session_scope
from xtracker.db.migrate import upgrade
from xtracker.errors import XTrackerError
from xtracker.runtime import Runtime
from xtracker.space.service import space_service
from xtracker.telegram import tasks as telegram_tasks

T = TypeVar("T")
console = Console()
err_console = Console(stderr=True)

JSON_OPTION = typer.Option(False, "--json", help="Machine-readable JSON output.")


def settings() -> Settings:
    return Settings()


def run(coro_factory: Callable[[], Awaitable[T]]) -> T:
    """Run an async command body; render XTrackerError as the documented shape and exit 1."""
    try:
        return asyncio.run(coro_factory())  # type: ignore[arg-type]
    except XTrackerError as error:
        sys.stderr.write(json.dumps(error.to_dict()) + "\n")  # one line, never wrapped
        raise typer.Exit(1) from None


@asynccontextmanager
async def runtime(migrate: bool = True) -> AsyncIterator[Runtime]:
    s = settings()
    if migrate:
        await asyncio.to_thread(upgrade, s)
    rt = await Runtime.open(s, with_geo=False)
    telegram_tasks.register(rt)  # channel links are validated the same as in the server
    try:
        yield rt
    finally:
        telegram_tasks.unregister(rt)
        await rt.close()


async def space_id_for(rt: Runtime, slug: str) -> str:
    async with session_scope(rt.sessions) as session:
        return (await space_service.get(session, slug)).id


def to_jsonable(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list):
        return [to_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: to_jsonable(v) for k, v in value.items()}
    return value


def emit_json(value: Any) -> None:
    sys.stdout.write(json.dumps(to_jsonable(value), indent=2, ensure_ascii=False) + "\n")


def emit_table(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*["" if v is None else str(v) for v in row])
    console.print(table)
