"""Adding, checking and listing a space's custom landing domains.

States: ``pending`` (added, not yet seen in DNS) → ``verified`` (the CNAME reaches the
origin) → ``failing`` (a verified domain failed a check; it keeps serving) → ``disabled``
(still failing after the grace period; 404 until a check passes again). Any passing check
makes the domain ``verified``.
"""

from __future__ import annotations

import ipaddress
import re
import secrets
from collections.abc import Sequence
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession

from xtracker.config import Settings
from xtracker.db.models import CustomDomain
from xtracker.domain import schemas
from xtracker.domain.dns import TXT_PREFIX, TXT_VALUE, CheckResult, DomainChecker
from xtracker.domain.repository import domain_repository
from xtracker.errors import Conflict, NotFound, ValidationFailed
from xtracker.kit.ids import new_uid

PENDING, VERIFIED, FAILING, DISABLED = "pending", "verified", "failing", "disabled"
SERVING = frozenset({VERIFIED, FAILING})
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


class DomainTaken(Conflict):
    """That hostname is already added (here or in another space)."""

    code = "domain_taken"


def strip_host(host: str) -> str:
    """Lower-case, without port, trailing dot and a leading ``www.``: the routing key."""
    host = host.strip().lower()
    if host.startswith("["):  # [v6]:port
        host = host[1 : host.find("]")] if "]" in host else host
    elif host.count(":") == 1:
        host = host.split(":", 1)[0]
    host = host.rstrip(".")
    return host[4:] if host.startswith("www.") else host


def own_hosts(settings: Settings) -> frozenset[str]:
    names = {settings.origin_host, urlsplit(settings.public_url).hostname or "", "localhost"}
    names.update(settings.own_hosts)
    return frozenset(strip_host(n) for n in names if n)


def normalize_hostname(raw: str, settings: Settings) -> str:
    text = raw.strip().lower()
    if "://" in text:
        text = urlsplit(text).hostname or ""
    text = text.split("/", 1)[0].split(":", 1)[0].rstrip(".")
    labels = text.split(".")
    if (
        len(text) > 253
        or len(labels) < 2
        or not all(_LABEL.match(label) for label in labels)
        or labels[-1].isdigit()
    ):
        raise ValidationFailed(
            "hostname must be a domain name like go.mybrand.com", field="hostname"
        )
    try:
        ipaddress.ip_address(text)
    except ValueError:
        pass
    else:  # pragma: no cover - digits-only TLD is refused above
        raise ValidationFailed("hostname must be a name, not an IP address", field="hostname")
    if strip_host(text) in own_hosts(settings):
        raise ValidationFailed("that is the tracker's own host", field="hostname")
    return text


def grace_ms(settings: Settings) -> int:
    return int(settings.domain_grace_days * 86_400_000)


def apply_check(domain: CustomDomain, result: CheckResult, now_ms: int, grace: int) -> str:
    """Move ``domain`` through its states after a check; returns the new state."""
    domain.checked_at_ms = now_ms
    domain.last_chain = " → ".join(result.chain)
    if result.ok:
        if domain.state != VERIFIED or domain.verified_at_ms is None:
            domain.verified_at_ms = now_ms
        domain.state = VERIFIED
        domain.failing_since_ms = None
        domain.disabled_at_ms = None
        domain.last_error = None
        return domain.state
    domain.last_error = result.error
    if domain.state == VERIFIED:
        domain.state = FAILING
        domain.failing_since_ms = now_ms
    if domain.state == FAILING and now_ms - (domain.failing_since_ms or now_ms) >= grace:
        domain.state = DISABLED
        domain.disabled_at_ms = now_ms
    return domain.state


def to_schema(domain: CustomDomain, settings: Settings) -> schemas.Domain:
    disables_at = None
    if domain.state == FAILING and domain.failing_since_ms is not None:
        disables_at = domain.failing_since_ms + grace_ms(settings)
    return schemas.Domain(
        id=domain.id, hostname=domain.hostname, state=domain.state,
        serving=domain.state in SERVING,
        record=schemas.DnsRecord(type="CNAME", name=domain.hostname,
                                 value=settings.origin_host.rstrip(".").lower()),
        txt_record=schemas.DnsRecord(type="TXT", name=TXT_PREFIX + domain.hostname,
                                     value=TXT_VALUE + domain.verify_token),
        landing_url_example=f"https://{domain.hostname}/<slug>",
        chain=domain.last_chain.split(" → ") if domain.last_chain else [],
        last_error=domain.last_error, created_at_ms=domain.created_at_ms,
        checked_at_ms=domain.checked_at_ms, verified_at_ms=domain.verified_at_ms,
        failing_since_ms=domain.failing_since_ms, disables_at_ms=disables_at,
        disabled_at_ms=domain.disabled_at_ms,
    )  # fmt: skip


class DomainService:
    async def add(
        self, session: AsyncSession, space_id: str, hostname: str, settings: Settings, now_ms: int
    ) -> CustomDomain:
        name = normalize_hostname(hostname, settings)
        key = strip_host(name)
        if await domain_repository.find_host(session, [key, "www." + key]) is not None:
            raise DomainTaken()
        domain = CustomDomain(
            id=new_uid(now_ms), space_id=space_id, hostname=name, state=PENDING,
            verify_token=secrets.token_hex(16), created_at_ms=now_ms,
        )  # fmt: skip
        session.add(domain)
        await session.flush()
        return domain

    async def for_space(self, session: AsyncSession, space_id: str) -> Sequence[CustomDomain]:
        return await domain_repository.for_space(session, space_id)

    async def views(
        self, session: AsyncSession, space_id: str, settings: Settings
    ) -> list[schemas.Domain]:
        """The space's domains with their states and the DNS record to create (dashboard)."""
        return [
            to_schema(d, settings) for d in await domain_repository.for_space(session, space_id)
        ]

    async def get(self, session: AsyncSession, space_id: str, hostname: str) -> CustomDomain:
        name = hostname.strip().lower().rstrip(".")
        domain = await domain_repository.get(session, space_id, name)
        if domain is None:
            raise NotFound(f"no domain {hostname!r} in this space")
        return domain

    async def remove(self, session: AsyncSession, domain: CustomDomain) -> None:
        await session.delete(domain)
        await session.flush()

    async def check(
        self,
        session: AsyncSession,
        domain: CustomDomain,
        checker: DomainChecker,
        settings: Settings,
        now_ms: int,
    ) -> str:
        result = await checker.check(domain.hostname, domain.verify_token)
        state = apply_check(domain, result, now_ms, grace_ms(settings))
        await session.flush()
        return state

    async def check_due(
        self, session: AsyncSession, checker: DomainChecker, settings: Settings, now_ms: int
    ) -> int:
        """Re-check every domain not checked for ``domain_check_interval_s``; returns how many."""
        cutoff = now_ms - int(settings.domain_check_interval_s * 1000)
        domains = await domain_repository.due(session, cutoff)
        for domain in domains:
            await self.check(session, domain, checker, settings, now_ms)
        return len(domains)

    async def broken(self, session: AsyncSession, space_id: str) -> list[CustomDomain]:
        """Domains that were verified and now fail their check (failing or disabled)."""
        return [
            d
            for d in await domain_repository.for_space(session, space_id)
            if d.state in (FAILING, DISABLED)
        ]


domain_service = DomainService()
