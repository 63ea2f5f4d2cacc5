"""Local HTTP servers speaking the real protocols: Meta's Graph API (Conversions API), a
Standard Webhooks receiver that verifies signatures and deduplicates on ``webhook-id``, and
an affiliate network taking S2S postbacks. Each answer can be scripted (status, body,
headers, or a stall to cause a client timeout)."""

from __future__ import annotations

import asyncio
import json
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from aiohttp import web


@dataclass
class Reply:
    status: int = 200
    body: str = "ok"
    headers: dict[str, str] = field(default_factory=dict)
    stall_s: float = 0.0  # sleep before answering (a client timeout)


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    url: str


class LocalServer:
    """One aiohttp server on 127.0.0.1 with a queue of scripted replies."""

    def __init__(self) -> None:
        self.requests: list[Seen] = []
        self.script: deque[Reply] = deque()
        self.default = Reply()
        self.delay_s = 0.0
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> LocalServer:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def then(self, *replies: Reply) -> None:
        self.script.extend(replies)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        seen = Seen(request.method, request.path, dict(request.query), dict(request.headers),
                    body, str(request.url))  # fmt: skip
        self.requests.append(seen)
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        reply = self.script.popleft() if self.script else self.default
        if reply.stall_s:
            await asyncio.sleep(reply.stall_s)
        custom = await self.respond(seen, reply)
        if custom is not None:
            return custom
        return web.Response(status=reply.status, text=reply.body, headers=reply.headers)

    async def respond(self, seen: Seen, reply: Reply) -> web.StreamResponse | None:
        return None


class WebhookReceiver(LocalServer):
    """Verifies every request with the ``standardwebhooks`` library; dedups on webhook-id."""

    def __init__(self, secret: str | None = None) -> None:
        super().__init__()
        self.secret = secret
        self.accepted: dict[str, dict[str, Any]] = {}
        self.deliveries: Counter[str] = Counter()
        self.bad_signatures = 0

    async def respond(self, seen: Seen, reply: Reply) -> web.StreamResponse | None:
        if self.secret is None or reply.status >= 300:
            return None
        from standardwebhooks.webhooks import Webhook

        try:
            payload = Webhook(self.secret).verify(seen.body, seen.headers)
        except Exception:  # the library raises several types for bad signatures
            self.bad_signatures += 1
            return web.Response(status=400, text="bad signature")
        msg_id = seen.headers["webhook-id"]
        self.deliveries[msg_id] += 1
        self.accepted.setdefault(msg_id, payload)
        return None


class MetaGraph(LocalServer):
    """Meta's Graph API ``POST /{version}/{pixel}/events``: JSON or the SDK's form body."""

    def __init__(self, token: str = "EAAB-token") -> None:
        super().__init__()
        self.token = token
        self.events: list[dict[str, Any]] = []
        self.bodies: list[dict[str, Any]] = []

    async def respond(self, seen: Seen, reply: Reply) -> web.StreamResponse | None:
        if reply.status != 200:
            return None
        if seen.query.get("access_token") != self.token:
            error = {"message": "Invalid OAuth access token.", "type": "OAuthException",
                     "code": 190, "fbtrace_id": "A1"}  # fmt: skip
            return web.json_response({"error": error}, status=400)
        if seen.headers.get("Content-Type", "").startswith("application/json"):
            body = json.loads(seen.body)
        else:  # the SDK: form fields, data = JSON array of JSON strings
            form = {k: v[0] for k, v in parse_qs(seen.body.decode()).items()}
            body = {**form, "data": [json.loads(e) for e in json.loads(form["data"])]}
        self.bodies.append(body)
        self.events.extend(body["data"])
        return web.json_response(
            {"events_received": len(body["data"]), "messages": [], "fbtrace_id": "AbC"}
        )


def meta_error(code: int, status: int = 400, message: str = "error") -> Reply:
    body = {"error": {"message": message, "type": "OAuthException", "code": code,
                      "fbtrace_id": "X"}}  # fmt: skip
    return Reply(status=status, body=json.dumps(body), headers={"Content-Type": "application/json"})
