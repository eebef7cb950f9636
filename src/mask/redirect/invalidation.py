"""Dropping stale redirects when links change: in this process at once, in every other worker via Redis.

Services call `invalidate_after_commit(session, domain=..., slug=...)`: nothing happens unless and until the
transaction commits. Then the local cache forgets the key and, with Redis, a message on the channel
`{MASK_REDIS_PREFIX}redirect-invalidate` makes every subscribed worker forget it too (milliseconds). If a
message is missed (Redis restart), the cache TTL bounds the staleness; a subscriber that reconnects clears
its whole cache, since it cannot know what it missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from mask.db import after_commit

logger = logging.getLogger("mask.redirect")

SESSION_INFO_KEY = "redirect_invalidate"

Invalidate = Callable[[str, str | None], Awaitable[None]]


def invalidate_after_commit(session: AsyncSession, *, domain: str, slug: str | None = None) -> None:
    """Once `session` commits, stop serving the cached redirect of (domain, slug), or of every slug of
    `domain`.

    A no-op for sessions of processes that serve no redirects (the CLI): their TTL covers them.
    """
    invalidate: Invalidate | None = session.info.get(SESSION_INFO_KEY)
    if invalidate is None:
        return

    async def run() -> None:
        await invalidate(domain, slug)

    after_commit(session, run)


def channel_name(prefix: str) -> str:
    return f"{prefix}redirect-invalidate"


class RedirectInvalidation:
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
