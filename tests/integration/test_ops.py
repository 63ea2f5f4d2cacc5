"""Health, readiness and Prometheus metrics."""

from __future__ import annotations

import httpx

from tests.conftest import SpaceKeys


class TestOps:
    async def test_health_and_readiness(self, http: httpx.AsyncClient) -> None:
        assert (await http.get("/healthz")).json() == {"ok": True}
        assert (await http.get("/readyz")).json() == {"ok": True}

    async def test_metrics_speak_prometheus_and_count_writes(
        self, http: httpx.AsyncClient, space: SpaceKeys
    ) -> None:
        await http.post("/events", json={"event": "contact", "uid": "u"}, headers=space.auth)
        r = await http.get("/metrics")
        assert r.headers["content-type"].startswith("text/plain")
        assert 'xtracker_outbox_rows{status="pending"}' in r.text
        jobs = [
            line
            for line in r.text.splitlines()
            if line.startswith("xtracker_group_commit_jobs_total")
        ]
        assert jobs and float(jobs[0].rsplit(" ", 1)[1]) >= 1
