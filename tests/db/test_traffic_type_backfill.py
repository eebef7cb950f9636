"""Revision 0026t adds traffic types to a database that already holds clicks: flagged bots become `bot`, the rest
`human`, and the `traffic_type` rollups it builds from the rollup totals equal the ones click storing writes for the
same clicks. Downgrading removes orphan hits and every row of the new dimensions."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from alembic import command
from sqlalchemy import select, text

from mask.analytics import service as analytics_service
from mask.click import service as click_service
from mask.click.schemas import EnrichedClick
from mask.config import Settings
from mask.db import create_engine, create_sessionmaker, session_scope
from mask.migrate import alembic_config
from mask.models.analytics import DimensionRollup, TargetDimensionRollup


def _clicks() -> list[EnrichedClick]:
    at = datetime(2026, 3, 8, 4, 30, tzinfo=UTC)
    common: dict[str, Any] = {"workspace_id": "ws_a", "domain": "localhost:8000", "clicked_at": at}
    return [
        EnrichedClick(click_id="clk_1", visitor_hash="v1", link_id="lnk_a", **common),
        EnrichedClick(click_id="clk_2", visitor_hash="v1", link_id="lnk_a", **common),
        EnrichedClick(click_id="clk_3", visitor_hash="v2", link_id="lnk_a", is_bot=True, **common),
        EnrichedClick(click_id="clk_4", visitor_hash="v3", link_id="lnk_b", is_bot=True, **common),
        EnrichedClick(click_id="clk_5", visitor_hash="v3", bio_page_id="bio_a", trigger="bio", **common),
        EnrichedClick(
            click_id="clk_6", visitor_hash="v3", bio_page_id="bio_a", bio_block_id="blk_a", trigger="bio", **common
        ),
    ]


def _orphan() -> EnrichedClick:
    at = datetime(2026, 3, 8, 5, tzinfo=UTC)
    return EnrichedClick(
        click_id="clk_9",
        clicked_at=at,
        workspace_id="ws_a",
        domain="go.brand.test",
        visitor_hash="v9",
        orphan_type="unknown_slug",
        path="/typo",
    )


async def _store(url: str, clicks: list[EnrichedClick]) -> None:
    engine = create_engine(Settings(database_url=url))
    try:
        async with session_scope(create_sessionmaker(engine)) as session:
            await click_service.record_batch(session, clicks, [analytics_service.record_clicks])
    finally:
        await engine.dispose()


async def _read(url: str, query: str) -> list[tuple[Any, ...]]:
    engine = create_engine(Settings(database_url=url))
    try:
        async with engine.connect() as connection:
            return [tuple(row) for row in await connection.execute(text(query))]
    finally:
        await engine.dispose()


async def _traffic_rollups(url: str) -> list[tuple[Any, ...]]:
    engine = create_engine(Settings(database_url=url))
    try:
        async with engine.connect() as connection:
            rows: list[tuple[Any, ...]] = []
            for model in (DimensionRollup, TargetDimensionRollup):
                columns = [c for c in model.__table__.columns if c.name != "shard"]
                result = await connection.execute(
                    select(*columns).where(model.dimension == "traffic_type").order_by(*columns)
                )
                rows += [(model.__tablename__, *row) for row in result]
            kinds = await connection.execute(text("SELECT click_id, traffic_type FROM clicks ORDER BY click_id"))
            rows += [("clicks", *row) for row in kinds]
            return rows
    finally:
        await engine.dispose()


def test_the_migration_backfills_traffic_types_and_their_rollups_as_click_storing_would(database_url: str) -> None:
    asyncio.run(_store(database_url, _clicks()))
    stored = asyncio.run(_traffic_rollups(database_url))
    assert ("clicks", "clk_1", "human") in stored and ("clicks", "clk_3", "bot") in stored
    assert {row[7] for row in stored if row[0] == "analytics_dimension_rollups"} == {"human", "bot"}
    asyncio.run(_store(database_url, [_orphan()]))
    config = alembic_config(database_url)
    command.downgrade(config, "0018j")  # the clicks lose their traffic types, orphans and the rollups' new rows
    try:
        assert asyncio.run(_read(database_url, "SELECT click_id FROM clicks WHERE click_id = 'clk_9'")) == []
        left = asyncio.run(
            _read(
                database_url,
                "SELECT count(*) FROM analytics_dimension_rollups WHERE event = 2 OR dimension IN "
                "('traffic_type', 'bot_name', 'orphan_type', 'path')",
            )
        )
        assert left == [(0,)]
    finally:
        command.upgrade(config, "heads")
    assert asyncio.run(_traffic_rollups(database_url)) == stored
