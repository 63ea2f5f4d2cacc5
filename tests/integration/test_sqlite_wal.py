"""SQLite's writers take turns across processes, and the WAL is checkpointed off the loop."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from xtracker.db import wal
from xtracker.db.dialect import SqliteBackend

INSERT = "INSERT INTO binding (space_id, uid, tg_id, created_at_ms) VALUES (?, ?, ?, ?)"

# Another process that holds the writers' turn and SQLite's write lock until told to stop.
HOLDER = """
import fcntl, os, sqlite3, sys
db = sys.argv[1]
fd = os.open(db + "-writer", os.O_RDWR | os.O_CREAT)
fcntl.flock(fd, fcntl.LOCK_EX)
c = sqlite3.connect(db, isolation_level=None)
c.execute("BEGIN IMMEDIATE")
c.execute("INSERT INTO binding (space_id, uid, tg_id, created_at_ms) VALUES ('s', 'other', 1, 0)")
print("holding", flush=True)
sys.stdin.readline()
c.execute("COMMIT")
fcntl.flock(fd, fcntl.LOCK_UN)
"""


@pytest.fixture
def db(sqlite_template: Path, tmp_path: Path) -> Path:
    path = tmp_path / "xtracker.db"
    shutil.copy(sqlite_template, path)
    return path


def _rows(db: Path) -> set[str]:
    with sqlite3.connect(db) as c:
        return {row[0] for row in c.execute("SELECT uid FROM binding")}


def _turn_holders(db: Path) -> str:
    """Who holds or waits for the writers' turn: /proc/locks lines for the file, and this
    process's descriptors open on it (for a failure message)."""
    turn = wal.turn_path(db)
    inode = os.stat(turn).st_ino
    locks = [line.strip() for line in Path("/proc/locks").read_text().splitlines()
             if line.split()[-3].endswith(f":{inode}")]  # fmt: skip
    fds = []
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            if os.readlink(f"/proc/self/fd/{fd}") == str(turn):
                fds.append(int(fd))
    return f"locks {locks}, our descriptors on it {sorted(fds)}"


def _turn_is_free(db: Path) -> bool:
    fd = os.open(wal.turn_path(db), os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)  # closing drops the lock if it was taken
    return True


async def _write(backend: SqliteBackend, uid: str) -> None:
    async with backend.transaction() as tx:
        await tx.execute(INSERT, ("s", uid, 1, 0))


class TestWriterTurn:
    async def test_a_write_waits_for_another_process_then_goes_at_once(self, db: Path) -> None:
        holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(db)],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)  # fmt: skip
        backend = SqliteBackend(db)
        try:
            assert holder.stdout is not None and holder.stdin is not None
            assert holder.stdout.readline().strip() == "holding"
            pending = asyncio.ensure_future(_write(backend, "ours"))
            for _ in range(10):  # the loop keeps running while the write waits its turn
                await asyncio.sleep(0.02)
            assert not pending.done()
            holder.stdin.write("\n")
            holder.stdin.flush()
            await asyncio.wait_for(pending, timeout=5)  # no "database is locked"
            assert holder.wait(timeout=5) == 0
        finally:
            holder.kill()
            await backend.close()
        assert _rows(db) == {"other", "ours"}
        assert _turn_is_free(db)

    async def test_a_cancelled_wait_hands_the_turn_back_when_it_comes(self, db: Path) -> None:
        first, second = SqliteBackend(db), SqliteBackend(db)
        try:
            release = asyncio.Event()

            async def hold() -> None:
                async with first.transaction() as tx:
                    await tx.execute(INSERT, ("s", "first", 1, 0))
                    await release.wait()

            holding = asyncio.ensure_future(hold())
            await asyncio.sleep(0.05)
            waiting = asyncio.ensure_future(_write(second, "given-up"))
            await asyncio.sleep(0.05)
            waiting.cancel()  # e.g. the request's client went away
            with pytest.raises(asyncio.CancelledError):
                await waiting
            release.set()
            await holding
            # The abandoned wait's thread now gets the turn and gives it straight back (which
            # clears the wait). Wait for that hand-back itself: polling the lock instead could
            # see it free for a moment *before* the thread took it, then held (2 of 60 runs on
            # a loaded box, the holder being that thread).
            for _ in range(500):
                if second._turn._wait is None:
                    break
                await asyncio.sleep(0.01)
            assert second._turn._wait is None, (
                f"the abandoned wait never got the turn: {second._turn._wait};"
                f" first's descriptor {first._turn._file.fileno()},"
                f" second's {second._turn._file.fileno()}; {_turn_holders(db)}"
            )
            assert _turn_is_free(db), _turn_holders(db)
            await asyncio.wait_for(_write(second, "later"), timeout=5)
            await asyncio.wait_for(_write(first, "again"), timeout=5)
        finally:
            await first.close()
            await second.close()
        assert _rows(db) == {"first", "later", "again"}

    async def test_a_wait_still_queued_at_close_never_locks_a_reused_descriptor(
        self, db: Path
    ) -> None:
        """A wait runs in an executor thread and may start only after its turn was closed
        (e.g. the server shut down meanwhile); by then the descriptor number can belong to
        another file, or to another turn of the same file, which it must not lock."""
        loop = asyncio.get_running_loop()
        loop.set_default_executor(ThreadPoolExecutor(1))
        gate = threading.Event()
        busy = loop.run_in_executor(None, gate.wait)  # the executor's only thread is taken
        holder, late = wal.WriterTurn(db), wal.WriterTurn(db)
        await holder.take()
        waiting = asyncio.ensure_future(late.take())
        await asyncio.sleep(0.05)  # late's flock now waits in the executor's queue
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        late_fd = late._file.fileno()
        late.close()
        holder.give_back()
        reused = wal.WriterTurn(db)
        try:
            assert reused._file.fileno() == late_fd  # the number went to a new turn
            gate.set()
            await busy
            await loop.run_in_executor(None, lambda: None)  # the queued flock has run
            assert _turn_is_free(db), _turn_holders(db)
            await reused.take()
            reused.give_back()
        finally:
            gate.set()
            for turn in (holder, late, reused):
                turn.close()


class TestCheckpointer:
    async def test_commits_reach_the_database_file_and_the_log_stays_short(
        self, db: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # Every batch below dirties more pages than this, so every checkpoint after a commit
        # sees a log at least this long and takes the catch-up path. (At 100 frames whether
        # one checkpoint ever saw that many depended on timing: a full run once had none.)
        monkeypatch.setattr(wal, "CATCH_UP_FRAMES", 10)
        backend = SqliteBackend(db)
        # An idle connection left open, so that closing the backend is not the file's last
        # close (which would checkpoint by itself and hide what the thread did or did not do).
        bystander = sqlite3.connect(db)
        bystander.execute("SELECT count(*) FROM binding").fetchone()  # opens the WAL for real
        written: set[str] = set()
        largest_log = 0
        generations = {_log_generation(db)}
        try:
            for batch in range(60):  # ~1,500 pages of random index entries in all
                async with backend.transaction() as tx:
                    uids = [f"{batch:03d}-{os.urandom(24).hex()}" for _ in range(200)]
                    await tx.executemany(INSERT, [("s", uid, 1, 0) for uid in uids])
                written.update(uids)
                largest_log = max(largest_log, (db.parent / f"{db.name}-wal").stat().st_size)
                generations.add(_log_generation(db))
                await asyncio.sleep(0.002)  # requests arrive between batches
            await _until_idle(backend.checkpointer)
            catch_ups = backend.checkpointer.catch_ups
            await backend.close()  # stops the thread: nothing writes the file from here on
            # Every committed row was copied into the database file by the checkpointer's
            # thread (the loop's writer never checkpoints), and the log restarted on the way.
            assert _in_database_file(db) == written
        finally:
            await backend.close()
            bystander.close()
        assert len(generations) >= 2  # the log started over from the top at least once
        assert catch_ups >= 1
        assert largest_log < 30 * 100 * 4096

    async def test_close_stops_the_thread(self, db: Path) -> None:
        before = _checkpoint_threads()
        backend = SqliteBackend(db)
        await _write(backend, "x")
        assert _checkpoint_threads() == before + 1
        await backend.close()
        assert _checkpoint_threads() == before


def _in_database_file(db: Path) -> set[str]:
    """The rows in the database file itself, ignoring the write-ahead log."""
    with sqlite3.connect(f"file:{db}?immutable=1", uri=True) as c:
        return {row[0] for row in c.execute("SELECT uid FROM binding")}


def _log_generation(db: Path) -> int:
    """The WAL header's checkpoint sequence number: it goes up each time the log restarts."""
    with open(f"{db}-wal", "rb") as log:
        header = log.read(32)
    return int.from_bytes(header[12:16], "big") if len(header) == 32 else -1


async def _until_idle(checkpointer: wal.Checkpointer) -> None:
    """Until the checkpoint the last commit asked for has run (the count stops moving)."""
    seen, still = -1, 0
    for _ in range(200):
        await asyncio.sleep(0.05)
        still = still + 1 if checkpointer.checkpoints == seen else 0
        seen = checkpointer.checkpoints
        if still >= 3:
            return
    raise AssertionError("the checkpointer never went idle")


def _checkpoint_threads() -> int:
    return sum(1 for t in threading.enumerate() if t.name == "xtracker-checkpoint")


async def test_a_backend_closed_twice_is_fine(db: Path) -> None:
    backend = SqliteBackend(db)
    await _write(backend, "x")
    await backend.close()
    await backend.close()  # e.g. a test and its fixture both close the runtime


async def test_a_bulk_load_commits_without_syncing_and_ends_in_the_database_file(
    db: Path,
) -> None:
    backend = SqliteBackend(db)
    try:
        # e.g. `xtracker demo` filling a month of traffic
        async with backend.bulk_load(), backend.transaction() as tx:
            assert await tx.fetchone("PRAGMA synchronous") == (0,)  # OFF
            await tx.execute(INSERT, ("s", "bulk", 1, 0))
        async with backend.transaction() as tx:
            assert await tx.fetchone("PRAGMA synchronous") == (2,)  # FULL again
        assert "bulk" in _in_database_file(db)  # checkpointed (and synced) at the end
    finally:
        await backend.close()
