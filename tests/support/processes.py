"""Start real ``xtracker`` processes for acceptance tests, and stop them for sure."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

XTRACKER = str(Path(sys.executable).with_name("xtracker"))
SERVE_LOGS = Path(__file__).resolve().parents[2] / "test-artifacts"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def xt_env(database_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XTRACKER_")}
    env.update(
        XTRACKER_DATABASE_URL=database_url,
        XTRACKER_DATA_DIR=str(data_dir),
        XTRACKER_SECRET_KEY="acceptance-secret",
        XTRACKER_LOG_LEVEL="warning",
        **extra,
    )
    return env


def cli_json(env: dict[str, str], *args: str) -> object:
    out = subprocess.run(
        [XTRACKER, *args, "--json"], env=env, capture_output=True, text=True, timeout=60, check=True
    )
    return json.loads(out.stdout)


@contextmanager
def serve(env: dict[str, str], *args: str) -> Iterator[str]:
    """``xtracker serve`` on a free port; yields its base URL once /readyz answers.

    Its output goes to ``test-artifacts/serve-<port>.log`` (kept, to read after a failure),
    never to a pipe nobody reads: a full pipe (64 KiB of warnings) would block the server's
    next log write and freeze its event loop.
    """
    port = free_port()
    SERVE_LOGS.mkdir(parents=True, exist_ok=True)
    log = open(SERVE_LOGS / f"serve-{port}.log", "wb")  # noqa: SIM115 - closed in finally
    proc = subprocess.Popen(
        [XTRACKER, "serve", "--port", str(port), *args],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                output = Path(log.name).read_text(errors="replace")
                raise RuntimeError(f"xtracker serve exited early:\n{output}")
            try:
                if httpx.get(url + "/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError("xtracker serve did not become ready in 30 s")
            time.sleep(0.1)
        yield url
    finally:
        stop(proc)
        log.close()


def stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
    if proc.stdout:
        proc.stdout.close()
