"""``<!-- docs-test: service receiver -->``: a loopback HTTP receiver that records requests.

Sets ``XT_RECEIVER`` (its base URL) for the server and the blocks. Every request to any path
is recorded and answered ``200 {"ok": true}``; a path starting with ``/status/<code>`` is
answered with that status instead (to show failures and retries). ``GET /_received`` returns
what was recorded so far as a JSON array of ``{"method", "path", "query", "headers",
"body"}`` (``body`` is text; ``json`` is the parsed body when it is JSON);
``DELETE /_received`` forgets it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.docs.runner import PageContext


class _Handler(BaseHTTPRequestHandler):
    server: _Receiver

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _answer(self, status: int, payload: Any) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _handle(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if parts.path == "/_received":
            if self.command == "DELETE":
                with self.server.lock:
                    self.server.received.clear()
            with self.server.lock:
                self._answer(200, list(self.server.received))
            return
        text = raw.decode("utf-8", "replace")
        record: dict[str, Any] = {
            "method": self.command,
            "path": parts.path,
            "query": dict(parse_qsl(parts.query, keep_blank_values=True)),
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": text,
        }
        try:
            record["json"] = json.loads(text) if text else None
        except ValueError:
            record["json"] = None
        with self.server.lock:
            self.server.received.append(record)
        status = 200
        segments = parts.path.strip("/").split("/")
        if len(segments) >= 2 and segments[0] == "status" and segments[1].isdigit():
            status = int(segments[1])
        self._answer(status, {"ok": 200 <= status < 300})

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle


class _Receiver(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.received: list[dict[str, Any]] = []


@contextmanager
def service(ctx: PageContext) -> Iterator[dict[str, str]]:
    server = _Receiver()
    thread = threading.Thread(target=server.serve_forever, name="docs-receiver", daemon=True)
    thread.start()
    try:
        yield {"XT_RECEIVER": f"http://127.0.0.1:{server.server_address[1]}"}
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
