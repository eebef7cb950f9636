"""Who is the client, and did the request arrive over TLS? Proxy headers count only from trusted proxies."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from typing import Any

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class BlockedDestination(Exception):
    """An outgoing request (a webhook, a page title fetch) would reach an address it may not (mask.webhook.ssrf)."""


def _parse_ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    value = value.strip()
    if value.startswith("[") and "]" in value:  # "[2001:db8::1]:443"
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # "203.0.113.5:1234"
        value = value.split(":", 1)[0]
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def _is_trusted(address: str | None, trusted: Iterable[IPNetwork]) -> bool:
    if not address:
        return False
    ip = _parse_ip(address)
    return ip is not None and any(ip in network for network in trusted)


def _header(scope: Mapping[str, Any], name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def client_ip(scope: Mapping[str, Any], trusted: tuple[IPNetwork, ...]) -> str | None:
    """The peer address, or, when the peer is a trusted proxy, the right-most untrusted X-Forwarded-For entry."""
    client = scope.get("client")
    peer = client[0] if client else None
    if not trusted or not _is_trusted(peer, trusted):
        return peer
    forwarded = _header(scope, b"x-forwarded-for")
    if not forwarded:
        return peer
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    # Walk from the right: entries appended by our own proxies are skipped; the first other one is the client.
    for hop in reversed(hops):
        if not _is_trusted(hop, trusted):
            ip = _parse_ip(hop)
            return str(ip) if ip is not None else peer
    ip = _parse_ip(hops[0]) if hops else None
    return str(ip) if ip is not None else peer


def is_secure(scope: Mapping[str, Any], trusted: tuple[IPNetwork, ...]) -> bool:
    if scope.get("scheme") in ("https", "wss"):
        return True
    client = scope.get("client")
    if trusted and _is_trusted(client[0] if client else None, trusted):
        proto = _header(scope, b"x-forwarded-proto")
        # The right-most value: the one our own proxy appended (a client can send any value before it).
        return proto is not None and proto.split(",")[-1].strip().lower() == "https"
    return False


def _address(ip: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    if not ip:
        return None
    address = _parse_ip(ip)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def network_prefix(ip: str | None) -> str | None:
    """Where a request came from, never who: the /24 of an IPv4 address, the /48 of an IPv6 one (a site's usual
    allocation). What MASK stores about a place (audit log, API keys' last use, known sign-in places)."""
    address = _address(ip)
    if address is None:
        return None
    bits = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network((address, bits), strict=False))


def source_of(ip: str | None) -> str | None:
    """One client for throttling: an IPv4 address, or the /64 of an IPv6 one (a single host is usually given a
    whole /64, so rotating addresses inside it must not reset a count)."""
    address = _address(ip)
    if address is None:
        return None
    if address.version == 4:
        return str(address)
    return str(ipaddress.ip_network((address, 64), strict=False))
