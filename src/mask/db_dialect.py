"""The few statements whose spelling differs between SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def dialect_insert(session: AsyncSession, table: Table) -> Any:
    """The backend's INSERT (with `on_conflict_do_update` / `on_conflict_do_nothing`) for the session's bind."""
    dialect = session.get_bind().dialect.name
    module: Any = postgresql if dialect == "postgresql" else sqlite
    return module.insert(table)


def insert_ignore(session: AsyncSession, table: Table, rows: list[dict[str, Any]], *, conflict: list[str]) -> Any:
    """INSERT … ON CONFLICT (conflict) DO NOTHING, for the session's backend."""
    dialect = session.get_bind().dialect.name
    module: Any = postgresql if dialect == "postgresql" else sqlite
    return module.insert(table).values(rows).on_conflict_do_nothing(index_elements=conflict)
