"""Group commit: shared transactions, answers after commit, failures isolated."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from xtracker.db.dialect import Tx
from xtracker.runtime import Runtime


async def _count(runtime: Runtime) -> int:
    async with runtime.backend.reader() as tx:
        row = await tx.fetchone("SELECT count(*) FROM binding")
    assert row is not None
    return int(row[0])


def _insert(uid: str, fail: bool = False):  # type: ignore[no-untyped-def]
    async def job(tx: Tx) -> str:
        await tx.execute(
            "INSERT INTO binding (space_id, uid, tg_id, created_at_ms) VALUES (?, ?, ?, ?)",
            ("s", uid, 1, 0),
        )
        if fail:
            raise ValueError(f"job {uid} fails")
        return uid

    return job


class TestGroupCommitter:
    async def test_many_requests_share_few_transactions(self, runtime: Runtime) -> None:
        results = await asyncio.gather(
            *(runtime.committer.run(_insert(f"u{i}")) for i in range(200))
        )
        assert sorted(results) == sorted(f"u{i}" for i in range(200))
        assert runtime.committer.batches < 50
        assert await _count(runtime) == 200

    async def test_a_failing_job_fails_alone_and_its_neighbours_commit(
        self, runtime: Runtime
    ) -> None:
        jobs = [_insert("a"), _insert("b", fail=True), _insert("c")]
        outcomes = await asyncio.gather(
            *(runtime.committer.run(j) for j in jobs), return_exceptions=True
        )
        assert outcomes[0] == "a" and outcomes[2] == "c"
        assert isinstance(outcomes[1], ValueError)
        assert await _count(runtime) == 2

    async def test_an_answer_means_the_row_is_visible_to_other_connections(
        self, runtime: Runtime
    ) -> None:
        await runtime.committer.run(_insert("x"))
        assert await _count(runtime) == 1

    async def test_a_batch_waits_for_a_request_whose_body_is_arriving(
        self, runtime: Runtime
    ) -> None:
        committer = runtime.committer
        body_in = asyncio.Event()

        async def slow_body_request() -> str:
            with committer.arriving():
                await body_in.wait()  # the body is still on its way
            return await committer.run(_insert("late"))

        late = asyncio.ensure_future(slow_body_request())
        await asyncio.sleep(0)  # the slow request has started reading its body
        batches = committer.batches
        early = asyncio.ensure_future(committer.run(_insert("early")))
        for _ in range(3):  # a few loop turns: the batch is formed and would commit now
            await asyncio.sleep(0)
        body_in.set()
        assert sorted(await asyncio.gather(early, late)) == ["early", "late"]
        assert committer.batches == batches + 1  # one transaction for both
        assert await _count(runtime) == 2

    async def test_a_body_that_never_arrives_delays_a_batch_only_briefly(
        self, runtime: Runtime
    ) -> None:
        committer = runtime.committer
        with committer.arriving():  # e.g. a client that sent its headers and stalled
            loop = asyncio.get_running_loop()
            started = loop.time()
            assert await committer.run(_insert("alone")) == "alone"
            waited = loop.time() - started
        assert waited < 0.5  # bounded by GATHER_MAX_S (2 ms), with room for a slow CI box
        assert await _count(runtime) == 1

    async def test_a_duplicate_key_in_a_batch_fails_only_that_job(self, runtime: Runtime) -> None:
        outcomes = await asyncio.gather(
            runtime.committer.run(_insert("same")),
            runtime.committer.run(_insert("same")),
            return_exceptions=True,
        )
        assert sum(1 for o in outcomes if o == "same") == 1
        assert sum(1 for o in outcomes if isinstance(o, Exception)) == 1
        with pytest.raises(Exception):  # noqa: B017 - sqlite3/asyncpg raise different classes
            await runtime.committer.run(_insert("same"))

    async def test_a_write_waits_for_a_management_session_without_blocking_the_loop(
        self, runtime: Runtime
    ) -> None:
        """A management session holding the write lock needs the loop to finish: the hot
        path waits for the lock off the loop (SQLite), or on its own connection (PostgreSQL)."""
        async with runtime.sessions() as session:
            await session.execute(
                text(
                    "INSERT INTO binding (space_id, uid, tg_id, created_at_ms) VALUES ('s', 'm', 2, 0)"
                )
            )  # the session now holds the write lock until it commits
            pending = asyncio.ensure_future(runtime.committer.run(_insert("hot")))
            ticks = 0
            for _ in range(10):  # the loop keeps running while the write waits
                await asyncio.sleep(0.02)
                ticks += 1
            assert ticks == 10
            if runtime.backend.dialect == "sqlite":  # PostgreSQL locks rows, not the database
                assert not pending.done()
            await session.commit()
        assert await asyncio.wait_for(pending, timeout=5) == "hot"
        assert await _count(runtime) == 2
