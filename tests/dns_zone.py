"""A real DNS server on loopback for the domain tests (dnslib), answering from a zone the test edits.

UDP and TCP on 127.0.0.1 and a free port; MASK_DNS_RESOLVERS points MASK's lookups at it. Names in `servfail`
answer SERVFAIL, names in `silent` never answer (a timeout); a name with no record of any type is NXDOMAIN, one
with records of other types only answers NOERROR with no answer (NODATA). CNAMEs are followed inside the zone.
Never the internet.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from dnslib import AAAA, CNAME, QTYPE, RCODE, RR, TXT, A, DNSRecord
from dnslib.server import BaseResolver, DNSHandler, DNSLogger, DNSServer

from tests.redirect.servers import free_port

SILENT_SECONDS = 30.0  # longer than any lookup deadline a test sets


class Zone(BaseResolver):  # type: ignore[misc]
    def __init__(self) -> None:
        self.records: dict[tuple[str, str], list[str]] = {}
        self.servfail: set[str] = set()
        self.silent: set[str] = set()
        self.queries: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def set(self, name: str, rtype: str, *values: str) -> None:
        """Replace the records of `name` and type (none: remove them)."""
        with self._lock:
            key = (name.lower().rstrip("."), rtype)
            if values:
                self.records[key] = list(values)
            else:
                self.records.pop(key, None)

    def _rr(self, name: str, rtype: str, value: str) -> RR:
        data = {"A": A, "AAAA": AAAA, "CNAME": CNAME, "TXT": TXT}[rtype](value)
        return RR(name, getattr(QTYPE, rtype), rdata=data, ttl=60)

    def resolve(self, request: DNSRecord, handler: DNSHandler) -> DNSRecord:
        reply = request.reply()
        name = str(request.q.qname).rstrip(".").lower()
        rtype = QTYPE[request.q.qtype]
        with self._lock:
            self.queries.append((name, rtype))
            servfail, silent = name in self.servfail, name in self.silent
            records = dict(self.records)
        if silent:
            time.sleep(SILENT_SECONDS)
            return reply
        if servfail:
            reply.header.rcode = RCODE.SERVFAIL
            return reply
        current, seen = name, set()
        while rtype != "CNAME" and (current, "CNAME") in records and current not in seen:
            seen.add(current)
            target = records[(current, "CNAME")][0]
            reply.add_answer(self._rr(current, "CNAME", target))
            current = target.lower().rstrip(".")
        for value in records.get((current, rtype), []):
            reply.add_answer(self._rr(current, rtype, value))
        if not reply.rr and not any(key[0] == current for key in records):
            reply.header.rcode = RCODE.NXDOMAIN
        return reply


class QuietLogger(DNSLogger):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__(log="-request,-reply,-truncated,-error,-recv,-send,-data", prefix=False)


@contextmanager
def dns_server() -> Iterator[tuple[Zone, str]]:
    """A running server and its address for MASK_DNS_RESOLVERS (`127.0.0.1:port`)."""
    zone = Zone()
    port = free_port()
    servers = [
        DNSServer(zone, port=port, address="127.0.0.1", logger=QuietLogger()),
        DNSServer(zone, port=port, address="127.0.0.1", tcp=True, logger=QuietLogger()),
    ]
    for server in servers:
        server.start_thread()
    try:
        yield zone, f"127.0.0.1:{port}"
    finally:
        for server in servers:
            server.server.shutdown()
            server.server.server_close()
