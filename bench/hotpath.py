"""Hot-path benchmark: landing visits/s and POST /events/s on SQLite, beside nginx.

    .venv/bin/python bench/hotpath.py [--duration 10] [--runs 2] [--connections 64]

Needs `wrk` and `nginx` (Debian: `apt-get install -y wrk nginx`). Everything runs on
loopback. nginx answering `return 302` is measured right before every run and each run is
reported as a ratio to it (the machines are shared and noisy: a ratio to the same moment's
nginx varies less than either figure), with the median of those ratios. Afterwards
the rows on disk are counted: every accepted click and event must be there. A bare ASGI app
answering 302 on granian (bench/bare_asgi.py) is measured too: the Python server's ceiling.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
XTRACKER = str(Path(sys.executable).with_name("xtracker"))
UA = (
    "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36"
)
LANDING_QUERY = "?fbclid=IwAR0abc&campaign_id=120200&campaign_name=promoX&ad_id=77&sub1=zone9"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def need(tool: str) -> str:
    path = shutil.which(tool) or (
        f"/usr/sbin/{tool}" if Path(f"/usr/sbin/{tool}").exists() else None
    )
    if path is None:
        sys.exit(f"{tool} is required: apt-get install -y {tool}")
    return path


def wrk(url: str, duration: int, connections: int, script: str, env: dict[str, str] | None = None,
        headers: tuple[str, ...] = ()) -> dict[str, float]:  # fmt: skip
    args = [need("wrk"), "-t1", f"-c{connections}", f"-d{duration}s", "--latency", "-s", script]
    for header in headers:
        args += ["-H", header]
    out = subprocess.run([*args, url], capture_output=True, text=True, env={**os.environ, **(env or {})},
                         timeout=duration + 60, check=True).stdout  # fmt: skip
    line = next(x for x in out.splitlines() if x.startswith("RESULT "))
    result: dict[str, float] = json.loads(line[7:])
    result["rps"] = result["requests"] / duration
    return result


class Nginx:
    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        conf = workdir / "nginx.conf"
        conf.write_text(
            f"worker_processes 1; daemon off; pid {workdir}/nginx.pid; error_log stderr error;\n"
            f"events {{ worker_connections 1024; }}\n"
            f"http {{ access_log off; client_body_temp_path {workdir}; proxy_temp_path {workdir};\n"
            f" fastcgi_temp_path {workdir}; uwsgi_temp_path {workdir}; scgi_temp_path {workdir};\n"
            f" server {{ listen 127.0.0.1:{self.port}; location / {{ return 302 https://example.com/x; }} }} }}\n"
        )
        self.proc = subprocess.Popen([need("nginx"), "-c", str(conf), "-p", str(workdir)])
        time.sleep(0.5)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


class BareAsgi:
    """``bare_asgi.py`` under granian: the Python server's own ceiling on this machine."""

    def __init__(self) -> None:
        self.port = free_port()
        self.proc = subprocess.Popen([sys.executable, "bare_asgi.py", str(self.port)],
                                     cwd=ROOT / "bench", stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)  # fmt: skip
        for _ in range(100):
            try:
                httpx.get(f"http://127.0.0.1:{self.port}/")
                return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("bare_asgi.py did not start")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


class Tracker:
    def __init__(self, workdir: Path, workers: int, extra_env: dict[str, str],
                 serve_args: list[str]) -> None:  # fmt: skip
        self.port = free_port()
        self.env = {**{k: v for k, v in os.environ.items() if not k.startswith("XTRACKER_")},
                    "XTRACKER_DATA_DIR": str(workdir), "XTRACKER_SECRET_KEY": "bench",
                    "XTRACKER_LOG_LEVEL": "warning", **extra_env}  # fmt: skip
        created = json.loads(subprocess.run([XTRACKER, "space", "create", "Bench", "--json"],
                                            env=self.env, capture_output=True, text=True,
                                            check=True).stdout)  # fmt: skip
        self.bearer = created["bearer"]
        subprocess.run([XTRACKER, "link", "create", "--space", created["space"]["slug"], "--slug",
                        "s42", "--kind", "web", "--auto-redirect", "--target",
                        "https://offer.example/?click_id={uid}&c={campaign_name}", "--json"],
                       env=self.env, capture_output=True, check=True)  # fmt: skip
        self.db = workdir / "xtracker.db"
        self.proc = subprocess.Popen([XTRACKER, "serve", "--port", str(self.port), "--workers",
                                      str(workers), *serve_args], env=self.env, stdout=subprocess.DEVNULL)  # fmt: skip
        for _ in range(100):
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/readyz").status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("xtracker did not start")

    def count(self, sql: str) -> int:
        with sqlite3.connect(self.db) as c:
            return int(c.execute(sql).fetchone()[0])

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--env", action="append", default=[], metavar="XTRACKER_X=value",
                        help="extra settings for the tracker (repeatable)")  # fmt: skip
    parser.add_argument("--serve-arg", action="append", default=[], metavar="ARG",
                        help="extra argument for xtracker serve, e.g. --serve-arg=--interface=asgi")  # fmt: skip
    args = parser.parse_args()
    bench = ROOT / "bench"
    rows: list[tuple[str, list[tuple[dict[str, float], dict[str, float]]]]] = []

    def visit(port: int, duration: int = args.duration) -> dict[str, float]:
        """wrk on a landing URL (the baselines answer any path with a 302)."""
        return wrk(f"http://127.0.0.1:{port}/l/s42{LANDING_QUERY}", duration, args.connections,
                   str(bench / "summary.lua"), headers=(f"User-Agent: {UA}",))  # fmt: skip

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "nginx").mkdir()
        servers: list[Nginx | BareAsgi | Tracker] = []
        try:
            nginx = Nginx(work / "nginx")
            servers.append(nginx)
            bare = BareAsgi()
            servers.append(bare)
            tracker = Tracker(work, args.workers, dict(kv.split("=", 1) for kv in args.env),
                              args.serve_arg)  # fmt: skip
            servers.append(tracker)
            url = f"http://127.0.0.1:{tracker.port}"

            def events(run: str, duration: int = args.duration) -> dict[str, float]:
                return wrk(f"{url}/events", duration, args.connections, str(bench / "events.lua"),
                           env={"XT_BEARER": tracker.bearer, "XT_RUN": run})  # fmt: skip

            # warm-up (lazy regexes, caches, connections), not measured: landing and events
            visit(tracker.port, 5)
            events("warm", 3)
            clicks_before = tracker.count("SELECT count(*) FROM click")
            paths: list[tuple[str, Callable[[int], dict[str, float]]]] = [
                ("bare ASGI 302 on granian", lambda i: visit(bare.port)),
                ("landing visit (302 + click)", lambda i: visit(tracker.port)),
                ("POST /events (eid, 10% re-fires)", lambda i: events(str(i))),
            ]  # each events run has eids of its own: re-fires only within a run
            for name, measure in paths:
                pairs = []
                for i in range(args.runs):  # nginx right before each run: the same moment's box
                    pairs.append((visit(nginx.port), measure(i)))
                rows.append((name, pairs))
            time.sleep(0.5)
            clicks_on_disk = tracker.count("SELECT count(*) FROM click") - clicks_before
            events_on_disk = tracker.count(
                "SELECT count(*) FROM event_inbox WHERE eid NOT LIKE 'tx-warm-%'"
            )
            outbox = tracker.count("SELECT count(*) FROM event_outbox")
        finally:
            for server in reversed(servers):
                server.stop()
    accepted_clicks = sum(r["requests"] - r["non2xx"] for _, r in rows[1][1])
    accepted = sum(r["requests"] - r["non2xx"] for _, r in rows[2][1])
    expected_unique = sum((r["requests"] - r["non2xx"]) * 9 // 10 for _, r in rows[2][1])
    nginx_runs = [n for _, pairs in rows for n, _ in pairs]
    print(f"\nnginx return 302: {statistics.median(r['rps'] for r in nginx_runs):,.0f} req/s"
          f" (median of {len(nginx_runs)} runs, one right before each run below)")  # fmt: skip
    print(f"\n{'path':34} {'req/s':>8} {'x nginx':>8} {'p50 ms':>7} {'p99 ms':>7} {'bad':>5}"
          "  x nginx per run")  # fmt: skip
    for name, pairs in rows:
        runs = [r for _, r in pairs]
        ratios = [r["rps"] / n["rps"] for n, r in pairs]
        rps = statistics.median(r["rps"] for r in runs)
        p50 = statistics.median(r["p50_us"] for r in runs) / 1000
        p99 = statistics.median(r["p99_us"] for r in runs) / 1000
        bad = int(sum(r["non2xx"] + r["errors"] for r in runs))
        per_run = " ".join(f"{x:.3f}" for x in ratios)
        print(f"{name:34} {rps:8,.0f} {statistics.median(ratios):8.3f} {p50:7.2f} {p99:7.2f}"
              f" {bad:5}  {per_run}")  # fmt: skip
    print(f"\nclicks answered {accepted_clicks:,.0f}, on disk {clicks_on_disk:,}")
    print(f"events answered {accepted:,.0f} (≈{expected_unique:,.0f} unique), inbox rows {events_on_disk:,},"
          f" outbox rows {outbox:,}")  # fmt: skip
    ok = clicks_on_disk >= accepted_clicks and events_on_disk >= expected_unique
    print("durability:", "every accepted click and event is on disk" if ok else "MISSING ROWS")
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
