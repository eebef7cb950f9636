"""The public side of bio pages: `GET /@<handle>` and the tracked block redirect `/@<handle>/b/<block_id>`.

A small Starlette app, mounted by `mask.app` under `/@` on the app host and on every workspace domain; it never
passes through the API's stack. The page's HTML comes from mask.bio_page.rendering, rendered once per change and
cached per worker like redirects (mask.public.cache: bounded, unknown handles too, briefly), dropped the moment a
change commits (mask.signals.BioPageChanged → mask.public.invalidation, through Redis in the other workers); the
TTL is the safety net. A strict Content-Security-Policy: no script at all, styles only from our own stylesheets
(no inline style), images from us or https; plus `nosniff`, no framing, no referrer beyond the origin.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mask.bio_page import published as published_pages
from mask.bio_page import themes
from mask.bio_page.rendering import ASSETS, NOT_FOUND_HTML, PublishedPage, snapshot
from mask.click.tracker import ClickTracker
from mask.public.cache import Key, PublicCache
from mask.public.domains import DomainStates
from mask.public.pages import Hosts, SingleFlight, is_tracked, prefetch_of

HANDLE = re.compile(r"[a-z0-9_.-]{3,30}")
BLOCK_ID = re.compile(r"blk_[0-9A-Za-z]{22}")

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self' https:; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
SECURITY_HEADERS: list[tuple[bytes, bytes]] = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
PAGE_CACHE_ENTRIES = 10_000  # published pages (and unknown handles) per worker
PAGE_CACHE = "private, no-cache"  # every visit reaches us, so that it is counted
REDIRECT_CACHE = "private, no-store, max-age=0"
ASSET_CACHE = "public, max-age=31536000, immutable"  # URLs carry the content's hash
MAX_PAGES_PER_LOAD = 50
MAX_CONCURRENT_LOADS = 2


class SecurityHeaders:
    """Adds the security headers to every answer of the public bio page app."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _not_found() -> HTMLResponse:
    return HTMLResponse(NOT_FOUND_HTML, status_code=404, headers={"cache-control": REDIRECT_CACHE})


@dataclass
class PublishedPages:
    """Loads published pages for a batch of (domain, handle) keys in one session."""

    sessionmaker: async_sessionmaker[AsyncSession]

    async def __call__(self, keys: list[Key]) -> dict[Key, PublishedPage]:
        found: dict[Key, PublishedPage] = {}
        async with self.sessionmaker() as session:
            for domain, handle in keys:
                view = await published_pages.find_published(session, domain=domain, handle=handle)
                if view is not None:
                    found[(domain, handle)] = snapshot(view)
        return found


def page_cache(*, ttl: float, negative_ttl: float) -> PublicCache[PublishedPage]:
    return PublicCache(max_entries=PAGE_CACHE_ENTRIES, ttl=ttl, negative_ttl=negative_ttl)


class BioPagePublic:
    """The handlers, with the process's page lookup and click tracker."""

    def __init__(
        self,
        *,
        hosts: Hosts,
        domains: DomainStates,
        cache: PublicCache[PublishedPage],
        sessionmaker: async_sessionmaker[AsyncSession],
        tracker: ClickTracker,
    ) -> None:
        self.hosts = hosts
        self.domains = domains
        self.pages = SingleFlight(
            cache, PublishedPages(sessionmaker), max_keys=MAX_PAGES_PER_LOAD, max_concurrent=MAX_CONCURRENT_LOADS
        )
        self.tracker = tracker

    async def _find(self, request: Request) -> tuple[str, PublishedPage] | None:
        handle = request.path_params["handle"].lower()
        if not HANDLE.fullmatch(handle):
            return None
        domain = self.hosts.domain_of(request.headers.get("host", "").encode("latin-1"))
        state = await self.domains.get(domain)  # only verified domains serve, and only their owner's pages
        if not state.serves:
            return None
        page = await self.pages.get((domain, handle))
        if page is None or (state.workspace_id is not None and page.workspace_id != state.workspace_id):
            return None
        return domain, page

    def _recorded(self, request: Request) -> tuple[bool, bool]:
        """(recorded, prefetch): a GET is recorded, a prefetch as one (traffic type `prefetch`, not counted)."""
        prefetch = prefetch_of(request.scope["headers"])
        return is_tracked(request.method, prefetch=False), prefetch

    async def page(self, request: Request) -> Response:
        found = await self._find(request)
        if found is None:
            return _not_found()
        domain, page = found
        recorded, prefetch = self._recorded(request)
        if recorded:
            await self.tracker.track(
                dict(request.scope),
                workspace_id=page.workspace_id,
                domain=domain,
                bio_page_id=page.page_id,
                prefetch=prefetch,
            )
        return Response(page.html, media_type="text/html", headers={"cache-control": PAGE_CACHE})

    async def block(self, request: Request) -> Response:
        block_id = request.path_params["block_id"]
        found = await self._find(request) if BLOCK_ID.fullmatch(block_id) else None
        location = found[1].targets.get(block_id) if found is not None else None
        if found is None or location is None:
            return _not_found()
        domain, page = found
        recorded, prefetch = self._recorded(request)
        if recorded:
            await self.tracker.track(
                dict(request.scope),
                workspace_id=page.workspace_id,
                domain=domain,
                bio_page_id=page.page_id,
                bio_block_id=block_id,
                prefetch=prefetch,
            )
        # The stored URL as is (ASCII once normalised), exactly as a short link redirects: no re-quoting.
        return Response(status_code=302, headers={"location": location, "cache-control": REDIRECT_CACHE})

    async def theme(self, request: Request) -> Response:
        theme = themes.parse_key(request.path_params["key"])
        if theme is None:
            return Response("/* unknown theme */\n", status_code=404, media_type="text/css")
        return Response(themes.stylesheet(theme), media_type="text/css", headers={"cache-control": ASSET_CACHE})

    async def asset(self, request: Request) -> Response:
        asset = ASSETS.get(request.path_params["name"])
        if asset is None:
            return Response("not found\n", status_code=404, media_type="text/plain")
        return Response(asset.body, media_type=asset.content_type, headers={"cache-control": ASSET_CACHE})

    async def not_found(self, request: Request, exc: Exception) -> Response:
        return _not_found()


def create_bio_pages_app(handlers: BioPagePublic) -> ASGIApp:
    """The public bio page app: `/@<handle>`, `/@<handle>/b/<block_id>`, and its stylesheets and icons."""
    methods = ["GET", "HEAD"]
    app = Starlette(
        routes=[
            Route("/@/static/{name}", handlers.asset, methods=methods),
            Route("/@/theme/{key}.css", handlers.theme, methods=methods),
            Route("/@{handle}", handlers.page, methods=methods),
            Route("/@{handle}/b/{block_id}", handlers.block, methods=methods),
        ],
        exception_handlers={404: handlers.not_found},
    )
    return SecurityHeaders(app)
