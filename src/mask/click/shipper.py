"""The shipper: the background process's half of the click journal (mask.click.journal).

It reads the segments of this host's journal, oldest first, and stores their clicks in batches: enriched, then
written with their counters and rollups (`mask.click.service.record_batch`) in a transaction that also moves
the segment's position forward (`click_journal_positions`, conditional on the position it read). A crash
before the commit stores nothing and moves nothing; after it, the position says where to go on. So a click is
stored once across crashes and restarts, and two shippers on one journal cannot store a record twice (the
loser's transaction rolls back; click ids would drop a duplicate anyway).

A segment nobody holds locked is finished (mask.click.journal): once stored to its end it is deleted, then its
position. A finished segment that ends in an incomplete record was torn by a writer killed in its `write()`:
those bytes go to `quarantine/*.torn`, never stored half. Bytes that are not a record (bad magic, length or
CRC, a payload that is not clicks) go to `quarantine/*.bad`; the reader goes on at the next record.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import secrets
import time
import zlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Table, delete, event, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from mask.click import ownership
from mask.click import repository as click_repository
from mask.click.enrichment import Enricher
from mask.click.journal import HEADER, MAGIC, MAX_RECORD, NEW_SUFFIX, decode_payload, is_segment, quarantine_dir
from mask.click.schemas import RawClick
from mask.click.service import MAX_RETRY_PAUSE, ClickListener, enrich, record_batch
from mask.config import Settings
from mask.db import create_engine, session_scope
from mask.kit.aio import wait_for_wake
from mask.kit.cpu import CpuGate
from mask.models.click import ClickJournalPosition

logger = logging.getLogger("mask.click")

POSITIONS: Table = ClickJournalPosition.__table__  # type: ignore[assignment]
READ_BYTES = 4 * 1024 * 1024  # read at most this much of a segment per batch (more for one larger record)
ID_FILE = "journal.id"
STALE_NEW_SECONDS = 60.0  # a `.new` file this old, unlocked, is a writer's that died before renaming it


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


def journal_id(directory: Path) -> str:
    """This journal's name in the database, made on first use (a random name: two journals on one host,
    a host renamed, a disk moved to another host all stay distinct or the same as they should)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / ID_FILE
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    temporary = directory / f".{ID_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
    temporary.write_text(secrets.token_hex(8) + "\n")
    try:
        os.link(temporary, path)  # fails if another process made it first: then theirs counts
    except FileExistsError:
        pass
    finally:
        temporary.unlink()
    return path.read_text().strip()


def is_finished(fd: int) -> bool:
    """True when no writer holds the segment: it will never grow again."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    fcntl.flock(fd, fcntl.LOCK_UN)
    return True


@dataclass
class Batch:
    """What one read of a segment found, from `start`."""

    start: int
    end: int  # where the next read begins: after the records (or the bad bytes) below
    clicks: list[RawClick] = field(default_factory=list)
    bad: tuple[int, int] | None = None  # bytes that are not records, to set aside (nothing else in the batch)
    torn: bool = False  # `bad` is a finished segment's incomplete last record


def _record_at(data: bytes, at: int, place: str = "") -> tuple[str, int, list[RawClick]]:
    """("ok", end, clicks) for a whole valid record at `at`; ("short", needed end, []) when the bytes end first;
    ("bad", at, []) for anything else."""
    if len(data) - at < HEADER.size:
        return "short", at + HEADER.size, []
    magic, length, crc = HEADER.unpack_from(data, at)
    if magic != MAGIC or length > MAX_RECORD or length == 0:
        return "bad", at, []
    end = at + HEADER.size + length
    if end > len(data):
        return "short", end, []
    payload = data[at + HEADER.size : end]
    if zlib.crc32(payload) != crc:
        return "bad", at, []
    try:
        return "ok", end, decode_payload(payload, place)
    except (ValueError, TypeError):
        return "bad", at, []


def read_batch(fd: int, start: int, size: int, *, finished: bool, batch_size: int, key: str = "") -> Batch:
    """Read records from `start` until about `batch_size` clicks, a problem, or the segment's `size`; `key`
    names the segment (click ids derive from it and each record's offset)."""
    data = os.pread(fd, min(size - start, READ_BYTES), start)
    batch = Batch(start=start, end=start)
    at = 0
    while at < len(data) and len(batch.clicks) < batch_size:
        kind, end, clicks = _record_at(data, at, f"{key}@{start + at}")
        if kind == "short" and not batch.clicks and start + len(data) < size:
            data += os.pread(fd, min(end, size - start) - len(data), start + len(data))  # one large record
            continue
        if kind == "ok":
            batch.clicks.extend(clicks)
            at = end
            batch.end = start + at
            continue
        if batch.clicks:
            break  # store what came before first
        if kind == "short":
            if finished and start + len(data) >= size:
                batch.bad, batch.torn, batch.end = (start + at, size), True, size
            break  # a writer's record still arriving, or the rest of a large read next time
        following = _next_record(data, at + 1)
        if following is not None:
            batch.bad, batch.end = (start + at, start + following), start + following
        elif start + len(data) >= size and finished:
            batch.bad, batch.end = (start + at, size), size
        break
    return batch


def _next_record(data: bytes, at: int) -> int | None:
    """Where the next whole valid record begins after corruption (None: not within `data`)."""
    while True:
        found = data.find(MAGIC, at)
        if found < 0:
            return None
        if _record_at(data, found)[0] == "ok":
            return found
        at = found + 1


class PositionConflict(Exception):
    """Another shipper moved the segment's position first; this batch rolls back."""


class JournalShipper:
    """Ships this host's click journal to the database. A background service."""

    def __init__(
        self,
        *,
        directory: Path,
        sessionmaker: async_sessionmaker[AsyncSession],
        enricher: Enricher,
        listeners: Sequence[ClickListener],
        batch_size: int,
        poll_interval: float,
        drain_seconds: float,
        read_sessionmaker: async_sessionmaker[AsyncSession] | None = None,
        cpu_gate: CpuGate | None = None,
        before_start: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.directory = directory
        self.sessionmaker = sessionmaker
        # Reading a position is a plain read: on SQLite, `sessionmaker`'s transactions begin IMMEDIATE.
        self.read_sessionmaker = read_sessionmaker or sessionmaker
        self.enricher = enricher
        self.listeners = listeners
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.drain_seconds = drain_seconds
        self.cpu_gate = cpu_gate  # the loop (not drain()) lets a burst of redirects have the CPUs first
        self.before_start = before_start  # what the previous version left to store (mask.click.legacy)
        self.stored = 0  # clicks stored (new or not) by this shipper
        self.quarantined = 0  # pieces set aside by this shipper
        self._id: str | None = None
        self._database: str | None = None  # this database's identity (mask.click.ownership), read once
        self._positions: dict[str, int] = {}  # segment key → position, as this shipper last committed it
        self._lock = asyncio.Lock()  # one batch at a time per process (drain() and the loop)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    @property
    def id(self) -> str:
        if self._id is None:
            self._id = journal_id(self.directory)
        return self._id

    def key(self, segment: str) -> str:
        return f"{self.id}/{segment}"

    def wake(self) -> None:
        self._wake.set()

    async def start(self) -> None:
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name="mask-click-shipper")

    async def stop(self) -> None:
        """Stop the loop, then ship what the journal holds for up to MASK_CLICK_DRAIN_SECONDS (SIGTERM's grace
        period); the rest waits on disk for the next start."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            await self._task
            self._task = None
        if self.drain_seconds > 0:
            try:
                async with asyncio.timeout(self.drain_seconds):
                    await self.drain()
            except TimeoutError:
                logger.warning(
                    "stopping with clicks still in the journal %s; shipped at the next start", self.directory
                )

    async def drain(self) -> bool:
        """Ship everything the journal holds now (tests, shutdown); False if a batch failed."""
        try:
            while await self.ship_once():
                pass
        except ownership.JournalOfAnotherDatabase as error:
            logger.error("%s", error)
            return False
        except Exception:
            logger.exception("shipping the click journal failed; the clicks stay in it to be retried")
            return False
        return True

    async def _run(self) -> None:
        pause = self.poll_interval
        started = self.before_start is None
        while not self._stopping:
            if self.cpu_gate is not None:
                await self.cpu_gate.wait(give_up=lambda: self._stopping)
            try:
                if not started:
                    assert self.before_start is not None
                    await self.claim()  # before the previous version's leftovers; ship_once checks each batch
                    await self.before_start()
                    started = True
                    await self._forget_orphans()
                if await self.ship_once():
                    pause = self.poll_interval
                    continue
                if self.cpu_gate is not None:
                    self.cpu_gate.caught_up()  # nothing left: a later burst may pause storing a full bound again
            except ownership.JournalOfAnotherDatabase as error:
                logger.error("%s", error)  # an operator's mistake to fix, not a failure to retry soon
                pause = MAX_RETRY_PAUSE
            except Exception:
                logger.exception("shipping the click journal failed; the clicks stay in it to be retried")
                pause = min(max(pause * 2, 0.5), MAX_RETRY_PAUSE)
            else:
                pause = self.poll_interval
            await wait_for_wake(self._wake, pause)

    def segments(self) -> list[str]:
        try:
            names = os.listdir(self.directory)
        except OSError:  # not there yet (no click so far), or no directory at all (the workers count losses)
            return []
        return sorted(name for name in names if is_segment(name))

    async def claim(self) -> None:
        """Make sure the journal is this database's (mask.click.ownership); raises JournalOfAnotherDatabase."""
        if self._database is None:
            async with session_scope(self.sessionmaker) as session:
                self._database = await click_repository.database_identity(session)
        ownership.claim(self.directory, self._database)

    async def ship_once(self) -> bool:
        """One batch from the oldest segment with something to do; False when there was nothing. Checked before
        each: another database's server may have been pointed at this journal meanwhile."""
        async with self._lock:
            await self.claim()
            for name in self.segments():
                if await self._ship_segment(name):
                    return True
            self._sweep_new_files()
            return False

    async def _ship_segment(self, name: str) -> bool:
        path = self.directory / name
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return False  # deleted by another shipper
        try:
            finished = is_finished(fd)  # before the size: a finished segment's size is final
            size = os.fstat(fd).st_size
            key = self.key(name)
            position = await self._position(key)
            if position >= size:
                if not finished:
                    return False
                await self._forget(path, key)
                return True
            batch = read_batch(fd, position, size, finished=finished, batch_size=self.batch_size, key=key)
        finally:
            os.close(fd)
        if batch.end == position:
            return False  # a record still being written
        if batch.bad is not None:
            self._quarantine(path, batch)
            await self._advance(key, position, batch.end, [])
        else:
            await self._advance(key, position, batch.end, batch.clicks)
        return True

    async def _position(self, key: str) -> int:
        known = self._positions.get(key)
        if known is not None:
            return known
        async with self.read_sessionmaker() as session:
            stored = await session.scalar(select(POSITIONS.c.position).where(POSITIONS.c.journal == key))
        self._positions[key] = int(stored or 0)
        return self._positions[key]

    async def _advance(self, key: str, position: int, end: int, clicks: list[RawClick]) -> None:
        """Store `clicks` and move the position from `position` to `end`, in one transaction."""
        enriched = await enrich(self.enricher, clicks)  # before the transaction: shorter locks
        try:
            async with session_scope(self.sessionmaker) as session:
                moved = await session.execute(
                    update(POSITIONS)
                    .where(POSITIONS.c.journal == key, POSITIONS.c.position == position)
                    .values(position=end)
                )
                if moved.rowcount == 0:  # type: ignore[attr-defined]
                    if position != 0:
                        raise PositionConflict(key)
                    try:
                        await session.execute(insert(POSITIONS).values(journal=key, position=end))
                    except IntegrityError as error:
                        raise PositionConflict(key) from error
                await record_batch(session, enriched, self.listeners)
        except PositionConflict:
            self._positions.pop(key, None)  # another shipper stored these first: read where it got to
            return
        except Exception:
            self._positions.pop(key, None)
            raise
        self._positions[key] = end
        self.stored += len(clicks)

    async def _forget(self, path: Path, key: str) -> None:
        """A finished segment wholly stored: the file goes first, then its position (a position without a file
        is harmless; a file without its position would be shipped again)."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        async with session_scope(self.sessionmaker) as session:
            await session.execute(delete(POSITIONS).where(POSITIONS.c.journal == key))
        self._positions.pop(key, None)

    async def _forget_orphans(self) -> None:
        """Positions of this journal's segments whose file is gone (a crash between the two deletions)."""
        if not (self.directory / ID_FILE).exists():
            return  # a journal never shipped has no positions
        present = {self.key(name) for name in self.segments()}
        prefix = f"{self.id}/"
        async with self.read_sessionmaker() as session:
            keys = (
                await session.scalars(select(POSITIONS.c.journal).where(POSITIONS.c.journal.startswith(prefix)))
            ).all()
        orphans = [key for key in keys if key not in present]
        if orphans:
            async with session_scope(self.sessionmaker) as session:
                await session.execute(delete(POSITIONS).where(POSITIONS.c.journal.in_(orphans)))

    def _quarantine(self, path: Path, batch: Batch) -> None:
        assert batch.bad is not None
        start, end = batch.bad
        target_dir = quarantine_dir(self.directory)
        target_dir.mkdir(parents=True, exist_ok=True)
        target = target_dir / f"{path.stem}.{start}.{'torn' if batch.torn else 'bad'}"
        with open(path, "rb") as source:
            source.seek(start)
            data = source.read(end - start)
        target.write_bytes(data)  # the same name and bytes if a crash makes us do it again
        self.quarantined += 1
        if batch.torn:
            logger.warning("the last record of %s was torn (its writer died writing it): %s", path.name, target)
        else:
            logger.error("%d byte(s) of %s are not click records; set aside in %s", end - start, path.name, target)

    def _sweep_new_files(self) -> None:
        """Remove segments a writer created but died before naming (empty, unlocked, a minute old)."""
        try:
            names = [name for name in os.listdir(self.directory) if name.endswith(NEW_SUFFIX)]
        except OSError:
            return
        for name in names:
            path = self.directory / name
            try:
                fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
            except FileNotFoundError:
                continue
            try:
                stat = os.fstat(fd)
                if is_finished(fd) and time.time() - stat.st_mtime > STALE_NEW_SECONDS and stat.st_size == 0:
                    path.unlink(missing_ok=True)
            finally:
                os.close(fd)

    def status(self) -> dict[str, Any]:
        return {"stored": self.stored, "quarantined": self.quarantined, "segments": len(self.segments())}
