"""The click journal: how a click leaves an HTTP worker. Append-only files on local disk, one writer each.

Each HTTP worker appends the clicks of an event-loop turn to its own segment file with one `write()`, and the
requests of that turn are answered only once it returned: from then on the kernel holds the bytes, and SIGKILL
of the worker loses nothing. A thread calls `fdatasync` every MASK_CLICK_JOURNAL_FSYNC_MS (0: after every
write), so a power loss loses at most that window, as Redis's `appendfsync everysec` would. The background
process on the same host ships the segments to the database (mask.click.shipper).

Files (in MASK_CLICK_JOURNAL_DIR):
- `<ns>-<pid>-<random>.seg`, a segment: records, each `MKJ1`, the payload's length and CRC-32 (little-endian
  unsigned 32-bit integers), and the payload, a JSON list of click rows (`RawClick.to_row()`; ids derived when
  read, see `decode_payload`). The
  writer holds an exclusive `flock` on the segment while it may still append to it; it rotates to a new segment
  by size (MASK_CLICK_JOURNAL_SEGMENT_BYTES) and age (MASK_CLICK_JOURNAL_SEGMENT_SECONDS), after a failed write,
  and at shutdown. A segment nobody holds is finished: it never grows again (its writer moved on or died).
  A segment is created as `….new`, locked, then renamed, so a reader never sees a segment that is not locked yet.
- `quarantine/`: bytes the shipper could not read as records (`*.bad`) and the torn last record of a writer
  that died in the middle of its `write()` (`*.torn`, clicks never answered).
- `journal.id`: the journal's name in the database, where the shipper keeps its position in each segment.

If the journal cannot be written (disk full, read-only, a file size limit), redirects keep answering: the
clicks of that turn are lost, counted (`/health` → `clicks`) and logged at most once a minute.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import secrets
import struct
import threading
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from mask.click.schemas import ClickRow, RawClick
from mask.kit.ids import derived_click_ids

logger = logging.getLogger("mask.click")

MAGIC = b"MKJ1"
HEADER = struct.Struct("<4sII")  # magic, payload length, payload CRC-32
MAX_RECORD = 64 * 1024 * 1024  # a length above this is corruption, not a record
SEGMENT_SUFFIX = ".seg"
NEW_SUFFIX = ".new"
QUARANTINE = "quarantine"
LOSS_LOG_EVERY = 60.0  # seconds between log lines while clicks are being lost


def encode_record(rows: Sequence[ClickRow]) -> bytes:
    """One record: the header and a JSON list of rows."""
    payload = orjson.dumps(rows)
    return HEADER.pack(MAGIC, len(payload), zlib.crc32(payload)) + payload


def decode_payload(payload: bytes, place: str = "") -> list[RawClick]:
    """The clicks of a record's payload; raises ValueError on anything else (then the record is corrupt).

    Workers write clicks without ids (minting them cost more than the rest of a loop turn's write): each gets
    one derived from the record's `place` (journal, segment and offset) and its index in the record, the same
    every time that record is read, so a record shipped twice is stored once."""
    try:
        items = orjson.loads(payload)
    except orjson.JSONDecodeError as error:
        raise ValueError("not JSON") from error
    if not isinstance(items, list) or not items or not all(isinstance(item, list) and item for item in items):
        raise ValueError("not a list of clicks")
    missing = [item for item in items if item[0] == ""]
    if missing:
        first = missing[0][1]
        millis = int(first * 1000) if isinstance(first, int | float) else 0
        for item, click_id in zip(missing, derived_click_ids(len(missing), millis, place.encode()), strict=True):
            item[0] = click_id
    return [RawClick.from_row(item) for item in items]


def is_segment(name: str) -> bool:
    return name.endswith(SEGMENT_SUFFIX) and not name.startswith(".")


def quarantine_dir(directory: Path) -> Path:
    return directory / QUARANTINE


def quarantined(directory: Path) -> dict[str, int]:
    """How many pieces the shipper set aside: unreadable bytes (`corrupt`) and torn last records (`torn`)."""
    try:
        names = os.listdir(quarantine_dir(directory))
    except OSError:
        names = []
    return {
        "corrupt": sum(1 for name in names if name.endswith(".bad")),
        "torn": sum(1 for name in names if name.endswith(".torn")),
    }


class _Turn(asyncio.Future[None]):
    """The future every request of a loop turn awaits. Cancelling one of those requests must not cancel it for
    the others: a task being cancelled cancels the future it awaits, and this one refuses (the task itself is
    still cancelled, once the turn is written)."""

    def cancel(self, msg: Any = None) -> bool:
        return False


@dataclass
class _Segment:
    fd: int
    path: Path
    opened: float
    size: int = 0


@dataclass
class JournalHealth:
    lost: int = 0  # clicks this process could not write
    failures: int = 0  # writes (turns) that failed
    last_error: str | None = None
    _unlogged: int = field(default=0, repr=False)
    _last_log: float = field(default=-LOSS_LOG_EVERY, repr=False)


class ClickJournal:
    """One HTTP worker's journal writer. `add_row` buffers a click and returns the turn's future, done once the
    turn's single `write()` returned (or failed: then the clicks were counted as lost)."""

    def __init__(
        self,
        directory: Path,
        *,
        fsync_ms: int = 1000,
        segment_bytes: int = 16 * 1024 * 1024,
        segment_seconds: float = 60.0,
    ) -> None:
        self.directory = directory
        self.fsync_interval = fsync_ms / 1000
        self.segment_bytes = segment_bytes
        self.segment_seconds = segment_seconds
        self.health = JournalHealth()
        self.written = 0  # clicks this process wrote
        self._pending: list[ClickRow] = []
        self._turn: asyncio.Future[None] | None = None
        self._segment: _Segment | None = None
        self._lock = threading.Lock()  # the segment and the retired ones, between the loop and the sync thread
        self._dirty = False
        self._retired: list[_Segment] = []  # closed by the sync thread after their last fdatasync
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- the hot path ----------------------------------------------------------------------------------------
    def add_row(self, row: ClickRow) -> asyncio.Future[None]:
        """Buffer a click (`RawClick.to_row()` form) for this turn's write; await the result before answering."""
        self._pending.append(row)
        turn = self._turn
        if turn is None:
            loop = asyncio.get_running_loop()
            turn = self._turn = _Turn(loop=loop)
            loop.call_soon(self._write_turn)  # after every request of this turn added its click
        return turn

    def _write_turn(self) -> None:
        turn, self._turn = self._turn, None
        rows, self._pending = self._pending, []
        self.write(rows)
        if turn is not None and not turn.done():
            turn.set_result(None)

    def write(self, rows: list[ClickRow]) -> bool:
        """Write rows as one record now; False (and counted) if the disk refused."""
        if not rows:
            return True
        segment, start = None, 0
        try:
            record = encode_record(rows)  # ids: see decode_payload
            segment = self._current(len(record))
            start = segment.size
            view = memoryview(record)
            while view:
                written = os.write(segment.fd, view)
                segment.size += written
                view = view[written:]
        except OSError as error:
            if segment is not None and segment.size != start:
                self._cut(segment, start)  # a write that failed half-way: take its bytes back
            self._lost(len(rows), error)
            return False
        self.written += len(rows)
        if self.fsync_interval > 0:
            self._dirty = True
            return True
        try:
            os.fdatasync(segment.fd)
        except OSError as error:  # written (the shipper will read it), only not known to be on the disk
            logger.warning("fdatasync of %s failed: %s", segment.path, error)
        return True

    def _current(self, adding: int) -> _Segment:
        segment = self._segment
        if segment is not None and segment.size > 0:
            if segment.size + adding > self.segment_bytes or time.monotonic() - segment.opened >= self.segment_seconds:
                self._retire()
                segment = None
        if segment is None:
            segment = self._segment = self._open()
        return segment

    def _open(self) -> _Segment:
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"{time.time_ns():020d}-{os.getpid()}-{secrets.token_hex(4)}"
        temporary = self.directory / f"{name}{NEW_SUFFIX}"
        path = self.directory / f"{name}{SEGMENT_SUFFIX}"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            os.rename(temporary, path)  # only now may the shipper see it: locked, so not finished
        except OSError:
            os.close(fd)
            temporary.unlink(missing_ok=True)
            raise
        return _Segment(fd=fd, path=path, opened=time.monotonic())

    def _retire(self) -> None:
        """Stop appending to the current segment; the sync thread (or this call, with no thread) closes it,
        which releases its lock and tells the shipper it is finished."""
        segment, self._segment = self._segment, None
        if segment is None:
            return
        if self._thread is None:
            _close(segment)
            return
        with self._lock:
            self._retired.append(segment)

    def _cut(self, segment: _Segment, size: int) -> None:
        """Truncate the segment to where the failed record began (shrinking is allowed on a full disk and under
        a file size limit); if even that fails, stop appending to it: the shipper sets the torn tail aside."""
        try:
            os.ftruncate(segment.fd, size)
            segment.size = size
        except OSError:
            self._retire()

    def _lost(self, count: int, error: OSError) -> None:
        health = self.health
        health.lost += count
        health.failures += 1
        health.last_error = f"{type(error).__name__}: {error}"
        health._unlogged += count
        now = time.monotonic()
        if now - health._last_log >= LOSS_LOG_EVERY:
            logger.error(
                "the click journal in %s cannot be written (%s): %d click(s) lost since the last report, %d in all;"
                " redirects keep answering",
                self.directory,
                health.last_error,
                health._unlogged,
                health.lost,
            )
            health._last_log, health._unlogged = now, 0

    # --- lifecycle -------------------------------------------------------------------------------------------
    async def start(self) -> None:
        self._stop.clear()
        if self.fsync_interval > 0:
            self._thread = threading.Thread(target=self._sync_loop, name="mask-click-journal-sync", daemon=True)
            self._thread.start()

    async def stop(self) -> None:
        """Write what is buffered, sync and close every segment (the shipper may then finish them)."""
        if self._pending:
            self._write_turn()
        self._stop.set()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join)
            self._thread = None
        self._retire()
        self._sync_once()

    def _sync_loop(self) -> None:
        while not self._stop.wait(self.fsync_interval):
            self._sync_once()

    def _sync_once(self) -> None:
        with self._lock:
            retired, self._retired = self._retired, []
            segment, dirty = self._segment, self._dirty
            self._dirty = False
        for old in retired:
            _close(old)
        if segment is not None and dirty:
            try:
                os.fdatasync(segment.fd)
            except OSError as error:  # closed meanwhile by a rotation on the loop (then already synced)
                logger.debug("fdatasync of %s: %s", segment.path, error)

    def status(self) -> dict[str, Any]:
        """For /health: clicks this process lost, and what the shipper of this host set aside."""
        return {
            "journal": str(self.directory),
            "written": self.written,
            "lost": self.health.lost,
            "last_error": self.health.last_error,
            "quarantined": quarantined(self.directory),
        }


def _close(segment: _Segment) -> None:
    try:
        os.fdatasync(segment.fd)
    except OSError as error:
        logger.warning("fdatasync of %s failed: %s", segment.path, error)
    os.close(segment.fd)
