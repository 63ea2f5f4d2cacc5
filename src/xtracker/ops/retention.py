"""Shared pieces of the retention jobs (raw clicks, delivery attempts): delete old rows in
small group-committed chunks, hourly, in the worker (or in ``serve`` when it runs one)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from xtracker.db.dialect import Tx
from xtracker.runtime import Runtime

log = logging.getLogger("xtracker.retention")
DAY_MS = 24 * 3600 * 1000
CHUNK = 5000
Prune = Callable[[Runtime, int], Awaitable[int]]


async def delete_in_chunks(
    runtime: Runtime, count_sql: str, delete_sql: str, params: Sequence[Any]
) -> int:
    """Run ``delete_sql`` (``params`` + a ``LIMIT CHUNK``) until ``count_sql`` finds no rows."""
    deleted = 0
    while True:
        async with runtime.backend.reader() as tx:
            row = await tx.fetchone(count_sql, tuple(params))
        remaining = int(row[0]) if row else 0
        if remaining == 0:
            return deleted

        async def job(tx: Tx) -> None:
            await tx.execute(delete_sql, (*params, CHUNK))

        await runtime.committer.run(job)
        deleted += min(remaining, CHUNK)


def install_hourly(
    runtime: Runtime, role: str, *, name: str, days: int, prune: Prune, rows: str
) -> None:
    """Run ``prune(runtime, days)`` every hour where deliveries run; ``days <= 0`` keeps all."""
    if days <= 0 or (role != "worker" and not runtime.settings.run_worker_in_serve):
        return

    async def loop() -> None:
        while True:
            removed = await prune(runtime, days)
            if removed:
                log.info("retention: deleted %d %s older than %d days", removed, rows, days)
            await asyncio.sleep(3600)

    runtime.start_background(name, loop)
