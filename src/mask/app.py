"""The ASGI application: one process serves the API, the redirects and the dashboard, routed by path.

`/v1/…`, `/docs` and `/health` go to the API. Everything else is public short-link traffic.
"""

from __future__ import annotations

import logging

from starlette.types import Receive, Scope, Send

from mask.api import api_stack, create_api
from mask.config import Settings, get_settings
from mask.context import AppContext



class MaskApp:
    """Dispatch by path and run the process's background services through the ASGI lifespan."""

    def __init__(self, context: AppContext) -> None:
        self.context = context
        self.api_app = create_api(context)
        self.api = api_stack(self.api_app, context)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        await self.api(scope, receive, send)

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
    return context


def create_app(settings: Settings | None = None) -> MaskApp:
    settings = settings or get_settings()
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s")
    return MaskApp(create_context(settings))


