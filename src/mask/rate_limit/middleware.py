"""The rate limit at the API's edge: every /v1 request is counted before anything else answers it.

Installed as ApiEdgeMiddleware's guard, so every /v1 answer (401, 404, 413, 415, 422, … and 429) carries the
X-RateLimit-* headers. Redirects and bio pages never reach the API stack and are not counted.
"""

from __future__ import annotations

import logging
import time

from fastapi.security.utils import get_authorization_scheme_param
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.types import Scope

from mask.auth.service import ResolvedKey
from mask.context import AppContext
from mask.dependencies import REQUEST_SESSION_STATE
from mask.kit.errors import MaskError, RateLimited, ServiceUnavailable
from mask.kit.net import client_ip
from mask.rate_limit import service as rate_limit_service
from mask.rate_limit.limiter import Limiter
from mask.rate_limit.service import Caller

logger = logging.getLogger("mask.rate_limit")

Headers = list[tuple[bytes, bytes]]


class RateLimitGuard:
    """Resolve the caller (one query: key, workspace, plan limit), count the request, answer 429 when over."""

    def __init__(self, context: AppContext, limiter: Limiter) -> None:
        self.context = context
        self.settings = context.settings
        self.limiter = limiter

    async def __call__(self, scope: Scope) -> tuple[Headers, MaskError | None]:
        path: str = scope["path"]
        if not (path == "/v1" or path.startswith("/v1/")):
            return [], None
        caller = await self._identify(scope)
        if isinstance(caller, MaskError):
            return [], caller
        if caller.resolved is not None:
            # Authenticator (mask.auth.dependencies) reuses this instead of looking the key up again.
            scope.setdefault("state", {})[ResolvedKey.STATE] = caller.resolved
        decision = await self.limiter.hit(caller.bucket, caller.quota)
        headers = decision.headers()
        if decision.allowed:
            return headers, None
        retry_after = decision.retry_after(time.time())
        window = caller.quota.window_seconds
        per = "minute" if window == 60 else f"{window} seconds"
        who = "this workspace's plan" if caller.bucket.startswith("ws:") else "a client without a valid key"
        return headers, RateLimited(
            f"Too many requests: {who} allows {caller.quota.requests} per {per}. Retry in {retry_after} s.",
            headers={"Retry-After": str(retry_after)},
        )

    async def finish(self, scope: Scope) -> None:
        """Close the request's session if the endpoint did not adopt it (404 route, 413, 429, …)."""
        session: AsyncSession | None = scope.get("state", {}).pop(REQUEST_SESSION_STATE, None)
        if session is not None:
            await session.close()

    async def _identify(self, scope: Scope) -> Caller | MaskError:
        ip = client_ip(scope, self.settings.trusted_proxy_networks)
        token = _bearer_token(scope)
        if token is None:
            return rate_limit_service.anonymous(settings=self.settings, client_ip=ip)
        # The lookup runs in the request's own session, which the endpoint then adopts (mask.dependencies), its
        # key and workspace loaded. The lookup's transaction ends at once: its connection goes back to the pool
        # before the body is read and while the limiter counts, so a client that sends slowly holds none.
        session = self.context.sessionmaker()
        try:
            caller = await rate_limit_service.identify(session, settings=self.settings, token=token, client_ip=ip)
            await session.commit()
        except (SQLAlchemyError, OSError):
            await session.close()
            # Never counted as anonymous: a valid key would be refused with a misleading 429.
            logger.exception("could not resolve the API key for rate limiting")
            return ServiceUnavailable(
                "The server cannot check API keys right now; retry shortly.", headers={"Retry-After": "2"}
            )
        scope.setdefault("state", {})[REQUEST_SESSION_STATE] = session
        return caller


def _bearer_token(scope: Scope) -> str | None:
    """The token exactly as the Authenticator reads it (FastAPI's HTTPBearer parsing, then stripped)."""
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, credentials = get_authorization_scheme_param(value.decode("latin-1"))
            if scheme.lower() != "bearer" or not credentials:
                return None
            return credentials.strip()
    return None
