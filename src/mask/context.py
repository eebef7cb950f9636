"""What every part of a MASK process shares: settings, the database, Redis, the signal receivers, and the
process's lifecycle (startup and shutdown hooks, background services).

Built by the composition root (mask.bootstrap), which also decides what runs where: background services (click
storing, webhook delivery) run in the background process (`mask worker`, which `mask serve` starts beside its
HTTP workers), never in the HTTP workers.
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
from mask.signals import Signals

logger = logging.getLogger("mask")

Hook = Callable[[], Awaitable[None]]


@dataclass
class BackgroundService:
    """A long-running job (click storing, webhook delivery), started and stopped with the process."""

    name: str
    start: Hook
    stop: Hook


@dataclass
class AppContext:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    signals: Signals
    redis: Redis | None = None  # when MASK_REDIS_URL is set: rate limits, cache invalidation
    on_startup: list[Hook] = field(default_factory=list)
    on_shutdown: list[Hook] = field(default_factory=list)
    background: list[BackgroundService] = field(default_factory=list)
    run_background: bool = True
    started: bool = False
    # Parts' figures for GET /health, by name (the click journal's lost clicks, …): called on each request.
    health: dict[str, Callable[[], Any]] = field(default_factory=dict)

    @classmethod
    def create(cls, settings: Settings, *, run_background: bool = False) -> AppContext:
        engine = create_engine(settings)
        signals = Signals()
        return cls(
            settings=settings,
            engine=engine,
            sessionmaker=create_sessionmaker(engine, info=signals.session_info()),
            signals=signals,
            redis=Redis.from_url(settings.redis_url) if settings.redis_url else None,
            run_background=run_background,
        )

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
        # Reverse order: later services may depend on earlier ones (e.g. click storing on the database).
        if self.run_background:
            for service in reversed(self.background):
                logger.info("stopping %s", service.name)
                await service.stop()
        for hook in reversed(self.on_shutdown):
            await hook()
        await self.engine.dispose()
        if self.redis is not None:
            await self.redis.aclose()
