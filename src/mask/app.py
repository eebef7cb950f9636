"""The ASGI application: one process serves the API, the redirects, bio pages and the dashboard, routed by path.

Built by the composition root (mask.bootstrap.create_app).

On the app host (MASK_SHORT_DOMAIN, or a bare IP address) `/v1/…`, `/docs` and `/health` go to the API;
every other path, and every path on any other host (workspace domains), is public short-link traffic for the
redirect app (mask.redirect), which never passes through the API's stack.
"""

from __future__ import annotations

import gc
import logging
from dataclasses import dataclass

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from mask.click.pipeline import ClickPipeline
from mask.context import AppContext
from mask.domain.tasks import DomainChecker
from mask.link.titles import TitleFetcher
from mask.public.pages import Hosts
from mask.rate_limit.limiter import Limiter
from mask.redirect.app import RedirectApp
from mask.webhook.runtime import WebhookRuntime


@dataclass
class Services:
    """What the composition root (mask.bootstrap) built for this process, typed: the click pipeline, webhooks, and
    the API rate limiter (None when limits are off, and in the background process)."""

    clicks: ClickPipeline
    webhooks: WebhookRuntime
    rate_limiter: Limiter | None
    domain_checker: DomainChecker | None = None  # custom domains' DNS re-checks (a background service)
    titles: TitleFetcher | None = None  # links' page titles (background)


class MaskApp:
    """Dispatch by path, and run the process's lifecycle through the ASGI lifespan."""

    def __init__(
        self,
        context: AppContext,
        services: Services,
        *,
        hosts: Hosts,
        api: ASGIApp,
        api_app: FastAPI,
        redirect: RedirectApp,
        bio_pages: ASGIApp,
        dashboard: ASGIApp,
        internal: ASGIApp,
        report: ASGIApp | None = None,
    ) -> None:
        self.context = context
        self.services = services
        self.hosts = hosts
        self.api = api  # as served: its edge and middleware around api_app
        self.api_app = api_app
        self.redirect = redirect
        self.bio_pages = bio_pages
        self.dashboard = dashboard
        self.internal = internal  # /internal/…: the TLS proxy's questions (mask.public.tls), on every host
        self.report = report or redirect  # /report: the public's abuse reports (mask.public.report), on every host
        # The app host's root is the dashboard, unless MASK_ROOT_URL sends visitors elsewhere (the redirect app).
        self.root = redirect if context.settings.root_url else dashboard
        # The app host's paths, first match wins; anything unmatched is a short link. A prefix ending in "/"
        # or "@" matches as is ("/@" → /@handle); any other matches whole segments ("/docs": /docs, /docs/x,
        # not /docsx). One line per mounted app.
        self.routes: list[tuple[str, ASGIApp]] = [
            ("/v1/", self.api),
            ("/docs", self.api),
            ("/health", self.api),
            ("/@", self.bio_pages),
            ("/app", self.dashboard),
            ("/internal/", self.internal),
            ("/report", self.report),
            ("/share/", self.dashboard),  # shared dashboards: /share/<token>
        ]
        self._route_initials = frozenset(prefix[1] for prefix, _ in self.routes)  # "/@" (bio pages) included

    def route(self, scope: Scope) -> ASGIApp:
        """The app for a request: the routes table on the app host, the redirect app everywhere else."""
        path: str = scope["path"]
        if len(path) > 1 and path[1] not in self._route_initials:
            return self.redirect  # on any host: most redirects are decided here, without the Host or the table
        host = b""
        for name, value in scope["headers"]:
            if name == b"host":
                host = value
                break
        if self.hosts.domain_of(host) != self.hosts.short_domain:
            # Workspace domains serve bio pages (/@handle) besides their short links.
            if path.startswith("/@"):
                return self.bio_pages
            if path == "/report" or path == "/report/":
                return self.report
            return self.internal if path.startswith("/internal/") else self.redirect
        if path == "/":  # the app host's front page: the dashboard, or MASK_ROOT_URL
            return self.root
        for prefix, app in self.routes:
            if path.startswith(prefix) and (len(path) == len(prefix) or prefix[-1] in "/@" or path[len(prefix)] == "/"):
                return app
        return self.redirect

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        await self.route(scope)(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.context.startup()
                except Exception as error:  # report it to the server, which exits
                    logging.getLogger("mask").exception("startup failed")
                    await send({"type": "lifespan.startup.failed", "message": str(error)})
                    return
                # What startup built (the apps, SQLAlchemy's and Pydantic's machinery: some 150,000 objects)
                # lives as long as the process: out of the cycle collector's sight, a full collection takes
                # 10–30 ms instead of 100–200 ms (measured on the 2-core bench machine), which a redirect
                # waiting behind it would pay.
                gc.freeze()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.context.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return
