"""Clicks captured by redirects: enriched, counted once, humans only in `clicks`, never losing one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import text

from mask.app import MaskApp
from mask.bootstrap import create_app
from mask.config import Settings
from mask.db import create_engine
from mask.models.click import Click
from tests.conftest import Tenant
from tests.redirect.helpers import BROWSER, create_link, stored_clicks, stored_count
from tests.redirect.test_enrichment import GOOGLEBOT, IPHONE
from tests.waiting import eventually


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


async def _count(settings: Settings) -> int:
    """Clicks stored, read with an engine of its own."""
    engine = create_engine(settings)
    try:
        return await stored_count(engine)
    finally:
        await engine.dispose()


async def _reached(settings: Settings, clicks: int) -> bool:
    return await _count(settings) >= clicks


async def test_a_failed_batch_stays_in_the_journal_and_is_stored_once_the_database_recovers(
    client: httpx.AsyncClient, tenant: Tenant, app: MaskApp, settings: Settings
) -> None:
    link = await create_link(client, tenant, slug="later")
    async with app.context.engine.begin() as connection:
        await connection.execute(text("ALTER TABLE clicks RENAME TO clicks_away"))
    for _ in range(3):
        assert (await client.get("/later", headers={"User-Agent": BROWSER})).status_code == 302
    tracker = app.services.clicks.tracker
    assert await tracker.flush() is False  # in the journal; storing it failed
    async with app.context.engine.begin() as connection:
        await connection.execute(text("ALTER TABLE clicks_away RENAME TO clicks"))
        # Nothing of the failed batches half-happened: the rollback left the counter and the position alone.
        assert await connection.scalar(text("SELECT clicks FROM links WHERE id = :id"), {"id": link["id"]}) == 0
        assert await connection.scalar(text("SELECT count(*) FROM click_journal_positions")) == 0

    assert len(await stored_clicks(app)) == 3
    assert await _count(settings) == 3
    assert (await client.get(f"/v1/links/{link['id']}", headers=tenant.headers)).json()["clicks"] == 3


async def test_graceful_shutdown_ships_the_journal(
    client: httpx.AsyncClient, tenant: Tenant, app: MaskApp, settings: Settings
) -> None:
    await create_link(client, tenant, slug="bye")
    await app.services.clicks.shipper.stop()  # nothing shipped while the clicks arrive
    for _ in range(25):
        assert (await client.get("/bye")).status_code == 302
    assert await _count(settings) == 0
    await app.context.shutdown()
    assert await _count(settings) == 25


async def test_what_shutdown_could_not_ship_is_shipped_at_the_next_start(
    client: httpx.AsyncClient, tenant: Tenant, settings: Settings
) -> None:
    stopping = create_app(settings.model_copy(update={"click_drain_seconds": 0}))
    await stopping.context.startup()
    await stopping.services.clicks.shipper.stop()
    transport = httpx.ASGITransport(app=stopping, client=("203.0.113.10", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost:8000") as other:
        await create_link(other, tenant, slug="later")
        for _ in range(25):
            assert (await other.get("/later")).status_code == 302
    await stopping.context.shutdown()
    assert await _count(settings) == 0  # no drain: the clicks wait in the journal

    restarted = create_app(settings)
    await restarted.context.startup()  # its shipper takes them
    try:
        await eventually(lambda: _reached(settings, 25), message="the journal shipped")
    finally:
        await restarted.context.shutdown()
    assert await _count(settings) == 25


async def test_clicks_the_previous_version_left_in_the_inbox_and_spill_files_are_stored_at_start(
    tenant: Tenant, settings: Settings, tmp_path: Path
) -> None:
    from mask.click.schemas import RawClick, link_click_row

    rows = [
        RawClick(f"clk_legacy{i:012d}", 1_700_000_000.0 + i, tenant.workspace_id, "localhost:8000", "lnk_x").to_row()
        for i in range(7)
    ]
    engine = create_engine(settings)
    async with engine.begin() as connection:
        await connection.execute(
            text("INSERT INTO click_inbox (n, clicks) VALUES (4, :a), (3, :b)"),
            {"a": orjson.dumps(rows[:4]).decode(), "b": orjson.dumps(rows[4:]).decode()},
        )
    await engine.dispose()
    spill = tmp_path / "spill"
    spill.mkdir()
    never_sent = link_click_row(
        at=1_700_000_100.0,
        workspace_id=tenant.workspace_id,
        domain="localhost:8000",
        link_id="lnk_x",
        ip=None,
        user_agent="",
        referrer="",
        utm=(None,) * 5,
    )
    (spill / "clicks-1-1.jsonl").write_text(orjson.dumps(rows[0]).decode() + "\n" + orjson.dumps(never_sent).decode())

    app = create_app(settings.model_copy(update={"click_spill_dir": str(spill)}))
    await app.context.startup()
    try:
        await eventually(lambda: _reached(settings, 7), message="the inbox stored")
        await eventually(lambda: not list(spill.iterdir()), message="the spill file stored")
        assert await app.services.clicks.tracker.flush()
    finally:
        await app.context.shutdown()
    assert await _count(settings) == 8  # rows[0] twice (inbox and spill file): stored once
    engine = create_engine(settings)
    async with engine.connect() as connection:
        assert await connection.scalar(text("SELECT count(*) FROM click_inbox")) == 0
    await engine.dispose()
