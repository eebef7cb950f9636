"""Dropping stale public answers when links or bio pages change: in this process at once, in every other
worker via Redis.

A service emits a signal (`mask.signals.LinkChanged`, `BioPageChanged`) in its transaction; once it commits,
`CacheInvalidation.invalidate` (connected in mask.bootstrap) makes the local cache forget the key and, with
Redis, a message on the cache's channel (`{MASK_REDIS_PREFIX}redirect-invalidate`, `…bio-page-invalidate`) makes
every subscribed worker forget it too (milliseconds). If a message is missed (Redis restart), the cache TTL
bounds the staleness; a subscriber that reconnects clears its whole cache, since it cannot know what it missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable

from redis.asyncio import Redis

logger = logging.getLogger("mask.public")

REDIRECTS = "redirect-invalidate"
BIO_PAGES = "bio-page-invalidate"
DOMAINS = "domain-invalidate"


def channel_name(prefix: str, cache: str = REDIRECTS) -> str:
    """The Redis channel of a cache's invalidations (`cache`: REDIRECTS or BIO_PAGES)."""
    return f"{prefix}{cache}"


class CacheInvalidation:
    """Local invalidation plus, with Redis, publishing to and listening on the shared channel."""

    def __init__(
        self, *, forget: Callable[[str, str | None], None], clear: Callable[[], None], redis: Redis | None, channel: str
    ) -> None:
        self.forget = forget
        self.clear = clear
        self.redis = redis
        self.channel = channel
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._subscribed = asyncio.Event()

    async def invalidate(self, domain: str, slug: str | None) -> None:
        """Forget here, then tell the other workers. Never raises: the change has already committed."""
        self.forget(domain, slug)
        if self.redis is None:
            return
        try:
            await self.redis.publish(self.channel, json.dumps([domain, slug]))
        except Exception:
            logger.warning("could not publish a redirect invalidation; other workers catch up by TTL", exc_info=True)

    async def start(self) -> None:
        if self.redis is None:
            return
        self._stopping = False
        self._task = asyncio.create_task(self._listen(), name="mask-redirect-invalidation")
        with contextlib.suppress(TimeoutError):  # serve anyway; the listener keeps retrying
            async with asyncio.timeout(5):
                await self._subscribed.wait()

    async def stop(self) -> None:
        self._stopping = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _listen(self) -> None:
        assert self.redis is not None
        first = True
        while not self._stopping:
            pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel)
                if not first:
                    self.clear()  # we may have missed messages while disconnected
                first = False
                self._subscribed.set()
                while True:
                    message = await pubsub.get_message(timeout=5.0)
                    if message is not None and message.get("type") == "message":
                        self._apply(message["data"])
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.warning("redirect invalidation channel lost; reconnecting", exc_info=True)
                await asyncio.sleep(1.0)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call,unused-ignore]

    def _apply(self, data: bytes | str) -> None:
        try:
            domain, slug = json.loads(data)
        except (ValueError, TypeError):
            logger.error("ignoring a malformed redirect invalidation message %r", data)
            return
        if isinstance(domain, str) and (slug is None or isinstance(slug, str)):
            self.forget(domain, slug)
