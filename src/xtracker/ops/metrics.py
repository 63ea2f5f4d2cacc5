"""``GET /metrics`` in the Prometheus text format.

Queue depths come from the database, so every process reports the same truth; counters of
the group-commit writer are per process (label ``pid``), as Prometheus expects of a
multi-process server scraped through one port.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from xtracker import __version__
from xtracker.runtime import Runtime

router = APIRouter(tags=["ops"])
OPEN_STATUSES = ("pending", "sending", "retrying", "failed_permanently")
_OUTBOX = "SELECT status, count(*) FROM event_outbox WHERE status IN (?, ?, ?, ?) GROUP BY status"


class _Snapshot(Collector):
    def __init__(self, runtime: Runtime, outbox: dict[str, int]) -> None:
        self.runtime = runtime
        self.outbox = outbox

    def collect(self) -> Iterator[Metric]:
        info = GaugeMetricFamily("xtracker_info", "XTRACKER version", labels=["version"])
        info.add_metric([__version__], 1)
        yield info
        depth = GaugeMetricFamily(
            "xtracker_outbox_rows", "Dispatches not yet sent, by status", labels=["status"]
        )
        for status in OPEN_STATUSES:
            depth.add_metric([status], self.outbox.get(status, 0))
        yield depth
        pid = str(os.getpid())
        committer = self.runtime.committer
        batches = CounterMetricFamily(
            "xtracker_group_commit_batches", "Write transactions committed", labels=["pid"]
        )
        batches.add_metric([pid], committer.batches)
        yield batches
        jobs = CounterMetricFamily(
            "xtracker_group_commit_jobs", "Requests written through group commit", labels=["pid"]
        )
        jobs.add_metric([pid], committer.jobs)
        yield jobs


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    async with runtime.backend.reader() as tx:
        rows = await tx.fetchall(_OUTBOX, OPEN_STATUSES)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Snapshot(runtime, {str(r[0]): int(r[1]) for r in rows}))
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
