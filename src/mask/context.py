"""What a running MASK process holds: settings, the database engine, and background services.

Built once per process by `create_app`; shared by the API, the redirect app and the dashboard.
Background services (click inbox processor, stream consumer, webhook dispatcher, …) register start/stop callbacks
here.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from mask.config import Settings
from mask.db import create_engine, create_sessionmaker

logger = logging.getLogger("mask")

Hook = Callable[[], Awaitable[None]]


@dataclass
class BackgroundService:
    """A long-running job (click inbox processor, stream consumer, webhook dispatcher).

    They run in `mask worker`: the one `mask serve` starts beside its HTTP workers (mask.background_process), or
    one you run yourself with MASK_SERVE_BACKGROUND=false.
    """

    name: str
    start: Hook
    stop: Hook


@dataclass
class AppContext:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    on_startup: list[Hook] = field(default_factory=list)
    on_shutdown: list[Hook] = field(default_factory=list)
    background: list[BackgroundService] = field(default_factory=list)
    run_background: bool = True
    # Run inside each click batch's transaction (analytics rollups, webhook events); see mask.click.service.
    click_listeners: list[Any] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)
    started: bool = False

    # Shared Redis client when MASK_REDIS_URL is set (rate limits, cache invalidation, click stream).
    redis: Redis | None = None

    @classmethod
    def create(cls, settings: Settings) -> AppContext:
        engine = create_engine(settings)
        redis = Redis.from_url(settings.redis_url) if settings.redis_url else None
        return cls(settings=settings, engine=engine, sessionmaker=create_sessionmaker(engine), redis=redis)

    async def startup(self) -> None:
        if self.started:
            return
        self.started = True
        for hook in self.on_startup:
            await hook()
        if self.run_background:
            for service in self.background:
                logger.info("starting %s", service.name)
                await service.start()

    async def shutdown(self) -> None:
        if not self.started:
            return
        self.started = False
        # Stop in reverse order: later services may depend on earlier ones (e.g. the click inbox processor on the DB).
        if self.run_background:
            for service in reversed(self.background):
                logger.info("stopping %s", service.name)
                await service.stop()
        for hook in reversed(self.on_shutdown):
            await hook()
        await self.engine.dispose()
        if self.redis is not None:
            await self.redis.aclose()
