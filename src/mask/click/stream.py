"""The Redis click stream: durable click capture that survives SIGKILL.

The redirect appends each click to a Redis Stream before answering. Requests that arrive together share one
`XADD` (an entry holds a JSON list of clicks): a request still waits for its own click to be in Redis, but
the per-click Redis cost is a few microseconds instead of a round trip each. Consumers in the group
`writers` (every `mask serve` process by default, or `mask worker`) read batches, store them in one
transaction and only then acknowledge (`XACK`) and delete (`XDEL`) them. A consumer that dies keeps its
read-but-unacknowledged entries pending; any live consumer claims them (`XAUTOCLAIM`) once they have been
idle for MASK_CLICK_CLAIM_IDLE seconds. Clicks carry their `click_id`, so an entry delivered twice is
stored once.

The stream holds the client IP only until the click is stored (entries are deleted after commit).
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
from collections.abc import Sequence
from typing import Any

import orjson
from redis.asyncio import Redis
from redis.exceptions import ResponseError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mask.click.enrichment import Enricher
from mask.click.schemas import ClickRow, RawClick, mint_click_ids
from mask.click.service import MAX_RETRY_PAUSE, ClickListener, store_clicks
from mask.kit.cpu import CpuGate

logger = logging.getLogger("mask.click")

GROUP = "writers"
READ_BLOCK_MS = 500  # also how quickly a consumer notices that it should stop
READ_ENTRIES = 20  # entries per read; each holds up to MAX_ENTRY_CLICKS clicks
MAX_ENTRY_CLICKS = 500
APPEND_TIMEOUT = 2.0  # seconds before a redirect gives up on Redis and buffers its click in process
STALE_CONSUMER_MS = 3_600_000  # forget consumers gone for an hour with nothing pending

Entry = tuple[bytes, dict[bytes, bytes] | None]


def stream_key(prefix: str) -> str:
    return f"{prefix}clicks"


async def ensure_group(redis: Redis, key: str) -> None:
    """Create the consumer group (and the stream). From id 0: entries added before the group existed count."""
    try:
        await redis.xgroup_create(key, GROUP, id="0", mkstream=True)
    except ResponseError as error:
        if "BUSYGROUP" not in str(error):
            raise


def encode_entry(rows: Sequence[ClickRow]) -> dict[str, str | int]:
    """One stream entry (or inbox row) for a batch of clicks (`RawClick.to_row()`, with their ids); `n` lets a
    consumer count clicks without decoding them."""
    return {"clicks": orjson.dumps(rows).decode(), "n": len(rows)}


def decode_clicks(payload: str | bytes) -> list[RawClick]:
    """The clicks of an entry's `clicks` field: a JSON list of rows (entries written before rows existed hold
    named fields instead); raises on anything else."""
    return [
        RawClick.from_row(item) if isinstance(item, list) else RawClick.from_fields(item)
        for item in orjson.loads(payload)
    ]


def decode_entry(fields: dict[bytes, bytes]) -> list[RawClick]:
    """The clicks of one stream entry: a batch (`clicks`: JSON list) or a single click's fields."""
    batch = fields.get(b"clicks")
    if batch is not None:
        return decode_clicks(batch)
    return [RawClick.from_fields(fields)]


def _clicks_in(entries: list[Entry]) -> int:
    """How many clicks the entries hold (`n`, written with each batch entry; a single click's entry has none)."""
    total = 0
    for _, fields in entries:
        value = (fields or {}).get(b"n", b"1")
        total += int(value) if value.isdigit() else 1  # a malformed entry is dropped later, not fatal here
    return total


class StreamAppender:
    """Appends clicks to the stream; clicks submitted in the same event-loop turn, or while the previous
    XADD was in flight, go out together as one entry."""

    def __init__(self, redis: Redis, key: str) -> None:
        self.redis = redis
        self.key = key
        self._pending: list[tuple[RawClick, asyncio.Future[None]]] = []
        self._sending = False
        self._scheduled = False
        self._tasks: set[asyncio.Task[None]] = set()

    async def append(self, click: RawClick) -> None:
        """Return once the click is in Redis; raise if Redis fails or takes longer than APPEND_TIMEOUT (the
        send itself is bounded by it, and settles every future of its batch either way)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        self._pending.append((click, future))
        if not self._scheduled and not self._sending:
            self._scheduled = True
            loop.call_soon(self._send_next)  # after the other requests of this loop turn joined the batch
        await future

    def _send_next(self) -> None:
        self._scheduled = False
        if self._sending or not self._pending:
            return
        self._sending = True
        batch = self._pending[:MAX_ENTRY_CLICKS]
        del self._pending[:MAX_ENTRY_CLICKS]
        task = asyncio.get_running_loop().create_task(self._send(batch))
        self._tasks.add(task)
        task.add_done_callback(self._sent)

    def _sent(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._sending = False
        self._send_next()

    async def _send(self, batch: list[tuple[RawClick, asyncio.Future[None]]]) -> None:
        try:
            clicks = [click for click, _ in batch]
            mint_click_ids(clicks)  # on the objects: if Redis fails, the fallback buffers them with these ids
            entry = encode_entry([click.to_row() for click in clicks])
            async with asyncio.timeout(APPEND_TIMEOUT):
                await self.redis.xadd(self.key, entry)  # type: ignore[arg-type]
        except BaseException as error:
            for _, future in batch:
                if not future.done():
                    future.set_exception(error if isinstance(error, Exception) else ConnectionError("cancelled"))
                    future.exception()  # the submitter sees it; nobody else needs to
            if not isinstance(error, Exception):
                raise
        else:
            for _, future in batch:
                if not future.done():
                    future.set_result(None)


class ClickStreamConsumer:
    """Moves clicks from the stream to the database, acknowledging only after commit."""

    def __init__(
        self,
        *,
        redis: Redis,
        key: str,
        sessionmaker: async_sessionmaker[AsyncSession],
        enricher: Enricher,
        listeners: Sequence[ClickListener],
        batch_size: int,
        claim_idle: float,
        cpu_gate: CpuGate | None = None,
    ) -> None:
        self.redis = redis
        self.cpu_gate = cpu_gate  # a burst of redirects has the CPUs first; the stream holds the clicks meanwhile
        self.key = key
        self.sessionmaker = sessionmaker
        self.enricher = enricher
        self.listeners = listeners
        self.batch_size = batch_size
        self.claim_idle_ms = int(claim_idle * 1000)
        self.name = f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"
        self.stored = 0
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    async def start(self) -> None:
        self._stopping = False  # the group is created by the loop, which retries while Redis is away
        self._task = asyncio.create_task(self._run(), name="mask-click-stream-consumer")

    async def stop(self) -> None:
        """Finish the batch in hand and stop; unread entries wait in the stream for the next consumer."""
        self._stopping = True
        if self._task is not None:
            await self._task
            self._task = None

    async def _run(self) -> None:
        retry_own = False  # after a failed write, re-read our own pending entries before new ones
        next_claim = 0.0
        pause = 0.2
        loop = asyncio.get_running_loop()
        grouped = False
        while not self._stopping:
            if self.cpu_gate is not None:
                await self.cpu_gate.wait(give_up=lambda: self._stopping)
            try:
                if not grouped:
                    await ensure_group(self.redis, self.key)
                    grouped = True
                entries: list[Entry] = []
                if retry_own:
                    entries = await self._read("0", block=None)
                if not entries and loop.time() >= next_claim:
                    next_claim = loop.time() + max(self.claim_idle_ms / 2000, 0.5)
                    entries = await self._claim()
                if not entries:
                    entries = await self._read_new()
                if entries:
                    await self._handle(entries)
                elif self.cpu_gate is not None:
                    self.cpu_gate.caught_up()  # nothing waiting: the next burst may hold storing back again
                retry_own = False
                pause = 0.2
            except Exception:
                logger.exception("click stream consumer: a batch failed; it stays pending and is retried")
                retry_own = True
                await asyncio.sleep(pause)
                pause = min(pause * 2, MAX_RETRY_PAUSE)

    async def _read(self, start: str, *, block: int | None) -> list[Entry]:
        response: Any = await self.redis.xreadgroup(
            GROUP, self.name, {self.key: start}, count=READ_ENTRIES, block=block
        )
        if not response:
            return []
        entries: list[Entry] = response[0][1]
        return entries

    async def _read_new(self) -> list[Entry]:
        """New entries holding about a batch of clicks. A lightly loaded server appends a few clicks per entry,
        and one transaction per read of READ_ENTRIES such entries would write small batches."""
        entries = await self._read(">", block=READ_BLOCK_MS)
        clicks, last = _clicks_in(entries), entries
        while len(last) == READ_ENTRIES and clicks < self.batch_size:
            last = await self._read(">", block=None)
            entries.extend(last)
            clicks += _clicks_in(last)
        return entries

    async def _claim(self) -> list[Entry]:
        """Take over entries a dead (or stuck) consumer read but never acknowledged."""
        claimed: list[Entry] = []
        cursor: Any = "0-0"
        while len(claimed) < READ_ENTRIES:
            response: Any = await self.redis.xautoclaim(
                self.key, GROUP, self.name, self.claim_idle_ms, start_id=cursor, count=READ_ENTRIES
            )
            cursor, entries = response[0], response[1]
            claimed.extend(entries)
            if cursor in (b"0-0", "0-0"):
                break
        if claimed:
            logger.info("claimed %d pending click(s) from other consumers", len(claimed))
        await self._forget_stale_consumers()
        return claimed

    async def _forget_stale_consumers(self) -> None:
        consumers: Any = await self.redis.xinfo_consumers(self.key, GROUP)
        for consumer in consumers:
            name = consumer["name"]
            name = name.decode() if isinstance(name, bytes) else name
            if name != self.name and consumer["pending"] == 0 and consumer["idle"] > STALE_CONSUMER_MS:
                await self.redis.xgroup_delconsumer(self.key, GROUP, name)

    async def _handle(self, entries: list[Entry]) -> None:
        ids = [entry_id for entry_id, _ in entries]
        raws: list[RawClick] = []
        for entry_id, fields in entries:
            if not fields:  # deleted while pending (already stored by someone else)
                continue
            try:
                raws.extend(decode_entry(fields))
            except (KeyError, ValueError, TypeError, AttributeError):
                logger.error("dropping malformed click stream entry %r", entry_id)
        for start in range(0, len(raws), self.batch_size):
            await store_clicks(self.sessionmaker, self.enricher, raws[start : start + self.batch_size], self.listeners)
        self.stored += len(raws)
        # Only now, after the commit: a crash before here means re-delivery, which click_id makes harmless.
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.xack(self.key, GROUP, *ids)
            pipe.xdel(self.key, *ids)
            await pipe.execute()
