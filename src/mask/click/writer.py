"""The in-process click buffer and the task that writes it: clicks leave the request path at once and reach
the database in batches, one transaction per batch.

A batch that fails to commit goes back to the front of the buffer and is retried with a growing pause, so a
database restart delays clicks but loses none. On graceful shutdown (SIGTERM/SIGINT → ASGI lifespan shutdown,
after uvicorn has finished the requests in flight) the buffer is written out before the process exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from mask.click import service as click_service
from mask.click.enrichment import Enricher
from mask.click.schemas import RawClick
from mask.click.service import ClickListener
from mask.config import Settings
from mask.db import create_engine, session_scope

logger = logging.getLogger("mask.click")

MAX_RETRY_PAUSE = 5.0
SHUTDOWN_FLUSH_SECONDS = 15.0


ENRICH_CHUNK = 25


def writer_engine(settings: Settings, shared: AsyncEngine) -> AsyncEngine:
    """The engine click batches are written with: the process's own, except on SQLite, where it is a separate
    engine whose transactions begin IMMEDIATE (take the write lock first; see mask.click.repository)."""
    if not settings.is_sqlite:
        return shared
    engine = create_engine(settings)

    def no_driver_begin(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy's recipe: we emit BEGIN ourselves

    def begin_immediate(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    event.listen(engine.sync_engine, "connect", no_driver_begin)
    event.listen(engine.sync_engine, "begin", begin_immediate)
    return engine


async def store_clicks(sessionmaker: async_sessionmaker[AsyncSession], enricher: Enricher,
                       raws: list[RawClick], listeners: Sequence[ClickListener]) -> int:
    """Enrich and store one batch in one transaction; return how many clicks were new.

    Enrichment runs on the event loop in small chunks rather than in a thread: a CPU-bound thread would take
    the GIL from the loop for 5 ms at a time, which is what redirect latency would pay.
    """
    enriched = []
    for start in range(0, len(raws), ENRICH_CHUNK):
        enriched.extend(enricher.enrich_all(raws[start : start + ENRICH_CHUNK]))
        await asyncio.sleep(0)
    async with session_scope(sessionmaker) as session:
        new = await click_service.record_batch(session, enriched, listeners)
    return len(new)


class ClickWriter:
    """Buffers raw clicks in memory and writes them every `flush_interval` seconds (sooner when a full batch
    is waiting)."""

    def __init__(self, *, sessionmaker: async_sessionmaker[AsyncSession], enricher: Enricher,
                 listeners: Sequence[ClickListener], flush_interval: float, batch_size: int,
                 spill_dir: Path | None = None) -> None:
        self.spill_dir = spill_dir
        self.sessionmaker = sessionmaker
        self.enricher = enricher
        self.listeners = listeners
        self.flush_interval = flush_interval
        self.batch_size = batch_size
        self.pending: list[RawClick] = []
        self.stored = 0
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def add(self, click: RawClick) -> None:
        """Buffer one click. Never blocks, never fails."""
        self.pending.append(click)
        if len(self.pending) >= self.batch_size:
            self._wake.set()

    async def start(self) -> None:
        self._stopping = False
        self._load_spilled()
        self._task = asyncio.create_task(self._run(), name="mask-click-writer")

    def _load_spilled(self) -> None:
        """Take back clicks an earlier process could not write before it stopped (see `_spill`)."""
        if self.spill_dir is None or not self.spill_dir.is_dir():
            return
        for path in sorted(self.spill_dir.glob("clicks-*.jsonl")):
            claimed = path.with_suffix(f".{os.getpid()}.loading")
            try:
                path.rename(claimed)  # atomic: one worker takes each file
            except OSError:
                continue
            clicks = [RawClick.from_fields(json.loads(line)) for line in claimed.read_text().splitlines() if line]
            self.pending[:0] = clicks
            claimed.unlink()  # from here on they are this process's buffer, spilled again if need be
            logger.info("took back %d click(s) spilled by an earlier process from %s", len(clicks), path)

    async def stop(self) -> None:
        """Stop the loop, then write what is still buffered (retrying for a while if the database fails)."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            await self._task
            self._task = None
        # Keep writing as long as batches succeed; give up only after SHUTDOWN_FLUSH_SECONDS of failures.
        pause, failing_since = 0.1, None
        loop = asyncio.get_running_loop()
        while self.pending:
            before = len(self.pending)
            if await self.flush():
                break
            if len(self.pending) < before:
                failing_since = None
            failing_since = failing_since or loop.time()
            if loop.time() - failing_since > SHUTDOWN_FLUSH_SECONDS:
                break
            await asyncio.sleep(pause)
            pause = min(pause * 2, 1.0)
        if self.pending:
            self._spill()

    def _spill(self) -> None:
        """Last resort when the database stays unwritable at shutdown: keep the clicks in a file that the next
        process to start takes back (the click ids make a double delivery harmless)."""
        if self.spill_dir is None:
            logger.error("shutting down with %d click(s) that could not be written", len(self.pending))
            return
        self.spill_dir.mkdir(parents=True, exist_ok=True)
        path = self.spill_dir / f"clicks-{time.time_ns()}-{os.getpid()}.jsonl"
        temporary = path.with_suffix(".partial")
        temporary.write_text("".join(json.dumps(click.to_fields()) + "\n" for click in self.pending))
        temporary.rename(path)
        logger.error("the database refused %d click(s) at shutdown; kept in %s for the next start",
                     len(self.pending), path)
        self.pending.clear()

    async def flush(self) -> bool:
        """Write everything buffered now; True when the buffer is empty afterwards. Waits for a write that is
        already in progress, so every click added before the call is stored when it returns True."""
        async with self._lock:
            while self.pending:
                batch = self.pending[: self.batch_size]
                del self.pending[: self.batch_size]
                try:
                    await store_clicks(self.sessionmaker, self.enricher, batch, self.listeners)
                except Exception:
                    logger.exception("writing %d click(s) failed; kept to be retried", len(batch))
                    self.pending[:0] = batch
                    return False
                self.stored += len(batch)
            return True

    async def _run(self) -> None:
        pause = self.flush_interval
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(pause):
                    await self._wake.wait()
            self._wake.clear()
            if self._stopping:
                return
            ok = await self.flush()
            pause = self.flush_interval if ok else min(max(pause * 2, 0.5), MAX_RETRY_PAUSE)
