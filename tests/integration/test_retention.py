"""Retention: raw clicks and delivery attempts keep what is young (reports keep their numbers)."""

from __future__ import annotations

import httpx

from tests.conftest import SpaceKeys
from xtracker.click.retention import DAY_MS, prune_clicks
from xtracker.db.dialect import Tx
from xtracker.kit.clock import FrozenClock
from xtracker.kit.ids import new_uid
from xtracker.outbox.repository import INSERT_ATTEMPT
from xtracker.outbox.retention import prune_attempts
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


class TestAttemptRetention:
    async def test_old_delivery_attempts_go_young_ones_and_other_spaces_stay(
        self, space: SpaceKeys, runtime: Runtime, clock: FrozenClock
    ) -> None:
        def attempt(space_id: str, at_ms: int):  # type: ignore[no-untyped-def]
            async def job(tx: Tx) -> None:
                await tx.execute(INSERT_ATTEMPT, (new_uid(at_ms), "outbox-1", space_id, "dest-1",
                                                  1, at_ms, "sent", 200, 12, None, None, "w1"))  # fmt: skip

            return job

        start = clock.now_ms()
        for _ in range(3):
            await runtime.committer.run(attempt(space.id, start))
        await runtime.committer.run(attempt("another-space", start))  # a space id not listed
        clock.advance(100 * DAY_MS)
        await runtime.committer.run(attempt(space.id, clock.now_ms()))
        assert await prune_attempts(runtime, 0) == 0
        assert await prune_attempts(runtime, 90) == 3
        async with runtime.backend.reader() as tx:
            rows = await tx.fetchall("SELECT space_id, at_ms FROM delivery_attempt ORDER BY at_ms")
        assert [tuple(r) for r in rows] == [("another-space", start), (space.id, clock.now_ms())]
