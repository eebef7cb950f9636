"""The one door through which public handlers (redirects, bio pages) hand over clicks.

A handler that was given the process's tracker (mask.bootstrap builds it) records a click with

    await tracker.track(scope, workspace_id=page.workspace_id, domain=domain,
                        bio_page_id=page.id, bio_block_id=block.id)   # or link_id=...

before it sends its response (the redirect's hot path hands over a row: `buffer_row`). Enrichment and storage
happen later, off the request path, in the background process.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from redis.asyncio import Redis

from mask.click.inbox import InboxProcessor
from mask.click.schemas import ClickRow, RawClick
from mask.click.stream import StreamAppender, stream_key
from mask.click.writer import ClickWriter
from mask.config import Settings
from mask.kit.net import client_ip

logger = logging.getLogger("mask.click")

FALLBACK_LOG_EVERY = 10.0  # seconds between warnings while Redis refuses clicks


def _header(scope: dict[str, Any], name: bytes) -> str:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return ""


class ClickTracker:
    """Takes raw clicks from public handlers and makes sure they get stored.

    With Redis (MASK_REDIS_URL) a click is appended to the Redis click stream before `submit` returns, so it
    survives even SIGKILL of the process; if Redis fails, it falls back to the in-process buffer. Without
    Redis it goes to the in-process buffer, appended to the click inbox every MASK_CLICK_FLUSH_INTERVAL
    seconds and on graceful shutdown. The background process stores both (mask.click.stream,
    mask.click.inbox). With MASK_RECORD_CLICKS=false clicks are dropped (for measuring what recording costs).
    """

    def __init__(
        self, *, settings: Settings, writer: ClickWriter, processor: InboxProcessor, redis: Redis | None
    ) -> None:
        self.settings = settings
        self.enabled = settings.record_clicks
        self.writer = writer
        self.processor = processor
        self.redis = redis
        self.stream_key = stream_key(settings.redis_prefix)
        self.appender = StreamAppender(redis, self.stream_key) if redis is not None else None
        self._last_fallback_log = 0.0

    async def track(
        self,
        scope: dict[str, Any],
        *,
        workspace_id: str,
        domain: str,
        link_id: str | None = None,
        bio_page_id: str | None = None,
        bio_block_id: str | None = None,
        utm: dict[str, str] | None = None,
        trigger: str | None = None,
    ) -> None:
        """Record a click on a link, or on a bio page (and the block clicked), from an ASGI HTTP scope. The
        trigger is `bio` for a bio page's traffic and `link` otherwise unless given."""
        if not self.enabled:
            return
        click = RawClick(
            click_id="",
            at=time.time(),
            workspace_id=workspace_id,
            domain=domain,
            link_id=link_id,
            bio_page_id=bio_page_id,
            bio_block_id=bio_block_id,
            ip=client_ip(scope, self.settings.trusted_proxy_networks),
            user_agent=_header(scope, b"user-agent"),
            referrer=_header(scope, b"referer"),
            **(utm or {}),
            trigger=trigger or ("bio" if bio_page_id is not None else "link"),
        )
        await self.submit(click)

    def buffer(self, click: RawClick) -> bool:
        """Buffer `click` and return True when that is all submitting it means here (no Redis stream to
        await): the redirect's hot path then skips a coroutine. False: nothing done, await `submit`."""
        if not self.enabled:
            return True  # dropped: recording is off
        if click.link_id is None and click.bio_page_id is None:
            raise ValueError("a click belongs to a link or a bio page")
        return self.appender is None and self.buffer_row(click.to_row())

    def buffer_row(self, row: ClickRow) -> bool:
        """`buffer` for a click already in row form (`RawClick.to_row()`, on a link or a bio page): the
        redirect's hot path, which then builds no RawClick unless it has to await `submit` (a stream)."""
        if not self.enabled:
            return True  # dropped: recording is off
        if self.appender is not None:
            return False
        self.writer.add_row(row)
        return True

    async def submit(self, click: RawClick) -> None:
        """Hand over a click built by the caller. Returns once the click is durable (Redis) or buffered."""
        if self.buffer(click):
            return
        assert self.appender is not None
        try:
            await self.appender.append(click)
        except Exception:
            # Redis down: keep redirecting and keep the click in memory (durable on graceful shutdown).
            now = time.monotonic()
            if now - self._last_fallback_log > FALLBACK_LOG_EVERY:
                self._last_fallback_log = now
                logger.warning("Redis refused a click; buffering clicks in process meanwhile", exc_info=True)
            self.writer.add(click)

    async def flush(self) -> bool:
        """Store this process's buffer and the whole inbox now (tests, admin tasks); True when both are empty
        afterwards. Clicks in the Redis stream are the stream consumer's."""
        return await self.writer.flush() and await self.processor.drain()
