"""Request bodies and answers: pure functions shared by AsyncClient and Client."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Generic, TypeVar

import httpx

from ._errors import APIError, ProtocolError, RateLimitError, TransportError, error_class
from ._models import BindResult, EventResult
from ._retry import RetryPolicy, parse_retry_after, retryable_exception, retryable_status

__version__ = "0.1.0"

T = TypeVar("T")

EVENT_FIELDS = frozenset({"event", "uid", "value", "currency", "eid", "occurred_at_ms", "tg_id"})
JSON_CONTENT = {"Content-Type": "application/json"}


class Unexpected(ValueError):
    """An answer that does not have the documented shape (becomes a ProtocolError)."""


@dataclass(frozen=True, slots=True)
class Call(Generic[T]):
    """One logical API call: the exact bytes sent on every attempt, and how to read the answer."""

    method: str
    path: str
    body: bytes
    idempotent: bool
    parse: Callable[[Any], T]


@dataclass(frozen=True, slots=True)
class Wait:
    """Retry the call after ``seconds``."""

    seconds: float


def default_headers(bearer: str) -> dict[str, str]:
    if not isinstance(bearer, str) or not bearer.strip():
        raise ValueError("bearer must be the space's Bearer secret")
    return {
        "Authorization": f"Bearer {bearer}",
        "User-Agent": f"xtracker-python/{__version__}",
        "Accept": "application/json",
    }


# ---------------------------------------------------------------------------------- requests


def _check(name: str, value: object, kind: type | tuple[type, ...], label: str) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, kind)):
        raise TypeError(f"{name} must be {label}, not {type(value).__name__}")


def _money(value: str | int | Decimal) -> str | int:
    if isinstance(value, Decimal):
        return format(value, "f")  # never exponent notation: Decimal("1E+2") → "100"
    return value


def event_body(
    event: str,
    *,
    uid: str | None = None,
    value: str | int | Decimal | None = None,
    currency: str | None = None,
    eid: str | None = None,
    occurred_at_ms: int | None = None,
    tg_id: int | None = None,
) -> dict[str, Any]:
    """The JSON object of one event: only the fields given. Types are checked, values are not."""
    if not isinstance(event, str):
        raise TypeError(f"event must be str, not {type(event).__name__}")
    for name, text in (("uid", uid), ("currency", currency), ("eid", eid)):
        _check(name, text, str, "str")
    _check("value", value, (str, int, Decimal), "str, int or Decimal (money is never a float)")
    _check("occurred_at_ms", occurred_at_ms, int, "int (epoch milliseconds)")
    _check("tg_id", tg_id, int, "int")
    fields: dict[str, Any] = {
        "uid": uid,
        "value": None if value is None else _money(value),
        "currency": currency,
        "eid": eid,
        "occurred_at_ms": occurred_at_ms,
        "tg_id": tg_id,
    }
    return {"event": event} | {k: v for k, v in fields.items() if v is not None}


def batch_item(index: int, item: Mapping[str, Any], pin: Callable[[], int]) -> dict[str, Any]:
    """One item of ``send_events``: the same fields as ``send_event``, pinned when needed."""
    if not isinstance(item, Mapping):
        raise TypeError(f"events[{index}] must be a mapping, not {type(item).__name__}")
    unknown = sorted(set(item) - EVENT_FIELDS)
    if unknown:
        raise TypeError(f"events[{index}] has unknown fields: {', '.join(map(str, unknown))}")
    if "event" not in item:
        raise TypeError(f"events[{index}] has no 'event'")
    fields = dict(item)
    try:
        event_body(**fields)  # checked before pinning, so a TypeError wastes no timestamp
    except TypeError as exc:
        raise TypeError(f"events[{index}]: {exc}") from None
    if fields.get("occurred_at_ms") is None:
        fields["occurred_at_ms"] = pin()
    return event_body(**fields)


def encode(body: Mapping[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


# ----------------------------------------------------------------------------------- answers


def _object(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise Unexpected(f"expected a JSON object, got {type(data).__name__}")
    if data.get("ok") is False:
        raise Unexpected("a success status with ok: false")
    return data


def parse_event(data: Any) -> EventResult:
    answer = _object(data)
    status, inbox_id = answer.get("status"), answer.get("inbox_id")
    if status not in ("queued", "duplicate"):
        raise Unexpected(f"unknown event status {status!r}")
    if not isinstance(inbox_id, str):
        raise Unexpected("the answer has no inbox_id")
    raw = answer.get("warnings") or []
    if not isinstance(raw, list):
        raise Unexpected("warnings is not a list")
    # Lenient on purpose: the event is stored, a warning we cannot read must not hide that.
    warnings = tuple(w if isinstance(w, str) else json.dumps(w) for w in raw)
    return EventResult(status=status, inbox_id=inbox_id, warnings=warnings)


def parse_events(count: int) -> Callable[[Any], list[EventResult]]:
    def parse(data: Any) -> list[EventResult]:
        results = _object(data).get("results")
        if not isinstance(results, list) or len(results) != count:
            raise Unexpected(f"expected a list of {count} results")
        parsed = []
        for index, result in enumerate(results):
            try:
                parsed.append(parse_event(result))
            except Unexpected as exc:
                raise Unexpected(f"results[{index}]: {exc}") from None
        return parsed

    return parse


def parse_bind(data: Any) -> BindResult:
    matched = _object(data).get("matched")
    if not isinstance(matched, bool):
        raise Unexpected("the answer has no boolean 'matched'")
    return BindResult(matched=matched)


def parse_click(data: Any) -> str:
    uid = _object(data).get("uid")
    if not isinstance(uid, str) or not uid:
        raise Unexpected("the answer has no uid")
    return uid


def api_error(response: httpx.Response, *, now: float) -> APIError:
    """The typed error for a non-2xx answer, from the documented error body when there is one."""
    status = response.status_code
    code, message, field = f"http_{status}", response.reason_phrase or "HTTP error", None
    try:
        error = json.loads(response.content)["error"]
        code, message = str(error["code"]), str(error.get("message") or message)
        field = error.get("field") if isinstance(error.get("field"), str) else None
    except (ValueError, KeyError, TypeError):
        pass  # not the documented shape (a proxy's HTML page…): keep the status-based error
    cls = error_class(status)
    if cls is RateLimitError:
        after = parse_retry_after(response.headers.get("Retry-After"), now=now)
        return RateLimitError(status, code, message, field, retry_after=after)
    return cls(status, code, message, field)


# ---------------------------------------------------------------------------- the decision


def next_step(
    call: Call[T],
    outcome: httpx.Response | httpx.TransportError,
    *,
    attempt: int,
    policy: RetryPolicy,
    rand: float,
    now: float,
) -> T | Wait:
    """What to do with one attempt's outcome: the result, a Wait before retrying, or raise.

    ``attempt`` counts retries already made; ``rand`` is a uniform draw for the jitter;
    ``now`` is epoch seconds (for a ``Retry-After`` given as a date).
    """
    if isinstance(outcome, httpx.TransportError):
        if retryable_exception(outcome, idempotent=call.idempotent):
            delay = policy.delay(attempt, retry_after=None, rand=rand)
            if delay is not None:
                return Wait(delay)
        tries = attempt + 1
        raise TransportError(
            f"{call.method} {call.path} failed after {tries} attempt{'s' * (tries > 1)}: "
            f"{type(outcome).__name__}: {outcome}"
        ) from outcome

    status = outcome.status_code
    if 200 <= status <= 299:
        try:
            return call.parse(json.loads(outcome.content))
        except ValueError as exc:  # Unexpected, and JSON or UTF-8 decoding errors
            raise ProtocolError(
                f"{call.method} {call.path} answered {status} with an unexpected body: {exc}",
                status_code=status,
            ) from None
    if status < 400:
        where = outcome.headers.get("Location", "")
        raise ProtocolError(
            f"{call.method} {call.path} answered {status} {where}".rstrip()
            + "; is base_url the XTRACKER server?",
            status_code=status,
        )
    error = api_error(outcome, now=now)
    if retryable_status(status):
        after = parse_retry_after(outcome.headers.get("Retry-After"), now=now)
        delay = policy.delay(attempt, retry_after=after, rand=rand)
        if delay is not None:
            return Wait(delay)
    raise error


def events_body(events: Sequence[Mapping[str, Any]], pin: Callable[[], int]) -> bytes:
    return encode({"events": [batch_item(i, item, pin) for i, item in enumerate(events)]})
