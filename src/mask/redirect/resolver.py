"""Resolve (domain, slug) → redirect target: the worker's cache first, the database on a miss.

Misses are batched: every key missed in the same event-loop turn (or while the previous lookup ran) is looked
up by one query per domain on one pooled connection, and a key already being looked up is waited for, not
queried again. A cold cache under load (after a deploy, or a burst of new slugs) therefore costs a few
queries per loop turn instead of one connection checkout and round trips per request.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from mask.click.schemas import UTM_NAMES
from mask.config import Settings
from mask.db import create_engine
from mask.kit.time import as_utc
from mask.redirect.cache import Key, Miss, RedirectCache
from mask.redirect.destination import Destination
from mask.redirect.repository import find_links

MAX_KEYS_PER_LOOKUP = 200
MAX_CONCURRENT_LOOKUPS = 4  # per worker: the pool's other connections stay free for the API and the writer


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
    _slug, link_id, workspace_id, url, *utm_values, expires_at, expired_url = row
    assert isinstance(link_id, str) and isinstance(workspace_id, str) and isinstance(url, str)
    utm = {name: str(value) if value else None for name, value in zip(UTM_NAMES, utm_values, strict=True)}
    expiry = as_utc(expires_at).timestamp() if isinstance(expires_at, datetime) else None
    return Target(
        link_id=link_id,
        workspace_id=workspace_id,
        domain=domain,
        destination=Destination.build(url, utm),
        expires_at=expiry,
        expired_location=expired_url if isinstance(expired_url, str) and expired_url else None,
    )


def lookup_engine(settings: Settings) -> AsyncEngine:
    """The resolver's own small engine: autocommit, so a lookup is one round trip (no BEGIN, no ROLLBACK on
    return to the pool), and no ping before each checkout (one more round trip). A connection that died
    meanwhile fails its first query and the lookup is retried once on a fresh one (see Resolver._lookup)."""
    return create_engine(
        settings,
        pool_pre_ping=False,
        isolation_level="AUTOCOMMIT",
        **({} if settings.is_sqlite else {"pool_size": MAX_CONCURRENT_LOOKUPS, "max_overflow": 0}),
    )


class Resolver:
    def __init__(self, engine: AsyncEngine, cache: RedirectCache[Target]) -> None:
        self.engine = engine
        self.cache = cache
        self._inflight: dict[Key, asyncio.Future[Target | None]] = {}
        self._queue: list[Key] = []
        self._scheduled = False
        self._running = 0
        self._tasks: set[asyncio.Task[None]] = set()

    def cached(self, domain: str, slug: str) -> Target | Miss | None:
        """The cached answer without awaiting anything (a cache hit is most redirects), or MISS."""
        return self.cache.get((domain, slug))

    async def look_up(self, domain: str, slug: str) -> Target | None:
        """The answer from the database, after `cached` said MISS; concurrent misses of a key share one
        lookup, and the misses of one loop turn go out together."""
        key = (domain, slug)
        future = self._inflight.get(key)
        if future is None:
            loop = asyncio.get_running_loop()
            future = self._inflight[key] = loop.create_future()
            self._queue.append(key)
            if not self._scheduled:
                self._scheduled = True
                loop.call_soon(self._start_lookups)  # once this loop turn's other misses have queued
        return await asyncio.shield(future)  # a cancelled request must not cancel others' lookup

    async def _find(self, by_domain: dict[str, list[str]]) -> dict[Key, Target]:
        found: dict[Key, Target] = {}
        async with self.engine.connect() as connection:
            for domain, slugs in by_domain.items():
                for row in await find_links(connection, domain, slugs):
                    found[(domain, row[0])] = _target(domain, tuple(row))
        return found

    def _start_lookups(self) -> None:
        self._scheduled = False
        while self._queue and self._running < MAX_CONCURRENT_LOOKUPS:
            keys = self._queue[:MAX_KEYS_PER_LOOKUP]
            del self._queue[:MAX_KEYS_PER_LOOKUP]
            self._running += 1
            task = asyncio.get_running_loop().create_task(self._lookup(keys))
            self._tasks.add(task)
            task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._running -= 1
        self._start_lookups()

    async def _lookup(self, keys: list[Key]) -> None:
        generation = self.cache.generation
        try:
            by_domain: dict[str, list[str]] = {}
            for domain, slug in keys:
                by_domain.setdefault(domain, []).append(slug)
            try:
                found = await self._find(by_domain)
            except DBAPIError as error:
                if not error.connection_invalidated:
                    raise
                found = await self._find(by_domain)  # the pooled connection had died (database restart)
        except BaseException as error:
            failure = error if isinstance(error, Exception) else ConnectionError("lookup cancelled")
            for key in keys:
                future = self._inflight.pop(key)
                if not future.done():
                    future.set_exception(failure)
                    future.exception()  # mark it retrieved: the waiting requests re-raise it
            if not isinstance(error, Exception):
                raise
            return
        for key in keys:
            target = found.get(key)
            self.cache.put(key, target, generation=generation)
            future = self._inflight.pop(key)
            if not future.done():
                future.set_result(target)
