"""The click batch's SQL. PostgreSQL: cached statements run as executemany with RETURNING (asyncpg pipelines
them). SQLite: a handful of multi-row statements per batch instead.

Why SQLite differs: aiosqlite runs each statement in a thread, and the sqlite3 module releases the GIL around
every row it steps through (each row of an executemany, each row a query returns). While the event loop is
busy answering redirects, every re-acquisition of the GIL waits for the loop's switch interval (5 ms), so a
batch of 2,000 per-row steps held SQLite's write lock for seconds. Multi-row statements and aggregated reads
keep a batch to a few steps. Exactness under concurrent writers: PostgreSQL's RETURNING says which rows were
new; on SQLite the click engine's transactions start with BEGIN IMMEDIATE (`mask.click.shipper.writer_engine`),
so reading "what exists" and then inserting the rest happens under the single write lock.
"""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime
from functools import cache
from typing import Any

from sqlalchemy import Table, select, text, update
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession

from mask.click.schemas import EnrichedClick
from mask.db_dialect import insert_ignore
from mask.kit.time import as_utc, utcnow
from mask.models.click import Click, ClickVisitor, DatabaseIdentity
from mask.models.link import Link

CLICKS: Table = Click.__table__  # type: ignore[assignment]
VISITORS: Table = ClickVisitor.__table__  # type: ignore[assignment]
LINKS: Table = Link.__table__  # type: ignore[assignment]
# SQLite allows 32,766 bound parameters per statement; a click row binds 27.
INSERT_CHUNK = 1000
CLICK_COLUMNS = [column.name for column in CLICKS.columns if column.name != "id"]
# The SQLite statements below are built from these column names and `?` placeholders only (hence the S608
# waivers): every value travels as a bound parameter.


@cache
def _processors(dialect: Dialect) -> list[Callable[[Any], Any] | None]:
    """The bind processors SQLAlchemy itself would apply to each click column (datetimes, booleans)."""
    return [bind_processor(CLICKS.c[name].type, dialect) for name in CLICK_COLUMNS]


def bind_processor(type_: Any, dialect: Dialect) -> Callable[[Any], Any] | None:
    """What SQLAlchemy applies to a bound value of this type: a TypeDecorator's own step and then its
    implementation's (on SQLite, a UTCDateTime's text form: 'YYYY-MM-DD HH:MM:SS.ffffff', always with the
    microseconds, so that stored values compare as text with the ones queries bind)."""
    return type_.dialect_impl(dialect).bind_processor(dialect)  # type: ignore[no-any-return]


def _chunks(items: list[Any], size: int = INSERT_CHUNK) -> list[list[Any]]:
    return [items[start : start + size] for start in range(0, len(items), size)]


class ClickRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.dialect = session.get_bind().dialect
        self.sqlite = self.dialect.name == "sqlite"

    async def _raw(self, sql: str, params: list[Any]) -> Any:
        connection = await self.session.connection()
        return await connection.exec_driver_sql(sql, tuple(params))

    async def _aggregate(self, sql: str, params: list[Any]) -> list[str]:
        """Run a query returning one group_concat'ed row (one step), split on commas."""
        value = (await self._raw(sql, params)).scalar()
        return value.split(",") if value else []

    async def existing_ids(self, click_ids: list[str]) -> set[str]:
        """The click_ids among `click_ids` that are already stored (a re-delivered batch)."""
        if not click_ids:
            return set()
        if not self.sqlite:
            result = await self.session.execute(
                text("SELECT click_id FROM clicks WHERE click_id = ANY(CAST(:ids AS VARCHAR[]))"), {"ids": click_ids}
            )
            return set(result.scalars())
        existing: set[str] = set()
        for chunk in _chunks(click_ids):
            marks = ",".join("?" * len(chunk))
            existing.update(
                await self._aggregate(
                    f"SELECT group_concat(click_id, ',') FROM clicks WHERE click_id IN ({marks})",  # noqa: S608
                    chunk,
                )
            )
        return existing

    async def insert_new(self, clicks: list[EnrichedClick]) -> set[str]:
        """Insert clicks (their `is_unique` decided) whose click_id is new; return the click_ids inserted.

        PostgreSQL: one INSERT … SELECT FROM unnest(one array per column) per batch, a single statement
        however many clicks. SQLite: multi-row VALUES of up to INSERT_CHUNK rows."""
        if not clicks:
            return set()
        rows = [_row(click) for click in clicks]
        if not self.sqlite:
            statement = unnest_insert(CLICKS, CLICK_COLUMNS, self.dialect, "ON CONFLICT (click_id) DO NOTHING")
            result = await self.session.execute(
                text(f"{statement} RETURNING click_id"), columns_of(rows, CLICK_COLUMNS)
            )
            return set(result.scalars())
        processors = _processors(self.dialect)
        row_marks = "(" + ",".join("?" * len(CLICK_COLUMNS)) + ")"
        for chunk in _chunks(rows):
            params: list[Any] = []
            for row in chunk:
                params.extend(
                    process(row[name]) if process else row[name]
                    for name, process in zip(CLICK_COLUMNS, processors, strict=True)
                )
            await self._raw(
                f"INSERT INTO clicks ({','.join(CLICK_COLUMNS)}) VALUES "  # noqa: S608
                f"{','.join([row_marks] * len(chunk))} ON CONFLICT (click_id) DO NOTHING",
                params,
            )
        # Under BEGIN IMMEDIATE (the click engine) nobody wrote between existing_ids() and here.
        return {click.click_id for click in clicks}

    async def first_sightings(self, keys: list[tuple[str, date, str]]) -> set[tuple[str, date, str]]:
        """Record (target, day, visitor) sightings; return those that were new."""
        if not keys:
            return set()
        if not self.sqlite:
            names = ["target_id", "day", "visitor_hash"]
            statement = unnest_insert(VISITORS, names, self.dialect, "ON CONFLICT DO NOTHING")
            rows = [dict(zip(names, key, strict=True)) for key in keys]
            result = await self.session.execute(
                text(f"{statement} RETURNING target_id, day, visitor_hash"), columns_of(rows, names)
            )
            return {(row[0], row[1], row[2]) for row in result}
        seen: set[tuple[str, date, str]] = set()
        new: list[tuple[str, date, str]] = []
        for chunk in _chunks(keys):
            params = [value for target, day, visitor in chunk for value in (target, day.isoformat(), visitor)]
            values = ",".join(["(?,?,?)"] * len(chunk))
            for item in await self._aggregate(
                "SELECT group_concat(target_id || ' ' || day || ' ' || visitor_hash, ',') FROM click_visitors "  # noqa: S608
                f"WHERE (target_id, day, visitor_hash) IN (VALUES {values})",
                params,
            ):
                target, day, visitor = item.split(" ")
                seen.add((target, date.fromisoformat(day), visitor))
            fresh = [key for key in chunk if key not in seen]
            if fresh:
                await self._raw(
                    "INSERT INTO click_visitors (target_id, day, visitor_hash) VALUES "  # noqa: S608
                    f"{','.join(['(?,?,?)'] * len(fresh))} ON CONFLICT DO NOTHING",
                    [value for target, day, visitor in fresh for value in (target, day.isoformat(), visitor)],
                )
                new.extend(fresh)
        return set(new)

    async def mark_unique(self, click_ids: list[str]) -> None:
        """Flag stored clicks unique (the rare repair when a click chosen unique was stored by someone else)."""
        for chunk in _chunks(click_ids):
            await self.session.execute(update(Click).where(Click.click_id.in_(chunk)).values(is_unique=True))

    async def add_link_clicks(self, counts: Counter[str], latest: dict[str, datetime]) -> None:
        """One row write per link per batch: a hot link costs one UPDATE per flush, not one per click. Adds
        `counts` to `clicks` and moves `last_clicked_at` forward to `latest` (never back: batches may arrive
        out of order)."""
        if not counts:
            return
        ordered = sorted(counts.items())  # concurrent PostgreSQL writers lock rows in the same order
        if not self.sqlite:
            # One statement; the rows are locked first, in id order (concurrent writers never deadlock).
            await self.session.execute(
                text(
                    "UPDATE links SET clicks = links.clicks + d.added, "
                    "last_clicked_at = CASE WHEN links.last_clicked_at IS NULL OR links.last_clicked_at < d.at "
                    "THEN d.at ELSE links.last_clicked_at END "
                    "FROM (SELECT * FROM unnest(CAST(:ids AS VARCHAR[]), CAST(:added AS BIGINT[]), "
                    "CAST(:at AS TIMESTAMPTZ[])) AS u(id, added, at)) AS d "
                    "WHERE links.id = d.id AND links.id IN "
                    "(SELECT id FROM links WHERE id = ANY(CAST(:ids AS VARCHAR[])) ORDER BY id FOR UPDATE)"
                ),
                {
                    "ids": [link_id for link_id, _ in ordered],
                    "added": [n for _, n in ordered],
                    "at": [as_utc(latest[link_id]) for link_id, _ in ordered],
                },
            )
            return
        to_text = bind_processor(LINKS.c.last_clicked_at.type, self.dialect)
        assert to_text is not None
        for chunk in _chunks(ordered, 500):
            cases = " ".join(["WHEN ? THEN ?"] * len(chunk))
            params = [value for link_id, added in chunk for value in (link_id, added)]
            params += [value for link_id, _ in chunk for value in (link_id, to_text(latest[link_id]))]
            params += [link_id for link_id, _ in chunk]
            # Stored as 'YYYY-MM-DD HH:MM:SS.ffffff' text, which sorts as time does; '' is before any of it.
            await self._raw(
                f"UPDATE links SET clicks = clicks + CASE id {cases} END, "  # noqa: S608
                f"last_clicked_at = max(coalesce(last_clicked_at, ''), CASE id {cases} END) "
                f"WHERE id IN ({','.join('?' * len(chunk))})",
                params,
            )


def unnest_insert(table: Table, names: list[str], dialect: Dialect, conflict: str) -> str:
    """PostgreSQL: INSERT INTO table (names) SELECT FROM unnest(one typed array parameter per column), each
    parameter named like its column (`columns_of`)."""
    arrays = ", ".join(f"CAST(:{name} AS {table.c[name].type.compile(dialect)}[])" for name in names)
    return f"INSERT INTO {table.name} ({', '.join(names)}) SELECT * FROM unnest({arrays}) {conflict}"  # noqa: S608


def columns_of(rows: list[dict[str, Any]], names: list[str]) -> dict[str, list[Any]]:
    """Rows turned into one list per column, for `unnest_insert`."""
    return {name: [row[name] for row in rows] for name in names}


def _row(click: EnrichedClick) -> dict[str, Any]:
    return {
        "click_id": click.click_id,
        "workspace_id": click.workspace_id,
        "link_id": click.link_id,
        "bio_page_id": click.bio_page_id,
        "bio_block_id": click.bio_block_id,
        "domain": click.domain,
        "clicked_at": as_utc(click.clicked_at),
        "country": click.country,
        "city": click.city,
        "device": click.device,
        "browser": click.browser,
        "os": click.os,
        "referrer": click.referrer,
        "referrer_url": click.referrer_url,
        "utm_source": click.utm_source,
        "utm_medium": click.utm_medium,
        "utm_campaign": click.utm_campaign,
        "utm_term": click.utm_term,
        "utm_content": click.utm_content,
        "is_bot": click.is_bot,
        "visitor_hash": click.visitor_hash,
        "is_unique": click.is_unique,
        "trigger": click.trigger,
        "traffic_type": click.traffic_type,
        "bot_name": click.bot_name,
        "orphan_type": click.orphan_type,
        "path": click.path,
        "destination_url": click.destination_url,
        "rule_index": click.rule_index,
        "variant": click.variant,
        "passed_password": click.passed_password,
    }


async def database_identity(session: AsyncSession, *, lock_wait_seconds: float | None = None) -> str:
    """This database's identity (mask.models.click.DatabaseIdentity), made on first use; two processes making it
    at once agree on the first one written. `lock_wait_seconds` (PostgreSQL): how long to wait for another
    transaction that is making it too before giving up with an error, rather than for as long as it lasts."""
    identity = await session.scalar(select(DatabaseIdentity.identity).where(DatabaseIdentity.id == 1))
    if identity is None:
        if lock_wait_seconds is not None and session.get_bind().dialect.name == "postgresql":
            await session.execute(text(f"SET LOCAL lock_timeout = '{int(lock_wait_seconds * 1000)}ms'"))
        row = {"id": 1, "identity": secrets.token_hex(8), "created_at": utcnow()}
        await session.execute(insert_ignore(session, DatabaseIdentity.__table__, [row], conflict=["id"]))  # type: ignore[arg-type]
        identity = await session.scalar(select(DatabaseIdentity.identity).where(DatabaseIdentity.id == 1))
    assert identity is not None
    return identity
