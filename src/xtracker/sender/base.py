"""What every sender shares: the dispatch it sends, the outcome it returns, one HTTP call.

A failed delivery is an outcome, not an exception: ``http_call`` turns every answer, timeout
and connection error into an ``Outcome``; the retry policy (``outbox.policy``) decides what
happens next.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Literal

import aiohttp
from yarl import URL

from xtracker.sender.netguard import PrivateTarget, check_host, is_public_ip

EXCERPT_CHARS = 500
TRANSIENT_STATUSES = frozenset({408, 425, 429}) | frozenset(range(500, 600))
Kind = Literal["delivered", "transient", "permanent"]


@dataclass(frozen=True)
class Outcome:
    """What happened to one dispatch on one attempt."""

    kind: Kind
    status_code: int | None = None
    latency_ms: int = 0
    error: str | None = None
    excerpt: str | None = None
    retry_after_s: float | None = None


@dataclass
class Dispatch:
    """One outbox row with the event and click data its sender needs."""

    outbox_id: str
    space_id: str
    destination_id: str
    event_id: str
    event_name: str
    attempts: int  # before this attempt
    canonical: str
    uid: str | None
    tg_id: int | None
    eid: str | None
    occurred_at_ms: int
    value_cents: int | None
    currency: str
    click: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Target:
    """A destination as the sender sees it: settings with secrets decrypted."""

    id: str
    kind: str
    config: dict[str, Any]
    secrets: dict[str, Any]
    proxy_url: str | None
    updated_at_ms: int

    @property
    def headers(self) -> dict[str, str]:
        headers: dict[str, str] = self.secrets.get("headers", {})
        return headers


@dataclass
class SendContext:
    """What senders get from the worker: HTTP sessions, clock, settings they need."""

    session: aiohttp.ClientSession  # user-supplied URLs: public targets only (unless allowed)
    meta_session: aiohttp.ClientSession  # the operator's Graph URL
    timeout_s: float
    now_ms: Callable[[], int]
    meta_graph_url: str
    meta_api_version: str
    public_url: str
    allow_private: bool
    user_agent: str = "xtracker-delivery/1"


def parse_retry_after(value: str | None, now_s: float) -> float | None:
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now_s)


def excerpt(text: str) -> str:
    return text[:EXCERPT_CHARS]


def _private_cause(exc: BaseException) -> PrivateTarget | None:
    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            return None
        if isinstance(seen, PrivateTarget):
            return seen
        nested = getattr(seen, "os_error", None)
        seen = nested if isinstance(nested, BaseException) else (seen.__cause__ or seen.__context__)
    return None


async def http_call(
    ctx: SendContext,
    method: str,
    url: str,
    *,
    headers: dict[str, str],
    body: bytes | None = None,
    proxy: str | None = None,
    meta: bool = False,
) -> tuple[Outcome, str]:
    """One request. Returns a provisional outcome (by status) and the response text."""
    session = ctx.meta_session if meta else ctx.session
    started = time.perf_counter()

    def took() -> int:
        return int((time.perf_counter() - started) * 1000)

    try:
        if not meta and not ctx.allow_private:
            host = URL(url).host or ""
            check_host(host)
            if proxy:  # the proxy resolves the name: check it ourselves first
                loop = asyncio.get_running_loop()
                for info in await loop.getaddrinfo(host, None):
                    if not is_public_ip(str(info[4][0])):
                        raise PrivateTarget(f"{host} resolves to {info[4][0]}, which is not public")
        async with session.request(
            method, url, headers=headers, data=body, proxy=proxy, allow_redirects=False,
            timeout=aiohttp.ClientTimeout(total=ctx.timeout_s),
        ) as response:  # fmt: skip
            text = await response.text(errors="replace")
            status = response.status
            retry_after = parse_retry_after(response.headers.get("Retry-After"), time.time())
    except PrivateTarget as exc:
        return Outcome("permanent", None, took(), f"refused: {exc}"), ""
    except (aiohttp.InvalidURL, ValueError) as exc:
        return Outcome("permanent", None, took(), f"bad URL: {exc}"), ""
    except TimeoutError:
        return Outcome("transient", None, took(), f"timeout after {ctx.timeout_s:g} s"), ""
    except aiohttp.ClientError as exc:
        private = _private_cause(exc)
        if private is not None:
            return Outcome("permanent", None, took(), f"refused: {private}"), ""
        return Outcome("transient", None, took(), f"connection error: {exc}"), ""
    except OSError as exc:
        return Outcome("transient", None, took(), f"connection error: {exc}"), ""
    latency = took()
    if 200 <= status < 300:
        return Outcome("delivered", status, latency, None, excerpt(text)), text
    if status in TRANSIENT_STATUSES:
        return (
            Outcome("transient", status, latency, f"HTTP {status}", excerpt(text), retry_after),
            text,
        )
    return Outcome("permanent", status, latency, f"HTTP {status}", excerpt(text)), text


def now_iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat()
