"""What one shared transaction costs per event, apart from HTTP and the disk.

    .venv/bin/python bench/batch_cost.py [--batches 400] [--size 64]

A batch of ``POST /events`` jobs runs while nothing else on the event loop can, so its
cost per event bounds the hot path more directly than its total CPU. This builds ingest
jobs for a fresh space the way the handler does (``prepare``: before the request queues
them) and runs them in one SQLite transaction (``in transaction``, up to but not
including the COMMIT), then reports the medians per event. Compare two checkouts with
``PYTHONPATH=<checkout>/src``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from xtracker.db.dialect import SqliteBackend
from xtracker.db.writer import _run_jobs
from xtracker.event.ingest import ingest_job
from xtracker.event.parse import parse_event

XTRACKER = str(Path(sys.executable).with_name("xtracker"))


def create_space(workdir: Path) -> str:
    env = {**os.environ, "XTRACKER_DATA_DIR": str(workdir), "XTRACKER_SECRET_KEY": "bench"}
    created = subprocess.run([XTRACKER, "space", "create", "Bench", "--json"], env=env,
                             capture_output=True, text=True, check=True)  # fmt: skip
    space_id: str = json.loads(created.stdout)["space"]["id"]
    return space_id


async def measure(workdir: Path, space_id: str, batches: int, size: int) -> tuple[float, float]:
    backend = SqliteBackend(workdir / "xtracker.db")
    prepare: list[float] = []
    in_tx: list[float] = []
    n = 0
    try:
        for batch in range(batches):
            now = int(time.time() * 1000)
            events = []
            for _ in range(size):  # the same shape as bench/events.lua: known uids, new eids
                n += 1
                body = {
                    "event": "deposit",
                    "uid": f"u{n % 5000}",
                    "value": "25.00",
                    "eid": f"tx-{n}",
                }
                events.append(parse_event(body, now_ms=now))
            t0 = time.perf_counter()
            jobs = [ingest_job(space_id, [event], now) for event in events]
            t1 = time.perf_counter()
            async with backend.transaction() as tx:
                await _run_jobs(tx, jobs)
                t2 = time.perf_counter()
            if batch >= batches // 8:  # the first ones warm caches and the WAL
                prepare.append((t1 - t0) / size * 1e6)
                in_tx.append((t2 - t1) / size * 1e6)
    finally:
        await backend.close()
    return statistics.median(prepare), statistics.median(in_tx)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--batches", type=int, default=400)
    parser.add_argument("--size", type=int, default=64)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        space_id = create_space(Path(tmp))
        prepare, in_tx = asyncio.run(measure(Path(tmp), space_id, args.batches, args.size))
    print(f"per event: prepare {prepare:.1f} µs, in transaction {in_tx:.1f} µs"
          f" (median of {args.batches - args.batches // 8} batches of {args.size})")  # fmt: skip


if __name__ == "__main__":
    main()
