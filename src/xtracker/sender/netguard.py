"""Only public targets (SPEC §5): refuse loopback, private, link-local and reserved addresses.

Checked when a destination is saved and again at send time after DNS resolution (the
``GuardedResolver`` sits inside aiohttp's connector, so a name that later resolves to a
private address is refused too), unless ``XTRACKER_ALLOW_PRIVATE_TARGETS`` is set.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from typing import Any
from urllib.parse import urlsplit

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from xtracker.errors import ValidationFailed

LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")


class PrivateTarget(Exception):
    """The target resolves to an address that is not public."""


def is_public_ip(text: str) -> bool:
    address = ipaddress.ip_address(text.split("%", 1)[0])
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return bool(address.is_global) and not (
        address.is_loopback or address.is_private or address.is_link_local
        or address.is_reserved or address.is_multicast or address.is_unspecified
    )  # fmt: skip


def literal_ip(host: str) -> str | None:
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return None


def check_host(host: str) -> None:
    """Raise ``PrivateTarget`` for a local name or a non-public IP literal."""
    name = host.strip("[]").rstrip(".").lower()
    if name in LOCAL_NAMES or name.endswith(".localhost"):
        raise PrivateTarget(f"{host} is a local name")
    ip = literal_ip(name)
    if ip is not None and not is_public_ip(ip):
        raise PrivateTarget(f"{host} is not a public address")


async def public_addresses(host: str) -> list[str]:
    """The addresses ``host`` resolves to, all public: ``PrivateTarget`` if any is not,
    ``OSError``/``TimeoutError`` if it does not resolve."""
    check_host(host)
    loop = asyncio.get_running_loop()
    infos = await asyncio.wait_for(loop.getaddrinfo(host, None, type=socket.SOCK_STREAM), timeout=3)
    addresses = [str(info[4][0]) for info in infos]
    for address in addresses:
        if not is_public_ip(address):
            raise PrivateTarget(f"{host} resolves to {address}, which is not public")
    if not addresses:
        raise OSError(f"cannot resolve {host}")
    return addresses


async def check_url_public(url: str, *, field: str, resolve: bool = True) -> None:
    """Save-time check: the URL's host is a public name or address (422 otherwise)."""
    host = urlsplit(url).hostname or ""
    try:
        check_host(host)
        if resolve and literal_ip(host) is None:
            try:
                await public_addresses(host)
            except (OSError, TimeoutError):
                return  # unresolvable now: checked again at send time
    except PrivateTarget as exc:
        raise ValidationFailed(
            f"{field} must be a public address ({exc}); the server setting "
            "XTRACKER_ALLOW_PRIVATE_TARGETS allows private targets",
            field=field,
        ) from None


class GuardedResolver(AbstractResolver):
    """Resolves through ``inner`` and refuses any non-public answer (send-time check)."""

    def __init__(self, inner: AbstractResolver | None = None) -> None:
        self._inner = inner or DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        check_host(host)
        results = await self._inner.resolve(host, port, family)
        for result in results:
            if not is_public_ip(result["host"]):
                raise PrivateTarget(f"{host} resolves to {result['host']}, which is not public")
        return results

    async def close(self) -> None:
        await self._inner.close()


class StaticResolver(AbstractResolver):
    """A resolver with a fixed table (tests, and operators pinning names): name → IP."""

    def __init__(self, table: dict[str, str]) -> None:
        self.table = {k.lower(): v for k, v in table.items()}

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        ip = self.table.get(host.lower()) or literal_ip(host)
        if ip is None:
            raise OSError(f"cannot resolve {host}")
        fam = socket.AF_INET6 if ":" in ip else socket.AF_INET
        result: Any = {"hostname": host, "host": ip, "port": port, "family": fam, "proto": 0,
                       "flags": socket.AI_NUMERICHOST}  # fmt: skip
        return [result]

    async def close(self) -> None:
        return None
