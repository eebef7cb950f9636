"""Clicks captured by redirects: enriched, counted once, humans only in `clicks`, never losing one."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from mask.app import MaskApp
from mask.bootstrap import create_app
from mask.config import Settings
from mask.db import create_engine
from mask.models.click import Click
from tests.conftest import Tenant
from tests.redirect.helpers import BROWSER, click_totals, create_link, stored_clicks
from tests.redirect.test_enrichment import GOOGLEBOT, IPHONE


async def test_click_is_stored_enriched_without_ip_and_counted_on_the_link(
    client: httpx.AsyncClient, tenant: Tenant, app: MaskApp
) -> None:
    link = await create_link(client, tenant, slug="clicky", utm_campaign="spring")
    response = await client.get(
        "/clicky?utm_source=mail",
        headers={
            "User-Agent": IPHONE,
            "Referer": "https://www.facebook.com/some/post",
            "X-Forwarded-For": "81.2.69.160",  # not trusted: the peer 203.0.113.10 is no proxy of ours
        },
    )
    assert response.status_code == 302

    [click] = await stored_clicks(app)
    assert click.click_id.startswith("clk_") and click.link_id == link["id"]
    assert (click.workspace_id, click.domain) == (tenant.workspace_id, "localhost:8000")
    assert (click.device, click.browser, click.os, click.is_bot) == ("mobile", "Mobile Safari", "iOS", False)
    assert (click.referrer, click.referrer_url) == ("www.facebook.com", "https://www.facebook.com/some/post")
    assert (click.utm_source, click.utm_campaign) == ("mail", "spring")
    assert click.country is None  # 203.0.113.10 is a documentation address; the header was ignored
    assert click.is_unique and len(click.visitor_hash) == 32
    assert "203.0.113.10" not in repr([getattr(click, c.key) for c in Click.__table__.columns])
    fetched = await client.get(f"/v1/links/{link['id']}", headers=tenant.headers)
    assert fetched.json()["clicks"] == 1


class TestBehindTrustedProxy:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"trusted_proxies": ["203.0.113.0/24"]}  # the test client's address

    async def test_forwarded_client_ip_counts_from_a_trusted_proxy(
        self, client: httpx.AsyncClient, tenant: Tenant, app: MaskApp
    ) -> None:
        await create_link(client, tenant, slug="geo")
        await client.get("/geo", headers={"X-Forwarded-For": "81.2.69.160", "User-Agent": BROWSER})
        await client.get("/geo", headers={"X-Forwarded-For": "2001:4860:4860::8888", "User-Agent": BROWSER})
        assert [click.country for click in await stored_clicks(app)] == ["GB", "US"]


async def test_bots_are_stored_but_not_counted_and_repeat_visits_are_not_unique(
    client: httpx.AsyncClient, tenant: Tenant, app: MaskApp
) -> None:
    link = await create_link(client, tenant, slug="crawl")
    await client.get("/crawl", headers={"User-Agent": GOOGLEBOT})
    await client.get("/crawl", headers={"User-Agent": BROWSER})
    await client.get("/crawl", headers={"User-Agent": BROWSER})

    clicks = await stored_clicks(app)
    assert [(c.is_bot, c.is_unique) for c in clicks] == [(True, False), (False, True), (False, False)]
    fetched = await client.get(f"/v1/links/{link['id']}", headers=tenant.headers)
    assert fetched.json()["clicks"] == 2


async def test_any_public_handler_can_track_a_bio_page_click(tenant: Tenant, app: MaskApp) -> None:
    scope = {
        "type": "http",
        "client": ("81.2.69.160", 1234),
        "headers": [(b"user-agent", BROWSER.encode()), (b"referer", b"https://t.co/x")],
    }
    tracker = app.services.clicks.tracker
    await tracker.track(
        scope, workspace_id=tenant.workspace_id, domain="localhost:8000", bio_page_id="bio_1", bio_block_id="blk_1"
    )
    with pytest.raises(ValueError, match="link or a bio page"):
        await tracker.track(scope, workspace_id=tenant.workspace_id, domain="localhost:8000")

    [click] = await stored_clicks(app)
    assert (click.bio_page_id, click.bio_block_id, click.link_id) == ("bio_1", "blk_1", None)
    assert (click.country, click.referrer, click.is_unique) == ("GB", "t.co", True)


async def _count(settings: Settings) -> tuple[int, int]:
    """(clicks stored, clicks waiting in the inbox), read with an engine of its own."""
    engine = create_engine(settings)
    try:
        return await click_totals(engine)
    finally:
        await engine.dispose()


async def test_a_failed_append_stays_buffered_and_is_written_once_the_database_recovers(
    client: httpx.AsyncClient, tenant: Tenant, app: MaskApp
) -> None:
    await create_link(client, tenant, slug="retry")
    async with app.context.engine.begin() as connection:
        await connection.execute(text("ALTER TABLE click_inbox RENAME TO click_inbox_away"))
    for _ in range(3):
        assert (await client.get("/retry")).status_code == 302
    tracker = app.services.clicks.tracker
    assert await tracker.flush() is False
    assert len(tracker.writer.pending) == 3

    async with app.context.engine.begin() as connection:
        await connection.execute(text("ALTER TABLE click_inbox_away RENAME TO click_inbox"))
    assert len(await stored_clicks(app)) == 3


async def test_a_failed_batch_stays_in_the_inbox_and_is_stored_once_the_database_recovers(
    client: httpx.AsyncClient, tenant: Tenant, app: MaskApp, settings: Settings
) -> None:
    link = await create_link(client, tenant, slug="later")
    async with app.context.engine.begin() as connection:
        await connection.execute(text("ALTER TABLE clicks RENAME TO clicks_away"))
    for _ in range(3):
        assert (await client.get("/later", headers={"User-Agent": BROWSER})).status_code == 302
    tracker = app.services.clicks.tracker
    assert await tracker.flush() is False  # the buffer reached the inbox; storing it failed
    assert tracker.writer.pending == []
    async with app.context.engine.begin() as connection:
        await connection.execute(text("ALTER TABLE clicks_away RENAME TO clicks"))
        # Nothing of the failed batches half-happened: the rollback left the counter alone.
        assert await connection.scalar(text("SELECT clicks FROM links WHERE id = :id"), {"id": link["id"]}) == 0

    assert len(await stored_clicks(app)) == 3
    assert await _count(settings) == (3, 0)
    assert (await client.get(f"/v1/links/{link['id']}", headers=tenant.headers)).json()["clicks"] == 3


async def test_graceful_shutdown_queues_the_buffer_and_the_next_start_stores_it(
    client: httpx.AsyncClient, tenant: Tenant, app: MaskApp, settings: Settings
) -> None:
    await create_link(client, tenant, slug="bye")
    for _ in range(25):
        assert (await client.get("/bye")).status_code == 302
    assert app.services.clicks.tracker.writer.pending  # still in memory: the writer runs every 0.2 s

    await app.context.shutdown()
    stored, waiting = await _count(settings)
    assert stored + waiting == 25  # whatever the inbox processor had not taken yet is in the inbox

    restarted = create_app(settings)
    await restarted.context.startup()  # its inbox processor takes them
    try:
        for _ in range(100):
            if await _count(settings) == (25, 0):
                break
            await asyncio.sleep(0.05)
        assert await _count(settings) == (25, 0)
    finally:
        await restarted.context.shutdown()


async def test_clicks_the_database_refuses_at_shutdown_are_spilled_and_taken_back_at_the_next_start(
    client: httpx.AsyncClient,
    tenant: Tenant,
    app: MaskApp,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import mask.click.writer as writer_module

    await create_link(client, tenant, slug="spill")
    tracker = app.services.clicks.tracker
    tracker.writer.spill_dir = tmp_path
    monkeypatch.setattr(writer_module, "SHUTDOWN_FLUSH_SECONDS", 0.3)
    async with app.context.engine.begin() as connection:
        await connection.execute(text("ALTER TABLE click_inbox RENAME TO click_inbox_away"))
    for _ in range(4):
        assert (await client.get("/spill")).status_code == 302
    await app.context.shutdown()  # the database refuses: the clicks go to a file
    assert [path.name.endswith(".jsonl") for path in tmp_path.iterdir()] == [True]

    engine = create_engine(settings)
    async with engine.begin() as connection:
        await connection.execute(text("ALTER TABLE click_inbox_away RENAME TO click_inbox"))
    await engine.dispose()
    restarted = create_app(settings.model_copy(update={"click_spill_dir": str(tmp_path)}))
    await restarted.context.startup()
    try:
        assert len(await stored_clicks(restarted)) == 4
        assert list(tmp_path.iterdir()) == []
    finally:
        await restarted.context.shutdown()
