"""``<!-- docs-test: service dns -->``: a loopback DNS server for the custom-domain guide.

The zone: ``go.mybrand.com`` is a CNAME to ``edge.mybrand-cdn.net``, itself a CNAME to the
tracker's origin ``xt-origin.example.net``; ``old.mybrand.com`` is a CNAME to a host that is
not the tracker. Sets ``XTRACKER_DNS_RESOLVER``, ``XTRACKER_DNS_RESOLVER_PORT`` and
``XTRACKER_ORIGIN_HOST`` for the server and the blocks.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from tests.docs.runner import PageContext
from tests.support.fake_dns import Zone, fake_dns

ORIGIN = "xt-origin.example.net"


@contextmanager
def service(ctx: PageContext) -> Iterator[dict[str, str]]:
    zone = Zone(
        cnames={"go.mybrand.com": "edge.mybrand-cdn.net", "edge.mybrand-cdn.net": ORIGIN,
                "old.mybrand.com": "parked.registrar.example"},
        addresses={ORIGIN: "192.0.2.10", "parked.registrar.example": "192.0.2.66"},
    )  # fmt: skip
    with fake_dns(zone) as port:
        yield {
            "XTRACKER_DNS_RESOLVER": "127.0.0.1",
            "XTRACKER_DNS_RESOLVER_PORT": str(port),
            "XTRACKER_ORIGIN_HOST": ORIGIN,
        }
