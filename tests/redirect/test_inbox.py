"""The click inbox: what serving processes append is stored once, by whichever processor takes it."""

from __future__ import annotations

import asyncio
import sqlite3
import time

import httpx
import pytest
from sqlalchemy import select

from mask.app import MaskApp
from mask.click import inbox
from mask.click.enrichment import Enricher
from mask.click.inbox import InboxProcessor
from mask.click.schemas import RawClick, with_click_ids
from mask.click.stream import encode_entry
from mask.click.writer import writer_engine
from mask.config import Settings
from mask.db import create_engine, create_sessionmaker
from mask.kit.cpu import CpuGate
from mask.models.click import Click
from mask.models.link import Link
from tests.conftest import Tenant
from tests.load import every_cpu_busy, needs_proc_stat
from tests.redirect.helpers import BROWSER, click_totals, create_link


def _rows(link_id: str, workspace_id: str, count: int) -> list[tuple[object, ...]]:
    return with_click_ids(
        [
            RawClick(
                "", time.time(), workspace_id, "localhost:8000", link_id, ip="81.2.69.160", user_agent=BROWSER
            ).to_row()
            for _ in range(count)
        ]
    )


async def _counts(app: MaskApp, link_id: str) -> tuple[int, int, int]:
    """(clicks stored, clicks waiting in the inbox, the link's counter)."""
    stored, waiting = await click_totals(app.context.engine)
    async with app.context.engine.connect() as connection:
        counted = await connection.scalar(select(Link.clicks).where(Link.id == link_id))
    return stored, waiting, int(counted or 0)


async def test_processors_racing_for_the_same_rows_store_each_click_once(
    client: httpx.AsyncClient, tenant: Tenant, app: MaskApp, settings: Settings
) -> None:
    link = (await create_link(client, tenant, slug="raced"))["id"]
    engines, processors = [], []
    for _ in range(3):  # three processes' worth, each with its own engine (and the app's processor runs too)
        plain = create_engine(settings)
        engine = writer_engine(settings, plain)  # on SQLite, transactions that begin IMMEDIATE, as in production
        engines += [plain, engine] if engine is not plain else [plain]
        processors.append(
            InboxProcessor(
                sessionmaker=create_sessionmaker(engine),
                read_sessionmaker=create_sessionmaker(plain),
                enricher=Enricher(secret_key="s"),
                listeners=app.services.clicks.listeners,
                batch_size=150,
                poll_interval=0.05,
            )
        )
    try:
        rows = _rows(link, tenant.workspace_id, 900)
        await inbox.append(
            app.context.sessionmaker, [encode_entry(rows[start : start + 100]) for start in range(0, 900, 100)]
        )
        assert all(await asyncio.gather(*(processor.drain() for processor in processors)))
        assert await _counts(app, link) == (900, 0, 900)
        assert sum(processor.stored for processor in processors) <= 900
    finally:
        for engine in engines:
            await engine.dispose()


async def test_a_malformed_inbox_row_is_dropped_and_the_others_stored(
    client: httpx.AsyncClient, tenant: Tenant, app: MaskApp, caplog: pytest.LogCaptureFixture
) -> None:
    link = (await create_link(client, tenant, slug="mixed"))["id"]
    good = _rows(link, tenant.workspace_id, 2)
    async with app.context.engine.begin() as connection:
        await connection.execute(
            inbox.INBOX.insert(),
            [
                encode_entry(good[:1]),
                {"n": 1, "clicks": "not json"},
                {"n": 1, "clicks": '[["clk_x", "soon"]]'},
                encode_entry(good[1:]),
            ],
        )
    processor: InboxProcessor = app.services.clicks.processor
    assert await processor.drain()
    assert await _counts(app, link) == (2, 0, 2)
    assert "dropping malformed click inbox row" in caplog.text


async def test_a_click_is_stored_with_the_id_it_was_buffered_with(
    client: httpx.AsyncClient, tenant: Tenant, app: MaskApp
) -> None:
    link = (await create_link(client, tenant, slug="same-id"))["id"]
    rows = _rows(link, tenant.workspace_id, 3)
    await inbox.append(app.context.sessionmaker, [encode_entry(rows)])
    await inbox.append(app.context.sessionmaker, [encode_entry(rows[:1])])  # delivered twice: stored once
    assert await app.services.clicks.processor.drain()
    async with app.context.engine.connect() as connection:
        stored = sorted((await connection.execute(select(Click.click_id))).scalars())
    assert stored == sorted(str(row[0]) for row in rows)
    assert (await _counts(app, link))[2] == 3


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_looking_at_an_empty_inbox_neither_takes_nor_waits_for_the_sqlite_write_lock(
    app: MaskApp, settings: Settings
) -> None:
    # The processor polls several times a second. Were its look a write transaction (BEGIN IMMEDIATE, as its
    # stores are), every idle poll would queue behind the API's writes, and a process whose event loop stalls
    # mid-poll would hold the lock and fail other processes' writes after busy_timeout (seen in CI).
    processor: InboxProcessor = app.services.clicks.processor
    writer = sqlite3.connect(settings.database_url.split(":///", 1)[1], timeout=0, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")  # another process in the middle of a write
        assert await asyncio.wait_for(processor.process_batch(), timeout=3) == 0
    finally:
        writer.execute("ROLLBACK")
        writer.close()


@needs_proc_stat
async def test_storing_waits_while_other_processes_fill_every_cpu_and_catches_up_after(
    client: httpx.AsyncClient, tenant: Tenant, app: MaskApp, settings: Settings
) -> None:
    link = (await create_link(client, tenant, slug="burst"))["id"]
    await app.services.clicks.processor.stop()  # the app's own: the tests turn its gate off
    plain = create_engine(settings)
    engine = writer_engine(settings, plain)
    processor = InboxProcessor(
        sessionmaker=create_sessionmaker(engine),
        read_sessionmaker=create_sessionmaker(plain),
        enricher=Enricher(secret_key="s"),
        listeners=app.services.clicks.listeners,
        batch_size=500,
        poll_interval=0.05,
        cpu_gate=CpuGate(longest=30.0),
    )
    try:
        with every_cpu_busy():  # a burst of redirects, as far as the CPUs can tell
            await inbox.append(app.context.sessionmaker, [encode_entry(_rows(link, tenant.workspace_id, 50))])
            await processor.start()
            await asyncio.sleep(1.5)
            assert await _counts(app, link) == (0, 50, 0)
        deadline = time.monotonic() + 15
        while await _counts(app, link) != (50, 0, 50) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        assert await _counts(app, link) == (50, 0, 50)
        assert processor.cpu_gate is not None and processor.cpu_gate.waited >= 1.0
    finally:
        await processor.stop()
        for each in (engine, plain) if engine is not plain else (plain,):
            await each.dispose()
