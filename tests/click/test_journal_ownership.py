"""A click journal belongs to one database (mask.click.ownership): a server of another database never ships its
clicks, `mask serve` and `mask worker` refuse to start on it, and an empty one is taken over."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, insert, select

from mask.app import MaskApp
from mask.click import ownership
from mask.click.journal import encode_record
from mask.click.shipper import JournalShipper, writer_engine
from mask.config import Settings
from mask.db import create_engine, create_sessionmaker
from mask.kit.time import utcnow
from mask.models.click import Click, DatabaseIdentity
from tests.backends import SqliteTemplate
from tests.click.test_journal import _rows, _segment, _totals
from tests.conftest import Tenant
from tests.rate_limit.conftest import Server, mask_env
from tests.redirect.helpers import create_link

MASK = str(Path(sys.executable).with_name("mask"))


async def _clicks_in(url: str) -> int:
    engine = create_engine(Settings(env="test", database_url=url))
    try:
        async with engine.connect() as connection:
            return int(await connection.scalar(select(func.count()).select_from(Click)) or 0)
    finally:
        await engine.dispose()


async def test_another_databases_server_ships_nothing_of_a_journal_until_its_own_has_emptied_it(
    client: httpx.AsyncClient,
    tenant: Tenant,
    app: MaskApp,
    settings: Settings,
    sqlite_template: SqliteTemplate,
    caplog: pytest.LogCaptureFixture,
) -> None:
    link = (await create_link(client, tenant, slug="owned"))["id"]
    own = app.services.clicks.shipper
    await own.stop()
    directory = settings.click_journal_path
    await own.claim()  # the journal is this app's database's
    _segment(directory, "00000000000000000001-1-owner000", encode_record(_rows(link, tenant.workspace_id, 5)))

    other_url = sqlite_template.clone()  # another database, freshly migrated
    other_settings = Settings(env="test", database_url=other_url, click_journal_dir=str(directory))
    plain = create_engine(other_settings)
    engine = writer_engine(other_settings, plain)
    other = JournalShipper(
        directory=directory,
        sessionmaker=create_sessionmaker(engine),
        read_sessionmaker=create_sessionmaker(plain),
        enricher=app.services.clicks.enricher,
        listeners=[],
        batch_size=100,
        poll_interval=0.05,
        drain_seconds=0,
    )
    try:
        with caplog.at_level(logging.ERROR, logger="mask.click"):
            assert await other.drain() is False
        assert "holds 1 segment(s) of clicks for another database" in caplog.text
        assert await _clicks_in(other_url) == 0
        assert [path.name for path in directory.glob("*.seg")] == ["00000000000000000001-1-owner000.seg"]

        assert await own.drain() is True  # its own database stores them, once
        assert await _totals(app, link) == (5, 5)
        assert list(directory.glob("*.seg")) == []

        assert await other.drain() is True  # empty now: the other database takes it over
        assert ownership.owner_of(directory) == other._database
        assert other._database is not None and other._database != own._database
        assert await _clicks_in(other_url) == 0
    finally:
        for each in {plain, engine}:
            await each.dispose()


def test_mask_serve_and_mask_worker_refuse_a_journal_holding_another_databases_clicks(
    sqlite_template: SqliteTemplate, tmp_path: Path
) -> None:
    journal = tmp_path / "clicks"
    _segment(journal, "00000000000000000001-1-foreign0", encode_record(_rows("lnk_x", "ws_x", 3)))
    (journal / ownership.OWNER_FILE).write_text("0123456789abcdef\n")  # another database's identity
    env = {key: value for key, value in os.environ.items() if not key.startswith("MASK_")}
    env |= {
        "MASK_ENV": "test",
        "MASK_DATABASE_URL": sqlite_template.clone(),
        "MASK_CLICK_JOURNAL_DIR": str(journal),
        "MASK_LOG_LEVEL": "warning",
    }
    for command in (["serve", "--port", "0"], ["worker"]):
        # A server that did not refuse would run until the timeout: the test fails then, it does not hang.
        done = subprocess.run([MASK, *command], env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 1, (command, done.stderr[-2000:])
        assert "holds 1 segment(s) of clicks for another database (identity 0123456789abcdef" in done.stderr
        assert "MASK_CLICK_JOURNAL_DIR" in done.stderr
    assert (journal / ownership.OWNER_FILE).read_text().strip() == "0123456789abcdef"  # left as it was
    assert [path.name for path in journal.glob("*.seg")] == ["00000000000000000001-1-foreign0.seg"]


def test_an_empty_journal_of_another_database_is_taken_over(tmp_path: Path) -> None:
    journal = tmp_path / "clicks"
    journal.mkdir()
    (journal / ownership.OWNER_FILE).write_text("0123456789abcdef\n")
    ownership.claim(journal, "fedcba9876543210")
    assert ownership.owner_of(journal) == "fedcba9876543210"
    ownership.claim(tmp_path / "new", "fedcba9876543210")  # a journal never shipped: recorded as this one's
    assert ownership.owner_of(tmp_path / "new") == "fedcba9876543210"


async def test_mask_serve_starts_while_another_transaction_is_making_the_database_identity(
    database_url: str, tmp_path: Path
) -> None:
    """A process stopped half-way through making the identity (its INSERT not committed) holds that row's lock;
    `mask serve` waits for it a few seconds at most, then starts (its background process checks again before it
    ships a click). In CI a test whose event loop was blocked mid-transaction kept a server from starting."""
    engine = create_engine(Settings(env="test", database_url=database_url))
    try:
        async with engine.connect() as holder:
            row = {"id": 1, "identity": "0123456789abcdef", "created_at": utcnow()}
            await holder.execute(insert(DatabaseIdentity).values(**row))  # not committed: the lock is held
            server = Server(mask_env(database_url), tmp_path / "serve.log")
            try:
                await asyncio.to_thread(server.wait_ready, 60.0)
                assert httpx.get(f"{server.url}/health", timeout=10).status_code == 200
            finally:
                server.stop()
            await holder.rollback()
    finally:
        await engine.dispose()
