"""A savepoint is nested in the request's transaction on both backends: rolling the request back undoes what was
written inside a released savepoint (pysqlite used to commit it at RELEASE when nothing had been written before)."""

from __future__ import annotations

import secrets

from sqlalchemy import func, insert, select

from mask.config import Settings
from mask.db import create_engine, create_sessionmaker
from mask.kit.ids import new_id
from mask.models.workspace import Workspace


def _workspace() -> dict[str, str]:
    handle = f"sp{secrets.token_hex(4)}"
    return {"id": new_id("ws"), "slug": handle, "name": handle}


async def _count(settings: Settings) -> int:
    engine = create_engine(settings)
    try:
        async with engine.connect() as connection:
            return int(await connection.scalar(select(func.count()).select_from(Workspace)) or 0)
    finally:
        await engine.dispose()


async def test_a_rollback_undoes_what_a_released_savepoint_wrote_even_as_the_first_write(settings: Settings) -> None:
    engine = create_engine(settings)
    sessionmaker = create_sessionmaker(engine)
    before = await _count(settings)
    try:
        async with sessionmaker() as session:
            await session.execute(select(func.count()).select_from(Workspace))  # a read first, as requests do
            async with session.begin_nested():
                await session.execute(insert(Workspace), [_workspace()])
            async with session.begin_nested():  # a second one, after the first was released
                await session.execute(insert(Workspace), [_workspace()])
            await session.rollback()
        assert await _count(settings) == before

        async with sessionmaker() as session:
            async with session.begin_nested():
                await session.execute(insert(Workspace), [_workspace()])
            try:
                async with session.begin_nested():  # rolled back alone: the first one's row stays
                    await session.execute(insert(Workspace), [_workspace()])
                    raise LookupError
            except LookupError:
                pass
            async with session.begin_nested():
                await session.execute(insert(Workspace), [_workspace()])
            await session.commit()
        assert await _count(settings) == before + 2
    finally:
        await engine.dispose()
