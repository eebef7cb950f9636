"""Resolve (domain, slug) → redirect target: the worker's cache first, the database on a miss.

Concurrent misses for the same key share one query (a burst on a cold, popular link costs one lookup).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from mask.click.schemas import UTM_NAMES
from mask.kit.time import as_utc
from mask.redirect.cache import MISS, Key, RedirectCache
from mask.redirect.destination import Destination
from mask.redirect.repository import find_link


@dataclass(frozen=True, slots=True)
class Target:
    """What a redirect needs to know about a link, prepared once per cache fill."""

    link_id: str
    workspace_id: str
    domain: str
    destination: Destination
    expires_at: float | None  # Unix time
    expired_location: str | None


def _target(domain: str, row: tuple[object, ...]) -> Target:
    link_id, workspace_id, url, *utm_values, expires_at, expired_url = row
    assert isinstance(link_id, str) and isinstance(workspace_id, str) and isinstance(url, str)
    utm = {name: str(value) if value else None for name, value in zip(UTM_NAMES, utm_values, strict=True)}
    expiry = as_utc(expires_at).timestamp() if isinstance(expires_at, datetime) else None
    return Target(link_id=link_id, workspace_id=workspace_id, domain=domain,
                  destination=Destination.build(url, utm), expires_at=expiry,
                  expired_location=expired_url if isinstance(expired_url, str) and expired_url else None)


class Resolver:
    def __init__(self, engine: AsyncEngine, cache: RedirectCache[Target]) -> None:
        self.engine = engine
        self.cache = cache
        self._inflight: dict[Key, asyncio.Future[Target | None]] = {}

    async def resolve(self, domain: str, slug: str) -> Target | None:
        key = (domain, slug)
        cached = self.cache.get(key)
        if cached is not MISS:
            return cached  # type: ignore[return-value]
        waiting = self._inflight.get(key)
        if waiting is not None:
            return await asyncio.shield(waiting)
        future: asyncio.Future[Target | None] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            generation = self.cache.generation
            async with self.engine.connect() as connection:
                row = await find_link(connection, domain, slug)
            target = _target(domain, tuple(row)) if row is not None else None
            self.cache.put(key, target, generation=generation)
            future.set_result(target)
            return target
        except BaseException as error:
            if isinstance(error, asyncio.CancelledError):
                future.cancel()
            else:
                future.set_exception(error)
                future.exception()  # mark it retrieved: waiters re-raise it, nobody else needs it
            raise
        finally:
            del self._inflight[key]
