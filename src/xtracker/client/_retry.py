"""When to retry and how long to wait: pure functions, no I/O, no sleeping."""

from __future__ import annotations

import email.utils
from dataclasses import dataclass

import httpx

#: Statuses that mean "try again": the server wrote nothing and may answer later.
RETRYABLE_STATUSES = frozenset({408, 429})

# Connection failures that prove the request never reached the server: always safe to retry.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# Failures after the request may have been received: safe only for idempotent requests.
_MAYBE_SENT = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)


def retryable_status(status_code: int) -> bool:
    """True for 408, 429 and every 5xx."""
    return status_code in RETRYABLE_STATUSES or 500 <= status_code <= 599


def retryable_exception(exc: httpx.TransportError, *, idempotent: bool) -> bool:
    """True when a failed request may be sent again.

    A connection that never opened is always retryable. A timeout or a dropped connection
    after the request went out is retryable only when sending it twice is harmless.
    """
    if isinstance(exc, _NOT_SENT):
        return True
    return idempotent and isinstance(exc, _MAYBE_SENT)


def parse_retry_after(value: str | None, *, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds or HTTP date), or None."""
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - now
    if seconds != seconds:  # NaN
        return None
    return max(0.0, seconds)


def backoff_delay(attempt: int, *, backoff: float, cap: float, rand: float) -> float:
    """Exponential backoff with full jitter: ``rand * min(cap, backoff * 2**attempt)``.

    ``attempt`` counts retries already made (0 before the first retry); ``rand`` is a
    uniform draw from [0, 1).
    """
    return rand * min(cap, backoff * float(2 ** min(attempt, 32)))


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How many times to retry and how long to wait in between.

    ``backoff=0`` turns every wait off, ``Retry-After`` included: the testing switch.
    A ``Retry-After`` longer than ``max_retry_after`` is not waited for; the error goes to
    the caller, whose scheduler can honour it.
    """

    max_retries: int = 3
    backoff: float = 0.5
    max_backoff: float = 8.0
    max_retry_after: float = 60.0

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        if self.backoff < 0:
            raise ValueError("backoff must be >= 0")

    def delay(self, attempt: int, *, retry_after: float | None, rand: float) -> float | None:
        """Seconds to wait before retrying, or None to give up.

        ``attempt`` counts retries already made.
        """
        if attempt >= self.max_retries:
            return None
        if self.backoff == 0:
            return 0.0
        if retry_after is not None:
            return retry_after if retry_after <= self.max_retry_after else None
        return backoff_delay(attempt, backoff=self.backoff, cap=self.max_backoff, rand=rand)
