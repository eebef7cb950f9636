"""Revision 0027a rolls up what the decision engine decided (destination, variant, rule) for clicks stored before it:
the rows it builds from the raw clicks equal the ones click storing writes for the same clicks. Downgrading removes
them."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from alembic import command
from sqlalchemy import func, select

from mask.analytics import service as analytics_service
from mask.analytics.query import DECISIONS
from mask.click import service as click_service
from mask.click.schemas import EnrichedClick
from mask.config import Settings
from mask.db import create_engine, create_sessionmaker, session_scope
from mask.migrate import alembic_config
from mask.models.analytics import DimensionRollup, TargetDimensionRollup

LONG_URL = "https://example.com/" + "x" * 600


def _clicks() -> list[EnrichedClick]:
    common: dict[str, Any] = {"workspace_id": "ws_a", "domain": "localhost:8000"}
    hour = datetime(2026, 3, 8, 4, 30, tzinfo=UTC)
    later = datetime(2026, 4, 2, 23, 59, tzinfo=UTC)  # another day and month
    return [
        EnrichedClick(click_id="clk_1", clicked_at=hour, visitor_hash="v1", link_id="lnk_a", variant=0, **common),
        EnrichedClick(click_id="clk_2", clicked_at=hour, visitor_hash="v1", link_id="lnk_a", variant=1, **common),
        EnrichedClick(
            click_id="clk_3",
            clicked_at=hour,
            visitor_hash="v2",
            link_id="lnk_b",
            rule_index=0,
            destination_url="https://example.com/us",
            is_bot=True,
            traffic_type="bot",
            **common,
        ),
        EnrichedClick(
            click_id="clk_4",
            clicked_at=later,
            visitor_hash="v3",
            link_id="lnk_b",
            rule_index=2,
            destination_url=LONG_URL,
            **common,
        ),
        EnrichedClick(click_id="clk_5", clicked_at=later, visitor_hash="v4", link_id="lnk_c", **common),  # plain
    ]


async def _store(url: str, clicks: list[EnrichedClick]) -> None:
    engine = create_engine(Settings(database_url=url))
    try:
        async with session_scope(create_sessionmaker(engine)) as session:
            await click_service.record_batch(session, clicks, [analytics_service.record_clicks])
    finally:
        await engine.dispose()


async def _decision_rollups(url: str) -> list[tuple[Any, ...]]:
    """Every decision row of both dimension rollup tables, summed over shards (a writer uses its own shard)."""
    engine = create_engine(Settings(database_url=url))
    try:
        async with engine.connect() as connection:
            rows: list[tuple[Any, ...]] = []
            for model in (DimensionRollup, TargetDimensionRollup):
                keys = [c for c in model.__table__.primary_key if c.name != "shard"]
                sums = [func.sum(model.clicks), func.sum(model.unique_clicks), func.sum(model.bot_clicks)]
                result = await connection.execute(
                    select(*keys, *sums).where(model.dimension.in_(DECISIONS)).group_by(*keys).order_by(*keys)
                )
                rows += [(model.__tablename__, *row) for row in result]
            return rows
    finally:
        await engine.dispose()


def test_the_migration_rolls_up_stored_decisions_as_click_storing_does(database_url: str) -> None:
    asyncio.run(_store(database_url, _clicks()))
    stored = asyncio.run(_decision_rollups(database_url))
    values = {row[7] for row in stored if row[0] == "analytics_dimension_rollups"}
    assert values == {"0", "1", "2", "https://example.com/us", LONG_URL[:500]}
    config = alembic_config(database_url)
    command.downgrade(config, "0027j")
    try:
        assert asyncio.run(_decision_rollups(database_url)) == []
    finally:
        command.upgrade(config, "heads")
    assert asyncio.run(_decision_rollups(database_url)) == stored
