"""Alert evaluation benchmark: every rule of one space, once a minute, on big tables.

    .venv/bin/python bench/alerts.py [--clicks 500000] [--events 100000] [--outbox 200000]
                                     [--runs 7] [--postgres postgresql://postgres@127.0.0.1/postgres]

Fills a scratch database like bench/reports.py (30 days of clicks and events, rollups built
from the raw rows), adds an outbox of --outbox dispatches (2 % still queued) with one
delivery attempt each (the last hour's share of them failing for one destination), then times
``alert_service.evaluate_space`` — what the worker runs every minute per space — as the median
of --runs runs after one warm-up. It also prints the query plans of the raw delivery queries.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from reports import NOW, console, fill  # noqa: E402 - after the path set-up

from xtracker.alert.rules import RULES, defaults  # noqa: E402
from xtracker.alert.service import alert_service  # noqa: E402
from xtracker.config import Settings  # noqa: E402
from xtracker.db.engine import session_scope  # noqa: E402
from xtracker.db.migrate import upgrade  # noqa: E402
from xtracker.db.models import Space  # noqa: E402
from xtracker.kit.ids import new_uid  # noqa: E402
from xtracker.runtime import Runtime  # noqa: E402

HOUR = 3_600_000
OUTBOX = (
    "INSERT INTO event_outbox (id, space_id, inbox_id, destination_id, event_id, event_name,"
    " status, attempts, next_attempt_at_ms, created_at_ms, updated_at_ms, sent_at_ms)"
    " VALUES (?, ?, ?, ?, ?, 'Lead', ?, 1, ?, ?, ?, ?)"
)
ATTEMPT = (
    "INSERT INTO delivery_attempt (id, outbox_id, space_id, destination_id, attempt, at_ms,"
    " outcome, status_code, latency_ms) VALUES (?, ?, ?, ?, 1, ?, ?, ?, 40)"
)


async def fill_deliveries(rt: Runtime, space_id: str, n: int) -> str:
    rnd = random.Random(3)
    dests = [new_uid(NOW) for _ in range(3)]
    async with rt.backend.transaction() as tx:
        await tx.executemany(
            "INSERT INTO destination (id, space_id, kind, name, event_map, config, active,"
            " created_at_ms, updated_at_ms) VALUES (?, ?, 'webhook', ?, '{}', '{}', ?, ?, ?)",
            [(d, space_id, f"Dest {i}", True, NOW, NOW) for i, d in enumerate(dests)],
        )
    outbox, attempts = [], []
    for k in range(n):
        at = NOW - rnd.randrange(30 * 24 * HOUR)
        dest = dests[k % 3]
        queued = k % 50 == 0
        failing = dest == dests[0] and at > NOW - HOUR and k % 4 == 0
        status = "pending" if queued else ("retrying" if failing else "sent")
        oid = new_uid(at)
        outbox.append((oid, space_id, oid, dest, oid, status, at, at, at,
                       None if queued or failing else at))  # fmt: skip
        if not queued:
            attempts.append((new_uid(at), oid, space_id, dest, at,
                             "retry" if failing else "sent", 500 if failing else 200))  # fmt: skip
    for rows, sql in ((outbox, OUTBOX), (attempts, ATTEMPT)):
        for at in range(0, len(rows), 20_000):
            async with rt.backend.transaction() as tx:
                await tx.executemany(sql, rows[at : at + 20_000])
    return dests[0]


async def bench(url: str, label: str, args: argparse.Namespace) -> None:
    scratch = Path(tempfile.mkdtemp())
    key = "bench"  # a scratch database
    settings = Settings(database_url=url, secret_key=key, data_dir=scratch)
    await asyncio.to_thread(upgrade, settings)
    rt = await Runtime.open(settings, with_geo=False)
    try:
        space_id = new_uid(NOW)
        console.print(f"[bold]{label}[/]: {args.clicks:,} clicks, {args.events:,} events, "
                      f"{args.outbox:,} dispatches")  # fmt: skip
        await fill(rt, space_id, args.clicks, args.events)
        dest = await fill_deliveries(rt, space_id, args.outbox)
        samples, report = [], None
        for n in range(args.runs + 1):
            began = time.perf_counter()
            async with session_scope(rt.sessions) as session:
                space = await session.get(Space, space_id)
                assert space is not None
                report = await alert_service.evaluate_space(session, space, settings, NOW)
            if n:
                samples.append((time.perf_counter() - began) * 1000)
        console.print(f"  evaluate_space: median {statistics.median(samples):.1f} ms, "
                      f"min {min(samples):.1f}, max {max(samples):.1f} ({report})")  # fmt: skip
        async with session_scope(rt.sessions) as session:
            for kind, spec in RULES.items():
                began = time.perf_counter()
                await spec.condition(session, space_id, defaults(kind), NOW)
                console.print(f"    {kind}: {(time.perf_counter() - began) * 1000:.1f} ms")
        if rt.backend.dialect == "sqlite":
            async with rt.backend.reader() as tx:
                for sql in (
                    "SELECT destination_id, COUNT(*) FROM delivery_attempt WHERE space_id = ?"
                    " AND at_ms >= ? GROUP BY destination_id",
                    "SELECT destination_id, COUNT(*), MIN(created_at_ms) FROM event_outbox"
                    " WHERE destination_id IN (?) AND status IN ('pending', 'sending',"
                    " 'retrying') GROUP BY destination_id",
                ):
                    params = (space_id, NOW - HOUR) if "delivery_attempt" in sql else (dest,)
                    plan = await tx.fetchall("EXPLAIN QUERY PLAN " + sql, params)
                    console.print("  plan: " + " / ".join(str(p[-1]) for p in plan))
    finally:
        await rt.close()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clicks", type=int, default=500_000)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--outbox", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--postgres", default=None)
    args = parser.parse_args()
    path = Path(tempfile.mkdtemp()) / "alerts.db"
    await bench(f"sqlite:///{path}", "SQLite", args)
    if args.postgres:
        import asyncpg

        name = f"xt_bench_alerts_{int(time.time())}"
        admin = await asyncpg.connect(args.postgres)
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            await bench(args.postgres.rsplit("/", 1)[0] + "/" + name, "PostgreSQL", args)
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()


if __name__ == "__main__":
    asyncio.run(main())
