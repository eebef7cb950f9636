"""The redirect app: a plain ASGI callable, the product's hot path.

Three steps, as in Shlink's tracking action: resolve (cache, database on a miss), decide and hand over the
click (GET only; HEAD and prefetches are not clicks), answer. No FastAPI, no dependency injection, no ORM
session on a cache hit, no JSON error machinery.

The answer is `302 Found` with `Cache-Control: private, no-store, max-age=0`: a 301, or a 302 a browser or
proxy may store, would send repeat visitors straight to the destination and their clicks would never be
counted (and a changed link would keep its old destination in their caches).
"""

from __future__ import annotations

import ipaddress
import re
import time
from typing import Any

from starlette.types import Receive, Scope, Send

from mask.click.schemas import RawClick
from mask.click.tracker import ClickTracker, get_click_tracker
from mask.config import Settings
from mask.context import AppContext
from mask.kit.net import client_ip
from mask.redirect.cache import MISS, RedirectCache
from mask.redirect.destination import Utm
from mask.redirect.invalidation import SESSION_INFO_KEY, RedirectInvalidation, channel_name
from mask.redirect.pages import EXPIRED, METHOD_NOT_ALLOWED, NO_STORE, NOT_FOUND, Page, wants_json
from mask.redirect.resolver import Resolver, Target, lookup_engine

# The link service's slug rule; anything else cannot be a link and never reaches the cache or the database.
SLUG = re.compile(r"[A-Za-z0-9_-]{1,64}")
MAX_HOSTS = 4096
EMPTY = (b"content-length", b"0")
EMPTY_BODY = {"type": "http.response.body", "body": b""}  # the same message every time: servers only read it
NO_UTM: Utm = (None, None, None, None, None)


def _hostname(host: str) -> str:
    if host.startswith("["):  # [IPv6]:port
        return host.split("]", 1)[0] + "]"
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _is_ip(hostname: str) -> bool:
    try:
        ipaddress.ip_address(hostname.strip("[]"))
    except ValueError:
        return False
    return True


class RedirectApp:
    def __init__(self, *, settings: Settings, resolver: Resolver, tracker: ClickTracker) -> None:
        self.settings = settings
        self.resolver = resolver
        self.tracker = tracker
        self.short_domain = settings.short_domain
        self.short_hostname = _hostname(settings.short_domain)
        self.trusted = settings.trusted_proxy_networks
        self._domains: dict[bytes, str] = {}

    def domain_of(self, host: bytes) -> str:
        """The links' `domain` for a Host header: the default short domain (any port), else the host name."""
        domain = self._domains.get(host)
        if domain is None:
            name = host.decode("latin-1").strip().lower().rstrip(".")
            hostname = _hostname(name).rstrip(".")
            # No Host (HTTP/1.0) or a bare IP address (health checks, `make run` on 127.0.0.1) is the
            # default domain: a workspace domain is never an IP address.
            if not name or name == self.short_domain or hostname == self.short_hostname or _is_ip(hostname):
                domain = self.short_domain
            else:
                domain = hostname
            if len(self._domains) >= MAX_HOSTS:  # arbitrary Host headers must not grow memory
                self._domains.clear()
            self._domains[host] = domain
        return domain

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
            return
        method = scope["method"]
        host = user_agent = referrer = accept = b""
        prefetch = False
        for name, value in scope["headers"]:
            if name == b"host":
                host = value
            elif name == b"user-agent":
                user_agent = value
            elif name == b"referer":
                referrer = value
            elif name == b"accept":
                accept = value
            elif name == b"sec-purpose" or name == b"purpose" or name == b"x-purpose":
                prefetch = b"prefetch" in value or b"preview" in value
        head = method == "HEAD"
        if method != "GET" and not head:
            await _page(send, METHOD_NOT_ALLOWED, accept, head=False, extra=[(b"allow", b"GET, HEAD")])
            return
        domain = self.domain_of(host)
        slug = scope["path"][1:]
        if slug.endswith("/"):
            slug = slug[:-1]
        # The cache first, without awaiting: it only holds slugs that passed the slug rule.
        target = self.resolver.cached(domain, slug)
        if target is MISS:
            target = await self.resolver.look_up(domain, slug) if SLUG.fullmatch(slug) else None
        if target is None:
            await _page(send, NOT_FOUND, accept, head=head)
            return
        assert isinstance(target, Target)
        now = time.time()
        query = scope["query_string"]
        if target.expires_at is not None and now >= target.expires_at:
            if target.expired_location is None:
                await _page(send, EXPIRED, accept, head=head)
                return
            location_header, utm = (b"location", target.expired_location.encode("latin-1")), NO_UTM
        elif not query:
            location_header, utm = target.destination.location_header, target.destination.utm
        else:
            location, utm = target.destination.with_query(query)
            location_header = (b"location", location.encode("latin-1"))
        if not head and not prefetch and self.tracker.enabled:
            # The click as a row (RawClick.to_row()'s layout; the id is minted per batch): without a stream
            # the row is all the buffer keeps, so no RawClick is built only to be taken apart again.
            row = (
                "",
                now,
                target.workspace_id,
                domain,
                target.link_id,
                None,
                None,
                client_ip(scope, self.trusted),
                user_agent.decode("latin-1"),
                referrer.decode("latin-1"),
                *utm,
            )
            if not self.tracker.buffer_row(row):
                await self.tracker.submit(RawClick(*row))
        await send({"type": "http.response.start", "status": 302, "headers": (location_header, NO_STORE, EMPTY)})
        await send(EMPTY_BODY)


async def _page(
    send: Send, page: Page, accept: bytes, *, head: bool, extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    as_json = wants_json(accept)
    body = page.json if as_json else page.html
    content_type = b"application/json" if as_json else b"text/html; charset=utf-8"
    length = str(len(body)).encode()
    headers: list[Any] = [(b"content-type", content_type), (b"content-length", length), NO_STORE, *(extra or [])]
    await send({"type": "http.response.start", "status": page.status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head else body})


def create_redirect_app(context: AppContext) -> RedirectApp:
    """The redirect app with its cache, resolver and cache invalidation, registered on the context.

    Needs the click tracker (`mask.click.tracker.install_click_tracking`) installed first.
    """
    settings = context.settings
    cache: RedirectCache[Target] = RedirectCache(
        max_entries=settings.redirect_cache_size,
        ttl=settings.redirect_cache_ttl,
        negative_ttl=settings.redirect_negative_ttl,
    )
    invalidation = RedirectInvalidation(
        forget=cache.invalidate, clear=cache.clear, redis=context.redis, channel=channel_name(settings.redis_prefix)
    )
    # Every session of this process can now schedule invalidations (see invalidate_after_commit).
    context.sessionmaker.kw.setdefault("info", {})[SESSION_INFO_KEY] = invalidation.invalidate
    # The listener serves this process's own cache, so it runs wherever redirects are served.
    context.on_startup.append(invalidation.start)
    context.on_shutdown.append(invalidation.stop)
    engine = lookup_engine(settings)
    context.on_shutdown.append(engine.dispose)
    app = RedirectApp(settings=settings, resolver=Resolver(engine, cache), tracker=get_click_tracker(context))
    context.extras["redirect_cache"] = cache
    return app
