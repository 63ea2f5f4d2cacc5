"""The SQLAlchemy engine and the unit-of-work session scope (management paths)."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from xtracker.config import DatabaseURL

BUSY_TIMEOUT_MS = 10_000  # how long a write waits for the lock another connection holds

SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    # FULL: a commit survives power loss; with group commit it costs almost nothing.
    "PRAGMA synchronous=FULL",
    f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}",
    "PRAGMA foreign_keys=ON",
    # Random dedup keys and uids spread index writes over the whole B-tree: a 64 MiB page
    # cache (default 2 MiB) and memory-mapped reads keep those pages off the syscall path.
    "PRAGMA cache_size=-65536",
    "PRAGMA mmap_size=268435456",
)


def apply_sqlite_pragmas(dbapi_connection: Any) -> None:
    cursor = dbapi_connection.cursor()
    for pragma in SQLITE_PRAGMAS:
        cursor.execute(pragma)
    cursor.close()


def connect_sqlite(path: Path) -> sqlite3.Connection:
    """A plain sqlite3 connection for the hot path and the checkpointer (autocommit mode)."""
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    apply_sqlite_pragmas(connection)
    return connection


def make_engine(database: DatabaseURL, *, pool_size: int = 5) -> AsyncEngine:
    if database.is_sqlite:
        assert database.sqlite_path is not None
        database.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(database.sqlalchemy_url, connect_args={"timeout": 30})

        @event.listens_for(engine.sync_engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            apply_sqlite_pragmas(dbapi_connection)

        return engine
    return create_async_engine(
        database.sqlalchemy_url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True
    )


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def session_scope(factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One transaction: committed when the block ends, rolled back when it raises."""
    async with factory() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise
