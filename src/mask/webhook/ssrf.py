"""Where webhooks may go: never to loopback, private, link-local, multicast, reserved or cloud-metadata
addresses.

Checked twice. At creation the URL is parsed the WHATWG way (so `http://0x7f000001/` is 127.0.0.1) and its
host, and what the host resolves to, must be public. At delivery the host is resolved again and the
connection goes to the very address that was checked (`GuardedNetworkBackend`), so a DNS answer that changes
in between (DNS rebinding) cannot point a delivery inside the network. `MASK_WEBHOOKS_ALLOW_PRIVATE=true`
lifts the address rules, for self-hosting beside the receivers and for tests.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import socket
import ssl
from collections.abc import Iterable, Sequence

import httpcore
import httpx

from mask.kit.addresses import IPAddress as IPAddress
from mask.kit.addresses import address_problem as address_problem
from mask.kit.addresses import host_problem, literal_address
from mask.kit.net import BlockedDestination as BlockedDestination  # raised here, caught by the callers
from mask.kit.net import IPNetwork
from mask.kit.url import UrlProblem, parse_destination

RESOLVE_TIMEOUT = 5.0


def check_url(raw: str, *, allow_private: bool, require_https: bool) -> str:
    """The normalised webhook URL, or UrlProblem saying why it is refused (the host is not resolved here)."""
    parsed = parse_destination(raw)
    if require_https and parsed.scheme != "https":
        raise UrlProblem("https_required", "Webhook URLs must use https.")
    if allow_private:
        return parsed.href
    problem = host_problem(parsed.hostname)
    if problem is not None:
        raise UrlProblem("blocked_destination", f"Webhooks cannot be sent to {parsed.hostname}: it is {problem}.")
    return parsed.href


async def resolve(hostname: str, port: int, *, within: float = RESOLVE_TIMEOUT) -> list[IPAddress]:
    """Every address the host name resolves to (an IP literal resolves to itself), without duplicates."""
    literal = literal_address(hostname)
    if literal is not None:
        return [literal]
    loop = asyncio.get_running_loop()
    async with asyncio.timeout(within):
        infos = await loop.getaddrinfo(hostname, port, type=socket.SOCK_STREAM)
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


def check_addresses(hostname: str, addresses: Iterable[IPAddress], allowed: Sequence[IPNetwork] = ()) -> None:
    """Raise BlockedDestination if any address is not public (one bad answer is enough to refuse), unless it is
    in one of the `allowed` networks (an operator's explicit exception, e.g. MASK_TITLE_FETCH_ALLOWED_NETWORKS)."""
    for address in addresses:
        if any(address in network for network in allowed):
            continue
        problem = address_problem(address)
        if problem is not None:
            raise BlockedDestination(f"{hostname} resolves to {address}, {problem}")


async def check_resolved(url: str, *, allow_private: bool) -> None:
    """At creation: refuse a host that resolves to a blocked address now; an unresolvable one passes."""
    if allow_private:
        return
    parsed = parse_destination(url)
    port = 443 if parsed.scheme == "https" else 80
    try:
        addresses = await resolve(parsed.hostname.strip("[]"), port)
    except (OSError, TimeoutError, UnicodeError):
        return  # it may resolve later; the delivery-time check still applies
    try:
        check_addresses(parsed.hostname, addresses)
    except BlockedDestination as blocked:
        raise UrlProblem("blocked_destination", f"Webhooks cannot be sent there: {blocked}.") from blocked


class GuardedNetworkBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend with the address rules applied to each new connection.

    Resolves the host itself, checks every address, then connects to a checked address: TLS still uses the
    host name (SNI and certificate checks are done by httpcore against the URL's host), and pooled
    connections stay keyed by host name.
    """

    def __init__(self, *, allow_private: bool, allowed_networks: Sequence[IPNetwork] = ()) -> None:
        self.allow_private = allow_private
        self.allowed_networks = tuple(allowed_networks)
        self._backend = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        hostname = host.strip("[]")
        try:
            addresses = await resolve(hostname, port, within=timeout or RESOLVE_TIMEOUT)
        except (OSError, UnicodeError) as error:
            raise httpcore.ConnectError(f"cannot resolve {hostname}: {error}") from error
        if not self.allow_private:
            check_addresses(hostname, addresses, self.allowed_networks)
        last_error: Exception | None = None
        for address in addresses:
            try:
                return await self._backend.connect_tcp(
                    str(address),
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as error:
                last_error = error
        assert last_error is not None, "getaddrinfo returns at least one address or fails"
        raise last_error

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise BlockedDestination("webhooks are never sent over a Unix socket")

    async def sleep(self, seconds: float) -> None:
        await self._backend.sleep(seconds)


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """One verifying TLS context for every endpoint's pool (loading the CA bundle takes ~100 ms)."""
    return httpx.create_ssl_context(trust_env=False)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport on a connection pool that connects only through `GuardedNetworkBackend`.

    httpx does not take a network backend as an argument, so the pool it builds is replaced by the same pool
    with ours (no proxy: webhooks go straight to the checked address; environment proxies are ignored).
    """

    def __init__(
        self, *, allow_private: bool, limits: httpx.Limits, allowed_networks: Sequence[IPNetwork] = ()
    ) -> None:
        super().__init__(verify=_ssl_context(), limits=limits, trust_env=False)
        assert isinstance(self._pool, httpcore.AsyncConnectionPool), "httpx changed how it builds its pool"
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=_ssl_context(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedNetworkBackend(allow_private=allow_private, allowed_networks=allowed_networks),
        )
