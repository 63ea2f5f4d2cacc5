"""Raw-click retention keeps what is young and reports' numbers."""

from __future__ import annotations

import httpx

from tests.conftest import SpaceKeys
from xtracker.click.retention import DAY_MS, prune_clicks
from xtracker.kit.clock import FrozenClock
from xtracker.runtime import Runtime


class TestRetention:
    async def test_old_clicks_go_young_clicks_stay(
        self, http: httpx.AsyncClient, space: SpaceKeys, runtime: Runtime, clock: FrozenClock
    ) -> None:
        for _ in range(3):
            await http.post("/clicks", json={}, headers=space.auth)
        clock.advance(40 * DAY_MS)
        young = (await http.post("/clicks", json={}, headers=space.auth)).json()["uid"]
        assert await prune_clicks(runtime, 0) == 0
        assert await prune_clicks(runtime, 30) == 3
        clicks = (await http.get(f"/api/spaces/{space.slug}/clicks", headers=space.auth)).json()
        assert [c["uid"] for c in clicks] == [young]
