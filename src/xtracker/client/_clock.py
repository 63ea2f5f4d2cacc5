"""Pinning ``occurred_at_ms``: the one timestamp that makes a retried event a duplicate."""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    """Anything with ``now_ms()`` returning epoch milliseconds."""

    def now_ms(self) -> int: ...


class SystemClock:
    """The wall clock."""

    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000


class Pinner:
    """Hands out ``occurred_at_ms`` values: the clock's now, strictly increasing per client.

    Two events of one uid without an ``eid`` are told apart only by ``occurred_at_ms``; two
    sent in the same millisecond would otherwise collapse into one on the server.
    """

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._last = 0
        self._lock = threading.Lock()

    def pin(self) -> int:
        with self._lock:
            self._last = max(self._clock.now_ms(), self._last + 1)
            return self._last
