"""`GET /internal/tls/allowed?domain=…`: may the TLS proxy get a certificate for this host name?

The question Caddy's on-demand TLS asks (`on_demand_tls { ask … }`) before it requests a certificate for a name
it has not seen: any 2xx is yes, anything else no. Yes only for the default short domain and verified domains,
so nobody can make the proxy request certificates for names of their choosing (the CA's rate limits are the
operator's). Answered only to MASK_TRUSTED_PROXIES (the peer address, never a forwarded one): 403 for anyone
else. A plain ASGI callable, mounted by mask.app on every host under `/internal/`.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import parse_qs

from starlette.types import Receive, Scope, Send

from mask.config import Settings
from mask.kit.http import json_dumps
from mask.kit.net import IPNetwork
from mask.public.domains import DomainStates
from mask.public.pages import hostname, is_ip

PATH = "/internal/tls/allowed"


def _trusted(scope: Scope, networks: tuple[IPNetwork, ...]) -> bool:
    client = scope.get("client")
    if not client:
        return False
    try:
        address = ipaddress.ip_address(client[0])
    except ValueError:
        return False
    return any(address in network for network in networks)


class TlsAsk:
    def __init__(self, *, settings: Settings, domains: DomainStates) -> None:
        self.networks = settings.trusted_proxy_networks
        self.short_hostname = hostname(settings.short_domain)
        self.domains = domains

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        if scope["path"] != PATH:
            await _answer(send, 404, "not_found", "No such internal endpoint.")
        elif scope["method"] not in ("GET", "HEAD"):
            await _answer(send, 405, "method_not_allowed", "GET only.")
        elif not _trusted(scope, self.networks):
            await _answer(send, 403, "forbidden", "Only MASK_TRUSTED_PROXIES may ask.")
        else:
            status, code, message = await self.decide(scope["query_string"].decode("latin-1"))
            await _answer(send, status, code, message)

    async def decide(self, query: str) -> tuple[int, str, str]:
        values = parse_qs(query).get("domain", [])
        name = values[0].strip().lower().rstrip(".") if values else ""
        if not name:
            return 400, "domain_required", "Pass the host name as `?domain=`."
        if name == self.short_hostname:
            return 200, "allowed", "The default short domain."
        if is_ip(name) or len(name) > 253:
            return 404, "not_allowed", "Not a verified domain."
        state = await self.domains.get(name)
        if state.serves:
            return 200, "allowed", "A verified domain."
        return 404, "not_allowed", "Not a verified domain."


async def _answer(send: Send, status: int, code: str, message: str) -> None:
    body = json_dumps({"allowed": status == 200, "code": code, "message": message})
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
