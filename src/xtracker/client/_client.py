"""AsyncClient and its sync twin Client: thin I/O loops around the pure functions in _wire."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from decimal import Decimal
from types import TracebackType
from typing import Any, TypeVar

import httpx

from ._clock import Clock, Pinner, SystemClock
from ._models import BindResult, EventResult
from ._retry import RetryPolicy
from ._wire import (
    JSON_CONTENT,
    Call,
    Wait,
    default_headers,
    encode,
    event_body,
    events_body,
    next_step,
    parse_bind,
    parse_click,
    parse_event,
    parse_events,
)

T = TypeVar("T")
Money = str | int | Decimal


class _Calls:
    """What both clients share: settings, the occurred_at_ms pinner, and building each Call."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float,
        max_retries: int,
        backoff: float,
        clock: Clock | None,
    ) -> None:
        if timeout <= 0:
            raise ValueError("timeout must be > 0 seconds")
        self.base_url = base_url
        self._policy = RetryPolicy(max_retries=max_retries, backoff=backoff)
        self._clock = clock or SystemClock()
        self._pinner = Pinner(self._clock)
        self._random = random.random

    def __repr__(self) -> str:  # never shows the secret
        return f"{type(self).__name__}(base_url={self.base_url!r})"

    def _decide(
        self, call: Call[T], outcome: httpx.Response | httpx.TransportError, n: int
    ) -> T | Wait:
        now = self._clock.now_ms() / 1000
        return next_step(
            call, outcome, attempt=n, policy=self._policy, rand=self._random(), now=now
        )

    def _event(self, event: str, occurred_at_ms: int | None, **fields: Any) -> Call[EventResult]:
        # Checked before pinning, so a TypeError does not consume a timestamp.
        event_body(event, occurred_at_ms=occurred_at_ms, **fields)
        if occurred_at_ms is None:
            occurred_at_ms = self._pinner.pin()
        body = encode(event_body(event, occurred_at_ms=occurred_at_ms, **fields))
        return Call("POST", "/events", body, idempotent=True, parse=parse_event)

    def _events(self, events: Sequence[Mapping[str, Any]]) -> Call[list[EventResult]]:
        body = events_body(events, self._pinner.pin)
        return Call("POST", "/events", body, idempotent=True, parse=parse_events(len(events)))

    def _bind(self, uid: str, tg_id: int) -> Call[BindResult]:
        if not isinstance(uid, str):
            raise TypeError(f"uid must be str, not {type(uid).__name__}")
        if isinstance(tg_id, bool) or not isinstance(tg_id, int):
            raise TypeError(f"tg_id must be int, not {type(tg_id).__name__}")
        body = encode({"uid": uid, "tg_id": tg_id})
        # Bind is compare-and-set: the same pair again is a safe retry.
        return Call("POST", "/bind", body, idempotent=True, parse=parse_bind)

    def _click(self, **fields: str | None) -> Call[str]:
        for name, value in fields.items():
            if value is not None and not isinstance(value, str):
                raise TypeError(f"{name} must be str, not {type(value).__name__}")
        body = encode({k: v for k, v in fields.items() if v is not None})
        # Each accepted POST /clicks mints a click: retried only when it surely was not received.
        return Call("POST", "/clicks", body, idempotent=False, parse=parse_click)


class AsyncClient(_Calls):
    """Async client for the XTRACKER ingress API (``POST /events``, ``/bind``, ``/clicks``).

    ::

        async with AsyncClient("https://track.example.com", bearer=SECRET) as xt:
            await xt.send_event("deposit", uid=uid, value="25.00", eid="tx-42")

    Args:
        base_url: where the server runs, e.g. ``https://track.example.com``.
        bearer: the space's Bearer secret (server-side only; never put it in a browser).
        timeout: seconds for each attempt (connect, read, write and pool each).
        max_retries: extra attempts after connection failures, timeouts, 408, 429 and 5xx.
            Other 4xx answers are never retried.
        backoff: base of the exponential backoff with full jitter, in seconds: the n-th retry
            waits a random time up to ``min(8, backoff * 2**n)``, or what ``Retry-After`` says
            (a ``Retry-After`` over 60 s is not waited for: the RateLimitError is raised).
            ``backoff=0`` turns every wait off, for tests.
        transport: an ``httpx`` transport, e.g. ``httpx.MockTransport`` in tests.
        clock: anything with ``now_ms()`` (epoch milliseconds) used to pin ``occurred_at_ms``.
        sleep: the coroutine function used to wait between retries (``asyncio.sleep``).
    """

    def __init__(
        self,
        base_url: str,
        bearer: str,
        *,
        timeout: float = 10.0,
        max_retries: int = 3,
        backoff: float = 0.5,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
    ) -> None:
        super().__init__(
            base_url, timeout=timeout, max_retries=max_retries, backoff=backoff, clock=clock
        )
        self._sleep = sleep or asyncio.sleep
        self._http = httpx.AsyncClient(
            base_url=base_url,
            headers=default_headers(bearer),
            timeout=timeout,
            transport=transport,
        )

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def send_event(
        self,
        event: str,
        *,
        uid: str | None = None,
        value: Money | None = None,
        currency: str | None = None,
        eid: str | None = None,
        occurred_at_ms: int | None = None,
        tg_id: int | None = None,
    ) -> EventResult:
        """Record one canonical event (``POST /events``).

        Args:
            event: ``contact``, ``subscribed``, ``registration`` or ``deposit``; the server
                refuses anything else with a ValidationError (code ``unknown_event``).
            uid: the click id the landing minted.
            value: the deposit amount as ``Decimal``, ``str`` or ``int``; sent as a string
                (an ``int`` as a number), never as a float. A float raises TypeError.
            currency: ISO code, ``USD`` on the server when omitted.
            eid: your own id of the event (trade id, user id…); the dedup key when given.
            occurred_at_ms: when it happened, epoch ms. When omitted the client pins the
                current time once, and every internal retry re-sends the same body, so a
                retry deduplicates on the server.
            tg_id: the Telegram user id, for an event that has no uid yet.

        Only the fields given are sent. If you retry yourself after an exception, pass an
        ``eid`` or the same ``occurred_at_ms``, or the retry counts as a new event.

        Returns the EventResult (``queued``, or ``duplicate`` when already recorded).
        Raises an APIError subclass, TransportError or ProtocolError.
        """
        call = self._event(
            event, occurred_at_ms, uid=uid, value=value, currency=currency, eid=eid, tg_id=tg_id
        )
        return await self._run(call)

    async def send_events(self, events: Sequence[Mapping[str, Any]]) -> list[EventResult]:
        """Record several events in one request (``POST /events`` with ``{"events": [...]}``).

        Each item is a mapping with the keyword arguments of ``send_event`` (``event``
        required). Items without ``occurred_at_ms`` are pinned, distinct and strictly
        increasing. The server takes up to 1000 at once. Returns one EventResult per item,
        in order; an empty list sends nothing.
        """
        if not events:
            return []
        return await self._run(self._events(events))

    async def bind(self, uid: str, tg_id: int) -> BindResult:
        """Bind a uid to a Telegram user id (``POST /bind``).

        The first tg_id wins and the same pair again is a safe retry; another tg_id raises
        ConflictError (code ``already_bound``). ``matched`` says whether the click exists.
        """
        return await self._run(self._bind(uid, tg_id))

    async def click(
        self,
        *,
        link_slug: str | None = None,
        fbclid: str | None = None,
        campaign_name: str | None = None,
        raw_query: str | None = None,
    ) -> str:
        """Back-fill a click that did not come through the tracker's landing (``POST /clicks``).

        ``raw_query`` is the landing URL's query string; campaign fields and ``fbclid`` in it
        are parsed by the server. Returns the new uid. A timeout is not retried here (the
        click may have been recorded); a connection that never opened is.
        """
        call = self._click(
            link_slug=link_slug, fbclid=fbclid, campaign_name=campaign_name, raw_query=raw_query
        )
        return await self._run(call)

    async def _run(self, call: Call[T]) -> T:
        attempt = 0
        while True:
            outcome: httpx.Response | httpx.TransportError
            request = self._http.build_request(
                call.method, call.path, content=call.body, headers=JSON_CONTENT
            )
            try:
                outcome = await self._http.send(request)
            except httpx.TransportError as exc:
                outcome = exc
            step = self._decide(call, outcome, attempt)
            if not isinstance(step, Wait):
                return step
            if step.seconds > 0:
                await self._sleep(step.seconds)
            attempt += 1


class Client(_Calls):
    """Blocking twin of AsyncClient: the same arguments, methods and errors.

    ::

        with Client("https://track.example.com", bearer=SECRET) as xt:
            xt.send_event("subscribed", uid=uid)

    ``transport`` is an ``httpx.BaseTransport``; ``sleep`` a plain function (``time.sleep``).
    See AsyncClient for every argument.
    """

    def __init__(
        self,
        base_url: str,
        bearer: str,
        *,
        timeout: float = 10.0,
        max_retries: int = 3,
        backoff: float = 0.5,
        transport: httpx.BaseTransport | None = None,
        clock: Clock | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        super().__init__(
            base_url, timeout=timeout, max_retries=max_retries, backoff=backoff, clock=clock
        )
        self._sleep = sleep or time.sleep
        self._http = httpx.Client(
            base_url=base_url,
            headers=default_headers(bearer),
            timeout=timeout,
            transport=transport,
        )

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def send_event(
        self,
        event: str,
        *,
        uid: str | None = None,
        value: Money | None = None,
        currency: str | None = None,
        eid: str | None = None,
        occurred_at_ms: int | None = None,
        tg_id: int | None = None,
    ) -> EventResult:
        """Record one canonical event (``POST /events``); see AsyncClient.send_event."""
        call = self._event(
            event, occurred_at_ms, uid=uid, value=value, currency=currency, eid=eid, tg_id=tg_id
        )
        return self._run(call)

    def send_events(self, events: Sequence[Mapping[str, Any]]) -> list[EventResult]:
        """Record several events in one request; see AsyncClient.send_events."""
        if not events:
            return []
        return self._run(self._events(events))

    def bind(self, uid: str, tg_id: int) -> BindResult:
        """Bind a uid to a Telegram user id (``POST /bind``); see AsyncClient.bind."""
        return self._run(self._bind(uid, tg_id))

    def click(
        self,
        *,
        link_slug: str | None = None,
        fbclid: str | None = None,
        campaign_name: str | None = None,
        raw_query: str | None = None,
    ) -> str:
        """Back-fill a click (``POST /clicks``) and return its uid; see AsyncClient.click."""
        call = self._click(
            link_slug=link_slug, fbclid=fbclid, campaign_name=campaign_name, raw_query=raw_query
        )
        return self._run(call)

    def _run(self, call: Call[T]) -> T:
        attempt = 0
        while True:
            outcome: httpx.Response | httpx.TransportError
            request = self._http.build_request(
                call.method, call.path, content=call.body, headers=JSON_CONTENT
            )
            try:
                outcome = self._http.send(request)
            except httpx.TransportError as exc:
                outcome = exc
            step = self._decide(call, outcome, attempt)
            if not isinstance(step, Wait):
                return step
            if step.seconds > 0:
                self._sleep(step.seconds)
            attempt += 1
