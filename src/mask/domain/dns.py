"""DNS lookups for domain verification, with dnspython's asyncio resolver.

Every lookup has a deadline (MASK_DNS_TIMEOUT, all servers included) and ends in an answer or a typed problem,
never an exception: a name that does not exist (NXDOMAIN) or has no record of the type (NODATA) is "nothing
found"; a failing server (SERVFAIL, refused) or no answer in time is a temporary problem, reported as such.
Names go out in ASCII (internationalised names as punycode, as they are stored). MASK_DNS_RESOLVERS points the
lookups at given servers (`127.0.0.1:5353`, a resolver beside MASK, the tests' server); empty, the system's.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Literal

import dns.asyncresolver
import dns.exception
import dns.name
import dns.nameserver
import dns.rdatatype
import dns.resolver

from mask.config import Settings
from mask.kit.url import split_host

CHALLENGE_LABEL = "_mask-challenge"
TOKEN_PREFIX = "mask-verify="  # noqa: S105 (the TXT value's prefix, not a secret)

Problem = Literal["not_found", "servfail", "timeout", "invalid_name"]


@dataclass(frozen=True, slots=True)
class Answer:
    """What one lookup found: its values (TXT strings joined, names without the final dot, addresses), or
    `problem` when it found nothing (`not_found`) or could not ask (`servfail`, `timeout`, `invalid_name`)."""

    values: tuple[str, ...] = ()
    problem: Problem | None = None


def challenge_name(domain: str) -> str:
    return f"{CHALLENGE_LABEL}.{domain}"


def challenge_value(token: str) -> str:
    return f"{TOKEN_PREFIX}{token}"


class Dns:
    """A resolver configured from the settings; `lookup` never raises for DNS outcomes."""

    def __init__(self, settings: Settings) -> None:
        if settings.dns_resolvers:
            resolver = dns.asyncresolver.Resolver(configure=False)
            servers: list[str | dns.nameserver.Nameserver] = []
            for item in settings.dns_resolvers:
                name, port = split_host(item)
                servers.append(dns.nameserver.Do53Nameserver(name.strip("[]"), port or 53))
            resolver.nameservers = servers
        else:
            resolver = dns.asyncresolver.Resolver()  # /etc/resolv.conf
        resolver.lifetime = settings.dns_timeout
        resolver.timeout = min(2.0, settings.dns_timeout)  # per server try: a dead one does not eat the deadline
        resolver.cache = None  # a check must see what the DNS says now
        self.resolver = resolver

    async def lookup(self, name: str, rdtype: str) -> Answer:
        try:
            qname = dns.name.from_text(name)
        except (dns.exception.DNSException, UnicodeError):
            return Answer(problem="invalid_name")
        try:
            answer = await self.resolver.resolve(qname, rdtype, raise_on_no_answer=False, search=False)
        except dns.resolver.NXDOMAIN:
            return Answer(problem="not_found")
        except dns.resolver.NoNameservers:  # every server failed: SERVFAIL, REFUSED, …
            return Answer(problem="servfail")
        except dns.exception.Timeout:
            return Answer(problem="timeout")
        except dns.exception.DNSException:  # malformed answers and the like: as a failing server
            return Answer(problem="servfail")
        if answer.rrset is None:
            return Answer(problem="not_found")  # the name exists, without this type (NODATA)
        values: list[str] = []
        for rdata in answer.rrset:
            if rdata.rdtype == dns.rdatatype.TXT:
                values.append(b"".join(rdata.strings).decode("utf-8", "replace"))
            elif rdata.rdtype == dns.rdatatype.CNAME:
                values.append(rdata.target.to_text().rstrip(".").lower())
            else:
                values.append(str(ipaddress.ip_address(rdata.to_text())))
        return Answer(tuple(values))
