"""Alembic environment: async engine, batch mode on SQLite so ALTERs work there too."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from xtracker.config import Settings, parse_database_url
from xtracker.db.engine import make_engine
from xtracker.db.models import Base

target_metadata = Base.metadata


def _do_run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async() -> None:
    settings: Settings | None = context.config.attributes.get("settings")
    url = context.config.get_main_option("sqlalchemy.url") or ""
    database = settings.database if settings else parse_database_url(url)
    engine = make_engine(database)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_do_run)
    finally:
        await engine.dispose()


def run() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:  # called from inside a running engine (tests)
        _do_run(connection)
        return
    asyncio.run(_run_async())


run()
