"""The retry policy (SPEC §5) as one pure function of the outcome and the attempt number.

408, 429, 5xx, timeouts and connection errors are transient: retried after
``first_retry × 2^(attempt-1)`` (≈30 s, 1 min, 2 min … capped at 6 h) with ±20 % jitter,
never sooner than the receiver's ``Retry-After``, until ``max_attempts`` (≈ 3 days in all);
then ``failed_permanently``. Anything else fails at once without burning retries.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from xtracker.sender.base import Outcome

MAX_RETRY_AFTER_S = 24 * 3600.0


@dataclass(frozen=True)
class Sent:
    pass


@dataclass(frozen=True)
class Retry:
    after_ms: int
    reason: str


@dataclass(frozen=True)
class Failed:
    reason: str


Decision = Sent | Retry | Failed


@dataclass(frozen=True)
class RetryPolicy:
    first_retry_s: float = 30.0
    max_backoff_s: float = 6 * 3600.0
    max_attempts: int = 21
    jitter: float = 0.2
    no_delays: bool = False  # the testing switch: every retry is due at once

    def backoff_s(self, attempt: int, rng: random.Random | None = None) -> float:
        """Delay after the ``attempt``-th failed attempt (1-based), jittered."""
        base = min(self.max_backoff_s, self.first_retry_s * float(2 ** max(0, attempt - 1)))
        spread = float((rng or random).uniform(-self.jitter, self.jitter))
        return min(self.max_backoff_s, base * (1 + spread))

    def decide(self, outcome: Outcome, attempt: int, rng: random.Random | None = None) -> Decision:
        """``attempt`` is the number of the attempt that produced ``outcome`` (1-based)."""
        if outcome.kind == "delivered":
            return Sent()
        reason = outcome.error or (
            f"HTTP {outcome.status_code}" if outcome.status_code else "failed"
        )
        if outcome.kind == "permanent":
            return Failed(reason)
        if attempt >= self.max_attempts:
            return Failed(f"gave up after {attempt} attempts; last: {reason}")
        if self.no_delays:
            return Retry(0, reason)
        delay = self.backoff_s(attempt, rng)
        if outcome.retry_after_s is not None:
            delay = max(delay, min(outcome.retry_after_s, MAX_RETRY_AFTER_S))
        return Retry(int(delay * 1000), reason)


@dataclass(frozen=True)
class CircuitPolicy:
    """Open after ``threshold`` consecutive transient failures; probe after a pause that
    doubles each time it re-opens (``open_s`` … 10 min)."""

    threshold: int = 10
    open_s: float = 30.0
    max_open_s: float = 600.0
    no_delays: bool = False

    def pause_ms(self, times_opened: int) -> int:
        if self.no_delays:
            return 0
        return int(min(self.max_open_s, self.open_s * float(2 ** max(0, times_opened - 1))) * 1000)
