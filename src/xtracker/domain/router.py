"""``runtime.extras["host_router"]``: which space a request's Host belongs to.

``None`` — the tracker's own host (``public_url``, ``origin_host``, ``own_hosts``,
localhost, IP literals, single-label names such as a container's service name): normal
routing, ``/l/<slug>`` included. Otherwise the space id of a verified (or failing, still in
its grace period) custom domain, or ``""`` for an unknown, pending or disabled host, which
the app answers with 404 before any link look-up. Until the first custom domain is added,
every host is the tracker's own (a deployment whose public URL is not configured keeps
working). The domain table is read at most every few seconds: this runs on every landing.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import time

from xtracker.config import Settings
from xtracker.db.dialect import Backend
from xtracker.domain.service import SERVING, own_hosts, strip_host
from xtracker.http.asgi import Scope

log = logging.getLogger("xtracker.domain")
CACHE_TTL_S = 3.0
_SELECT = "SELECT hostname, space_id, state FROM custom_domain"


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


class DomainRouter:
    def __init__(self, backend: Backend, settings: Settings, ttl_s: float = CACHE_TTL_S) -> None:
        self._backend = backend
        self._own = own_hosts(settings)
        self._ttl = ttl_s
        self._table: dict[str, str] = {}
        self._expires = 0.0
        self._lock = asyncio.Lock()
        self._keys: dict[bytes, str | None] = {}
        self._warned: set[str] = set()

    def forget(self) -> None:
        """Re-read the table on the next request (after an add, remove or check here)."""
        self._expires = 0.0

    async def _snapshot(self) -> dict[str, str]:
        if time.monotonic() < self._expires:
            return self._table
        async with self._lock:
            if time.monotonic() < self._expires:
                return self._table
            async with self._backend.reader() as tx:
                rows = await tx.fetchall(_SELECT)
            self._table = {strip_host(row[0]): row[1] if row[2] in SERVING else "" for row in rows}
            self._expires = time.monotonic() + self._ttl
        return self._table

    def is_own(self, host: str) -> bool:
        if not host or host in self._own or "." not in host:
            return True
        return (host[-1].isdigit() or ":" in host) and _is_ip(host)

    def _key(self, raw: bytes) -> str | None:
        """The routing key of a Host header, None for the tracker's own hosts (memoised)."""
        try:
            return self._keys[raw]
        except KeyError:
            pass
        host = strip_host(raw.decode("latin-1"))
        key = None if self.is_own(host) else host
        if len(self._keys) > 10_000:  # Host headers are client-chosen: keep the memo bounded
            self._keys.clear()
        self._keys[raw] = key
        return key

    async def __call__(self, scope: Scope) -> str | None:
        raw = b""
        for name, value in scope["headers"]:
            if name == b"host":
                raw = value
                break
        key = self._key(raw)
        if key is None:
            return None
        table = await self._snapshot()
        if not table:  # no custom domain anywhere yet: every host is the tracker's own
            return None
        space_id = table.get(key)
        if space_id is None:
            if key not in self._warned and len(self._warned) < 100:
                self._warned.add(key)
                log.warning(
                    "404 for unknown host %r: if it is the tracker's own, set "
                    "XTRACKER_PUBLIC_URL or add it to XTRACKER_OWN_HOSTS",
                    key,
                )
            return ""
        return space_id
