"""What a domain check asks the DNS, what it concludes, and when the next check is due.

Ownership is a TXT record `_mask-challenge.<domain>` holding `mask-verify=<token>`, a token of the claim's own:
a host name's DNS administrator, and only they, can make another workspace's claim of it lose. The routing
record (a CNAME to MASK_CNAME_TARGET, or A/AAAA records to MASK_PUBLIC_IPS) is checked and reported, but does
not decide ownership: pointing at MASK proves nothing about who the domain belongs to.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from mask.config import Settings
from mask.domain.dns import Answer, Dns, challenge_name, challenge_value

Routing = Literal["ok", "missing", "unknown"]
BACKOFF_FIRST = 60.0  # seconds after the first failed check of a pending domain; doubling from there
BACKOFF_LONGEST = 6 * 3600.0
MISSING_RECHECK = 3600.0  # a verified domain whose record is gone is checked hourly through its grace period


@dataclass(frozen=True, slots=True)
class CheckResult:
    """A check's conclusion: `found` (the token is there), else why not (`error`: a stable code, `message`
    for people), and what the routing record looks like."""

    found: bool
    error: str | None
    message: str | None
    routing: Routing


def _txt_problem(answer: Answer, name: str, expected: str) -> tuple[str, str]:
    if answer.problem == "timeout":
        return "dns_timeout", f"The DNS did not answer for `{name}` in time; MASK tries again later."
    if answer.problem == "servfail":
        return "dns_error", f"The DNS servers of `{name}` failed to answer (SERVFAIL); MASK tries again later."
    if answer.problem == "invalid_name":
        return "dns_error", f"`{name}` cannot be looked up."
    if answer.values:
        return "record_mismatch", f"`{name}` has TXT records, but none is `{expected}`."
    return "record_not_found", f"No TXT record at `{name}` yet (DNS changes can take a while to appear)."


async def routing_of(dns: Dns, settings: Settings, domain: str) -> Routing:
    """`ok` when the domain points at MASK (a CNAME to MASK_CNAME_TARGET, or an address of MASK_PUBLIC_IPS or of
    the CNAME target), `missing` when it does not, `unknown` when neither setting says what MASK is."""
    if not settings.cname_target and not settings.public_ips:
        return "unknown"
    if settings.cname_target:
        cname = await dns.lookup(domain, "CNAME")
        if settings.cname_target in cname.values:
            return "ok"
    expected = set(settings.public_ips)
    lookups = [dns.lookup(domain, "A"), dns.lookup(domain, "AAAA")]
    if settings.cname_target:
        lookups += [dns.lookup(settings.cname_target, "A"), dns.lookup(settings.cname_target, "AAAA")]
    answers = await asyncio.gather(*lookups)
    for answer in answers[2:]:
        expected.update(answer.values)
    found = {value for answer in answers[:2] for value in answer.values}
    return "ok" if found & expected else "missing"


async def check(dns: Dns, settings: Settings, *, domain: str, token: str) -> CheckResult:
    """Look the claim's TXT record (and the routing record) up; never raises for DNS outcomes."""
    name, expected = challenge_name(domain), challenge_value(token)
    txt, routing = await asyncio.gather(dns.lookup(name, "TXT"), routing_of(dns, settings, domain))
    if expected in (value.strip() for value in txt.values):
        return CheckResult(found=True, error=None, message=None, routing=routing)
    error, message = _txt_problem(txt, name, expected)
    return CheckResult(found=False, error=error, message=message, routing=routing)


def pending_delay(checks: int) -> timedelta:
    """How long after its `checks`-th failed check a pending domain is checked again: 2 min, 4, 8, … 6 h."""
    return timedelta(seconds=min(BACKOFF_FIRST * 2 ** min(checks, 20), BACKOFF_LONGEST))


def missing_delay(now: datetime, missing_since: datetime, grace: timedelta) -> timedelta:
    """A verified domain without its record: hourly, and once more exactly when its grace period ends."""
    left = missing_since + grace - now
    return max(min(timedelta(seconds=MISSING_RECHECK), left), timedelta(0))
