"""The public side of bio pages: `GET /@<handle>` and the tracked block redirect `/@<handle>/b/<block_id>`.

A small Starlette app, mounted by `mask.app` under `/@` on the app host and on every workspace domain; it never
passes through the API's stack. Safety is structural:
- Jinja2 autoescapes every value; user text only ever lands in element text or in quoted attributes.
- Buttons point at our own redirect path (built from a validated handle and a generated id), never at the
  user's URL; the redirect sends `Location:` only for URLs the service validated as http(s). `mailto:` icons
  (validated to one plain address) are the only user URLs in the markup, with the avatar and Open Graph
  image (validated https).
- A strict Content-Security-Policy: no script at all, styles only from our own stylesheets (no inline style),
  images from us or https; plus `nosniff`, no framing, no referrer beyond the origin.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mask.bio_page import service as bio_page_service
from mask.bio_page import themes
from mask.bio_page.service import BioPageView
from mask.click.tracker import get_click_tracker
from mask.context import AppContext
from mask.models.bio_page import BioBlock
from mask.redirect.cache import MISS, RedirectCache
from mask.redirect.invalidation import RedirectInvalidation

HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"
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

PLATFORM_LABELS = {
    "x": "X",
    "instagram": "Instagram",
    "tiktok": "TikTok",
    "youtube": "YouTube",
    "linkedin": "LinkedIn",
    "github": "GitHub",
    "facebook": "Facebook",
    "threads": "Threads",
    "mastodon": "Mastodon",
    "bluesky": "Bluesky",
    "email": "E-mail",
    "website": "Website",
}


@dataclass(frozen=True)
class Asset:
    body: bytes
    content_type: str


def _load_assets() -> dict[str, Asset]:
    types = {".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}
    return {
        path.name: Asset(path.read_bytes(), types[path.suffix]) for path in STATIC_DIR.iterdir() if path.suffix in types
    }


ASSETS = _load_assets()
ASSET_VERSION = hashlib.sha256(b"".join(ASSETS[name].body for name in sorted(ASSETS))).hexdigest()[:12]
ICONS = {
    platform: Markup((STATIC_DIR / "icons" / f"{platform}.svg").read_text().strip())  # noqa: S704 - our files
    for platform in PLATFORM_LABELS
}

templates = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


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


def _hostname(host: str) -> str:
    if host.startswith("["):  # [IPv6]:port
        return host.split("]", 1)[0] + "]"
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def domain_of(host: str, short_domain: str) -> str:
    """The pages' `domain` for a Host header: the default short domain (any port), else the host name."""
    name = host.strip().lower().rstrip(".")
    if not name or name == short_domain or _hostname(name) == _hostname(short_domain):
        return short_domain
    return _hostname(name).rstrip(".")


def _is_prefetch(request: Request) -> bool:
    purpose = " ".join(request.headers.get(name, "") for name in ("sec-purpose", "purpose", "x-purpose"))
    return "prefetch" in purpose or "preview" in purpose


def _social(block: BioBlock, handle: str) -> dict[str, Any]:
    platform = block.platform or "website"
    href = block.url if not bio_page_service.is_tracked(block) else bio_page_service.block_path(handle, block.id)
    return {"id": block.id, "href": href, "label": PLATFORM_LABELS[platform], "icon": ICONS[platform]}


def _groups(view: BioPageView) -> list[dict[str, Any]]:
    """The blocks as the template draws them: consecutive social icons share one row; disabled links vanish."""
    handle = view.page.handle
    groups: list[dict[str, Any]] = []
    for block in view.blocks:
        if block.type == "social":
            if groups and groups[-1]["type"] == "socials":
                groups[-1]["blocks"].append(_social(block, handle))
            else:
                groups.append({"type": "socials", "blocks": [_social(block, handle)]})
        elif block.type == "link":
            if block.enabled:
                groups.append(
                    {
                        "type": "link",
                        "id": block.id,
                        "title": block.title,
                        "href": bio_page_service.block_path(handle, block.id),
                    }
                )
        else:
            groups.append({"type": block.type, "id": block.id, "text": block.text})
    return groups


def render_page(view: BioPageView) -> str:
    """The page's HTML."""
    page = view.page
    name = page.title if page.title and page.title.strip() else f"@{page.handle}"
    theme = themes.resolve(page.theme)
    letters = [char for char in (page.title or page.handle) if char.isalnum()]
    return templates.get_template("page.html").render(
        lang="en",
        page=page,
        name=name,
        monogram=letters[0] if letters else "@",
        seo_title=page.seo_title or name,
        seo_description=page.seo_description or page.description,
        og_image=page.og_image_url or page.avatar_url,
        canonical_url=bio_page_service.public_url(page.domain, page.handle),
        groups=_groups(view),
        theme_key=theme.key,
        asset_version=ASSET_VERSION,
    )


NOT_FOUND_HTML = templates.get_template("not_found.html").render(
    lang="en",
    theme_key=themes.PRESETS[themes.DEFAULT_PRESET].key,
    asset_version=ASSET_VERSION,
)


def _not_found() -> HTMLResponse:
    return HTMLResponse(NOT_FOUND_HTML, status_code=404, headers={"cache-control": REDIRECT_CACHE})


@dataclass(frozen=True)
class PublishedPage:
    """What serving a page and its redirects needs, cached per worker: the HTML, rendered once."""

    workspace_id: str
    page_id: str
    html: bytes
    targets: dict[str, str]  # block id → destination, for the blocks the tracked redirect serves


def snapshot(view: BioPageView) -> PublishedPage:
    return PublishedPage(
        workspace_id=view.page.workspace_id,
        page_id=view.page.id,
        html=render_page(view).encode(),
        targets={
            block.id: block.url
            for block in view.blocks
            if block.url and block.enabled and bio_page_service.is_tracked(block)
        },
    )


class BioPagePublic:
    """The handlers, with the process's context and its cache of published pages.

    Pages are cached like redirects (mask.redirect.cache): per worker, bounded, unknown handles too (briefly),
    dropped the moment a change commits in this process and, with Redis, within milliseconds in the other
    workers (mask.redirect.invalidation on its own channel); the TTL is the safety net.
    """

    def __init__(self, context: AppContext) -> None:
        settings = context.settings
        self.context = context
        self.short_domain = settings.short_domain
        self.cache: RedirectCache[PublishedPage] = RedirectCache(
            max_entries=PAGE_CACHE_ENTRIES,
            ttl=settings.redirect_cache_ttl,
            negative_ttl=settings.redirect_negative_ttl,
        )
        self.invalidation = RedirectInvalidation(
            forget=self.cache.invalidate,
            clear=self.cache.clear,
            redis=context.redis,
            channel=f"{settings.redis_prefix}bio-page-invalidate",
        )
        # Every session of this process can now schedule invalidations (service.forget_after_commit).
        context.sessionmaker.kw.setdefault("info", {})[bio_page_service.INVALIDATE_KEY] = self.invalidation.invalidate
        context.on_startup.append(self.invalidation.start)
        context.on_shutdown.append(self.invalidation.stop)
        self._inflight: dict[tuple[str, str], asyncio.Future[PublishedPage | None]] = {}

    async def _find(self, request: Request) -> tuple[str, PublishedPage] | None:
        handle = request.path_params["handle"].lower()
        if not HANDLE.fullmatch(handle):
            return None
        domain = domain_of(request.headers.get("host", ""), self.short_domain)
        key = (domain, handle)
        cached = self.cache.get(key)
        if cached is not MISS:
            page: PublishedPage | None = cached  # type: ignore[assignment]
        elif key in self._inflight:  # one database read per page, however many requests wait for it
            page = await asyncio.shield(self._inflight[key])
        else:
            future = self._inflight[key] = asyncio.get_running_loop().create_future()
            try:
                page = await self._load(domain, handle)
            except BaseException as error:  # the waiting requests fail too, rather than wait forever
                future.set_exception(error if isinstance(error, Exception) else ConnectionError("lookup cancelled"))
                future.exception()  # retrieved: each waiting request re-raises it
                raise
            else:
                future.set_result(page)
            finally:
                del self._inflight[key]
        return None if page is None else (domain, page)

    async def _load(self, domain: str, handle: str) -> PublishedPage | None:
        generation = self.cache.generation
        async with self.context.sessionmaker() as session:
            view = await bio_page_service.find_published(session, domain=domain, handle=handle)
        page = None if view is None else snapshot(view)
        self.cache.put((domain, handle), page, generation=generation)
        return page

    async def page(self, request: Request) -> Response:
        found = await self._find(request)
        if found is None:
            return _not_found()
        domain, page = found
        if request.method == "GET" and not _is_prefetch(request):
            await get_click_tracker(self.context).track(
                dict(request.scope),
                workspace_id=page.workspace_id,
                domain=domain,
                bio_page_id=page.page_id,
            )
        return Response(page.html, media_type="text/html", headers={"cache-control": PAGE_CACHE})

    async def block(self, request: Request) -> Response:
        block_id = request.path_params["block_id"]
        found = await self._find(request) if BLOCK_ID.fullmatch(block_id) else None
        location = found[1].targets.get(block_id) if found is not None else None
        if found is None or location is None:
            return _not_found()
        domain, page = found
        if request.method == "GET" and not _is_prefetch(request):
            await get_click_tracker(self.context).track(
                dict(request.scope),
                workspace_id=page.workspace_id,
                domain=domain,
                bio_page_id=page.page_id,
                bio_block_id=block_id,
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


def create_public_app(context: AppContext) -> ASGIApp:
    """The public bio page app: `/@<handle>`, `/@<handle>/b/<block_id>`, and its stylesheets and icons."""
    handlers = BioPagePublic(context)
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
