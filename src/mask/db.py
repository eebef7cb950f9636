"""Database engine, session factory and the per-request session: the one place that commits.

Services never commit. An API request gets one session; it commits once after the endpoint returns
(before the response is sent) and rolls back on any error, so a multi-step change is all or nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, MetaData, String, Tuple, bindparam, event, tuple_
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

from mask.config import Settings
from mask.kit.time import as_utc

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps no zone; PostgreSQL uses timestamptz)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = as_utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else as_utc(value)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers run beside the single writer; busy_timeout makes writers queue instead of failing.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_savepoint_inside_a_transaction(connection: Any, _name: str | None) -> None:
    """pysqlite opens a transaction only at the first INSERT/UPDATE/DELETE. A SAVEPOINT issued before any (a
    request that has only read so far, then `begin_nested()`) opens one of its own, and its RELEASE then commits
    everything: a rollback of the request afterwards undid nothing. Open the transaction first, deferred as the
    first write would have opened it, so that a savepoint is always nested in the request's transaction."""
    if not connection.connection.driver_connection.in_transaction:
        connection.exec_driver_sql("BEGIN")


def create_engine(settings: Settings, **overrides: Any) -> AsyncEngine:
    url = settings.database_url
    options: dict[str, Any] = {}
    if settings.is_sqlite:
        settings.ensure_sqlite_directory()
    else:
        options["pool_size"] = settings.db_pool_size
        options["max_overflow"] = settings.db_pool_size
        options["pool_pre_ping"] = True
    options.update(overrides)
    engine = create_async_engine(url, **options)
    if settings.is_sqlite:
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "savepoint", _sqlite_savepoint_inside_a_transaction)
    return engine


def create_sessionmaker(engine: AsyncEngine, *, info: dict[str, Any] | None = None) -> async_sessionmaker[AsyncSession]:
    """Sessions on `engine`; `info` goes into every session's `info` (the process's signal receivers)."""
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False, info=dict(info or {}))


AfterCommit = Callable[[], Awaitable[None]]


def after_commit(session: AsyncSession, callback: AfterCommit, *, key: Hashable | None = None) -> None:
    """Run `callback` once the session's transaction has committed (never after a rollback).

    For side effects outside the database (cache invalidation, wake-ups) that must not run for a change
    that did not happen. A `key` already scheduled in this transaction is not scheduled again.
    """
    pending: dict[Hashable, AfterCommit] = session.info.setdefault("after_commit", {})
    pending.setdefault(key if key is not None else object(), callback)


@asynccontextmanager
async def session_scope(
    sessionmaker: async_sessionmaker[AsyncSession], *, session: AsyncSession | None = None
) -> AsyncIterator[AsyncSession]:
    """Yield a session; commit if the block ended normally, roll back otherwise. For requests and jobs.

    `session`: one opened earlier for the same unit of work (the API edge's key lookup), adopted and closed here.
    """
    async with session if session is not None else sessionmaker() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        else:
            await session.commit()
            callbacks: dict[Hashable, AfterCommit] = session.info.pop("after_commit", {})
            for callback in callbacks.values():
                await callback()


def keyset(after: tuple[datetime, str]) -> Tuple:
    """The (created_at, id) row value to compare against, typed so SQLite gets its UTC text form."""
    created_at, row_id = after
    return tuple_(bindparam(None, created_at, type_=UTCDateTime()), bindparam(None, row_id, type_=String()))
