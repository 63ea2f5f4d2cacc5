"""``xtracker demo``: believable traffic through the real write paths, and live traffic."""

from __future__ import annotations

from typing import Any

from xtracker.db.engine import session_scope
from xtracker.db.models import Space
from xtracker.demo.seed import create_demo_space, fill_history, run_live
from xtracker.kit.clock import FrozenClock
from xtracker.report import service
from xtracker.report.rollup import recount, stored
from xtracker.runtime import Runtime


async def _report(rt: Runtime, space_id: str, name: str, **kwargs: Any) -> Any:
    async with session_scope(rt.sessions) as session:
        space = await session.get(Space, space_id)
        assert space is not None
        f = await service.make_filter(session, space, now_ms=rt.clock.now_ms(), preset="7d")
        return await getattr(service, name)(session, f, **kwargs)


class TestDemo:
    async def test_a_filled_demo_tells_a_consistent_story(self, runtime: Runtime) -> None:
        demo = await create_demo_space(runtime)
        assert demo.bearer.startswith("xtb_") and len(demo.links) == 4
        written: list[int] = []
        counts = await fill_history(runtime, demo, days=3, per_day=400, progress=written.append)
        assert sum(written) == sum(counts.values()) and counts["click"] > 800
        funnel = await _report(runtime, demo.space_id, "funnel")
        steps = [s.count for s in funnel.steps]
        assert steps[0] > steps[1] > steps[2] > steps[3] > 0 and steps[4] > 0
        assert funnel.revenue.cents > 0 and funnel.biggest_cliff is not None
        ads = await _report(runtime, demo.space_id, "attribution", group_by="ad")
        assert len(ads.rows) == 9 and len({r.epc for r in ads.rows}) > 1
        geo = await _report(runtime, demo.space_id, "countries")
        assert len(geo.rows) > 15 and geo.rows[0].country == "IN"
        matrix = await _report(runtime, demo.space_id, "deliveries")
        assert len(matrix.destinations) == 2
        assert all(d.sent > 0 for d in matrix.destinations)
        assert sum(d.failed_permanently for d in matrix.destinations) > 0
        async with runtime.backend.reader() as tx:
            for geo_table in (False, True):
                expected = await recount(tx, demo.space_id, geo=geo_table)
                assert await stored(tx, demo.space_id, geo=geo_table) == expected

    async def test_live_traffic_keeps_the_deck_moving(
        self, runtime: Runtime, clock: FrozenClock
    ) -> None:
        demo = await create_demo_space(runtime)

        def tick(_totals: dict[str, int]) -> None:
            clock.advance(1000)

        totals = await run_live(
            runtime,
            demo,
            clicks_per_minute=600,
            speed=600,
            duration_s=30,
            on_tick=tick,
            seed=3,
            tick_s=0,
        )
        assert totals["click"] > 150 and totals["event"] > 50
        async with session_scope(runtime.sessions) as session:
            feed = await service.live_feed(session, demo.space_id, None, 20)
        assert {i.kind for i in feed.items} == {"click", "event"}
        funnel = await _report(runtime, demo.space_id, "funnel")
        # Every click counts but the few bots (link-preview fetchers) among them.
        assert 0.9 * totals["click"] < funnel.steps[0].count < totals["click"]
