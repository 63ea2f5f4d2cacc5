"""Credential checks on every API request, cached briefly.

A rotated-out secret stays valid for the grace period (24 h), so caching a positive answer
for a few seconds can never extend a credential's life by more than that TTL.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from xtracker.db.dialect import Backend
from xtracker.errors import InvalidToken, MissingCredentials
from xtracker.kit.hashing import secret_hash

BEARER = "bearer"
INGEST = "ingest"
CACHE_TTL_S = 5.0
_LOOKUP = (
    "SELECT k.space_id, k.kind, k.expires_at_ms, s.currency FROM api_key k"
    " JOIN space s ON s.id = k.space_id WHERE k.secret_hash = ?"
)


@dataclass(frozen=True, slots=True)
class Credential:
    space_id: str
    kind: str
    expires_at_ms: int | None
    currency: str


class KeyAuthenticator:
    def __init__(self, backend: Backend) -> None:
        self._backend = backend
        self._cache: dict[str, tuple[float, Credential | None]] = {}

    async def _lookup(self, secret: str) -> Credential | None:
        # Keyed by the secret itself (it is in this process's memory for the request
        # anyway): a cache hit costs no hashing.
        now = time.monotonic()
        hit = self._cache.get(secret)
        if hit is not None and hit[0] > now:
            return hit[1]
        async with self._backend.reader() as tx:
            row = await tx.fetchone(_LOOKUP, (secret_hash(secret),))
        credential = Credential(row[0], row[1], row[2], row[3]) if row else None
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[secret] = (now + (CACHE_TTL_S if credential else 1.0), credential)
        return credential

    async def authenticate(self, secret: str | None, kind: str, now_ms: int) -> Credential:
        """The space a secret of ``kind`` belongs to, or InvalidToken / MissingCredentials."""
        if not secret:
            if kind == BEARER:
                raise MissingCredentials()
            raise MissingCredentials("the ingest token is required: ?token=<INGEST_TOKEN>")
        credential = await self._lookup(secret)
        if credential is None:
            raise InvalidToken()
        if credential.kind != kind:
            if kind == BEARER:
                raise InvalidToken(
                    "ingest tokens are accepted only as ?token= on GET /e and GET /bind"
                )
            raise InvalidToken("the Bearer secret is never accepted in a URL; use the ingest token")
        if credential.expires_at_ms is not None and credential.expires_at_ms <= now_ms:
            raise InvalidToken("this secret was rotated out more than 24 hours ago")
        return credential

    def forget(self) -> None:
        self._cache.clear()


def bearer_from_header(value: str | None) -> str | None:
    if not value:
        return None
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()
