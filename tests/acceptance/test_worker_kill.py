"""A real ``xtracker worker`` process killed with SIGKILL in the middle of a burst of 1,000
events loses nothing: its leases expire, a restarted worker sends what was left, and the
receiver (deduplicating on ``webhook-id``) sees every dispatch — repeats only with the same
``event_id``. On PostgreSQL two workers share one queue and send no row twice.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.conftest import truncate_pg
from tests.support.processes import XTRACKER, stop, xt_env
from tests.support.receivers import WebhookReceiver
from xtracker.config import Settings
from xtracker.db.engine import session_scope
from xtracker.db.migrate import upgrade
from xtracker.destination.schemas import DestinationCreate
from xtracker.destination.service import destination_service
from xtracker.event.ingest import ingest_job
from xtracker.event.parse import parse_event
from xtracker.runtime import Runtime
from xtracker.space.schemas import SpaceCreate
from xtracker.space.service import space_service

pytestmark = pytest.mark.acceptance
BURST = 1000


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    server = await WebhookReceiver().start()
    server.delay_s = 0.02  # a receiver with some latency, so the burst takes a while
    yield server
    await server.stop()


async def fill_queue(database_url: str, receiver: WebhookReceiver) -> tuple[Runtime, set[str]]:
    """A space, a webhook destination and a burst of events, written like ingest writes them."""
    settings = Settings(database_url=database_url, secret_key="acceptance-secret",
                        allow_private_targets=True)  # fmt: skip
    await asyncio.to_thread(upgrade, settings)
    rt = await Runtime.open(settings, with_geo=False)
    now = rt.clock.now_ms()
    async with session_scope(rt.sessions) as session:
        space, _bearer, _ingest = await space_service.create(
            session, SpaceCreate(name="Burst"), now
        )
        _dest, secret = await destination_service.create(
            session, rt.secrets, space.id,
            DestinationCreate(kind="webhook", url=receiver.url + "/hook"), now, allow_private=True,
        )  # fmt: skip
    assert secret is not None
    receiver.secret = secret
    events = [parse_event({"event": "deposit", "uid": f"u{n}", "value": "10", "eid": f"t{n}"},
                          now_ms=now) for n in range(BURST)]  # fmt: skip
    answers = await rt.committer.run(ingest_job(space.id, events, now))
    assert {a["status"] for a in answers} == {"queued"}
    async with rt.backend.reader() as tx:
        ids = {str(r[0]) for r in await tx.fetchall("SELECT event_id FROM event_outbox")}
    assert len(ids) == BURST
    return rt, ids


async def statuses(rt: Runtime) -> dict[str, int]:
    async with rt.backend.reader() as tx:
        rows = await tx.fetchall("SELECT status, count(*) FROM event_outbox GROUP BY status")
    return {str(r[0]): int(r[1]) for r in rows}


def start_worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([XTRACKER, "worker"], env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip


async def wait_for(condition: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


async def test_sigkill_mid_burst_loses_nothing_and_repeats_carry_the_same_event_id(
    tmp_path: Path, receiver: WebhookReceiver
) -> None:
    database_url = f"sqlite:///{tmp_path / 'xtracker.db'}"
    rt, expected = await fill_queue(database_url, receiver)
    env = xt_env(database_url, tmp_path, XTRACKER_ALLOW_PRIVATE_TARGETS="true",
                 XTRACKER_DELIVERY_LEASE_S="2", XTRACKER_DELIVERY_CONCURRENCY="16",
                 XTRACKER_DELIVERY_POLL_MS="100")  # fmt: skip
    procs: list[subprocess.Popen[bytes]] = []
    try:
        first = start_worker(env)
        procs.append(first)
        await wait_for(lambda: len(receiver.requests) >= 300, 30, "the burst to start")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=5)
        killed_at = len(receiver.deliveries)
        assert killed_at < BURST, "the burst ended before the kill: slow the receiver down"
        mid = await statuses(rt)
        assert mid.get("sending", 0) > 0  # rows were leased to the dead worker

        second = start_worker(env)
        procs.append(second)
        await wait_for(lambda: set(receiver.deliveries) >= expected, 45, "every dispatch")
        assert second.poll() is None
        deadline = time.monotonic() + 10
        while (await statuses(rt)) != {"sent": BURST}:
            assert time.monotonic() < deadline, await statuses(rt)
            await asyncio.sleep(0.1)
        # graceful stop: SIGTERM finishes in-flight work and exits cleanly
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=20) == 0, second.stderr.read().decode() if second.stderr else ""
    finally:
        for proc in procs:
            stop(proc)
        await rt.close()
    assert set(receiver.deliveries) == expected  # none lost, nothing unknown
    assert receiver.bad_signatures == 0
    assert all(body["event_id"] == msg_id for msg_id, body in receiver.accepted.items())
    repeats = sum(receiver.deliveries.values()) - BURST
    assert repeats <= 16 * 4  # at most what the dead worker had in flight


@pytest.mark.postgres
async def test_two_workers_share_one_postgres_queue_and_send_no_row_twice(
    pg_database_url: str, tmp_path: Path, receiver: WebhookReceiver
) -> None:
    await asyncio.to_thread(truncate_pg, pg_database_url)
    rt, expected = await fill_queue(pg_database_url, receiver)
    env = xt_env(pg_database_url, tmp_path, XTRACKER_ALLOW_PRIVATE_TARGETS="true",
                 XTRACKER_DELIVERY_CONCURRENCY="16", XTRACKER_DELIVERY_BATCH="100",
                 XTRACKER_DELIVERY_POLL_MS="100")  # fmt: skip
    workers = [start_worker(env) for _ in range(2)]
    try:
        await wait_for(lambda: set(receiver.deliveries) >= expected, 45, "every dispatch")
        await asyncio.sleep(1.0)  # anything sent twice would arrive by now
        assert all(p.poll() is None for p in workers)
        for proc in workers:
            proc.send_signal(signal.SIGTERM)
        assert [p.wait(timeout=20) for p in workers] == [0, 0]
        assert (await statuses(rt)) == {"sent": BURST}
        async with rt.backend.reader() as tx:
            row = await tx.fetchone("SELECT count(DISTINCT worker) FROM delivery_attempt")
        assert row == (2,)  # both workers took part
    finally:
        for proc in workers:
            stop(proc)
        await rt.close()
    assert set(receiver.deliveries) == expected
    assert max(receiver.deliveries.values()) == 1
