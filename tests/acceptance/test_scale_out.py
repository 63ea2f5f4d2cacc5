"""Scale-out: two ``serve`` and two ``worker`` processes share one PostgreSQL.

Events go in through both servers; both workers drain the one outbox; the receiver gets
every dispatch exactly once in the steady state (no process is killed here).
"""

from __future__ import annotations

import asyncio
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from tests.conftest import truncate_pg
from tests.support.processes import XTRACKER, cli_json, serve, stop, xt_env

pytestmark = [pytest.mark.acceptance, pytest.mark.postgres]
EVENTS = 400


class Receiver:
    """A webhook receiver counting deliveries by ``webhook-id``."""

    def __init__(self) -> None:
        self.ids: Counter[str] = Counter()
        lock = threading.Lock()
        ids = self.ids

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length", 0)))
                with lock:
                    ids[self.headers["webhook-id"]] += 1
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def test_two_servers_and_two_workers_deliver_each_dispatch_once(
    pg_database_url: str, tmp_path: Path, receiver: Receiver
) -> None:
    truncate_pg(pg_database_url)
    url = pg_database_url
    env = xt_env(url, tmp_path, XTRACKER_ALLOW_PRIVATE_TARGETS="true",
                 XTRACKER_RUN_WORKER_IN_SERVE="false")  # fmt: skip
    created = cli_json(env, "space", "create", "Scale")
    assert isinstance(created, dict)
    space = created["space"]["slug"]
    cli_json(
        env, "destination", "add", "--space", space, "--kind", "webhook", "--url", receiver.url
    )
    auth = {"Authorization": f"Bearer {created['bearer']}"}
    with ExitStack() as stack:
        urls = [stack.enter_context(serve(env)) for _ in range(2)]
        workers = [
            subprocess.Popen([XTRACKER, "worker"], env=env, start_new_session=True,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for _ in range(2)
        ]  # fmt: skip
        for proc in workers:
            stack.callback(stop, proc)

        async def fire() -> list[str]:
            limits = httpx.Limits(max_connections=32)
            async with httpx.AsyncClient(headers=auth, limits=limits, timeout=60) as client:
                answers = await asyncio.gather(*(
                    client.post(f"{urls[i % 2]}/events",
                                json={"event": "deposit", "uid": f"u{i}", "value": "10", "eid": f"t{i}"})
                    for i in range(EVENTS)
                ))  # fmt: skip
            return [a.json()["status"] for a in answers]

        assert asyncio.run(fire()) == ["queued"] * EVENTS
        deadline = time.monotonic() + 60
        while len(receiver.ids) < EVENTS and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1.0)  # anything sent twice would arrive by now
    assert len(receiver.ids) == EVENTS
    assert max(receiver.ids.values()) == 1
