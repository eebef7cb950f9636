"""The click inbox: how clicks travel from the serving processes to `clicks` without Redis.

Two stages, so that a serving process spends next to nothing per click:
1. A serving process buffers its clicks in memory (mask.click.writer) and appends them to the `click_inbox`
   table, one row per batch (a JSON list, like a Redis stream entry), every MASK_CLICK_FLUSH_INTERVAL seconds
   and on graceful shutdown: one INSERT, no enrichment, no analytics.
2. The background process (the one `mask serve` starts beside its workers, or `mask worker`) takes rows
   oldest first, enriches their clicks and stores them with their counters and rollups
   (`mask.click.service.record_batch`), deleting the rows in that same transaction. A row deleted by someone
   else meanwhile (two processors) is not stored twice: only the rows this transaction's DELETE returned are.

A batch that fails (database away) rolls back, its rows stay, and it is retried with a growing pause.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from sqlalchemy import Table, delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mask.click.enrichment import Enricher
from mask.click.schemas import EnrichedClick
from mask.click.service import MAX_RETRY_PAUSE, ClickListener, enrich, record_batch
from mask.click.stream import decode_clicks
from mask.db import session_scope
from mask.kit.aio import wait_for_wake
from mask.kit.cpu import CpuGate
from mask.models.click import ClickInboxEntry

logger = logging.getLogger("mask.click")

INBOX: Table = ClickInboxEntry.__table__  # type: ignore[assignment]
READ_ENTRIES = 50  # rows looked at per batch; a batch takes rows until it holds batch_size clicks


async def append(sessionmaker: async_sessionmaker[AsyncSession], entries: Sequence[dict[str, str | int]]) -> None:
    """Append entries (`mask.click.stream.encode_entry`, up to MAX_ENTRY_CLICKS clicks each) in one
    transaction."""
    if entries:
        async with session_scope(sessionmaker) as session:
            await session.execute(INBOX.insert(), list(entries))


class InboxProcessor:
    """Moves clicks from the inbox to `clicks`, a batch per transaction. A background service."""

    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        enricher: Enricher,
        listeners: Sequence[ClickListener],
        batch_size: int,
        poll_interval: float,
        read_sessionmaker: async_sessionmaker[AsyncSession] | None = None,
        cpu_gate: CpuGate | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        # Looking at the inbox is a plain read: on SQLite, `sessionmaker`'s transactions begin IMMEDIATE and
        # would take the write lock on every idle poll.
        self.read_sessionmaker = read_sessionmaker or sessionmaker
        self.cpu_gate = cpu_gate  # the loop (not drain()) lets a burst of redirects have the CPUs first
        self.enricher = enricher
        self.listeners = listeners
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.stored = 0
        self._lock = asyncio.Lock()  # one batch at a time per process (drain() and the loop)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def wake(self) -> None:
        """Look at the inbox now (a writer of this process just appended to it)."""
        self._wake.set()

    async def start(self) -> None:
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name="mask-click-inbox")

    async def stop(self) -> None:
        """Finish the batch in hand and stop; the rest waits in the inbox for the next start."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            await self._task
            self._task = None

    async def drain(self) -> bool:
        """Store everything in the inbox now (tests, admin tasks); False if a batch failed."""
        try:
            while await self.process_batch():
                pass
        except Exception:
            logger.exception("storing clicks from the inbox failed; they stay there to be retried")
            return False
        return True

    async def process_batch(self) -> int:
        """Store the oldest rows, about one batch of clicks; return how many rows were taken (0: empty)."""
        async with self._lock:
            async with self.read_sessionmaker() as session:
                rows = (
                    await session.execute(
                        select(INBOX.c.id, INBOX.c.n, INBOX.c.clicks).order_by(INBOX.c.id).limit(READ_ENTRIES)
                    )
                ).all()
            if not rows:
                return 0
            by_row: dict[int, list[EnrichedClick]] = {}
            clicks = 0
            for row_id, n, payload in rows:
                try:
                    raws = decode_clicks(payload)
                except (KeyError, ValueError, TypeError, AttributeError):
                    logger.error("dropping malformed click inbox row %d", row_id)
                    raws = []
                by_row[row_id] = await enrich(self.enricher, raws)  # before the transaction: shorter locks
                clicks += n
                if clicks >= self.batch_size:
                    break
            async with session_scope(self.sessionmaker) as session:
                taken = (
                    await session.execute(delete(INBOX).where(INBOX.c.id.in_(list(by_row))).returning(INBOX.c.id))
                ).scalars()
                batch = [click for row_id in sorted(taken) for click in by_row[row_id]]
                await record_batch(session, batch, self.listeners)
            self.stored += len(batch)
            return len(by_row)

    async def _run(self) -> None:
        pause = self.poll_interval
        while not self._stopping:
            if self.cpu_gate is not None:
                await self.cpu_gate.wait(give_up=lambda: self._stopping)
            try:
                if await self.process_batch():
                    pause = self.poll_interval
                    continue
                if self.cpu_gate is not None:
                    self.cpu_gate.caught_up()  # nothing waiting: the next burst may hold storing back again
            except Exception:
                logger.exception("storing clicks from the inbox failed; they stay there to be retried")
                pause = min(max(pause * 2, 0.5), MAX_RETRY_PAUSE)
            await wait_for_wake(self._wake, pause)
