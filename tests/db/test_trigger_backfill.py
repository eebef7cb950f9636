"""Revision 0020b adds `clicks.trigger` to a database that already holds clicks: old link clicks become `link`,
bio page traffic `bio`, and the `trigger` rollups it builds from the per-target rollups equal the ones click
storing writes for the same clicks."""

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
        EnrichedClick(click_id="clk_2", visitor_hash="v2", link_id="lnk_a", **common),
        EnrichedClick(click_id="clk_3", visitor_hash="v1", link_id="lnk_b", is_bot=True, **common),
        EnrichedClick(click_id="clk_4", visitor_hash="v3", bio_page_id="bio_a", trigger="bio", **common),
        EnrichedClick(
            click_id="clk_5", visitor_hash="v3", bio_page_id="bio_a", bio_block_id="blk_a", trigger="bio", **common
        ),
    ]


async def _store_and_read(url: str) -> list[tuple[Any, ...]]:
    engine = create_engine(Settings(database_url=url))
    try:
        async with session_scope(create_sessionmaker(engine)) as session:
            await click_service.record_batch(session, _clicks(), [analytics_service.record_clicks])
        return await _trigger_rollups(url)
    finally:
        await engine.dispose()


async def _trigger_rollups(url: str) -> list[tuple[Any, ...]]:
    engine = create_engine(Settings(database_url=url))
    try:
        async with engine.connect() as connection:
            rows: list[tuple[Any, ...]] = []
            for model in (DimensionRollup, TargetDimensionRollup):
                columns = [c for c in model.__table__.columns if c.name != "shard"]
                result = await connection.execute(
                    select(*columns).where(model.dimension == "trigger").order_by(*columns)
                )
                rows += [(model.__tablename__, *row) for row in result]
            triggers = await connection.execute(text("SELECT click_id, trigger FROM clicks ORDER BY click_id"))
            rows += [("clicks", *row) for row in triggers]
            return rows
    finally:
        await engine.dispose()


def test_the_migration_backfills_triggers_and_their_rollups_as_click_storing_would(database_url: str) -> None:
    stored = asyncio.run(_store_and_read(database_url))
    assert ("clicks", "clk_1", "link") in stored and ("clicks", "clk_5", "bio") in stored
    assert any(row[0] == "analytics_dimension_rollups" for row in stored)
    config = alembic_config(database_url)
    command.downgrade(config, "0020")  # the clicks lose `trigger`, the rollups lose their trigger rows
    try:
        assert asyncio.run(_trigger_rollups_without_column(database_url)) == 0
    finally:
        command.upgrade(config, "heads")
    assert asyncio.run(_trigger_rollups(database_url)) == stored


async def _trigger_rollups_without_column(url: str) -> int:
    engine = create_engine(Settings(database_url=url))
    try:
        async with engine.connect() as connection:
            count = await connection.scalar(
                text("SELECT count(*) FROM analytics_dimension_rollups WHERE dimension = 'trigger'")
            )
            return int(count or 0)
    finally:
        await engine.dispose()
