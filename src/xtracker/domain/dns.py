"""Follow a hostname's CNAME chain with dnspython; the resolver comes from the settings."""

from __future__ import annotations

from dataclasses import dataclass

import dns.asyncresolver
import dns.exception
import dns.name
import dns.resolver

from xtracker.config import Settings

MAX_HOPS = 10
TXT_PREFIX = "_xtracker."
TXT_VALUE = "xtracker-verify="


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    chain: tuple[str, ...]
    via: str | None  # "cname" | "txt" when ok
    error: str | None


def make_resolver(settings: Settings) -> dns.asyncresolver.Resolver:
    """The configured resolver (address and port), or the system's; never cached."""
    if settings.dns_resolver:
        resolver = dns.asyncresolver.Resolver(configure=False)
        resolver.nameservers = [settings.dns_resolver]
        resolver.port = settings.dns_resolver_port
    else:
        resolver = dns.asyncresolver.Resolver()
    resolver.lifetime = settings.dns_timeout_s
    resolver.timeout = settings.dns_timeout_s
    resolver.cache = None
    return resolver


def _text(name: dns.name.Name) -> str:
    return name.to_text(omit_final_dot=True).lower()


class DomainChecker:
    """Verifies that ``hostname`` reaches ``origin`` through its CNAME chain.

    A proxied CNAME (Cloudflare's orange cloud, or CNAME flattening at the apex) is answered
    with the proxy's addresses instead, so a TXT record ``_xtracker.<hostname>`` with the
    domain's token proves the same ownership.
    """

    def __init__(self, resolver: dns.asyncresolver.Resolver, origin_host: str) -> None:
        self.resolver = resolver
        self.origin = origin_host.strip().rstrip(".").lower()

    async def check(self, hostname: str, token: str) -> CheckResult:
        chain: list[str] = [hostname]
        name = hostname
        error: str | None = None
        for _ in range(MAX_HOPS):
            try:
                answer = await self.resolver.resolve(
                    dns.name.from_text(name), "CNAME", search=False
                )
            except dns.resolver.NXDOMAIN:
                error = f"{name} does not exist in DNS"
                break
            except dns.resolver.NoAnswer:
                break  # the end of the chain
            except (dns.exception.Timeout, dns.resolver.NoNameservers) as exc:
                return CheckResult(False, tuple(chain), None, f"DNS lookup failed: {exc}")
            target = _text(answer[0].target)
            if target in chain:
                error = f"CNAME loop at {target}"
                break
            chain.append(target)
            if target == self.origin:
                return CheckResult(True, tuple(chain), "cname", None)
            name = target
        if await self._txt_proves(hostname, token):
            return CheckResult(True, tuple(chain), "txt", None)
        if error is None:
            if len(chain) == 1:
                error = f"{hostname} has no CNAME record: point it at {self.origin}"
            else:
                error = f"the CNAME chain ends at {chain[-1]}, not at {self.origin}"
        return CheckResult(False, tuple(chain), None, error)

    async def _txt_proves(self, hostname: str, token: str) -> bool:
        try:
            answer = await self.resolver.resolve(
                dns.name.from_text(TXT_PREFIX + hostname), "TXT", search=False
            )
        except dns.exception.DNSException:
            return False
        expected = (TXT_VALUE + token).encode()
        return any(b"".join(r.strings).strip() == expected for r in answer)
