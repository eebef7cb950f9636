"""The SQL of bulk link operations: multi-row statements, chunked under the backends' parameter limits."""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

import asyncpg
from sqlalchemy import String, Table, and_, bindparam, delete, func, literal, or_, select, true, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from mask.db_dialect import insert_ignore
from mask.models.link import Link, LinkTitleFetch
from mask.models.tag import link_tags

CHUNK = 500  # rows per IN list or multi-row statement: under SQLite's and asyncpg's parameter limits
T = TypeVar("T")
LINKS: Table = Link.__table__  # type: ignore[assignment]
TITLE_FETCHES: Table = LinkTitleFetch.__table__  # type: ignore[assignment]


def chunks(items: Sequence[T], size: int = CHUNK) -> Iterable[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@functools.lru_cache(maxsize=32)
def _positional_insert(table: Table, keys: tuple[str, ...], dialect: Dialect) -> tuple[str, list[str]]:
    """`INSERT INTO table (keys) VALUES (?, …)` as the dialect spells it, and the keys in placeholder order."""
    compiled = table.insert().values({key: bindparam(key) for key in keys}).compile(dialect=dialect)
    return str(compiled), list(compiled.positiontup or [])


@functools.lru_cache(maxsize=128)
def _bind_processor(table: Table, key: str, dialect: Dialect) -> Callable[[Any], Any] | None:
    """What SQLAlchemy does to a value of `table.key` before the driver gets it, if anything."""
    return table.c[key].type.dialect_impl(dialect).bind_processor(dialect)


def _processed(values: list[Any], process: Callable[[Any], Any]) -> list[Any]:
    """`process` applied to each value, once per distinct value (a batch's rows share their times)."""
    try:
        done = {value: process(value) for value in set(values)}
    except TypeError:  # unhashable values (JSON)
        return [process(value) for value in values]
    return [done[value] for value in values]


class BulkRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def _postgresql(self) -> bool:
        return self.session.get_bind().dialect.name == "postgresql"

    async def _probe(self, first: Any, second: Any, pairs: list[tuple[str, str]], *extra: Any) -> list[Any]:
        """PostgreSQL: the rows of `links` at each of `pairs` of (first, second), a unique index, found with one
        index lookup per pair (a LATERAL subquery over the unnested lists, one statement for the whole batch).
        `first = x AND second IN (…)` let the planner scan every row of `first` and filter them against the
        list whenever its statistics lag (a table that grew by a big import since its last ANALYZE): a second
        or more per 500 slugs at 40,000 links, growing with the table."""
        wanted = (
            func.unnest(
                literal([pair[0] for pair in pairs], ARRAY(String)), literal([pair[1] for pair in pairs], ARRAY(String))
            )
            .table_valued("first", "second")
            .render_derived(name="wanted")
        )
        found = (
            select(first, second, *extra)
            .where(first == wanted.c.first, second == wanted.c.second)
            .limit(1)
            .lateral("found")
        )
        result = await self.session.execute(select(found).select_from(wanted).join(found, true()))
        return list(result)

    async def slug_owners(self, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], tuple[str, str]]:
        """(domain, slug) → (workspace id, link id) of the links already holding any of `pairs`."""
        wanted = sorted(set(pairs))
        found: dict[tuple[str, str], tuple[str, str]] = {}
        if wanted and self._postgresql():
            for domain, slug, workspace_id, link_id in await self._probe(
                Link.domain, Link.slug, wanted, Link.workspace_id, Link.id
            ):
                found[str(domain), str(slug)] = (str(workspace_id), str(link_id))
            return found
        for part in chunks(wanted):
            by_domain: dict[str, list[str]] = {}
            for domain, slug in part:
                by_domain.setdefault(domain, []).append(slug)
            condition = or_(*(and_(Link.domain == domain, Link.slug.in_(slugs)) for domain, slugs in by_domain.items()))
            result = await self.session.execute(
                select(Link.domain, Link.slug, Link.workspace_id, Link.id).where(condition)
            )
            for domain, slug, workspace_id, link_id in result:
                found[str(domain), str(slug)] = (str(workspace_id), str(link_id))
        return found

    async def external_ids_taken(self, workspace_id: str, external_ids: Iterable[str]) -> set[str]:
        wanted = sorted(set(external_ids))
        taken: set[str] = set()
        if wanted and self._postgresql():
            rows = await self._probe(Link.workspace_id, Link.external_id, [(workspace_id, name) for name in wanted])
            return {str(row[1]) for row in rows}
        for part in chunks(wanted):
            result = await self.session.execute(
                select(Link.external_id).where(Link.workspace_id == workspace_id, Link.external_id.in_(part))
            )
            taken.update(str(row[0]) for row in result)
        return taken

    # Links, their tags and title fetches go in through the driver's own bulk path (`_copy_in`): COPY on
    # PostgreSQL, executemany on SQLite, any number of rows in one statement (no parameter limit to chunk under).

    async def insert_links(self, rows: list[dict[str, Any]]) -> None:
        await self._copy_in(LINKS, rows)

    async def insert_link_tags(self, rows: list[dict[str, str]]) -> None:
        await self._copy_in(link_tags, rows)

    async def add_link_tags(self, rows: list[dict[str, str]]) -> None:
        """Attach tags, leaving those a link already has."""
        for part in chunks(rows):
            await self.session.execute(
                insert_ignore(self.session, link_tags, list(part), conflict=["link_id", "tag_id"])
            )

    async def remove_link_tags(self, link_ids: Sequence[str], tag_ids: Sequence[str]) -> None:
        if not tag_ids:
            return
        for part in chunks(link_ids):
            await self.session.execute(
                delete(link_tags).where(link_tags.c.link_id.in_(part), link_tags.c.tag_id.in_(tag_ids))
            )

    async def tag_counts(self, link_ids: Sequence[str]) -> dict[str, int]:
        counts: dict[str, int] = {}
        for part in chunks(link_ids):
            result = await self.session.execute(
                select(link_tags.c.link_id, func.count())
                .where(link_tags.c.link_id.in_(part))
                .group_by(link_tags.c.link_id)
            )
            counts.update({str(link_id): int(count) for link_id, count in result})
        return counts

    async def insert_title_fetches(self, rows: list[dict[str, Any]]) -> None:
        await self._copy_in(TITLE_FETCHES, rows)

    async def _copy_in(self, table: Table, rows: Sequence[dict[str, Any]]) -> None:
        """Insert `rows` (dicts with the same keys) the fastest way each driver has: PostgreSQL's binary COPY
        (asyncpg encodes every value in C, one round trip), SQLite's executemany (one prepared statement stepped
        in C). SQLAlchemy's multi-row INSERT costs three times the CPU of either: it builds and binds a
        placeholder per value in Python. Values still go through each column's bind processing, columns left out
        get their scalar defaults, and a broken constraint is an IntegrityError, all as `session.execute` does.
        Where the driver would autocommit, the statement goes through SQLAlchemy, which opens the transaction."""
        if not rows:
            return
        connection = await self.session.connection()
        driver: Any = (await connection.get_raw_connection()).driver_connection  # asyncpg's or aiosqlite's
        dialect = connection.dialect
        postgresql = dialect.name == "postgresql"
        # asyncpg outside a transaction autocommits; sqlite3 opens one before an INSERT itself (as it does for
        # SQLAlchemy's own INSERT) unless it was put in autocommit mode.
        in_transaction = driver is not None and (
            driver.is_in_transaction() if postgresql else driver.in_transaction or driver.isolation_level is not None
        )
        if not in_transaction:
            for part in chunks(rows):
                await connection.execute(table.insert(), list(part))
            return
        columns: dict[str, list[Any]] = {}
        for key in rows[0]:
            values = [row[key] for row in rows]
            process = _bind_processor(table, key, dialect)
            columns[key] = values if process is None else _processed(values, process)
        for column in table.c:
            if column.key not in columns and column.default is not None:
                if not getattr(column.default, "is_scalar", False):
                    raise ValueError(f"{table.name}.{column.key} has a computed default: give it in every row")
                columns[column.key] = [getattr(column.default, "arg", None)] * len(rows)
        try:
            if postgresql:
                records = list(zip(*columns.values(), strict=True))
                await driver.copy_records_to_table(table.name, records=records, columns=list(columns))
            else:
                statement, order = _positional_insert(table, tuple(columns), dialect)
                records = list(zip(*(columns[key] for key in order), strict=True))
                await (await driver.executemany(statement, records)).close()
        except (asyncpg.IntegrityConstraintViolationError, sqlite3.IntegrityError) as error:
            raise IntegrityError(f"bulk insert into {table.name}", None, error) from error

    async def links(
        self, workspace_id: str, *, ids: Sequence[str] = (), external_ids: Sequence[str] = (), fresh: bool = False
    ) -> list[Link]:
        """The workspace's links among `ids` or `external_ids` (others' and unknown ones are left out); `fresh`
        reloads rows the session already holds (after a multi-row UPDATE)."""
        found: list[Link] = []
        column = Link.id if ids else Link.external_id
        for part in chunks(list(ids or external_ids)):
            statement = select(Link).where(Link.workspace_id == workspace_id, column.in_(part))
            result = await self.session.execute(statement.execution_options(populate_existing=fresh))
            found.extend(result.scalars())
        return found

    async def update_links(self, link_ids: Sequence[str], values: dict[str, Any]) -> None:
        for part in chunks(link_ids):
            await self.session.execute(
                update(Link).where(Link.id.in_(part)).values(**values).execution_options(synchronize_session=False)
            )

    async def delete_links(self, link_ids: Sequence[str]) -> None:
        for part in chunks(link_ids):
            await self.session.execute(
                delete(Link).where(Link.id.in_(part)).execution_options(synchronize_session=False)
            )
