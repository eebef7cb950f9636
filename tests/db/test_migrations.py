"""The schema tests run on comes from the migrations; this pins that the migrations match the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

from mask.models import Base


async def test_migrated_schema_matches_the_models(database_url: str) -> None:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            differences = await connection.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(sync, opts={"compare_type": False}), Base.metadata
                )
            )
    finally:
        await engine.dispose()
    assert differences == [], f"models and migrations differ; write a migration: {differences}"
