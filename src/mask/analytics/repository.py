"""SQL for analytics: `SqlClickStore`, the rollup-backed `ClickStore` on SQLite and PostgreSQL.

Every question becomes one statement: a UNION ALL of partial aggregates, one per stored form and time
piece (raw clicks for sub-hour edges, hour rollups, day rollups; see mask.analytics.planner), summed,
ordered and limited by an outer query.
"""

from __future__ import annotations

import os
from bisect import bisect_right
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    DateTime,
    Integer,
    Select,
    SmallInteger,
    String,
    and_,
    bindparam,
    case,
    cast,
    delete,
    false,
    func,
    literal,
    literal_column,
    or_,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.expression import Subquery

from mask.analytics.planner import TOTAL, Source, Table, choose_source, floor_grain, plan_ranges
from mask.analytics.query import (
    CUT,
    INTEGER_DECISIONS,
    ROLLED_UP,
    TAG,
    TARGETS,
    UNKNOWN,
    BotMode,
    ClickQuery,
    Counts,
    Event,
    Row,
    ValueFilter,
)
from mask.analytics.rollup import rollup_deltas
from mask.click.repository import bind_processor
from mask.click.schemas import EnrichedClick
from mask.kit.time import as_utc
from mask.models.analytics import VALUE_LENGTH, DimensionRollup, Grain, TargetDimensionRollup, TargetRollup
from mask.models.click import Click, ClickRetentionMark, ClickVisitor
from mask.models.link import Link
from mask.models.tag import Tag, link_tags
from mask.models.workspace import Workspace

SHARDS = 8
UPSERT_CHUNK = 2000  # rollup rows per SQLite statement (12 parameters each; SQLite binds at most 32,766)
COUNTS = ("clicks", "unique_clicks", "bot_clicks")
# Time ranges per partial aggregate (an OR of ranges); more become further UNION ALL parts.
RANGES_PER_PART = 100

Key = tuple[Any, ...]
# Constants inside grouping expressions are inlined, not bound: PostgreSQL matches a SELECT expression to its
# GROUP BY twin textually, and two bound parameters never match.
EMPTY: ColumnElement[str] = literal_column("''")


def _constants(name: str, values: Sequence[int | str]) -> Subquery:
    """A one-column table of constants (SELECT … UNION ALL SELECT …), crossed with the clicks to make one
    rollup row per grain or dimension of each click."""
    rows: list[Select[Any]] = [
        select(literal_column(repr(value) if isinstance(value, str) else str(value)).label(name)) for value in values
    ]
    return union_all(*rows).subquery(f"{name}s")


class SqlClickStore:
    """ClickStore over the clicks table and the analytics rollup tables of the session's database."""

    def __init__(self, session: AsyncSession, *, use_rollups: bool = True) -> None:
        self.session = session
        self.dialect = session.get_bind().dialect.name
        # False: answer everything from the raw clicks (the reference the tests compare the rollups with).
        self.use_rollups = use_rollups
        self._shared = 0  # common table expressions named so far (their names must differ within a statement)

    # --- writing -------------------------------------------------------------------------------------------

    async def record(self, clicks: Sequence[EnrichedClick]) -> None:
        """Add a batch of just-stored clicks to every rollup.

        The batch is summed in Python (`mask.analytics.rollup`: known dimension values only), then each table's
        rows are added with one upsert per table and chunk, in key order (concurrent writers on one shard take
        row locks in the same order: no deadlock): on PostgreSQL INSERT … SELECT FROM unnest(one array per
        column) ON CONFLICT DO UPDATE, a single statement whatever the number of rows; on SQLite a multi-row
        VALUES upsert of up to UPSERT_CHUNK rows (few steps: see mask.click.repository on the GIL).
        """
        if not clicks:
            return
        # One shard per writer process: concurrent writers rarely share one, so they rarely wait on the same
        # rows, and a row is split over at most as many shards as there are writers.
        shard = os.getpid() % SHARDS
        deltas = rollup_deltas(clicks)
        for model, rows in (
            (TargetRollup, deltas.target),
            (DimensionRollup, deltas.dimension),
            (TargetDimensionRollup, deltas.target_dimension),
        ):
            await self._upsert(model.__table__, rows, shard)

    async def _upsert(self, table: Any, rows: dict[Key, list[int]], shard: int) -> None:
        if not rows:
            return
        keys = [column.name for column in table.primary_key if column.name != "shard"]
        names = [*keys, "shard", *COUNTS]
        conflict = f"ON CONFLICT ({', '.join([*keys, 'shard'])}) DO UPDATE SET " + ", ".join(
            f"{name} = {table.name}.{name} + excluded.{name}" for name in COUNTS
        )
        ordered = sorted(rows.items())
        connection = await self.session.connection()
        dialect = connection.dialect
        if self.dialect == "postgresql":
            arrays = ", ".join(f"CAST(:{name} AS {table.c[name].type.compile(dialect)}[])" for name in names)
            columns: list[list[Any]] = [list(column) for column in zip(*(key for key, _ in ordered), strict=True)]
            columns.append([shard] * len(ordered))
            columns += [list(column) for column in zip(*(counts for _, counts in ordered), strict=True)]
            await self.session.execute(
                text(f"INSERT INTO {table.name} ({', '.join(names)}) SELECT * FROM unnest({arrays}) {conflict}"),  # noqa: S608
                dict(zip(names, columns, strict=True)),
            )
            return
        processors = [bind_processor(table.c[name].type, dialect) for name in keys]
        marks = "(" + ",".join("?" * len(names)) + ")"
        for start in range(0, len(ordered), UPSERT_CHUNK):
            chunk = ordered[start : start + UPSERT_CHUNK]
            params: list[Any] = []
            for key, counts in chunk:
                params.extend(
                    process(value) if process else value for value, process in zip(key, processors, strict=True)
                )
                params.append(shard)
                params.extend(counts)
            await connection.exec_driver_sql(
                f"INSERT INTO {table.name} ({', '.join(names)}) VALUES "  # noqa: S608
                f"{','.join([marks] * len(chunk))} {conflict}",
                tuple(params),
            )

    async def rebuild(
        self, workspace_id: str | None = None, start: datetime | None = None, end: datetime | None = None
    ) -> None:
        """Recompute the rollups from the raw clicks with INSERT … SELECT … GROUP BY (a backfill, a repair, or a
        bulk load that bypassed the click listener), of one workspace or all, of the UTC days in [start, end)
        or all time. Hours and per-target days from raw; the rest from those; the months the days touch from
        their day rows. Every row lands in shard 0. On PostgreSQL the rollup tables are locked against click
        batches for the transaction (a batch waits, then adds its clicks to the rebuilt rows); on SQLite the
        first DELETE takes the database's write lock. Days before the retention mark (MASK_CLICK_RETENTION_DAYS
        dropped their raw clicks) are never rebuilt: [start, end) is cut to the days after it."""
        for bound in (start, end):
            assert bound is None or floor_grain(bound, Grain.day) == bound, "whole UTC days"
        dropped = await self.dropped_before()
        if dropped is not None and (start is None or start < dropped):
            # Days whose raw clicks retention dropped keep their rollups: rebuilding them would wipe them.
            start = dropped
            if end is not None and end <= start:
                return
        if self.dialect == "postgresql":  # big GROUP BYs: hash them in memory rather than sorting on disk
            await self.session.execute(text("SET LOCAL work_mem = '256MB'"))
            for model in (TargetRollup, DimensionRollup, TargetDimensionRollup):
                await self.session.execute(text(f"LOCK TABLE {model.__tablename__} IN SHARE ROW EXCLUSIVE MODE"))
        # The months the days touch: rebuilt whole, from their day rows (those outside [start, end) are kept).
        months = (
            floor_grain(start, Grain.month) if start is not None else None,
            floor_grain(floor_grain(end - timedelta(microseconds=1), Grain.month) + timedelta(days=32), Grain.month)
            if end is not None
            else None,
        )
        rollups: tuple[Any, ...] = (TargetRollup, DimensionRollup, TargetDimensionRollup)
        for model in rollups:
            statement = delete(model).where(*self._scope(model, workspace_id))
            if model is TargetDimensionRollup:
                statement = statement.where(*_within(model.day, start, end))
            else:
                statement = statement.where(
                    or_(
                        and_(model.grain != Grain.month.value, *_within(model.bucket, start, end)),
                        and_(model.grain == Grain.month.value, *_within(model.bucket, *months)),
                    )
                )
            await self.session.execute(statement)
        raw_scope = [*self._scope(Click, workspace_id), *_within(Click.clicked_at, start, end)]
        raw_sums = [
            func.sum(case((Click.is_bot, 0), else_=1)),
            func.sum(case((Click.is_unique, 1), else_=0)),
            func.sum(case((Click.is_bot, 1), else_=0)),
        ]
        event = self._raw_event()
        hour = self._truncate(Click.clicked_at, Grain.hour)
        day = self._truncate(Click.clicked_at, Grain.day)
        link, page = func.coalesce(Click.link_id, EMPTY), func.coalesce(Click.bio_page_id, EMPTY)
        target: dict[str, Any] = {
            "workspace_id": Click.workspace_id,
            "event": event,
            "link_id": link,
            "bio_page_id": page,
            "domain": Click.domain,
        }

        await self._insert_grouped(
            TargetRollup,
            {**target, "bio_block_id": func.coalesce(Click.bio_block_id, EMPTY), "bucket": hour},
            {"grain": Grain.hour.value},
            raw_sums,
            raw_scope,
        )
        for dimension in ROLLED_UP:
            value = self._raw_value(dimension)
            await self._insert_grouped(
                DimensionRollup,
                {
                    "workspace_id": Click.workspace_id,
                    "event": event,
                    "bucket": hour,
                    "domain": Click.domain,
                    "value": value,
                },
                {"dimension": dimension, "grain": Grain.hour.value},
                raw_sums,
                [*raw_scope, value != EMPTY],  # unknown values: derived from the totals when read
            )
            await self._insert_grouped(
                TargetDimensionRollup,
                {**target, "day": day, "value": value},
                {"dimension": dimension},
                raw_sums,
                [*raw_scope, value != EMPTY],
            )

        # From the hour rows: workspace totals per hour, then every day row, then every month row.
        t = TargetRollup
        await self._insert_grouped(
            DimensionRollup,
            {"workspace_id": t.workspace_id, "event": t.event, "bucket": t.bucket, "domain": t.domain},
            {"dimension": TOTAL, "grain": Grain.hour.value, "value": ""},
            self._sums(t),
            [t.grain == Grain.hour.value, *self._scope(t, workspace_id), *_within(t.bucket, start, end)],
        )
        for model, columns in (
            (TargetRollup, ("link_id", "bio_page_id", "bio_block_id", "domain")),
            (DimensionRollup, ("dimension", "domain", "value")),
        ):
            for finer, coarser, scope in ((Grain.hour, Grain.day, (start, end)), (Grain.day, Grain.month, months)):
                await self._insert_grouped(
                    model,
                    {
                        "workspace_id": model.workspace_id,
                        "event": model.event,
                        "bucket": self._truncate(model.bucket, coarser),
                        **{name: getattr(model, name) for name in columns},
                    },
                    {"grain": coarser.value},
                    self._sums(model),
                    [model.grain == finer.value, *self._scope(model, workspace_id), *_within(model.bucket, *scope)],
                )

    async def erase(self, workspace_id: str, *, link_id: str | None = None, bio_page_id: str | None = None) -> None:
        """Take every click of one link, or of one bio page (its views and its blocks' clicks), out of the raw
        clicks and every rollup, in the caller's transaction (which has locked the link's or page's row).

        The workspace-wide rows (`analytics_dimension_rollups`) lose what the target's own rows say it added:
        the `total` rows of every grain from the target's hour/day/month rows, the dimension values' day and
        month rows from the target's per-day dimension rows, and the values' hour rows from the raw clicks (the
        only place that has them: for days whose raw clicks were dropped by MASK_CLICK_RETENTION_DAYS, those hour
        rows keep the target's clicks). The subtraction is an upsert of negative counts into shard 0: readers
        sum over shards. Then the target's own rollup rows, raw clicks and first sightings go.

        On PostgreSQL the rollup tables are locked against click batches first (as `rebuild` does): a batch that
        holds a row of this target's link or page already committed before the caller's row lock was granted; one
        that did not waits, and its clicks are new clicks, counted after this transaction."""
        assert (link_id is None) != (bio_page_id is None), "one target"
        if self.dialect == "postgresql":
            for model in (TargetRollup, DimensionRollup, TargetDimensionRollup):
                await self.session.execute(text(f"LOCK TABLE {model.__tablename__} IN SHARE ROW EXCLUSIVE MODE"))

        def of_target(model: Any) -> list[ColumnElement[bool]]:
            column = model.link_id if link_id is not None else model.bio_page_id
            return [model.workspace_id == workspace_id, column == (link_id if link_id is not None else bio_page_id)]

        t, td = TargetRollup, TargetDimensionRollup
        # Block ids whose first sightings go too (a page's views and each block's clicks are separate targets).
        blocks: list[str] = []
        if bio_page_id is not None:
            found = await self.session.execute(
                select(t.bio_block_id).where(*of_target(t), t.bio_block_id != "").distinct()
            )
            blocks = list(found.scalars())
        await self._subtract(
            {
                "workspace_id": t.workspace_id,
                "event": t.event,
                "grain": t.grain,
                "bucket": t.bucket,
                "domain": t.domain,
            },
            {"dimension": TOTAL, "value": ""},
            self._sums(t),
            of_target(t),
        )
        for grain in (Grain.day, Grain.month):
            await self._subtract(
                {
                    "workspace_id": td.workspace_id,
                    "event": td.event,
                    "dimension": td.dimension,
                    "bucket": td.day if grain is Grain.day else self._truncate(td.day, Grain.month),
                    "domain": td.domain,
                    "value": td.value,
                },
                {"grain": grain.value},
                self._sums(td),
                of_target(td),
            )
        raw_target = of_target(Click)
        for dimension in ROLLED_UP:
            value = self._raw_value(dimension)
            await self._subtract(
                {
                    "workspace_id": Click.workspace_id,
                    "event": self._raw_event(),
                    "bucket": self._truncate(Click.clicked_at, Grain.hour),
                    "domain": Click.domain,
                    "value": value,
                },
                {"dimension": dimension, "grain": Grain.hour.value},
                self._raw_sums(),
                [*raw_target, value != EMPTY],
            )
        for model in (TargetRollup, TargetDimensionRollup):
            await self.session.execute(delete(model).where(*of_target(model)))
        await self.session.execute(delete(Click).where(*raw_target))
        targets = [link_id] if link_id is not None else [bio_page_id, *blocks]
        await self.session.execute(delete(ClickVisitor).where(ClickVisitor.target_id.in_(targets)))

    async def _subtract(
        self, keys: dict[str, Any], constants: dict[str, Any], sums: Sequence[Any], where: Sequence[Any]
    ) -> None:
        """Add the negated sums of a grouped SELECT to the workspace-wide rollup rows, in shard 0."""
        table: Any = DimensionRollup.__table__
        names = [*keys, *constants, "shard", *COUNTS]
        columns = [
            *keys.values(),
            *(literal(value, table.c[name].type) for name, value in constants.items()),
            literal(0, SmallInteger),
            *(-total for total in sums),
        ]
        select_ = select(*columns).where(*where).group_by(*keys.values())
        insert_ = (postgresql_insert if self.dialect == "postgresql" else sqlite_insert)(table)
        statement = insert_.from_select([table.c[name] for name in names], select_)
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=[column.name for column in table.primary_key],
                set_={name: table.c[name] + statement.excluded[name] for name in COUNTS},
            )
        )

    def _raw_sums(self) -> list[Any]:
        return [
            func.sum(case((Click.is_bot, 0), else_=1)),
            func.sum(case((Click.is_unique, 1), else_=0)),
            func.sum(case((Click.is_bot, 1), else_=0)),
        ]

    def _raw_event(self) -> ColumnElement[Any]:
        """A raw row's rollup event, as mask.analytics.rollup files it: orphan hit, page view or click."""
        return case(
            (Click.orphan_type.is_not(None), literal_column(str(Event.orphan.value))),
            (self._is_view(), literal_column(str(Event.view.value))),
            else_=literal_column(str(Event.click.value)),
        )

    # --- retention (MASK_CLICK_RETENTION_DAYS) ---------------------------------------------------------------

    async def dropped_before(self) -> datetime | None:
        """Before when raw clicks may have been dropped by retention (their rollups kept), or None."""
        value = await self.session.scalar(select(ClickRetentionMark.dropped_before).where(ClickRetentionMark.id == 1))
        return as_utc(value) if value is not None else None

    async def mark_dropped_before(self, instant: datetime) -> None:
        """Move the retention mark forward to `instant` (never back)."""
        current = await self.dropped_before()
        if current is None:
            self.session.add(ClickRetentionMark(id=1, dropped_before=instant))
        elif current < instant:
            await self.session.execute(
                update(ClickRetentionMark).where(ClickRetentionMark.id == 1).values(dropped_before=instant)
            )
        await self.session.flush()

    async def drop_raw_before(self, workspace_id: str, before: datetime, *, limit: int) -> int:
        """Delete at most `limit` of the workspace's raw clicks older than `before` (through the (workspace_id,
        clicked_at) index); how many went. The rollups are not touched."""
        oldest = (
            select(Click.id)
            .where(Click.workspace_id == workspace_id, Click.clicked_at < before)
            .order_by(Click.clicked_at)
            .limit(limit)
        )
        result = await self.session.execute(
            delete(Click).where(Click.id.in_(oldest.scalar_subquery())).execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def workspace_ids(self) -> list[str]:
        result = await self.session.execute(select(Workspace.id).order_by(Workspace.id))
        return list(result.scalars())

    async def click_workspaces(self) -> list[str]:
        """The workspaces that have stored clicks."""
        result = await self.session.execute(select(Click.workspace_id).distinct().order_by(Click.workspace_id))
        return list(result.scalars())

    async def click_days(self, workspace_id: str | None = None) -> tuple[datetime, datetime] | None:
        """The first and last clicked_at of the stored clicks (of a workspace), or None without any."""
        scope = self._scope(Click, workspace_id)
        row = (
            await self.session.execute(select(func.min(Click.clicked_at), func.max(Click.clicked_at)).where(*scope))
        ).one()
        if row[0] is None:
            return None
        return as_utc(row[0]), as_utc(row[1])

    @staticmethod
    def _sums(model: Any) -> list[Any]:
        return [func.sum(model.clicks), func.sum(model.unique_clicks), func.sum(model.bot_clicks)]

    @staticmethod
    def _scope(model: Any, workspace_id: str | None) -> list[Any]:
        return [model.workspace_id == workspace_id] if workspace_id is not None else []

    async def _insert_grouped(
        self, model: Any, keys: dict[str, Any], constants: dict[str, Any], sums: Sequence[Any], where: Sequence[Any]
    ) -> None:
        """INSERT INTO model (keys, constants, shard 0, counts) SELECT … WHERE … GROUP BY keys."""
        table = model.__table__
        names = [*keys, *constants, "shard", "clicks", "unique_clicks", "bot_clicks"]
        columns = [
            *keys.values(),
            *(literal(value, table.c[name].type) for name, value in constants.items()),
            literal(0, SmallInteger),
            *sums,
        ]
        statement = select(*columns).where(*where).group_by(*keys.values())
        await self.session.execute(table.insert().from_select([table.c[name] for name in names], statement))

    # --- reading -------------------------------------------------------------------------------------------

    async def totals(self, query: ClickQuery) -> Counts:
        rows = await self._aggregate(query, (), windows=[(query.start, query.end)], limit=None)
        return rows[0].counts if rows else Counts()

    async def timeseries(self, query: ClickQuery, starts: Sequence[datetime]) -> list[Counts]:
        if not starts:
            return []
        edges = [*starts[1:], query.end]
        windows = [(max(s, query.start), min(e, query.end)) for s, e in zip(starts, edges, strict=True)]
        windows = [(s, e) for s, e in windows if s < e]
        rows = await self._aggregate(query, (), windows=windows, limit=None, starts=starts)
        minutes = [int(start.timestamp()) // 60 for start in starts]
        totals = [[0, 0] for _ in starts]
        for row in rows:
            key = int(row.keys[-1] or 0)
            index = key if self.dialect == "postgresql" else bisect_right(minutes, key) - 1
            if 0 <= index < len(totals):
                totals[index][0] += row.counts.clicks
                totals[index][1] += row.counts.unique_clicks
        return [Counts(clicks, unique) for clicks, unique in totals]

    async def breakdown(self, query: ClickQuery, columns: tuple[str, ...], *, limit: int) -> list[Row]:
        return await self._aggregate(query, columns, windows=[(query.start, query.end)], limit=limit)

    async def tag_breakdown(self, query: ClickQuery, *, limit: int) -> list[Row]:
        return await self._aggregate(query, ("link_id",), windows=[(query.start, query.end)], limit=limit, by_tag=True)

    async def first_click_at(self, query: ClickQuery) -> datetime | None:
        links = [f.include for f in query.filters if f.column == "link_id" and f.include is not None]
        if links:
            ids = frozenset.intersection(*links)
            statement = select(func.min(TargetRollup.bucket)).where(
                TargetRollup.workspace_id == query.workspace_id,
                TargetRollup.grain == Grain.hour.value,
                TargetRollup.link_id.in_(sorted(ids)),
            )
            return await self.session.scalar(statement)
        raw = await self.session.scalar(
            select(Click.clicked_at).where(Click.workspace_id == query.workspace_id).order_by(Click.clicked_at).limit(1)
        )
        # The hour rollups reach back further once MASK_CLICK_RETENTION_DAYS has dropped old raw clicks.
        rolled = await self.session.scalar(
            select(func.min(DimensionRollup.bucket)).where(
                DimensionRollup.workspace_id == query.workspace_id,
                DimensionRollup.event == query.event.value,
                DimensionRollup.dimension == TOTAL,
                DimensionRollup.grain == Grain.hour.value,
            )
        )
        if raw is None or (rolled is not None and as_utc(rolled) < floor_grain(as_utc(raw), Grain.hour)):
            return as_utc(rolled) if rolled is not None else None
        return as_utc(raw)

    # --- the statement -------------------------------------------------------------------------------------

    async def _aggregate(
        self,
        query: ClickQuery,
        columns: tuple[str, ...],
        *,
        windows: list[tuple[datetime, datetime]],
        limit: int | None,
        starts: Sequence[datetime] | None = None,
        by_tag: bool = False,
    ) -> list[Row]:
        source = choose_source(query.filter_columns, columns) if self.use_rollups else Source(Table.raw)
        if not _rollups_answer(query, source):
            source = Source(Table.raw)
        parts = self._parts(query, source, columns, windows, starts)
        if not parts:
            return []
        await self.plan_analytics_statements()
        union = union_all(*parts).subquery("parts") if len(parts) > 1 else parts[0].subquery("parts")
        keys = [union.c[f"k{i}"] for i in range(len(columns) + int(starts is not None))]
        clicks, unique = self._measures(union, query.bots)
        if by_tag:
            statement = (
                select(Tag.name, clicks, unique)
                .select_from(
                    union.join(link_tags, link_tags.c.link_id == union.c.k0).join(
                        Tag, and_(Tag.id == link_tags.c.tag_id, Tag.workspace_id == query.workspace_id)
                    )
                )
                .group_by(Tag.name)
            )
            keys = [Tag.name]  # type: ignore[list-item]
        else:
            statement = select(*keys, clicks, unique).group_by(*keys)
            # A link (bio page) breakdown lists clicks that have a link (bio page).
            for key, column in zip(keys, columns, strict=False):
                if column in TARGETS and column != "bio_block_id":
                    statement = statement.where(key != "")
        if limit is not None:
            rank = (unique, clicks) if query.rank_by_unique else (clicks, unique)
            statement = statement.having(clicks > 0).order_by(rank[0].desc(), rank[1].desc(), *keys).limit(limit)
        result = await self.session.execute(statement)
        rows = []
        for row in result:
            values = tuple(None if value in ("", None) else value for value in row[:-2])
            if not columns and not by_tag and starts is None and row[-2] is None:
                continue  # an empty sum: no clicks at all
            rows.append(Row(values, Counts(int(row[-2] or 0), int(row[-1] or 0))))
        return rows

    async def plan_analytics_statements(self) -> None:
        """PostgreSQL: plan this transaction's statements for their values (never a cached generic plan), without JIT.

        asyncpg prepares every statement, and after five runs PostgreSQL may keep a plan made without the values;
        for clicks that is the wrong one when a link is hot (a link's whole history sorted instead of its newest
        rows read from the (link_id, clicked_at) index: seconds instead of a millisecond at 20M clicks). Planning
        these statements costs well under a millisecond.

        And without JIT compilation: at millions of rows the planner's estimates pass `jit_above_cost`, and
        compiling took longer than it saved (20M clicks: a per-link `referrer=(none)` breakdown 2.1 s with JIT,
        1.4 s without; one raw question spent 2.8 s compiling)."""
        if self.dialect == "postgresql":
            await self.session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
            await self.session.execute(text("SET LOCAL jit = off"))

    def _measures(self, union: Subquery, bots: BotMode) -> tuple[ColumnElement[Any], ColumnElement[Any]]:
        humans, unique, robots = func.sum(union.c.c), func.sum(union.c.u), func.sum(union.c.b)
        if bots is BotMode.include:
            return (humans + robots).label("clicks"), unique.label("unique_clicks")
        if bots is BotMode.only:
            return robots.label("clicks"), (robots * 0).label("unique_clicks")
        return humans.label("clicks"), unique.label("unique_clicks")

    def _parts(
        self,
        query: ClickQuery,
        source: Source,
        columns: tuple[str, ...],
        windows: list[tuple[datetime, datetime]],
        starts: Sequence[datetime] | None,
    ) -> list[Select[Any]]:
        parts: list[Select[Any]] = []
        for grain, ranges in plan_ranges(windows, source.grains).items():
            for start in range(0, len(ranges), RANGES_PER_PART):
                chunk = ranges[start : start + RANGES_PER_PART]
                if grain is None:
                    parts.append(self._raw_part(query, columns, chunk, starts))
                else:
                    parts += self._rollup_parts(query, source, grain, columns, chunk, starts)
        return parts

    def _raw_part(
        self,
        query: ClickQuery,
        columns: tuple[str, ...],
        ranges: list[tuple[datetime, datetime]],
        starts: Sequence[datetime] | None,
    ) -> Select[Any]:
        keys: list[ColumnElement[Any]] = [self._raw_value(column) for column in columns]
        if starts is not None:
            keys.append(self._bucket_key(Click.clicked_at, starts))
        conditions = self.raw_conditions(query, ranges)
        return (
            select(
                *(key.label(f"k{i}") for i, key in enumerate(keys)),
                func.sum(case((Click.is_bot, 0), else_=1)).label("c"),
                func.sum(case((Click.is_unique, 1), else_=0)).label("u"),
                func.sum(case((Click.is_bot, 1), else_=0)).label("b"),
            )
            .where(*conditions)
            .group_by(*_grouping(keys))
        )

    def _rollup_parts(
        self,
        query: ClickQuery,
        source: Source,
        grain: Grain,
        columns: tuple[str, ...],
        ranges: list[tuple[datetime, datetime]],
        starts: Sequence[datetime] | None,
    ) -> list[Select[Any]]:
        """The rollup rows of `grain` answering the question; with a dimension, the unknown value too.

        Rollups keep known values only (`mask.analytics.rollup`). When unknown values belong in the answer
        (a breakdown of the dimension, a filter that only excludes values of it, or one naming `(none)`), they
        are the totals (the `total` rows, or the per-target day rows) minus every known value, per bucket, as two
        more parts: the totals with the dimension as '', and the known values, negated, with the dimension as ''.
        A filter of `(none)` alone leaves out the known values' own part. Without a filter on the dimension, the
        known values are read once (a common table expression) for both their own part and the negated one: a
        hot link's rows are scattered over the table, and reading them twice cost half the answer's time."""
        model = {Table.target: TargetRollup, Table.dimension: DimensionRollup}.get(source.table, TargetDimensionRollup)
        dimension = source.dimension
        own = [f for f in query.filters if f.column == dimension]
        known: Select[Any] | None = None
        if not any(f.include == frozenset({UNKNOWN}) for f in own):  # else no known value passes the filter
            known = self._rollup_part(query, model, dimension, grain, columns, ranges, starts)
        if dimension is None or dimension == TOTAL:
            return [known] if known is not None else []
        if any(UNKNOWN in f.exclude or (f.include is not None and UNKNOWN not in f.include) for f in own):
            return [known] if known is not None else []  # the filter lets named values through, never the unknown
        totals: tuple[Any, str | None] = (
            (DimensionRollup, TOTAL) if model is DimensionRollup else (TargetRollup, None)  # per-target: day rows
        )
        unknown = self._rollup_part(query, *totals, grain, columns, ranges, starts, unknown_of=dimension)
        if known is None or own:  # the negated part must count every known value, filtered or not
            negated = self._rollup_part(
                query, model, dimension, grain, columns, ranges, starts, unknown_of=dimension, sign=-1
            )
            return [known, unknown, negated] if known is not None else [unknown, negated]
        self._shared += 1
        rows = known.cte(f"known{self._shared}")
        keys = [EMPTY if column == dimension else rows.c[f"k{i}"] for i, column in enumerate(columns)]
        if starts is not None:
            keys.append(rows.c[f"k{len(columns)}"])
        negated = select(
            *(key.label(f"k{i}") for i, key in enumerate(keys)),
            *(-func.sum(rows.c[name]).label(name) for name in "cub"),
        ).group_by(*_grouping(keys))
        return [select(rows), unknown, negated]

    def _rollup_part(
        self,
        query: ClickQuery,
        model: Any,
        dimension: str | None,
        grain: Grain,
        columns: tuple[str, ...],
        ranges: list[tuple[datetime, datetime]],
        starts: Sequence[datetime] | None,
        *,
        unknown_of: str | None = None,
        sign: int = 1,
    ) -> Select[Any]:
        """Rows of `model` (of `dimension`) summed per key. `unknown_of`: that dimension's key is '' and its
        filters are not applied (every row counts toward the unknown value); `sign` -1 negates the sums."""
        bucket = model.day if model is TargetDimensionRollup else model.bucket
        keys: list[ColumnElement[Any]] = [
            EMPTY if column == unknown_of else model.value if column in ROLLED_UP else getattr(model, column)
            for column in columns
        ]
        if starts is not None:
            keys.append(self._bucket_key(bucket, starts))
        conditions: list[ColumnElement[bool]] = [
            model.workspace_id == query.workspace_id,
            model.event == query.event.value,
            or_(*(and_(bucket >= a, bucket < b) for a, b in ranges)),
        ]
        if model is not TargetDimensionRollup:
            conditions.append(model.grain == grain.value)
        if dimension is not None:
            conditions.append(model.dimension == dimension)
        for value_filter in query.filters:
            if value_filter.column == unknown_of:
                continue
            column = model.value if value_filter.column in ROLLED_UP else None
            conditions.append(self._rollup_filter(query.workspace_id, model, value_filter, column))
        sums: list[ColumnElement[Any]] = [
            func.sum(model.clicks),
            func.sum(model.unique_clicks),
            func.sum(model.bot_clicks),
        ]
        if sign < 0:
            sums = [-total for total in sums]
        return (
            select(
                *(key.label(f"k{i}") for i, key in enumerate(keys)),
                *(total.label(name) for total, name in zip(sums, "cub", strict=True)),
            )
            .where(*conditions)
            .group_by(*_grouping(keys))
        )

    # --- pieces --------------------------------------------------------------------------------------------

    def _tagged_links(self, workspace_id: str, names: Iterable[str], *, all_of: bool = False) -> Select[Any]:
        """The workspace's links carrying any of the named tags, or every one of them (`all_of`)."""
        wanted = sorted(set(names))
        statement = (
            select(link_tags.c.link_id)
            .join(Tag, Tag.id == link_tags.c.tag_id)
            .where(Tag.workspace_id == workspace_id, Tag.name.in_(wanted))
        )
        if all_of and len(wanted) > 1:
            statement = statement.group_by(link_tags.c.link_id).having(func.count() == len(wanted))
        return statement

    def raw_conditions(self, query: ClickQuery, ranges: list[tuple[datetime, datetime]]) -> list[ColumnElement[bool]]:
        """What selects the question's rows of `clicks` in these time ranges: workspace, kind, filters, bots."""
        conditions: list[ColumnElement[bool]] = [
            Click.workspace_id == query.workspace_id,
            or_(*(and_(Click.clicked_at >= a, Click.clicked_at < b) for a, b in ranges)),
            self._is_event(query.event),
            *(self._raw_filter(query.workspace_id, f) for f in query.filters),
        ]
        if query.bots is BotMode.exclude:
            conditions.append(~Click.is_bot)
        elif query.bots is BotMode.only:
            conditions.append(Click.is_bot.expression)
        return conditions

    def _raw_filter(self, workspace_id: str, value_filter: ValueFilter) -> ColumnElement[bool]:
        column: Any = Click.link_id if value_filter.column == TAG else getattr(Click, value_filter.column)
        nullable = value_filter.column != "domain"
        values: Callable[[frozenset[str]], list[Any]] = (
            (lambda named: sorted(int(value) for value in named))  # indexes (validated by the service)
            if value_filter.column in INTEGER_DECISIONS
            else sorted
        )
        conditions: list[ColumnElement[bool]] = []
        if value_filter.include is not None:
            named = value_filter.include - {UNKNOWN}
            if value_filter.column == TAG:
                matches = column.in_(self._tagged_links(workspace_id, named, all_of=value_filter.all_of))
            else:
                matches = column.in_(values(named)) if named else false()
            # `(none)` is IS NULL, not COALESCE(…) = '': the planner estimates it from the column's statistics.
            conditions.append(or_(column.is_(None), matches) if UNKNOWN in value_filter.include else matches)
        if value_filter.exclude:
            named = value_filter.exclude - {UNKNOWN}
            excluded = self._tagged_links(workspace_id, named) if value_filter.column == TAG else values(named)
            if UNKNOWN in value_filter.exclude:
                conditions.append(column.is_not(None))
                if named:
                    conditions.append(column.not_in(excluded))
            else:
                conditions.append(
                    or_(column.is_(None), column.not_in(excluded)) if nullable else column.not_in(excluded)
                )
        return and_(*conditions) if conditions else and_(True)

    def _rollup_filter(
        self, workspace_id: str, model: Any, value_filter: ValueFilter, value_column: Any
    ) -> ColumnElement[bool]:
        column = (
            value_column
            if value_column is not None
            else (model.link_id if value_filter.column == TAG else getattr(model, value_filter.column))
        )
        conditions: list[ColumnElement[bool]] = []
        if value_filter.include is not None:
            if value_filter.column == TAG:
                conditions.append(
                    column.in_(self._tagged_links(workspace_id, value_filter.include, all_of=value_filter.all_of))
                )
            else:
                conditions.append(column.in_(sorted(value_filter.include)) if value_filter.include else false())
        if value_filter.exclude:
            excluded = (
                self._tagged_links(workspace_id, value_filter.exclude)
                if value_filter.column == TAG
                else sorted(value_filter.exclude)
            )
            conditions.append(column.not_in(excluded))
        return and_(*conditions) if conditions else and_(True)

    def _is_event(self, event: Event) -> ColumnElement[bool]:
        """The rows of a kind: orphan hits have an orphan_type; views and clicks have none."""
        if event is Event.orphan:
            return Click.orphan_type.is_not(None)
        if event is Event.view:
            return self._is_view()
        return and_(~self._is_view(), Click.orphan_type.is_(None))

    @staticmethod
    def _is_view() -> ColumnElement[bool]:
        """A bio page view: a clicks row with a page and no block (see mask.models.click.Click)."""
        return and_(Click.bio_page_id.is_not(None), Click.bio_block_id.is_(None))

    def _raw_value(self, column: str) -> ColumnElement[Any]:
        """A clicks column as a grouping key: '' for unknown, cut like the rollups cut it."""
        value: ColumnElement[Any] = getattr(Click, column)
        if column == "domain":
            return value
        if column in CUT:
            value = func.substr(value, literal_column("1"), literal_column(str(VALUE_LENGTH)))
        elif column in INTEGER_DECISIONS:
            value = cast(value, String)  # keys are text ('' for unknown); the service reads the index back
        return func.coalesce(value, EMPTY)

    def _bucket_key(self, column: Any, starts: Sequence[datetime]) -> ColumnElement[Any]:
        """Which time-series bucket a row falls in. PostgreSQL: the bucket's index (width_bucket: a binary
        search over the starts), so a part yields a row per bucket. SQLite: the row's epoch minute (every bucket
        edge is a whole minute), mapped to its bucket in Python."""
        if self.dialect == "postgresql":
            edges = bindparam("bucket_starts", list(starts), type_=ARRAY(DateTime(timezone=True)))
            return func.width_bucket(column, cast(edges, ARRAY(DateTime(timezone=True)))) - literal_column("1")
        return cast(func.strftime(literal_column("'%s'"), column), Integer) // literal_column("60")

    def _truncate(self, column: Any, grain: Grain) -> ColumnElement[Any]:
        """Start of the UTC hour/day/month of a timestamp, in the column's stored form."""
        if self.dialect == "postgresql":
            return func.date_trunc(literal_column(f"'{grain.name}'"), column, literal_column("'UTC'"))
        pattern = {
            Grain.hour: "'%Y-%m-%d %H:00:00.000000'",
            Grain.day: "'%Y-%m-%d 00:00:00.000000'",
            Grain.month: "'%Y-%m-01 00:00:00.000000'",
        }[grain]
        return func.strftime(literal_column(pattern), column)


def _grouping(keys: Sequence[ColumnElement[Any]]) -> list[ColumnElement[Any]]:
    """A part's GROUP BY: its keys by their labels (k0, k1, …), which PostgreSQL and SQLite both accept; an
    expression with a bound parameter (the bucket starts) would never match its SELECT twin textually. The
    constant '' (an unknown value's key) is left out: PostgreSQL refuses GROUP BY ''."""
    return [literal_column(f"k{i}") for i, key in enumerate(keys) if key is not EMPTY]


def _rollups_answer(query: ClickQuery, source: Source) -> bool:
    """Whether the rollups chosen can answer exactly: a `(none)` filter only on the rollup's own dimension (its
    unknown value is the total minus the known ones), and no filter value beyond what a rollup value keeps."""
    if source.table is Table.raw:
        return False
    for value_filter in query.filters:
        if value_filter.names_unknown and value_filter.column != source.dimension:
            return False
        if value_filter.column in CUT:
            named = (value_filter.include or frozenset()) | value_filter.exclude
            if any(len(value) >= VALUE_LENGTH for value in named):  # a longer URL shares its first 500
                return False
    return True


def _within(column: Any, start: datetime | None, end: datetime | None) -> list[ColumnElement[bool]]:
    """column in [start, end), either end open when None."""
    conditions: list[ColumnElement[bool]] = []
    if start is not None:
        conditions.append(column >= start)
    if end is not None:
        conditions.append(column < end)
    return conditions


class AnalyticsLinkRepository:
    """The link lookups analytics needs: ownership of filtered links, labels of top links."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def labels(self, workspace_id: str, link_ids: Iterable[str]) -> dict[str, tuple[str, str, str]]:
        """(slug, domain, url) of the workspace's links among `link_ids` (deleted links are absent)."""
        ids = sorted(set(link_ids))
        if not ids:
            return {}
        result = await self.session.execute(
            select(Link.id, Link.slug, Link.domain, Link.url).where(Link.workspace_id == workspace_id, Link.id.in_(ids))
        )
        return {row[0]: (row[1], row[2], row[3]) for row in result}

    async def existing_ids(self, workspace_id: str, link_ids: Iterable[str]) -> set[str]:
        ids = sorted(set(link_ids))
        result = await self.session.execute(select(Link.id).where(Link.workspace_id == workspace_id, Link.id.in_(ids)))
        return set(result.scalars())


class ClickEventRepository:
    """The raw click rows of a question, newest first, a page at a time (keyset on (clicked_at, click_id))."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def page(
        self, query: ClickQuery, columns: Sequence[str], *, limit: int, before: tuple[datetime, str] | None = None
    ) -> Sequence[RowMapping]:
        """At most `limit` rows (these columns; `clicked_at` and `click_id` among them) older than `before` (the
        last row of the previous page), newest first. Plain rows, not ORM objects: an export reads millions."""
        store = SqlClickStore(self.session)
        await store.plan_analytics_statements()
        conditions = store.raw_conditions(query, [(query.start, query.end)])
        if before is not None:
            at, click_id = before
            # The bare `<=` lets the planner seek the (workspace_id, clicked_at) index; the OR alone would scan.
            conditions.append(Click.clicked_at <= at)
            conditions.append(or_(Click.clicked_at < at, and_(Click.clicked_at == at, Click.click_id < click_id)))
        statement = (
            select(*(getattr(Click, name) for name in columns))
            .where(*conditions)
            .order_by(Click.clicked_at.desc(), Click.click_id.desc())
            .limit(limit)
        )
        return (await self.session.execute(statement)).mappings().all()
