"""Deliveries per second from the outbox to a local webhook receiver (SPEC §5 bar: ≥ 3,000/s
for webhooks on SQLite, 2 cores).

Rerunnable:  .venv/bin/python bench/delivery.py [--events 20000] [--database-url URL]

Two processes share the 2 cores: this one (the delivery worker: claim → signed POST → record,
the same code ``xtracker worker`` runs) and a receiver process (aiohttp, answers 200). The
receiver's own rate is measured in the same run by blasting it with a bare aiohttp client at the
worker's concurrency, so the delivery figure can be read against what the receiver can take.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from xtracker.config import Settings  # noqa: E402 - after the path set-up
from xtracker.db.engine import session_scope  # noqa: E402
from xtracker.db.migrate import upgrade  # noqa: E402
from xtracker.destination.schemas import DestinationCreate  # noqa: E402
from xtracker.destination.service import destination_service  # noqa: E402
from xtracker.event.ingest import ingest_job  # noqa: E402
from xtracker.event.parse import parse_event  # noqa: E402
from xtracker.runtime import Runtime  # noqa: E402
from xtracker.space.schemas import SpaceCreate  # noqa: E402
from xtracker.space.service import space_service  # noqa: E402
from xtracker.worker.delivery import DeliveryWorker, tune_gc  # noqa: E402

RECEIVER = r"""
import asyncio, sys
from aiohttp import web
count = 0
async def hook(request):
    global count
    await request.read()
    count += 1
    return web.Response(text="ok")
async def stats(request):
    return web.json_response({"count": count})
app = web.Application()
app.router.add_post("/hook", hook)
app.router.add_get("/stats", stats)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)
"""


NGINX = """
daemon off; worker_processes 1; pid {tmp}/nginx.pid; error_log {tmp}/nginx.err;
events {{ worker_connections 1024; }}
http {{ access_log off; client_body_temp_path {tmp}; proxy_temp_path {tmp};
  fastcgi_temp_path {tmp}; uwsgi_temp_path {tmp}; scgi_temp_path {tmp};
  server {{ listen 127.0.0.1:{port};
    location = /stats {{ return 200 '{{"count": 0}}'; }}
    location / {{ return 200 'ok'; }} }} }}
"""


def start_receiver(kind: str, port: int, tmp: Path) -> subprocess.Popen[bytes]:
    if kind == "nginx":
        conf = tmp / "nginx.conf"
        conf.write_text(NGINX.format(tmp=tmp, port=port))
        return subprocess.Popen(["nginx", "-c", str(conf), "-p", str(tmp)])
    return subprocess.Popen([sys.executable, "-c", RECEIVER, str(port)])


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def wait_ready(url: str) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(100):
            try:
                async with session.get(url + "/stats") as r:
                    if r.status == 200:
                        return
            except aiohttp.ClientError:
                await asyncio.sleep(0.05)
    raise RuntimeError("receiver did not start")


async def receiver_rate(url: str, n: int, concurrency: int) -> tuple[float, float]:
    """The receiver's own ceiling: a bare aiohttp client POSTing as fast as it can."""
    body = b'{"event": "deposit"}'
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        queue = iter(range(n))

        async def lane() -> None:
            for _ in queue:
                async with session.post(url + "/hook", data=body) as r:
                    await r.read()

        started, cpu = time.perf_counter(), time.process_time()
        await asyncio.gather(*(lane() for _ in range(concurrency)))
        return n / (time.perf_counter() - started), (time.process_time() - cpu) / n


async def fill(rt: Runtime, url: str, events: int) -> None:
    now = rt.clock.now_ms()
    async with session_scope(rt.sessions) as session:
        space, _b, _i = await space_service.create(session, SpaceCreate(name="Bench"), now)
        await destination_service.create(
            session, rt.secrets, space.id, DestinationCreate(kind="webhook", url=url + "/hook"),
            now, allow_private=True,
        )  # fmt: skip
    for start in range(0, events, 1000):
        batch = [
            parse_event({"event": "deposit", "uid": f"u{n}", "value": "25", "eid": f"t{n}"},
                        now_ms=now)
            for n in range(start, min(events, start + 1000))
        ]  # fmt: skip
        await rt.committer.run(ingest_job(space.id, batch, now))


async def outbox_counts(rt: Runtime) -> dict[str, int]:
    async with rt.backend.reader() as tx:
        rows = await tx.fetchall("SELECT status, count(*) FROM event_outbox GROUP BY status")
    return {str(r[0]): int(r[1]) for r in rows}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument(
        "--receiver",
        choices=("aiohttp", "nginx"),
        default="aiohttp",
        help="aiohttp (a Python receiver) or nginx (return 200; if installed)",
    )
    parser.add_argument(
        "--asyncio",
        action="store_true",
        help="plain asyncio instead of uvloop (xtracker worker uses uvloop)",
    )
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="xt-bench-delivery-"))
    database_url = args.database_url or f"sqlite:///{tmp / 'xtracker.db'}"
    settings = Settings(database_url=database_url, data_dir=tmp, secret_key="bench",  # noqa: S106 - a throwaway database
                        allow_private_targets=True, delivery_concurrency=args.concurrency,
                        delivery_poll_ms=50)  # fmt: skip
    await asyncio.to_thread(upgrade, settings)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    receiver = start_receiver(args.receiver, port, tmp)
    try:
        await wait_ready(url)
        ceiling, client_cpu = await receiver_rate(url, args.events, args.concurrency)
        rt = await Runtime.open(settings, with_geo=False)
        try:
            if database_url.startswith("postgres"):
                async with rt.backend.transaction() as tx:
                    await tx.execute("TRUNCATE event_outbox, event_inbox, delivery_attempt")
            await fill(rt, url, args.events)
            worker = DeliveryWorker(rt)
            tune_gc()  # as `xtracker worker` does
            started, cpu = time.perf_counter(), time.process_time()
            task = asyncio.create_task(worker.run())
            # in memory: polling the table would slow the loop being measured
            while worker.sent < args.events:  # noqa: ASYNC110 - the worker has no event for this
                await asyncio.sleep(0.01)
            worker.stop()
            await task  # the last outcomes are recorded before this returns
            elapsed = time.perf_counter() - started
            worker_cpu = (time.process_time() - cpu) / args.events
            commits = worker.committer.batches
            counts = await outbox_counts(rt)
        finally:
            await rt.close()
        async with aiohttp.ClientSession() as session, session.get(url + "/stats") as r:
            received = (await r.json(content_type=None))["count"] - args.events
    finally:
        receiver.send_signal(signal.SIGINT if args.receiver == "aiohttp" else signal.SIGQUIT)
        receiver.wait(timeout=10)
    rate = args.events / elapsed
    dialect = "postgresql" if database_url.startswith("postgres") else "sqlite"
    rows = [
        ("database", dialect),
        ("receiver", args.receiver),
        ("event loop", "asyncio" if args.asyncio else "uvloop"),
        ("events in the outbox", f"{args.events:,}"),
        ("worker concurrency (per receiver)", f"{args.concurrency} ({settings.delivery_per_host})"),
        ("receiver alone (bare aiohttp client)", f"{ceiling:,.0f} req/s"),
        ("outbox → signed webhook → recorded", f"{rate:,.0f} deliveries/s"),
        ("  as a share of the receiver's rate", f"{rate / ceiling:.0%}"),
        ("CPU per request, bare client", f"{client_cpu * 1e6:,.0f} µs"),
        (
            "CPU per delivery, worker",
            f"{worker_cpu * 1e6:,.0f} µs  (≈ {1 / worker_cpu:,.0f}/s per core it gets)",
        ),
        ("requests the receiver got", f"{received:,}" if received >= 0 else "not counted"),
        ("outbox afterwards", ", ".join(f"{k}={v}" for k, v in sorted(counts.items()))),
        ("transactions (claims + records)", f"{commits:,}"),
        ("cores", str(os.cpu_count())),
    ]
    width = max(len(k) for k, _ in rows)
    print(f"\n{'XTRACKER delivery benchmark':<{width}}")
    print("-" * (width + 24))
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    verdict = ("PASS" if rate >= 3000 else "BELOW") if dialect == "sqlite" else "n/a (SQLite bar)"
    print(f"{'bar (webhooks on SQLite ≥ 3,000/s)':<{width}}  {verdict}")


if __name__ == "__main__":
    if "--asyncio" in sys.argv:
        asyncio.run(main())
    else:
        import uvloop

        uvloop.run(main())
