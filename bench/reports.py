"""Report benchmark: funnel, time series and attribution over 1,000,000 clicks.

    .venv/bin/python bench/reports.py [--clicks 1000000] [--events 200000] [--runs 7]
                                      [--postgres postgresql://postgres@127.0.0.1:5432/postgres]

Fills a fresh SQLite database (and, with --postgres, a fresh PostgreSQL database created
beside the given one) with 30 days of clicks and events in bulk, builds the rollups from the
raw rows (``report.rollup.rebuild``, the same cells the write paths keep), checks them against
the raw counts, then times each report through the report service, as the API calls it, over
the last 30 days: the median of --runs runs after one warm-up. The bar is 300 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from sqlalchemy import text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from xtracker.click.record import CLICK_COLUMNS  # noqa: E402 - after the path set-up
from xtracker.config import Settings  # noqa: E402
from xtracker.db.engine import session_scope  # noqa: E402
from xtracker.db.migrate import upgrade  # noqa: E402
from xtracker.db.models import Space  # noqa: E402
from xtracker.kit.ids import new_uid  # noqa: E402
from xtracker.report import service  # noqa: E402
from xtracker.report.rollup import rebuild  # noqa: E402
from xtracker.runtime import Runtime  # noqa: E402

console = Console()
DAY = 86_400_000
NOW = 1_765_432_100_000
COUNTRIES = [
    "IN",
    "BR",
    "ID",
    "NG",
    "PK",
    "BD",
    "MX",
    "PH",
    "VN",
    "EG",
    "TR",
    "US",
    "DE",
    "GB",
    "FR",
    "IT",
    "ES",
    "PL",
    "UA",
    "KZ",
    "TH",
    "MY",
    "CO",
    "AR",
    "PE",
    "CL",
    "ZA",
    "KE",
    "GH",
    "MA",
    "SA",
    "AE",
    "JP",
    "KR",
    "CA",
    "AU",
    "NL",
    "RO",
    "PT",
    "CZ",
]
INBOX = (
    "INSERT INTO event_inbox (id, space_id, dedup_key, canonical, uid, tg_id, link_id, eid,"
    " occurred_at_ms, received_at_ms, value_cents, currency, source)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def make_data(
    space_id: str, links: list[str], n_clicks: int, n_events: int, seed: int = 7
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    rnd = random.Random(seed)
    ads = [
        (links[i % len(links)], f"cmp{i % 6}", f"Campaign {i % 6}", f"ad{i}", f"Creative {i}")
        for i in range(40)
    ]
    weights = [1 / (i + 1) for i in range(len(COUNTRIES))]
    start = NOW - 30 * DAY
    clicks: list[tuple[Any, ...]] = []
    index = {c: i for i, c in enumerate(CLICK_COLUMNS)}
    template: list[Any] = [None] * len(CLICK_COLUMNS)
    countries = rnd.choices(COUNTRIES, weights, k=n_clicks)
    for n in range(n_clicks):
        ts = start + rnd.randrange(30 * DAY)
        link, cid, cname, aid, aname = ads[rnd.randrange(40)]
        row = template.copy()
        row[index["uid"]] = new_uid(ts)
        row[index["space_id"]] = space_id
        row[index["link_id"]] = link
        row[index["ts_ms"]] = ts
        row[index["source"]] = "landing"
        row[index["is_bot"]] = n % 50 == 0
        row[index["country"]] = countries[n]
        row[index["campaign_id"]], row[index["campaign_name"]] = cid, cname
        row[index["ad_id"]], row[index["ad_name"]] = aid, aname
        clicks.append(tuple(row))
    events: list[tuple[Any, ...]] = []
    shares = (("contact", 0.5), ("subscribed", 0.25), ("registration", 0.15), ("deposit", 0.10))
    for canonical, share in shares:
        for _ in range(int(n_events * share)):
            click = clicks[rnd.randrange(n_clicks)]
            ts = click[index["ts_ms"]] + rnd.randrange(3_600_000)
            value = rnd.randrange(1000, 20000) if canonical == "deposit" else None
            events.append(
                (
                    new_uid(ts),
                    space_id,
                    uuid.uuid4().hex,
                    canonical,
                    click[0],
                    None,
                    click[index["link_id"]],
                    None,
                    ts,
                    ts,
                    value,
                    "USD",
                    "api",
                )
            )
    return clicks, events


async def fill(rt: Runtime, space_id: str, n_clicks: int, n_events: int) -> dict[str, float]:
    timings: dict[str, float] = {}
    async with session_scope(rt.sessions) as session:
        session.add(
            Space(
                id=space_id,
                slug=f"bench-{space_id[-6:]}",
                name="Bench",
                timezone="UTC",
                currency="USD",
                created_at_ms=NOW,
            )
        )
    links = [new_uid(NOW) for _ in range(12)]
    async with rt.backend.transaction() as tx:
        await tx.executemany(
            "INSERT INTO link (id, space_id, slug, name, kind, target_url, title, text,"
            " button_label, auto_redirect, active, tags, created_at_ms, updated_at_ms)"
            " VALUES (?, ?, ?, ?, 'web', 'https://o.example/c/{uid}', '', '', 'Go', ?, ?,"
            " '[]', ?, ?)",
            [
                (lid, space_id, f"b{space_id[-6:]}-{i}", f"Link {i}", False, True, NOW, NOW)
                for i, lid in enumerate(links)
            ],
        )
    if rt.backend.dialect == "sqlite":  # a scratch database: skip fsync while filling
        async with rt.backend.reader() as tx:
            await tx.execute("PRAGMA synchronous=OFF")
    began = time.perf_counter()
    clicks, events = make_data(space_id, links, n_clicks, n_events)
    timings["generate"] = time.perf_counter() - began
    insert_click = (
        f"INSERT INTO click ({', '.join(CLICK_COLUMNS)})"
        f" VALUES ({', '.join('?' for _ in CLICK_COLUMNS)})"
    )
    began = time.perf_counter()
    chunk = 20_000
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("clicks + events", total=len(clicks) + len(events))
        for rows, sql in ((clicks, insert_click), (events, INBOX)):
            for at in range(0, len(rows), chunk):
                async with rt.backend.transaction() as tx:
                    await tx.executemany(sql, rows[at : at + chunk])
                progress.advance(task, len(rows[at : at + chunk]))
    timings["insert"] = time.perf_counter() - began
    if rt.backend.dialect == "postgresql":  # fresh statistics, as autovacuum would gather
        async with rt.backend.reader() as tx:
            await tx.execute("ANALYZE")
    began = time.perf_counter()
    async with rt.backend.transaction() as tx:
        cells = await rebuild(tx, space_id)
    timings["rollup build"] = time.perf_counter() - began
    timings["rollup cells"] = cells
    return timings


async def time_reports(rt: Runtime, space_id: str, runs: int) -> dict[str, list[float]]:
    async with session_scope(rt.sessions) as session:
        space = await session.get(Space, space_id)
        assert space is not None
        f = await service.make_filter(session, space, now_ms=NOW, preset="30d")
        link = (
            await session.execute(
                text("SELECT id FROM link WHERE space_id = :s ORDER BY id LIMIT 1"),
                {"s": space_id},
            )
        ).scalar_one()
        one_link = f.model_copy(update={"link_id": link})
        one_campaign = f.model_copy(update={"campaign": "Campaign 1"})
    cases: dict[str, Callable[[Any], Awaitable[Any]]] = {
        "funnel": lambda s: service.funnel(s, f),
        "timeseries (day)": lambda s: service.timeseries(s, f, "day"),
        "timeseries (hour)": lambda s: service.timeseries(s, f, "hour"),
        "attribution (link)": lambda s: service.attribution(s, f, "link"),
        "attribution (ad)": lambda s: service.attribution(s, f, "ad"),
        "countries": lambda s: service.countries(s, f, "clicks"),
        "funnel (one link)": lambda s: service.funnel(s, one_link),
        "funnel (one campaign)": lambda s: service.funnel(s, one_campaign),
        "timeseries (hour, one link)": lambda s: service.timeseries(s, one_link, "hour"),
    }
    results: dict[str, list[float]] = {}
    for name, call in cases.items():
        samples = []
        for n in range(runs + 1):
            began = time.perf_counter()
            async with session_scope(rt.sessions) as session:
                await call(session)
            if n:  # the first run warms caches
                samples.append((time.perf_counter() - began) * 1000)
        results[name] = samples
    async with session_scope(rt.sessions) as session:
        funnel = await service.funnel(session, f)
    async with rt.backend.reader() as tx:
        raw = await tx.fetchone(
            "SELECT COUNT(*) FROM click WHERE space_id = ? AND is_bot = ? AND ts_ms >= ?"
            " AND ts_ms < ?",
            (space_id, False, f.start_ms, f.end_ms),
        )
    assert raw is not None and funnel.steps[0].count == raw[0], (funnel.steps[0].count, raw)
    return results


async def bench(url: str, label: str, args: argparse.Namespace) -> None:
    scratch = Path(tempfile.mkdtemp())
    key = "bench"  # a scratch database
    settings = Settings(database_url=url, secret_key=key, data_dir=scratch)
    await asyncio.to_thread(upgrade, settings)
    rt = await Runtime.open(settings, with_geo=False)
    try:
        space_id = new_uid(NOW)
        console.print(
            f"[bold]{label}[/]: filling {args.clicks:,} clicks and {args.events:,} events"
        )
        timings = await fill(rt, space_id, args.clicks, args.events)
        console.print(
            f"  generated in {timings['generate']:.1f} s, inserted in {timings['insert']:.1f} s,"
            f" rollups built in {timings['rollup build']:.1f} s ({int(timings['rollup cells']):,} cells)"
        )
        results = await time_reports(rt, space_id, args.runs)
    finally:
        await rt.close()
    table = Table(
        title=f"{label}: reports over 30 days, {args.clicks:,} clicks, {args.events:,} events"
    )
    for column in ("report", "median ms", "min ms", "max ms", "under 300 ms"):
        table.add_column(column, justify="left" if column == "report" else "right")
    for name, samples in results.items():
        median = statistics.median(samples)
        table.add_row(
            name,
            f"{median:.1f}",
            f"{min(samples):.1f}",
            f"{max(samples):.1f}",
            "yes" if median < 300 else "[red]no[/]",
        )
    console.print(table)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clicks", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--postgres", help="admin DSN; a scratch database is created and dropped")
    parser.add_argument("--no-sqlite", action="store_true", help="only PostgreSQL")
    args = parser.parse_args()
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            await bench(f"sqlite:///{tmp}/bench.db", "SQLite", args)
    if args.postgres:
        import asyncpg

        name = f"xt_bench_{uuid.uuid4().hex[:8]}"
        admin = await asyncpg.connect(args.postgres)
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            await bench(args.postgres.rsplit("/", 1)[0] + "/" + name, "PostgreSQL", args)
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()


if __name__ == "__main__":
    asyncio.run(main())
