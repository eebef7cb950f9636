"""The redirect app: a plain ASGI callable, the product's hot path.

Three steps, as in Shlink's tracking action: resolve (cache, database on a miss), decide and hand over the
click (GET only: HEAD is never recorded; a prefetch is recorded as one, not counted), answer. A hit that finds
no link to count (an unknown slug or the root of a workspace's domain, an expired link, a spent click limit in
mask.redirect.decision) is recorded as an orphan (mask.click.schemas.ORPHAN_TYPES). No FastAPI, no dependency
injection, no ORM session on a cache hit, no JSON error machinery.

The answer is `302 Found` with `Cache-Control: private, no-store, max-age=0`: a 301, or a 302 a browser or
proxy may store, would send repeat visitors straight to the destination and their clicks would never be
counted (and a changed link would keep its old destination in their caches).
"""

from __future__ import annotations

import re
import time
from typing import Any

from starlette.types import Receive, Scope, Send

from mask.click.schemas import ClickRow, link_click_row, prefetch_row
from mask.click.tracker import ClickTracker
from mask.config import Settings
from mask.kit.net import client_ip
from mask.public.cache import MISS
from mask.public.domains import EMPTY, NOINDEX, DomainStates
from mask.public.pages import PREFETCH_HEADERS, Hosts, is_prefetch
from mask.redirect import fallback
from mask.redirect.decision import Decider
from mask.redirect.destination import Utm, split_trigger
from mask.redirect.pages import (
    DISABLED,
    EXPIRED,
    METHOD_NOT_ALLOWED,
    NO_STORE,
    NOT_VERIFIED,
    SUSPENDED,
    Page,
    wants_json,
)
from mask.redirect.resolver import Resolver, Target

# The link service's slug rule; anything else cannot be a link and never reaches the cache or the database.
SLUG = re.compile(r"[A-Za-z0-9_-]{1,64}")
EMPTY_BODY = {"type": "http.response.body", "body": b""}  # the same message every time: servers only read it
NO_UTM: Utm = (None, None, None, None, None)


class RedirectApp:
    def __init__(
        self,
        *,
        settings: Settings,
        hosts: Hosts,
        domains: DomainStates,
        resolver: Resolver,
        tracker: ClickTracker,
        decider: Decider | None = None,
    ) -> None:
        self.settings = settings
        self.decider = decider  # what a click gets beyond "302 to the URL" (mask.redirect.decision)
        self.hosts = hosts
        self.domains = domains  # custom domains: which serve, whose links, their fallbacks (mask.public.domains)
        self.resolver = resolver
        self.tracker = tracker
        self.trusted = settings.trusted_proxy_networks

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
            elif name in PREFETCH_HEADERS:
                prefetch = is_prefetch(value)
        head = method == "HEAD"
        if method != "GET" and not head and (method != "POST" or self.decider is None):  # POST: a password form
            await _page(send, METHOD_NOT_ALLOWED, accept, head=False, extra=[(b"allow", b"GET, HEAD")])
            return
        now = time.time()
        # Host → the domain's state in one dict read: only a verified domain (or the default short domain) serves.
        state = self.domains.by_host.get(host)
        if state is None or state.deadline <= now:
            state = await self.domains.of_host(host)
        domain = state.domain
        if not state.serves:
            await fallback.page(send, NOT_VERIFIED, accept, head=head)
            return
        slug = scope["path"][1:]
        if slug.endswith("/"):
            slug = slug[:-1]
        # The cache first, without awaiting: it only holds slugs that passed the slug rule.
        key = (domain, slug)
        target = self.resolver.cached(key)
        if target is MISS:
            target = await self.resolver.load(key) if SLUG.fullmatch(slug) else None
        if not isinstance(target, Target) or (
            state.workspace_id is not None and target.workspace_id != state.workspace_id
        ):  # not a link, or one of another workspace's claim that lost (never served): root, robots.txt, …
            if method == "POST":
                await _page(send, METHOD_NOT_ALLOWED, accept, head=False, extra=[(b"allow", b"GET, HEAD")])
                return
            # An orphan hit on a workspace's own domain (the shared short domain's unknown slugs are nobody's).
            if method == "GET" and state.workspace_id is not None and fallback.is_orphan(slug):
                await self.tracker.record_orphan(
                    scope,
                    at=now,
                    workspace_id=state.workspace_id,
                    domain=domain,
                    orphan_type="domain_root" if slug == "" else "unknown_slug",
                    user_agent=user_agent,
                    referrer=referrer,
                    prefetch=prefetch,
                )
            await fallback.answer(send, state, slug, accept, head=head)
            return
        if target.disabled or target.suspended:
            page = SUSPENDED if target.suspended else DISABLED
            await fallback.page(send, page, accept, head=head, noindex=state.noindex)
            return
        # --- decision hook (mask.redirect.decision): start time, click limit, preview, password, rules, A/B
        # variants, status. A plain link has no policy and pays this one attribute check. The verdict also says
        # which rule or variant decided and whether a password let the visitor through (for click recording).
        destination, status = target.destination, 302
        decision: ClickRow = ()
        if (target.policy is not None or method == "POST") and self.decider is not None:
            verdict = self.decider.quick(target, scope, user_agent, now)  # no coroutine when nothing awaits
            if verdict is None:
                verdict = await self.decider.decide(
                    target,
                    scope,
                    receive,
                    send,
                    now=now,
                    accept=accept,
                    prefetch=prefetch,
                    state=state,
                    user_agent=user_agent,
                )
                if verdict is None:
                    return  # answered: a password page, not yet active, a spent limit, …
            destination, status, decision = verdict.destination, verdict.status, verdict.recorded
        # --- end of the decision hook
        query, trigger = split_trigger(scope["query_string"])
        if target.expires_at is not None and now >= target.expires_at:
            if method == "GET":  # an expired link's hit: an orphan, never one of the link's clicks
                await self.tracker.record_orphan(
                    scope,
                    at=now,
                    workspace_id=target.workspace_id,
                    domain=domain,
                    orphan_type="expired_link",
                    user_agent=user_agent,
                    referrer=referrer,
                    prefetch=prefetch,
                    link_id=target.link_id,
                )
            if target.expired_location is None:
                if state.expired_url is not None:
                    await fallback.redirect(send, state, state.expired_url)
                else:
                    await fallback.page(send, EXPIRED, accept, head=head, noindex=state.noindex)
                return
            expired = (b"location", target.expired_location.encode("latin-1"))
            headers = (expired, NO_STORE, EMPTY, NOINDEX) if state.noindex else (expired, NO_STORE, EMPTY)
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send(EMPTY_BODY)
            return
        elif not query:
            location_header, utm = destination.location_header, destination.utm
        else:
            location, utm = destination.with_query(query)
            location_header = (b"location", location.encode("latin-1"))
        if method == "GET" and self.tracker.enabled:  # prefetches too: recorded as what they are, not counted
            row = link_click_row(
                at=now,
                workspace_id=target.workspace_id,
                domain=domain,
                link_id=target.link_id,
                ip=client_ip(scope, self.trusted),
                user_agent=user_agent.decode("latin-1"),
                referrer=referrer.decode("latin-1"),
                utm=utm,
                trigger=trigger,
                decision=decision,
            )
            if prefetch:
                row = prefetch_row(row)
            await self.tracker.record_row(row)  # in this worker's journal before the answer
        headers = (location_header, NO_STORE, EMPTY, NOINDEX) if state.noindex else (location_header, NO_STORE, EMPTY)
        await send({"type": "http.response.start", "status": status, "headers": headers})
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
