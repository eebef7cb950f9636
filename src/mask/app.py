"""The ASGI application: one process serves the API, the redirects and the dashboard, routed by path.

On the app host (MASK_SHORT_DOMAIN, or a bare IP address) `/v1/…`, `/docs` and `/health` go to the API;
every other path, and every path on any other host (workspace domains), is public short-link traffic for the
redirect app (mask.redirect), which never passes through the API's stack.
"""

from __future__ import annotations

import gc
import logging

from starlette.types import ASGIApp, Receive, Scope, Send

from mask.analytics.service import record_clicks
from mask.api.app import api_stack, create_api
from mask.bio_page import service as bio_page_service
from mask.bio_page.public import create_public_app as create_bio_pages
from mask.click.tracker import install_click_tracking
from mask.config import Settings, get_settings
from mask.context import AppContext
from mask.dashboard.app import create_dashboard
from mask.redirect.app import create_redirect_app
from mask.webhook.tasks import install as install_webhooks


class MaskApp:
    """Dispatch by path and run the process's background services through the ASGI lifespan."""

    def __init__(self, context: AppContext) -> None:
        self.context = context
        self.api_app = create_api(context)
        self.api = api_stack(self.api_app, context)
        self.redirect = create_redirect_app(context)
        self.bio_pages = create_bio_pages(context)
        self.dashboard = create_dashboard(context)
        # The app host's paths, first match wins; anything unmatched is a short link. A prefix ending in "/"
        # or "@" matches as is ("/@" → /@handle); any other matches whole segments ("/docs": /docs, /docs/x,
        # not /docsx). One line per mounted app.
        self.routes: list[tuple[str, ASGIApp]] = [
            ("/v1/", self.api),
            ("/docs", self.api),
            ("/health", self.api),
            ("/@", self.bio_pages),
            ("/app", self.dashboard),
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
        if self.redirect.domain_of(host) != self.context.settings.short_domain:
            # Workspace domains serve bio pages (/@handle) besides their short links.
            return self.bio_pages if path.startswith("/@") else self.redirect
        if path == "/":  # the app host's front page is the dashboard
            return self.dashboard
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


def create_context(settings: Settings, *, role: str = "serve") -> AppContext:
    """The process's context with every background service registered.

    role "serve": background services run when MASK_SERVE_BACKGROUND is true (the default);
    role "worker": they always run (`mask worker`).
    """
    context = AppContext.create(settings)
    context.run_background = role == "worker" or settings.serve_background
    install_webhooks(context)  # webhook dispatcher; link.clicked events as a click listener
    context.click_listeners.append(bio_page_service.on_clicks)  # bio page view and click counters
    context.click_listeners.append(record_clicks)  # analytics rollups, in each click batch's transaction
    install_click_tracking(context)  # click buffer writer; with Redis, the click stream consumer
    return context


def create_app(settings: Settings | None = None) -> MaskApp:
    settings = settings or get_settings()
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s")
    return MaskApp(create_context(settings))
