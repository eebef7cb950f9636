"""The click journal in one process: what a worker writes, and what the shipper makes of it (stored once, a torn
record never stored half, corrupt bytes set aside, a journal that cannot be written never stopping a redirect)."""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from mask.app import MaskApp
from mask.click.journal import HEADER, MAGIC, ClickJournal, encode_record
from mask.click.schemas import ClickRow, RawClick, with_click_ids
from mask.click.shipper import JournalShipper, is_finished, read_batch, writer_engine
from mask.config import Settings
from mask.db import create_engine, create_sessionmaker
from mask.kit.cpu import CpuGate
from mask.models.click import Click, ClickJournalPosition
from mask.models.link import Link
from tests.conftest import Tenant
from tests.redirect.helpers import BROWSER, create_link
from tests.waiting import eventually


def _rows(link_id: str, workspace_id: str, count: int) -> list[ClickRow]:
    return with_click_ids(
        [
            RawClick(
                "", time.time(), workspace_id, "localhost:8000", link_id, ip="81.2.69.160", user_agent=BROWSER
            ).to_row()
            for _ in range(count)
        ]
    )


def _records(path: Path) -> list[int]:
    """The number of clicks in each record of a segment."""
    data = path.read_bytes()
    counts, at = [], 0
    while at < len(data):
        magic, length, _crc = HEADER.unpack_from(data, at)
        assert magic == MAGIC
        with open(path, "rb") as file:
            fd = file.fileno()
            batch = read_batch(fd, at, len(data), finished=True, batch_size=1)
        counts.append(len(batch.clicks))
        at += HEADER.size + length
    return counts


def _segment(directory: Path, name: str, content: bytes) -> Path:
    """A finished segment, appearing whole (as `.new`, then renamed: the shipper never sees it half-made)."""
    directory.mkdir(parents=True, exist_ok=True)
    temporary = directory / f"{name}.new"
    temporary.write_bytes(content)
    path = directory / f"{name}.seg"
    temporary.rename(path)
    return path


async def _totals(app: MaskApp, link_id: str) -> tuple[int, int]:
    """(clicks stored, the link's counter)."""
    async with app.context.engine.connect() as connection:
        stored = await connection.scalar(select(func.count()).select_from(Click))
        counted = await connection.scalar(select(Link.clicks).where(Link.id == link_id))
    return int(stored or 0), int(counted or 0)


async def test_the_clicks_of_one_loop_turn_are_one_write(tmp_path: Path) -> None:
    journal = ClickJournal(tmp_path, fsync_ms=1000)
    await journal.start()
    try:
        rows = _rows("lnk_a", "ws_a", 40)

        async def request(row: ClickRow) -> None:
            await journal.add_row(row)

        await asyncio.gather(*(request(row) for row in rows))  # forty requests in the same turn
        await journal.add_row(_rows("lnk_a", "ws_a", 1)[0])  # and one in a later turn
    finally:
        await journal.stop()
    [segment] = [path for path in tmp_path.iterdir() if path.suffix == ".seg"]
    assert _records(segment) == [40, 1]
    assert journal.written == 41 and journal.health.lost == 0


async def test_segments_rotate_by_size_and_by_age_and_only_the_current_one_is_held(tmp_path: Path) -> None:
    journal = ClickJournal(tmp_path, fsync_ms=1000, segment_bytes=4096, segment_seconds=3600)
    await journal.start()
    try:
        for _ in range(30):  # ~200 bytes a click: a segment holds about 20 of them
            assert journal.write(_rows("lnk_a", "ws_a", 1))
        by_size = sorted(path for path in tmp_path.iterdir() if path.suffix == ".seg")
        assert len(by_size) == 2
        assert all(path.stat().st_size <= 4096 for path in by_size)
        journal.segment_seconds = 0.01
        time.sleep(0.02)  # older than its age limit now (a lower bound, whatever the machine's speed)
        assert journal.write(_rows("lnk_a", "ws_a", 1))
        segments = sorted(path for path in tmp_path.iterdir() if path.suffix == ".seg")
        assert len(segments) == 3
        await asyncio.to_thread(journal._sync_once)  # the sync thread's job: close the retired segments
        held = []
        for path in segments:
            fd = os.open(path, os.O_RDONLY)
            held.append(not is_finished(fd))
            os.close(fd)
        assert held == [False, False, True]
    finally:
        await journal.stop()


async def test_redirects_reach_the_database_through_the_journal_with_their_position(
    client: httpx.AsyncClient, tenant: Tenant, app: MaskApp, settings: Settings
) -> None:
    link = (await create_link(client, tenant, slug="journaled"))["id"]
    for _ in range(12):
        assert (await client.get("/journaled", headers={"User-Agent": BROWSER})).status_code == 302
    assert await app.services.clicks.tracker.flush()
    assert await _totals(app, link) == (12, 12)
    [segment] = [path for path in settings.click_journal_path.iterdir() if path.suffix == ".seg"]
    async with app.context.engine.connect() as connection:
        positions = (await connection.execute(select(ClickJournalPosition))).all()
    shipper = app.services.clicks.shipper
    assert [(row.journal, row.position) for row in positions] == [(shipper.key(segment.name), segment.stat().st_size)]


async def test_a_torn_last_record_is_set_aside_and_never_stored_half(
    client: httpx.AsyncClient, tenant: Tenant, app: MaskApp, settings: Settings
) -> None:
    link = (await create_link(client, tenant, slug="torn"))["id"]
    whole = encode_record(_rows(link, tenant.workspace_id, 5)) + encode_record(_rows(link, tenant.workspace_id, 3))
    torn = encode_record(_rows(link, tenant.workspace_id, 4))[:-7]  # its writer died in the middle of write()
    directory = settings.click_journal_path
    _segment(directory, "00000000000000000001-1-torn0000", whole + torn)
    assert await app.services.clicks.tracker.flush()
    assert await _totals(app, link) == (8, 8)
    assert [path.name for path in (directory / "quarantine").iterdir()] == [
        f"00000000000000000001-1-torn0000.{len(whole)}.torn"
    ]
    assert (directory / "quarantine" / f"00000000000000000001-1-torn0000.{len(whole)}.torn").read_bytes() == torn
    assert not (directory / "00000000000000000001-1-torn0000.seg").exists()  # wholly dealt with: deleted
    health = (await client.get("/health")).json()
    assert health["clicks"]["quarantined"] == {"corrupt": 0, "torn": 1}


async def test_a_record_still_being_written_is_waited_for_not_set_aside(
    client: httpx.AsyncClient, tenant: Tenant, app: MaskApp, settings: Settings
) -> None:
    link = (await create_link(client, tenant, slug="arriving"))["id"]
    first = encode_record(_rows(link, tenant.workspace_id, 2))
    second = encode_record(_rows(link, tenant.workspace_id, 3))
    directory = settings.click_journal_path
    directory.mkdir(parents=True, exist_ok=True)
    temporary = directory / "00000000000000000002-1-live0000.new"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    fcntl.flock(fd, fcntl.LOCK_EX)  # a live writer holds it
    os.rename(temporary, directory / "00000000000000000002-1-live0000.seg")
    try:
        os.write(fd, first + second[:10])  # as a reader may see a write() in progress
        assert await app.services.clicks.tracker.flush()
        assert await _totals(app, link) == (2, 2)
        assert not (directory / "quarantine").exists()
        os.write(fd, second[10:])
        assert await app.services.clicks.tracker.flush()
        assert await _totals(app, link) == (5, 5)
        assert (directory / "00000000000000000002-1-live0000.seg").exists()  # held: it may still grow
    finally:
        os.close(fd)  # the writer moves on
    assert await app.services.clicks.tracker.flush()
    assert not (directory / "00000000000000000002-1-live0000.seg").exists()


async def test_corrupt_bytes_are_quarantined_counted_and_the_records_after_them_stored(
    client: httpx.AsyncClient, tenant: Tenant, app: MaskApp, settings: Settings
) -> None:
    link = (await create_link(client, tenant, slug="corrupt"))["id"]
    before = encode_record(_rows(link, tenant.workspace_id, 2))
    damaged = bytearray(encode_record(_rows(link, tenant.workspace_id, 3)))
    damaged[HEADER.size + 5] ^= 0xFF  # a flipped byte: the CRC no longer matches
    garbage = b"\x00" * 100  # and bytes that are no record at all
    after = encode_record(_rows(link, tenant.workspace_id, 4))
    directory = settings.click_journal_path
    _segment(directory, "00000000000000000003-1-bad00000", before + bytes(damaged) + garbage + after)
    assert await app.services.clicks.tracker.flush()
    assert await _totals(app, link) == (6, 6)
    [quarantined] = list((directory / "quarantine").iterdir())
    assert quarantined.suffix == ".bad" and quarantined.read_bytes() == bytes(damaged) + garbage
    health = (await client.get("/health")).json()
    assert health["clicks"]["quarantined"] == {"corrupt": 1, "torn": 0}


async def test_two_shippers_on_one_journal_store_each_click_once(
    client: httpx.AsyncClient, tenant: Tenant, app: MaskApp, settings: Settings
) -> None:
    link = (await create_link(client, tenant, slug="raced"))["id"]
    await app.services.clicks.shipper.stop()
    directory = settings.click_journal_path
    for index in range(3):
        content = b"".join(encode_record(_rows(link, tenant.workspace_id, 7)) for _ in range(40))
        _segment(directory, f"0000000000000000001{index}-1-race0000", content)
    engines, shippers = [], []
    for _ in range(3):  # three processes' worth (a `mask worker` beside `mask serve`'s, say)
        plain = create_engine(settings)
        engine = writer_engine(settings, plain)
        engines += [plain, engine] if engine is not plain else [plain]
        shippers.append(
            JournalShipper(
                directory=directory,
                sessionmaker=create_sessionmaker(engine),
                read_sessionmaker=create_sessionmaker(plain),
                enricher=app.services.clicks.enricher,
                listeners=app.services.clicks.listeners,
                batch_size=20,
                poll_interval=0.05,
                drain_seconds=0,
            )
        )
    try:
        await asyncio.gather(*(shipper.drain() for shipper in shippers))
        await asyncio.gather(*(shipper.drain() for shipper in shippers))  # whoever lost a race goes on
    finally:
        for engine in engines:
            await engine.dispose()
    assert await _totals(app, link) == (840, 840)
    assert [path for path in directory.iterdir() if path.suffix == ".seg"] == []


class TestJournalThatCannotBeWritten:
    @pytest.fixture
    def settings_overrides(self, tmp_path: Path) -> dict[str, Any]:
        blocker = tmp_path / "not-a-directory"
        blocker.write_text("")  # nobody, root included, creates a directory inside a file
        return {"click_journal_dir": str(blocker / "clicks")}

    async def test_redirects_keep_answering_and_the_lost_clicks_are_counted_and_logged_once(
        self, client: httpx.AsyncClient, tenant: Tenant, app: MaskApp, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.ERROR, logger="mask.click")
        await create_link(client, tenant, slug="nowhere")
        for _ in range(5):
            assert (await client.get("/nowhere")).status_code == 302
        clicks = (await client.get("/health")).json()["clicks"]
        assert (clicks["lost"], clicks["written"]) == (5, 0)
        assert "NotADirectoryError" in clicks["last_error"]
        losses = [record for record in caplog.records if "cannot be written" in record.getMessage()]
        assert len(losses) == 1  # once a minute at most, not per request


async def test_a_request_cancelled_while_its_turn_is_written_leaves_the_others_of_that_turn_alone(
    tmp_path: Path,
) -> None:
    journal = ClickJournal(tmp_path)
    await journal.start()
    try:

        async def request() -> str:
            await journal.add_row(_rows("lnk_a", "ws_a", 1)[0])
            return "answered"

        tasks = [asyncio.create_task(request()) for _ in range(3)]
        await asyncio.sleep(0)  # all three now wait for the same turn
        tasks[0].cancel()
        results = await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        await journal.stop()
    assert isinstance(results[0], asyncio.CancelledError)
    assert results[1:] == ["answered", "answered"]
    assert journal.written == 3


class CountingGate(CpuGate):
    """A gate that never finds the CPUs busy (no readings) and counts the shipper's "nothing left" calls."""

    def __init__(self) -> None:
        super().__init__(longest=10.0, sample=lambda: None)
        self.caught_up_calls = 0

    def caught_up(self) -> None:
        self.caught_up_calls += 1
        super().caught_up()


async def test_a_shipper_with_nothing_left_tells_its_cpu_gate_so_the_lag_bound_starts_again(
    client: httpx.AsyncClient, tenant: Tenant, app: MaskApp, settings: Settings
) -> None:
    """The gate bounds how far storing falls behind from its first pause after the last catch-up (mask.kit.cpu):
    a shipper that never said it caught up would, after one long burst, never pause for redirects again."""
    link = (await create_link(client, tenant, slug="gated"))["id"]
    await app.services.clicks.shipper.stop()
    directory = settings.click_journal_path
    gate = CountingGate()
    plain = create_engine(settings)
    engine = writer_engine(settings, plain)
    shipper = JournalShipper(
        directory=directory,
        sessionmaker=create_sessionmaker(engine),
        read_sessionmaker=create_sessionmaker(plain),
        enricher=app.services.clicks.enricher,
        listeners=app.services.clicks.listeners,
        batch_size=20,
        poll_interval=0.05,
        drain_seconds=0,
        cpu_gate=gate,
    )
    await shipper.start()
    try:
        await eventually(lambda: gate.caught_up_calls >= 1, message="the idle shipper said it caught up")
        before = gate.caught_up_calls
        _segment(directory, "00000000000000000020-1-gate0000", encode_record(_rows(link, tenant.workspace_id, 5)))
        shipper.wake()
        await eventually(lambda: shipper.stored == 5, message="the segment stored")
        await eventually(lambda: gate.caught_up_calls > before, message="caught up again after it")
    finally:
        await shipper.stop()
        for each in {engine, plain}:
            await each.dispose()
    assert await _totals(app, link) == (5, 5)
