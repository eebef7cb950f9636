"""What every public page decides the same way, short links and bio pages alike: which domain a request's Host
means, whether a request is tracked, and how a page's data is looked up on a cache miss (single flight).

One copy of each rule: two copies once disagreed (`/@handle` on the app host's IP address answered 404 while
`/slug` redirected).
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Awaitable, Callable, Iterable
from typing import Generic, TypeVar

from mask.public.cache import Key, Miss, PublicCache

MAX_HOSTS = 4096  # distinct Host values remembered; arbitrary Host headers must not grow memory
# Headers by which browsers mark a speculative load (prefetch, prerender, link previews): not a visit.
PREFETCH_HEADERS = frozenset({b"sec-purpose", b"purpose", b"x-purpose", b"x-moz"})

V = TypeVar("V")


def hostname(host: str) -> str:
    """The host name of a Host header value, without its port (an IPv6 literal keeps its brackets)."""
    if host.startswith("["):  # [IPv6]:port
        return host.split("]", 1)[0] + "]"
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return False
    return True


class Hosts:
    """Host header → the `domain` that links and bio pages are stored under.

    The default short domain answers for itself with any port, for a bare IP address (health checks, `make run`
    on 127.0.0.1: a workspace domain is never an IP address) and for a request without Host (HTTP/1.0). Any other
    host is its host name: lower-case, without port or trailing dot.
    """

    def __init__(self, short_domain: str) -> None:
        self.short_domain = short_domain
        self.short_hostname = hostname(short_domain)
        self._domains: dict[bytes, str] = {}

    def domain_of(self, host: bytes) -> str:
        domain = self._domains.get(host)
        if domain is None:
            name = host.decode("latin-1").strip().lower().rstrip(".")
            bare = hostname(name).rstrip(".")
            if not name or name == self.short_domain or bare == self.short_hostname or is_ip(bare):
                domain = self.short_domain
            else:
                domain = bare
            if len(self._domains) >= MAX_HOSTS:
                self._domains.clear()
            self._domains[host] = domain
        return domain


def is_prefetch(value: bytes) -> bool:
    """Whether the value of one of PREFETCH_HEADERS marks a speculative load."""
    return b"prefetch" in value or b"preview" in value


def prefetch_of(headers: Iterable[tuple[bytes, bytes]]) -> bool:
    """Whether a request's headers mark it as a speculative load."""
    return any(name in PREFETCH_HEADERS and is_prefetch(value) for name, value in headers)


def is_tracked(method: str, *, prefetch: bool) -> bool:
    """Whether a visit counts as a click (or a page view): GET, not a prefetch. HEAD answers like GET but is
    never recorded. Bots are recorded as what they are (stored and flagged by enrichment), not dropped here;
    so are prefetches, by the handler (traffic type `prefetch`), without spending a click limit."""
    return method == "GET" and not prefetch


LoadMany = Callable[[list[Key]], Awaitable[dict[Key, V]]]


class SingleFlight(Generic[V]):
    """The cache first; on a miss, one load however many requests miss the same key at once, and the misses of
    one event-loop turn loaded together (at most `max_keys` per load, `max_concurrent` loads at a time).

    A cold cache under load (after a deploy, a burst of new slugs) therefore costs a few queries per loop turn
    instead of a connection checkout and round trips per request. What a load did not find is cached as None.
    """

    def __init__(self, cache: PublicCache[V], load_many: LoadMany[V], *, max_keys: int, max_concurrent: int) -> None:
        self.cache = cache
        self.load_many = load_many
        self.max_keys = max_keys
        self.max_concurrent = max_concurrent
        self._inflight: dict[Key, asyncio.Future[V | None]] = {}
        self._queue: list[Key] = []
        self._scheduled = False
        self._running = 0
        self._tasks: set[asyncio.Task[None]] = set()

    def cached(self, key: Key) -> V | Miss | None:
        """The cached answer without awaiting anything (a cache hit is most visits), or MISS."""
        return self.cache.get(key)

    async def load(self, key: Key) -> V | None:
        """The answer from the loader, after `cached` said MISS."""
        future = self._inflight.get(key)
        if future is None:
            loop = asyncio.get_running_loop()
            future = self._inflight[key] = loop.create_future()
            self._queue.append(key)
            if not self._scheduled:
                self._scheduled = True
                loop.call_soon(self._start_loads)  # once this loop turn's other misses have queued
        return await asyncio.shield(future)  # a cancelled request must not cancel the others' load

    async def get(self, key: Key) -> V | None:
        cached = self.cached(key)
        if not isinstance(cached, Miss):
            return cached
        return await self.load(key)

    def _start_loads(self) -> None:
        self._scheduled = False
        while self._queue and self._running < self.max_concurrent:
            keys = self._queue[: self.max_keys]
            del self._queue[: self.max_keys]
            self._running += 1
            task = asyncio.get_running_loop().create_task(self._load(keys))
            self._tasks.add(task)
            task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._running -= 1
        self._start_loads()

    async def _load(self, keys: list[Key]) -> None:
        generation = self.cache.generation
        try:
            found = await self.load_many(keys)
        except BaseException as error:
            failure = error if isinstance(error, Exception) else ConnectionError("lookup cancelled")
            for key in keys:
                future = self._inflight.pop(key)
                if not future.done():
                    future.set_exception(failure)
                    future.exception()  # marked retrieved: the waiting requests re-raise it
            if not isinstance(error, Exception):
                raise
            return
        for key in keys:
            value = found.get(key)
            self.cache.put(key, value, generation=generation)
            future = self._inflight.pop(key)
            if not future.done():
                future.set_result(value)
