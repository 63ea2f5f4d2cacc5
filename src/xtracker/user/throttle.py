"""Sign-in throttling: too many wrong passwords for one email, or from one address, wait.

Kept in memory per process (each process counts on its own), which is enough to turn a
password-guessing run into a crawl on top of argon2's cost, without a table to clean up.
"""

from __future__ import annotations

from collections import deque

from xtracker.errors import RateLimited

WINDOW_MS = 15 * 60 * 1000
PER_EMAIL = 10  # failures per email in the window
PER_ADDRESS = 50  # failures per client address (offices and proxies share one)


class LoginThrottle:
    def __init__(self, window_ms: int = WINDOW_MS) -> None:
        self.window_ms = window_ms
        self._failures: dict[str, deque[int]] = {}

    def _recent(self, key: str, now_ms: int) -> deque[int]:
        times = self._failures.setdefault(key, deque())
        while times and times[0] <= now_ms - self.window_ms:
            times.popleft()
        return times

    def check(self, email: str, address: str, now_ms: int) -> None:
        """Raise RateLimited while either key is over its limit."""
        for key, limit in ((f"email:{email.strip().lower()}", PER_EMAIL),
                           (f"addr:{address}", PER_ADDRESS)):  # fmt: skip
            times = self._recent(key, now_ms)
            if len(times) >= limit:
                wait_s = max(1, (times[0] + self.window_ms - now_ms + 999) // 1000)
                raise RateLimited(
                    wait_s, f"too many failed sign-ins; try again in {(wait_s + 59) // 60} min"
                )

    def failed(self, email: str, address: str, now_ms: int) -> None:
        if len(self._failures) > 100_000:  # a flood of random keys: start over
            self._failures.clear()
        for key in (f"email:{email.strip().lower()}", f"addr:{address}"):
            self._recent(key, now_ms).append(now_ms)

    def succeeded(self, email: str) -> None:
        self._failures.pop(f"email:{email.strip().lower()}", None)
