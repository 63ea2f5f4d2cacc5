"""Group commit: the writes of many concurrent requests share one transaction.

Each request submits a job and awaits its result; the result is delivered only after the
transaction that ran the job has committed, so an answer always means "on disk". While one
batch commits, the next one gathers (adaptive: no timer, so an idle server answers at once).
A batch that fails is retried job by job, so one bad job never fails its neighbours.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from xtracker.db.dialect import Backend, Tx

T = TypeVar("T")
Job = Callable[[Tx], Awaitable[Any]]


class GroupCommitter:
    def __init__(self, backend: Backend, *, max_batch: int = 2000) -> None:
        self.backend = backend
        self._max_batch = max_batch
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

    async def _flush_all(self) -> None:
        try:
            while self._queue:
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
                for job, _future in batch:
                    results.append(await job(tx))
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
                result = await job(tx)
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
