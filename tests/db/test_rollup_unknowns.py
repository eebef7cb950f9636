"""Revision 0018s: rollups keep known dimension values only. Upgrading deletes the rows of empty values the
earlier click storing wrote; downgrading writes them back as total minus known, which is what that storing
wrote for the same clicks (a breakdown's rows add up to its total again)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from alembic import command
from sqlalchemy import select

from mask.analytics import service as analytics_service
from mask.analytics.query import DIMENSIONS, ClickQuery, ValueFilter
from mask.analytics.repository import SqlClickStore
from mask.click import service as click_service
from mask.click.schemas import EnrichedClick
from mask.config import Settings
from mask.db import create_engine, create_sessionmaker, session_scope
from mask.migrate import alembic_config
from mask.models.analytics import DimensionRollup, TargetDimensionRollup, TargetRollup

WORKSPACE = "ws_a"


def _clicks() -> list[EnrichedClick]:
    at = datetime(2026, 3, 8, 4, 30, tzinfo=UTC)
    clicks = []
    for i in range(12):
        clicks.append(
            EnrichedClick(
                click_id=f"clk_{i}",
                clicked_at=at + timedelta(hours=7 * i),
                workspace_id=WORKSPACE,
                domain="localhost:8000",
                visitor_hash=f"v{i % 4}",
                link_id=None if i == 11 else f"lnk_{i % 3}",
                bio_page_id="bio_a" if i == 11 else None,
                country=["US", "DE", None][i % 3],
                referrer="t.co" if i % 4 == 0 else None,
                utm_source="mail" if i == 5 else None,
                is_bot=i == 7,
                trigger="bio" if i == 11 else "link",
            )
        )
    return clicks


async def _rows(url: str) -> dict[str, set[tuple[Any, ...]]]:
    engine = create_engine(Settings(database_url=url))
    try:
        async with engine.connect() as connection:
            rows = {}
            for model in (TargetRollup, DimensionRollup, TargetDimensionRollup):
                keys = [c for c in model.__table__.primary_key if c.name != "shard"]
                columns = [*keys, model.clicks, model.unique_clicks, model.bot_clicks]
                rows[model.__tablename__] = {tuple(row) for row in await connection.execute(select(*columns))}
            return rows
    finally:
        await engine.dispose()


async def _answers(url: str) -> list[Any]:
    """Breakdowns and totals from the rollups, per workspace and per link, unfiltered and excluding US."""
    engine = create_engine(Settings(database_url=url))
    start, end = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC)
    try:
        async with session_scope(create_sessionmaker(engine)) as session:
            store = SqlClickStore(session)
            answers: list[Any] = []
            for link in (None, "lnk_0"):
                for exclude in ((), (ValueFilter("country", exclude=frozenset({"US"})),)):
                    links = (ValueFilter("link_id", include=frozenset({link})),) if link else ()
                    query = ClickQuery(WORKSPACE, start, end, filters=(*links, *exclude))
                    answers.append(await store.totals(query))
                    for column in ("country", "referrer", "utm_source"):
                        answers.append(await store.breakdown(query, (column,), limit=100))
            return answers
    finally:
        await engine.dispose()


async def _store(url: str) -> None:
    engine = create_engine(Settings(database_url=url))
    try:
        async with session_scope(create_sessionmaker(engine)) as session:
            await click_service.record_batch(session, _clicks(), [analytics_service.record_clicks])
    finally:
        await engine.dispose()


def test_unknown_rows_are_dropped_on_upgrade_and_rebuilt_as_total_minus_known_on_downgrade(
    database_url: str,
) -> None:
    asyncio.run(_store(database_url))
    stored = asyncio.run(_rows(database_url))
    answers = asyncio.run(_answers(database_url))
    assert any(row.keys == (None,) for answer in answers if isinstance(answer, list) for row in answer)
    assert not any(row[6] == "" and row[2] != "total" for row in stored["analytics_dimension_rollups"])
    assert not any(row[7] == "" for row in stored["analytics_target_dimension_rollups"])

    config = alembic_config(database_url)
    command.downgrade(config, "0020c")
    try:
        old = asyncio.run(_rows(database_url))
        # As the earlier storing kept them: every dimension's rows, unknown included, add up to the totals.
        workspace = old["analytics_dimension_rollups"]
        totals = {(row[0], row[1], row[3], row[4], row[5]): row[-3:] for row in workspace if row[2] == "total"}
        for dimension in DIMENSIONS[: DIMENSIONS.index("traffic_type")]:  # those 0020c had
            sums: dict[tuple[Any, ...], list[int]] = {}
            for row in workspace:
                if row[2] == dimension:
                    total = sums.setdefault((row[0], row[1], row[3], row[4], row[5]), [0, 0, 0])
                    for i in range(3):
                        total[i] += row[-3 + i]
            assert {key: tuple(value) for key, value in sums.items()} == totals, dimension
        unknown_countries = [row for row in workspace if row[2] == "country" and row[6] == ""]
        assert sum(row[-3] + row[-1] for row in unknown_countries if row[3] == 2) == 4  # 4 of 12: no country
        per_target = old["analytics_target_dimension_rollups"]
        assert ("ws_a", 1, "trigger", "bio") in {(r[0], r[1], r[2], r[7]) for r in per_target}
        assert any(row[2] == "utm_source" and row[7] == "" for row in per_target)
    finally:
        command.upgrade(config, "heads")
    assert asyncio.run(_rows(database_url)) == stored
    assert asyncio.run(_answers(database_url)) == answers
