"""A real DNS server on 127.0.0.1 (UDP, a random port) whose zone a test edits live."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from dnslib import CNAME, QTYPE, RCODE, RR, TXT, A
from dnslib.server import BaseResolver, DNSLogger, DNSServer


@dataclass
class Zone(BaseResolver):  # type: ignore[misc]
    cnames: dict[str, str] = field(default_factory=dict)
    txts: dict[str, list[str]] = field(default_factory=dict)
    addresses: dict[str, str] = field(default_factory=dict)
    servfail: bool = False
    queries: int = 0

    def resolve(self, request: Any, handler: Any) -> Any:
        self.queries += 1
        reply = request.reply()
        if self.servfail:
            reply.header.rcode = RCODE.SERVFAIL
            return reply
        qname = str(request.q.qname).rstrip(".").lower()
        qtype = QTYPE[request.q.qtype]
        if qname in self.cnames:
            reply.add_answer(RR(qname, QTYPE.CNAME, rdata=CNAME(self.cnames[qname] + "."), ttl=60))
        elif qtype == "TXT" and qname in self.txts:
            for text in self.txts[qname]:
                reply.add_answer(RR(qname, QTYPE.TXT, rdata=TXT(text), ttl=60))
        elif qtype == "A" and qname in self.addresses:
            reply.add_answer(RR(qname, QTYPE.A, rdata=A(self.addresses[qname]), ttl=60))
        elif qname not in self.addresses and qname not in self.txts:
            reply.header.rcode = RCODE.NXDOMAIN
        return reply


@contextmanager
def fake_dns(zone: Zone) -> Iterator[int]:
    """Serve ``zone``; yields the port."""
    server = DNSServer(zone, address="127.0.0.1", port=0, logger=DNSLogger(logf=lambda _s: None))
    server.start_thread()
    try:
        yield int(server.server.server_address[1])
    finally:
        server.stop()
        server.server.server_close()
