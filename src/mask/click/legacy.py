"""Clicks the hand-overs before the click journal (0018j) left behind at upgrade, stored once at start.

Versions before the journal handed clicks over through the `click_inbox` table, the Redis stream
`<MASK_REDIS_PREFIX>clicks`, and, when the database refused a worker's buffer at shutdown, spill files
(`MASK_CLICK_SPILL_DIR/clicks-*.jsonl`). The shipper (mask.click.shipper) stores what is left in each before it
ships the journal; nothing writes to them any more. Every click carries the id minted when it was handed over,
so a crash half-way stores nothing twice.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson
from redis.asyncio import Redis
from sqlalchemy import Table, delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mask.click.enrichment import Enricher
from mask.click.schemas import RawClick, with_click_ids
from mask.click.service import ClickListener, enrich, record_batch, store_clicks
from mask.db import session_scope
from mask.models.click import ClickInboxEntry

logger = logging.getLogger("mask.click")

INBOX: Table = ClickInboxEntry.__table__  # type: ignore[assignment]
READ_ENTRIES = 50


def stream_key(prefix: str) -> str:
    return f"{prefix}clicks"


def decode_clicks(payload: str | bytes) -> list[RawClick]:
    """The clicks of an inbox row or stream entry's `clicks` field: a JSON list of rows (or of named fields,
    from older versions); raises on anything else."""
    return [
        RawClick.from_row(item) if isinstance(item, list) else RawClick.from_fields(item)
        for item in orjson.loads(payload)
    ]


def _decode_entry(fields: dict[bytes, bytes]) -> list[RawClick]:
    batch = fields.get(b"clicks")
    if batch is not None:
        return decode_clicks(batch)
    return [RawClick.from_fields(fields)]


class LegacyClicks:
    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        read_sessionmaker: async_sessionmaker[AsyncSession],
        enricher: Enricher,
        listeners: Sequence[ClickListener],
        batch_size: int,
        spill_dir: Path | None,
        redis: Redis | None,
        redis_prefix: str,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.read_sessionmaker = read_sessionmaker
        self.enricher = enricher
        self.listeners = listeners
        self.batch_size = batch_size
        self.spill_dir = spill_dir
        self.redis = redis
        self.key = stream_key(redis_prefix)
        self.stored = 0

    async def store(self) -> None:
        """Store whatever is left in the inbox, the spill files and the stream; raises if the database fails
        (the shipper retries)."""
        while await self._inbox_batch():
            pass
        await self._spilled()
        if self.redis is not None:
            try:
                await self._stream()
            except Exception:  # Redis away: nothing left there for this version to need
                logger.warning("could not look for clicks left in the Redis click stream", exc_info=True)
        if self.stored:
            logger.info("stored %d click(s) left by the previous version's hand-over", self.stored)

    async def _inbox_batch(self) -> int:
        async with self.read_sessionmaker() as session:
            rows = (
                await session.execute(
                    select(INBOX.c.id, INBOX.c.n, INBOX.c.clicks).order_by(INBOX.c.id).limit(READ_ENTRIES)
                )
            ).all()
        if not rows:
            return 0
        raws: list[RawClick] = []
        for row_id, _n, payload in rows:
            try:
                raws.extend(decode_clicks(payload))
            except (KeyError, ValueError, TypeError, AttributeError):
                logger.error("dropping malformed click inbox row %d", row_id)
        enriched = await enrich(self.enricher, raws)
        async with session_scope(self.sessionmaker) as session:
            await session.execute(delete(INBOX).where(INBOX.c.id.in_([row[0] for row in rows])))
            await record_batch(session, enriched, self.listeners)
        self.stored += len(raws)
        return len(rows)

    async def _spilled(self) -> None:
        if self.spill_dir is None or not self.spill_dir.is_dir():
            return
        for path in sorted(self.spill_dir.glob("clicks-*.jsonl")):
            clicks = [_spilled(json.loads(line)) for line in path.read_text().splitlines() if line]
            for start in range(0, len(clicks), self.batch_size):
                chunk = clicks[start : start + self.batch_size]
                await store_clicks(self.sessionmaker, self.enricher, chunk, self.listeners)
            os.unlink(path)
            self.stored += len(clicks)

    async def _stream(self) -> None:
        assert self.redis is not None
        start = "-"
        while True:
            entries: Any = await self.redis.xrange(self.key, min=start, count=READ_ENTRIES)
            if not entries:
                return
            raws: list[RawClick] = []
            for entry_id, fields in entries:
                try:
                    raws.extend(_decode_entry(fields))
                except (KeyError, ValueError, TypeError, AttributeError):
                    logger.error("dropping malformed click stream entry %r", entry_id)
            for begin in range(0, len(raws), self.batch_size):
                chunk = raws[begin : begin + self.batch_size]
                await store_clicks(self.sessionmaker, self.enricher, chunk, self.listeners)
            await self.redis.xdel(self.key, *[entry_id for entry_id, _ in entries])
            self.stored += len(raws)
            start = "(" + (entries[-1][0].decode() if isinstance(entries[-1][0], bytes) else entries[-1][0])


def _spilled(item: Any) -> RawClick:
    """A click of a spill file: a row (RawClick.to_row()), or named fields."""
    if isinstance(item, dict):
        return RawClick.from_fields(item)
    return RawClick.from_row(with_click_ids([tuple(item)])[0])  # a click never handed over has no id yet
