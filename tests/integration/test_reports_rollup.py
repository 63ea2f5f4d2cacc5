"""The rollups stay exact: after random traffic they equal a recount of the raw tables."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
from typing import Any

import httpx
from sqlalchemy import text

from tests.conftest import SpaceKeys
from tests.integration.report_support import DAY, HOUR, T0, create_link, visit
from xtracker.binding.bind import bind_job
from xtracker.db.engine import session_scope
from xtracker.db.models import Space
from xtracker.errors import AlreadyBound
from xtracker.event.ingest import ingest_job
from xtracker.event.parse import parse_event
from xtracker.report import service
from xtracker.report.rollup import rebuild, recount, stored
from xtracker.report.service import pieces
from xtracker.runtime import Runtime

EVENTS = ("contact", "subscribed", "registration", "deposit")


async def random_traffic(rt: Runtime, http: httpx.AsyncClient, space: SpaceKeys) -> None:
    rnd = random.Random(20261127)
    links: list[str | None] = [await create_link(http, space, f"r{i}") for i in range(3)]
    links.append(None)  # clicks back-filled through the API may have no link
    uids: list[str] = []
    for _round in range(4):  # concurrent visits share group-commit batches
        batch = []
        for _ in range(40):
            ts = T0 - 2 * DAY + rnd.randrange(3 * DAY)
            params = {}
            if rnd.random() < 0.8:
                params["campaign_id"] = f"c{rnd.randrange(3)}"
                params["campaign_name"] = f"Campaign {params['campaign_id']}"
            if rnd.random() < 0.7:
                params["ad_id"] = f"ad{rnd.randrange(5)}"
                params["ad_name"] = "x" * 200 if rnd.random() < 0.1 else f"Ad {params['ad_id']}"
            batch.append(
                visit(
                    rt,
                    space.id,
                    rnd.choice(links),
                    ts,
                    bot=rnd.random() < 0.15,
                    country=rnd.choice(["DE", "IN", "br", None, "XX"]),
                    **params,
                )
            )
        uids.extend(await asyncio.gather(*batch))
    tg_ids = [1000 + i for i in range(12)]

    def random_event() -> dict[str, Any]:
        name = rnd.choice(EVENTS)
        data: dict[str, Any] = {"event": name, "occurred_at_ms": T0 - DAY + rnd.randrange(2 * DAY)}
        roll = rnd.random()
        if roll < 0.65:
            data["uid"] = rnd.choice(uids)
        elif roll < 0.75:
            data["uid"] = f"unknown-{rnd.randrange(5)}"
        else:
            data["tg_id"] = rnd.choice(tg_ids)
        if rnd.random() < 0.3:
            data["eid"] = f"e{rnd.randrange(40)}"  # repeats are duplicates
        if name == "deposit" and rnd.random() < 0.9:
            data["value"] = str(rnd.randrange(100, 10_000) / 100)
            data["currency"] = rnd.choice(["USD", "USD", "EUR"])
        return data

    async def ingest(events: list[dict[str, Any]]) -> None:
        now = rt.clock.now_ms()
        parsed = [parse_event(e, now_ms=now, default_currency="USD") for e in events]
        await rt.committer.run(ingest_job(space.id, parsed, now))

    async def bind(uid: str, tg_id: int) -> None:
        with contextlib.suppress(AlreadyBound):
            await rt.committer.run(bind_job(space.id, uid, tg_id, rt.clock.now_ms()))

    for _round in range(5):
        jobs = [ingest([random_event() for _ in range(rnd.randrange(1, 8))]) for _ in range(15)]
        jobs += [bind(rnd.choice(uids), rnd.choice(tg_ids)) for _ in range(3)]
        rnd.shuffle(jobs)
        await asyncio.gather(*jobs)
        rt.clock.advance(1000)  # type: ignore[attr-defined]


class TestRollups:
    async def test_rollups_equal_a_raw_recount_after_random_traffic(
        self, runtime: Runtime, http: httpx.AsyncClient, space: SpaceKeys
    ) -> None:
        await random_traffic(runtime, http, space)
        async with runtime.backend.reader() as tx:
            for geo in (False, True):
                expected = await recount(tx, space.id, geo=geo)
                assert len(expected) > 100
                assert await stored(tx, space.id, geo=geo) == expected

    async def test_rebuild_reproduces_what_the_write_paths_kept(
        self, runtime: Runtime, http: httpx.AsyncClient, space: SpaceKeys
    ) -> None:
        await random_traffic(runtime, http, space)
        async with runtime.backend.reader() as tx:
            before = [await stored(tx, space.id, geo=g) for g in (False, True)]
        async with runtime.backend.transaction() as tx:
            await rebuild(tx, space.id)
        async with runtime.backend.reader() as tx:
            assert [await stored(tx, space.id, geo=g) for g in (False, True)] == before

    async def test_reports_equal_raw_counts_over_any_range(
        self, runtime: Runtime, http: httpx.AsyncClient, space: SpaceKeys
    ) -> None:
        await random_traffic(runtime, http, space)
        async with session_scope(runtime.sessions) as session:
            found = await session.get(Space, space.id)
            assert found is not None
            for start, end in (
                (T0 - 2 * DAY, T0 + DAY),
                (T0 - 5 * HOUR - 15 * 60_000, T0 + 30 * 60_000),
            ):
                f = await service.make_filter(
                    session, found, now_ms=T0, preset="custom", start=start, end=end
                )
                funnel = await service.funnel(session, f)
                raw = (
                    await session.execute(
                        text(
                            "SELECT COUNT(*) FROM click WHERE space_id = :s AND is_bot = :b"
                            " AND ts_ms >= :a AND ts_ms < :e"
                        ),
                        {"s": space.id, "b": False, "a": f.start_ms, "e": f.end_ms},
                    )
                ).scalar_one()
                assert funnel.steps[0].count == raw
                for name in EVENTS:
                    events = (
                        await session.execute(
                            text(
                                "SELECT COUNT(*) FROM event_inbox WHERE space_id = :s"
                                " AND canonical = :c AND occurred_at_ms >= :a"
                                " AND occurred_at_ms < :e"
                            ),
                            {"s": space.id, "c": name, "a": f.start_ms, "e": f.end_ms},
                        )
                    ).scalar_one()
                    assert {s.step: s.count for s in funnel.steps}[name] == events


class TestPieces:
    def test_whole_days_and_hours_where_they_fit_quarters_at_the_edges(self) -> None:
        q = 15 * 60_000
        start, end = T0 - DAY - 5 * HOUR - 2 * q, T0 + DAY + HOUR + q
        parts = pieces(start, end)
        assert parts[2] == [T0 - DAY, T0]
        assert len(parts[1]) == 5 + 1 and len(parts[0]) == 2 + 1
        covered = sorted(
            (b, b + size) for level, size in ((0, q), (1, HOUR), (2, DAY)) for b in parts[level]
        )
        assert covered[0][0] == start and covered[-1][1] == end
        assert all(a[1] == b[0] for a, b in itertools.pairwise(covered))

    def test_split_points_break_larger_buckets(self) -> None:
        parts = pieces(T0, T0 + DAY, [T0 + 5 * HOUR + 30 * 60_000])
        assert parts[2] == [] and len(parts[1]) == 23 and len(parts[0]) == 4
