"""The only place where SQLite and PostgreSQL differ on the hot path.

Hot-path SQL is written once with ``?`` placeholders; PostgreSQL gets ``$1…$n``. Each
backend opens transactions and runs statements through the same small ``Tx`` protocol.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol, cast

from xtracker.db.engine import BUSY_TIMEOUT_MS, connect_sqlite
from xtracker.db.wal import Checkpointer, WriterTurn
from xtracker.kit.aio import uncancellable

# sqlite3 binds int, float, str and bytes directly; any other value (None and bool
# included) first goes through its adapter look-up, which raises and swallows an
# AttributeError when there is none (1k–5k instructions per value in callgrind). Registered
# adapters answer at once: a bool is stored as 0/1 and None as NULL either way
# ({}.get is a C function that returns None).
sqlite3.register_adapter(bool, int)
sqlite3.register_adapter(type(None), cast("Callable[[None], None]", {}.get))

Row = tuple[Any, ...]


class Tx(Protocol):
    """A transaction (or an autocommit reader) on the hot path."""

    dialect: str

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None: ...
    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...
    async def execute(self, sql: str, params: Sequence[Any] = ()) -> None: ...
    async def write(self, sql: str, params: Sequence[Any] = ()) -> int: ...
    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...


class Backend(Protocol):
    dialect: str

    def transaction(self) -> Any: ...  # async context manager yielding a Tx
    def reader(self) -> Any: ...  # async context manager yielding a Tx (no transaction)
    async def close(self) -> None: ...


_QMARK = re.compile(r"\?")


@lru_cache(maxsize=512)
def to_pg(sql: str) -> str:
    """``?`` → ``$1…$n`` (hot-path SQL never has a literal question mark)."""
    counter = iter(range(1, 10_000))
    return _QMARK.sub(lambda _m: f"${next(counter)}", sql)


class SqliteTx:
    dialect = "sqlite"

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._c = connection

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        row: Row | None = self._c.execute(sql, params).fetchone()
        return row

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return self._c.execute(sql, params).fetchall()

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._c.execute(sql, params)

    async def write(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one INSERT/UPDATE/DELETE; how many rows it changed (0: ON CONFLICT skipped).

        Cheaper than ``RETURNING`` on SQLite (measured: an event_inbox insert 64 → 43 µs of
        CPU), which first collects the returned rows in a temporary table."""
        return self._c.execute(sql, params).rowcount

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._c.executemany(sql, rows)


class SqliteBackend:
    """A writer connection and a reader connection, both driven from the event loop.

    Statements, ``BEGIN IMMEDIATE`` and ``COMMIT`` (the fsync) all run inline: sqlite3
    releases the GIL while it waits on the disk, so granian's threads keep taking requests
    meanwhile, and those form the next batch. Handing them to a thread instead cost four
    thread hops per batch, ~1 ms each on a busy 2-core box (measured: 27 % fewer landings
    per second). Only when another connection holds the write lock (a management session,
    a worker process) does ``BEGIN`` wait — in a thread, so the loop can finish that
    session. Reads outside transactions use their own connection (WAL: committed data).
    Hot-path writers of all processes take turns first (``WriterTurn``), and COMMIT never
    checkpoints: a thread does (``Checkpointer``, see ``xtracker.db.wal``).
    """

    dialect = "sqlite"

    def __init__(
        self, path: Path, *, durable_commits: bool = True, checkpointer: Checkpointer | None = None
    ) -> None:
        """``durable_commits=False``: COMMIT does not fsync (synchronous=NORMAL; a power cut
        may lose the last commits, never corrupt the file). ``checkpointer``: share the one
        of another backend on the same file (one thread per file is enough); it is then
        left running on ``close()``."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self._w = connect_sqlite(path)
        self._w.execute("PRAGMA busy_timeout=0")  # BEGIN never waits on the loop
        self._w.execute("PRAGMA wal_autocheckpoint=0")  # the checkpointer's thread does it
        self._synchronous = "FULL" if durable_commits else "NORMAL"  # FULL: connect_sqlite's
        if not durable_commits:
            self._w.execute("PRAGMA synchronous=NORMAL")
        self._r = connect_sqlite(path)
        self._tx = SqliteTx(self._w)
        self._reader = SqliteTx(self._r)
        self._turn = WriterTurn(path)
        self._owns_checkpointer = checkpointer is None
        self.checkpointer = checkpointer or Checkpointer(path)

    def _begin_waiting(self) -> None:
        self._w.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        try:
            self._w.execute("BEGIN IMMEDIATE")
        finally:
            self._w.execute("PRAGMA busy_timeout=0")

    async def _begin(self) -> None:
        try:
            self._w.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY:  # BUSY and its extended codes
                raise
            await uncancellable(asyncio.to_thread(self._begin_waiting))

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        await self._turn.take()
        try:
            await self._begin()
            try:
                yield self._tx
            except BaseException:
                self._w.execute("ROLLBACK")
                raise
            try:
                self._w.execute("COMMIT")
            except BaseException:
                if self._w.in_transaction:
                    self._w.execute("ROLLBACK")
                raise
        finally:
            self._turn.give_back()
        self.checkpointer.committed()

    @asynccontextmanager
    async def reader(self) -> AsyncIterator[Tx]:
        yield self._reader

    @asynccontextmanager
    async def bulk_load(self) -> AsyncIterator[None]:
        """Commits inside skip the fsync (a bulk load of many batches); at the end one full
        checkpoint writes and syncs everything, so it is all durable when this returns.
        Only for a runtime that nothing else writes through meanwhile (``xtracker demo``)."""
        self._w.execute("PRAGMA synchronous=OFF")
        try:
            yield
        finally:
            self._w.execute(f"PRAGMA synchronous={self._synchronous}")
            self._w.execute("PRAGMA wal_checkpoint(FULL)")

    async def close(self) -> None:
        if self._owns_checkpointer:
            await asyncio.to_thread(self.checkpointer.close)
        self._w.close()
        self._r.close()
        self._turn.close()


class PgTx:
    dialect = "postgresql"

    def __init__(self, connection: Any) -> None:
        self._c = connection

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        record = await self._c.fetchrow(to_pg(sql), *params)
        return None if record is None else tuple(record)

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return [tuple(r) for r in await self._c.fetch(to_pg(sql), *params)]

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        await self._c.execute(to_pg(sql), *params)

    async def write(self, sql: str, params: Sequence[Any] = ()) -> int:
        status: str = await self._c.execute(to_pg(sql), *params)  # e.g. "INSERT 0 1"
        return int(status.rsplit(" ", 1)[-1])

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        await self._c.executemany(to_pg(sql), rows)


class PostgresBackend:
    """An asyncpg pool; a transaction holds one connection for the whole batch."""

    dialect = "postgresql"

    def __init__(self, pool: Any) -> None:
        self._pool = pool

    @classmethod
    async def connect(cls, dsn: str, *, max_size: int = 8) -> PostgresBackend:
        import asyncpg

        pool = await asyncpg.create_pool(dsn, min_size=1, max_size=max_size)
        return cls(pool)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        async with self._pool.acquire() as connection, connection.transaction():
            yield PgTx(connection)

    @asynccontextmanager
    async def reader(self) -> AsyncIterator[Tx]:
        async with self._pool.acquire() as connection:
            yield PgTx(connection)

    async def close(self) -> None:
        await self._pool.close()


async def open_backend(database: Any) -> Backend:
    if database.is_sqlite:
        return SqliteBackend(database.sqlite_path)
    return await PostgresBackend.connect(database.pg_dsn)


def upsert_ignore(dialect: str) -> str:
    """Both databases spell "insert unless the key exists" the same since SQLite 3.24."""
    return "ON CONFLICT DO NOTHING"
