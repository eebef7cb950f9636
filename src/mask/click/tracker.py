"""The one door through which public handlers (redirects, bio pages) hand over clicks, and its wiring.

Any handler records a click with:

    from mask.click.tracker import get_click_tracker

    tracker = get_click_tracker(context)
    await tracker.track(scope, workspace_id=page.workspace_id, domain=host,
                        bio_page_id=page.id, bio_block_id=block.id)   # or link_id=...

before it sends its response. Enrichment and storage happen later, off the request path.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from redis.asyncio import Redis

from mask.click.enrichment import Enricher
from mask.click.inbox import InboxProcessor
from mask.click.schemas import ClickRow, RawClick
from mask.click.stream import ClickStreamConsumer, StreamAppender, ensure_group, stream_key
from mask.click.writer import ClickWriter, writer_engine
from mask.config import Settings
from mask.context import AppContext, BackgroundService
from mask.db import create_sessionmaker
from mask.kit.cpu import CpuGate
from mask.kit.net import client_ip

logger = logging.getLogger("mask.click")

EXTRAS_KEY = "click_tracker"
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
    ) -> None:
        """Record a click on a link, or on a bio page (and the block clicked), from an ASGI HTTP scope."""
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


def get_click_tracker(context: AppContext) -> ClickTracker:
    """The process's click tracker (installed by `install_click_tracking`)."""
    tracker: ClickTracker = context.extras[EXTRAS_KEY]
    return tracker


def install_click_tracking(context: AppContext) -> ClickTracker:
    """Create the tracker, its buffer writer, the inbox processor and (with Redis) the stream consumer, and
    register them.

    The buffer writer runs in every process that serves requests: the buffer it empties lives in that
    process. The inbox processor and the stream consumer are background services (in the background process
    `mask serve` starts by default, in `mask worker` for production).
    """
    settings = context.settings
    enricher = Enricher(secret_key=settings.secret_key, mmdb_path=settings.geoip_mmdb_path)
    engine = writer_engine(settings, context.engine)
    sessionmaker = create_sessionmaker(engine) if engine is not context.engine else context.sessionmaker
    processor = InboxProcessor(
        sessionmaker=sessionmaker,
        read_sessionmaker=context.sessionmaker,
        enricher=enricher,
        listeners=context.click_listeners,
        batch_size=settings.click_batch_size,
        poll_interval=settings.click_flush_interval,
        cpu_gate=CpuGate(longest=settings.click_store_yield_seconds),
    )
    writer = ClickWriter(
        sessionmaker=sessionmaker,
        flush_interval=settings.click_flush_interval,
        spill_dir=settings.click_spill_path,
        on_flushed=processor.wake if context.run_background else None,
    )
    tracker = ClickTracker(settings=settings, writer=writer, processor=processor, redis=context.redis)
    context.extras[EXTRAS_KEY] = tracker

    async def start_writer() -> None:
        if context.run_background:  # only the background process enriches
            await asyncio.to_thread(enricher.warm_up)
        if context.redis is not None and settings.record_clicks:
            try:  # before the first click: entries appended before the group exists must count too
                await ensure_group(context.redis, tracker.stream_key)
            except Exception:  # Redis away: redirects still work, clicks buffer in process meanwhile
                logger.warning("could not create the click stream group; the consumer will retry", exc_info=True)
        await writer.start()

    async def stop_writer() -> None:
        await writer.stop()  # after the stream consumer: background services stop before these hooks
        if engine is not context.engine:
            await engine.dispose()

    context.on_startup.append(start_writer)
    context.on_shutdown.append(stop_writer)
    context.background.append(BackgroundService("click inbox processor", processor.start, processor.stop))
    if context.redis is not None:
        consumer = ClickStreamConsumer(
            redis=context.redis,
            key=tracker.stream_key,
            sessionmaker=sessionmaker,
            enricher=enricher,
            listeners=context.click_listeners,
            batch_size=settings.click_batch_size,
            claim_idle=settings.click_claim_idle,
            cpu_gate=CpuGate(longest=settings.click_store_yield_seconds),
        )
        context.extras["click_stream_consumer"] = consumer
        context.background.append(BackgroundService("click stream consumer", consumer.start, consumer.stop))
    return tracker
