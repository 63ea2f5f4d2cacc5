"""Group commit: the writes of many concurrent requests share one transaction.

Each request submits a job and awaits its result; the result is delivered only after the
transaction that ran the job has committed, so an answer always means "on disk". While one
batch commits, the next one gathers (adaptive: no timer, so an idle server answers at once).
A request that is still reading its body says so (``arriving``): a batch about to commit
waits a moment for it (at most ``gather_max_s``) rather than leaving it to the next commit.
A batch that fails is retried job by job, so one bad job never fails its neighbours.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import suppress
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

from xtracker.db.dialect import Backend, Tx

T = TypeVar("T")
S = TypeVar("S")
Job = Callable[[Tx], Awaitable[Any]]

# Measured under wrk -c64 on POST /events: the body of a request reaches the app one or two
# loop turns after its headers (granian hands it over from its own thread). Committing
# without those requests left batches at ~13 events, and a request spent ~3 ms of its ~8 ms
# waiting for its body; waiting for them: +30 % events/s in bench/hotpath.py (6.2k → 8.1k)
# and p50 9.4 → 6.9 ms, landings unchanged (they have no body).
GATHER_MAX_S = 0.002


class TxDeferred:
    """Work the jobs of one transaction hand to its end, run once just before the commit.

    Jobs add to a shared state (e.g. report counters summed in memory) instead of writing
    the same counter row once per request; the state dies with the transaction, so a batch
    that fails and is retried job by job starts from nothing.
    """

    def __init__(self) -> None:
        self._items: dict[str, tuple[Any, Callable[[Tx, Any], Awaitable[None]]]] = {}

    def state(
        self, key: str, factory: Callable[[], S], flush: Callable[[Tx, S], Awaitable[None]]
    ) -> S:
        item = self._items.get(key)
        if item is None:
            item = (factory(), flush)
            self._items[key] = item
        value: S = item[0]
        return value

    async def run(self, tx: Tx) -> None:
        for value, flush in self._items.values():
            await flush(tx, value)
        self._items.clear()


_deferred: ContextVar[TxDeferred | None] = ContextVar("xtracker_tx_deferred", default=None)


def tx_deferred() -> TxDeferred | None:
    """The deferred work of the ``GroupCommitter`` transaction running this job, if any."""
    return _deferred.get()


@dataclass(frozen=True, slots=True)
class RowJob:
    """Insert one row. The rows of a batch that share their SQL go in one ``executemany``,
    before the batch's other jobs (so an event can see a click of the same batch); ``then``
    runs afterwards, in order, for per-row follow-up work."""

    sql: str
    params: tuple[Any, ...]
    result: Any = None
    then: Job | None = None

    async def __call__(self, tx: Tx) -> Any:
        await tx.execute(self.sql, self.params)
        if self.then is not None:
            await self.then(tx)
        return self.result


async def _run_jobs(tx: Tx, jobs: list[Job]) -> list[Any]:
    deferred = TxDeferred()
    token = _deferred.set(deferred)
    try:
        rows: dict[str, list[tuple[Any, ...]]] = {}
        for job in jobs:
            if isinstance(job, RowJob):
                rows.setdefault(job.sql, []).append(job.params)
        for sql, params in rows.items():
            await tx.executemany(sql, params)
        results = []
        for job in jobs:
            if isinstance(job, RowJob):
                if job.then is not None:
                    await job.then(tx)
                results.append(job.result)
            else:
                results.append(await job(tx))
        await deferred.run(tx)
    finally:
        _deferred.reset(token)
    return results


class _Arrivals:
    """How many requests are reading their body; ``none`` is set when no request is.

    A plain context manager: ``@contextmanager`` builds a generator per request.
    """

    __slots__ = ("count", "none")

    def __init__(self) -> None:
        self.count = 0
        self.none = asyncio.Event()
        self.none.set()

    def __enter__(self) -> None:
        self.count += 1
        self.none.clear()

    def __exit__(self, *_exc: object) -> None:
        self.count -= 1
        if not self.count:
            self.none.set()


class GroupCommitter:
    def __init__(
        self, backend: Backend, *, max_batch: int = 2000, gather_max_s: float = GATHER_MAX_S
    ) -> None:
        self.backend = backend
        self._max_batch = max_batch
        self._gather_max_s = gather_max_s
        self._arrivals = _Arrivals()
        self._queue: list[tuple[Job, asyncio.Future[Any]]] = []
        self._flusher: asyncio.Task[None] | None = None
        self.batches = 0
        self.jobs = 0

    async def run(self, job: Callable[[Tx], Awaitable[T]]) -> T:
        """Run ``job`` inside a shared transaction; return once that transaction committed."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._queue.append((job, future))
        if self._flusher is None:
            self._flusher = loop.create_task(self._flush_all())
        return await future

    def arriving(self) -> _Arrivals:
        """Wrap the body read of a request that will then submit a job without awaiting
        anything else: the batch being formed waits for it (bounded by ``gather_max_s``)."""
        return self._arrivals

    async def _gather(self) -> None:
        with suppress(TimeoutError):
            await asyncio.wait_for(self._arrivals.none.wait(), self._gather_max_s)

    async def _flush_all(self) -> None:
        try:
            while self._queue:
                if self._arrivals.count:
                    await self._gather()
                batch = self._queue[: self._max_batch]
                del self._queue[: self._max_batch]
                await self._commit(batch)
                # Let requests whose bytes already arrived enqueue before the next batch.
                await asyncio.sleep(0)
        finally:
            self._flusher = None
            if self._queue:  # a job arrived after the loop ended but before the reset
                self._flusher = asyncio.get_running_loop().create_task(self._flush_all())

    async def _commit(self, batch: list[tuple[Job, asyncio.Future[Any]]]) -> None:
        self.batches += 1
        self.jobs += len(batch)
        results: list[Any] = []
        try:
            async with self.backend.transaction() as tx:
                results = await _run_jobs(tx, [job for job, _future in batch])
        except Exception:
            if len(batch) == 1:
                await self._run_alone(batch[0])
            else:
                for item in batch:
                    await self._run_alone(item)
            return
        for (_job, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)

    async def _run_alone(self, item: tuple[Job, asyncio.Future[Any]]) -> None:
        job, future = item
        try:
            async with self.backend.transaction() as tx:
                (result,) = await _run_jobs(tx, [job])
        except Exception as exc:
            if not future.done():
                future.set_exception(exc)
            return
        if not future.done():
            future.set_result(result)

    async def drain(self) -> None:
        """Wait until everything submitted so far has committed (shutdown)."""
        while self._flusher is not None:
            await asyncio.shield(self._flusher)
