"""The in-process click buffer and the task that empties it: clicks leave the request path at once and reach
the click inbox (mask.click.inbox) every MASK_CLICK_FLUSH_INTERVAL seconds, one INSERT per flush. Enrichment,
counters and rollups happen later, in the background process, so a serving process spends a few microseconds
per click.

An append that fails goes back to the front of the buffer and is retried with a growing pause, so a database
restart delays clicks but loses none. On graceful shutdown (SIGTERM/SIGINT → ASGI lifespan shutdown, after
uvicorn has finished the requests in flight) the buffer is appended before the process exits; if the database
still refuses, it is spilled to a file the next process takes back.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from mask.click import inbox
from mask.click.schemas import ClickRow, RawClick, with_click_ids
from mask.click.service import MAX_RETRY_PAUSE
from mask.click.stream import MAX_ENTRY_CLICKS, encode_entry
from mask.config import Settings
from mask.db import create_engine
from mask.kit.aio import wait_for_wake

logger = logging.getLogger("mask.click")

SHUTDOWN_FLUSH_SECONDS = 15.0


def writer_engine(settings: Settings, shared: AsyncEngine) -> AsyncEngine:
    """The engine clicks are written with: the process's own, except on SQLite, where it is a separate
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


class ClickWriter:
    """Buffers raw clicks in memory and appends them to the click inbox every `flush_interval` seconds."""

    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        flush_interval: float,
        spill_dir: Path | None = None,
        on_flushed: Callable[[], None] | None = None,
    ) -> None:
        self.spill_dir = spill_dir
        self.sessionmaker = sessionmaker
        self.flush_interval = flush_interval
        self.on_flushed = on_flushed  # this process's inbox processor, when it runs here
        self.pending: list[ClickRow] = []  # RawClick.to_row(): see there why not the objects
        self.appended = 0  # clicks this process has put in the inbox
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def add(self, click: RawClick) -> None:
        """Buffer one click. Never blocks, never fails."""
        self.add_row(click.to_row())

    def add_row(self, row: ClickRow) -> None:
        """Buffer one click given as `RawClick.to_row()` would give it (the one place the buffer grows)."""
        self.pending.append(row)

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
            clicks = [_spilled(json.loads(line)) for line in claimed.read_text().splitlines() if line]
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
        temporary.write_text("".join(json.dumps(row) + "\n" for row in self.pending))
        temporary.rename(path)
        logger.error(
            "the database refused %d click(s) at shutdown; kept in %s for the next start", len(self.pending), path
        )
        self.pending.clear()

    async def flush(self) -> bool:
        """Append everything buffered to the inbox now; True when the buffer is empty afterwards. Waits for an
        append in progress, so every click added before the call is in the inbox when it returns True."""
        async with self._lock:
            if not self.pending:
                return True
            batch, self.pending = self.pending, []
            # A chunk at a time, letting the loop answer requests in between: a buffer that grew while the
            # database was busy (the background process holds SQLite's write lock for a batch) must not
            # stall the loop for the whole of its encoding (measured: 30–110 ms at once).
            rows: list[ClickRow] = []
            entries = []
            for start in range(0, len(batch), MAX_ENTRY_CLICKS):
                chunk = with_click_ids(batch[start : start + MAX_ENTRY_CLICKS])
                rows.extend(chunk)
                entries.append(encode_entry(chunk))
                await asyncio.sleep(0)
            try:
                await inbox.append(self.sessionmaker, entries)
            except Exception:
                logger.exception("appending %d click(s) to the inbox failed; kept to be retried", len(rows))
                self.pending[:0] = rows  # with their ids: were the append done after all, they are stored once
                return False
            self.appended += len(rows)
            if self.on_flushed is not None:
                self.on_flushed()
            return True

    async def _run(self) -> None:
        pause = self.flush_interval
        while not self._stopping:
            await wait_for_wake(self._wake, pause)
            if self._stopping:
                return
            ok = await self.flush()
            pause = self.flush_interval if ok else min(max(pause * 2, 0.5), MAX_RETRY_PAUSE)


def _spilled(item: Any) -> ClickRow:
    """A click of a spill file: a row (RawClick.to_row()), or named fields as files from before rows hold."""
    if isinstance(item, dict):
        return RawClick.from_fields(item).to_row()
    return RawClick.from_row(item).to_row()
