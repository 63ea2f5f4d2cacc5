"""Sign-in throttling: too many wrong passwords for one email, or from one address, wait.

The failures are rows in the database (``login_failure``), so every server process counts
the same ones (``serve --workers 4`` does not allow four times the guesses) and a restart
forgives nothing. What is counted is stored as an HMAC under the server's secret key, never
as typed (people type passwords into the email field). Rows that left the window are
deleted as new failures come in.
"""

from __future__ import annotations

import hashlib
import hmac

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from xtracker.db.engine import session_scope
from xtracker.db.models import LoginFailure
from xtracker.errors import RateLimited
from xtracker.kit.ids import new_uid

WINDOW_MS = 15 * 60 * 1000
PER_EMAIL = 10  # failures per email in the window
PER_ADDRESS = 50  # failures per client address (offices and proxies share one)


class LoginThrottle:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], secret_key: str,
        window_ms: int = WINDOW_MS,
    ) -> None:  # fmt: skip
        self._sessions = sessions
        self._secret = secret_key.encode()
        self.window_ms = window_ms

    def _key(self, kind: str, value: str) -> str:
        return hmac.new(self._secret, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()

    def _email_key(self, email: str) -> str:
        return self._key("email", email.strip().lower())

    async def check(self, email: str, address: str, now_ms: int) -> None:
        """Raise RateLimited while either key is at its limit."""
        keys = ((self._email_key(email), PER_EMAIL), (self._key("addr", address), PER_ADDRESS))
        async with session_scope(self._sessions) as session:
            for key, limit in keys:
                times = (await session.scalars(
                    select(LoginFailure.at_ms)
                    .where(LoginFailure.key_hash == key,
                           LoginFailure.at_ms > now_ms - self.window_ms)
                    .order_by(LoginFailure.at_ms)
                )).all()  # fmt: skip
                if len(times) < limit:
                    continue
                # Under the limit again once the oldest failures beyond it leave the window.
                wait_ms = times[len(times) - limit] + self.window_ms - now_ms
                wait_s = max(1, (wait_ms + 999) // 1000)
                raise RateLimited(
                    wait_s, f"too many failed sign-ins; try again in {(wait_s + 59) // 60} min"
                )

    async def failed(self, email: str, address: str, now_ms: int) -> None:
        rows = [
            {"id": new_uid(now_ms), "key_hash": key, "at_ms": now_ms}
            for key in (self._email_key(email), self._key("addr", address))
        ]
        async with session_scope(self._sessions) as session:
            await session.execute(insert(LoginFailure), rows)
            await session.execute(
                delete(LoginFailure).where(LoginFailure.at_ms <= now_ms - self.window_ms)
            )

    async def succeeded(self, email: str) -> None:
        async with session_scope(self._sessions) as session:
            await session.execute(
                delete(LoginFailure).where(LoginFailure.key_hash == self._email_key(email))
            )
