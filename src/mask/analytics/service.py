"""Click analytics: validate the question, resolve its range and filters, ask the click store, shape the answer.

Counting rules (what makes the numbers explainable):
- By default only human clicks count, exactly as a link's `clicks` field counts them; `bots=include|only`.
  Every hit is stored with what it was (`traffic_type`: human, bot, preview, prefetch), so what was left out
  can be told: `group_by=traffic_types` counts every type unless `bots` says otherwise.
- Orphan hits (an unknown slug or a domain root of the workspace's own domain, an expired link) are another
  kind: never in a link's counts or a click answer; `kind=orphan` asks about them alone.
- A unique click is a visitor's first human click on a link (or bio page) in a UTC day: the visitor hash
  rotates daily, so a visitor seen on two days counts once per day. Unique counts add up across rows.
- Every breakdown includes unknown values (null), so the rows of a complete breakdown add up to `count`;
  `tags` and `links` only see clicks on links (and a link with two tags counts for both tags).
- A `link_id` or `bio_page_id` filter naming a link or page that is not the workspace's (or no longer exists) is
  `404`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from mask.analytics.query import (
    DECISIONS,
    DIMENSIONS,
    INTEGER_DECISIONS,
    TAG,
    UNKNOWN,
    BotMode,
    ClickQuery,
    Event,
    ValueFilter,
)
from mask.analytics.repository import AnalyticsLinkRepository, SqlClickStore
from mask.analytics.schemas import (
    BREAKDOWN_MODELS,
    DIMENSION_KEYS,
    FILTER_PARAMS,
    INDEX_KEYS,
    ORPHAN_FILTERS,
    ORPHAN_ONLY,
    AnalyticsParams,
    BioBlockClicks,
    BioBlocksBreakdown,
    ClickCount,
    ClickFilterParams,
    ClickTimeseries,
    GroupBy,
    LinkClickCount,
    LinkClicks,
    LinksBreakdown,
    TimeseriesPoint,
)
from mask.analytics.store import ClickStore
from mask.analytics.timerange import (
    BEGINNING,
    Interval,
    auto_granularity,
    bucket_starts,
    count_buckets,
    interval_start,
    zone,
)
from mask.bio_page import service as bio_page_service
from mask.bio_page.repository import BioPageRepository
from mask.bio_page.service import BioPageNotFound
from mask.click.schemas import ORPHAN_TYPES, TRIGGERS, EnrichedClick
from mask.click.traffic import TRAFFIC_TYPES
from mask.event import service as event_service
from mask.kit.errors import FieldError, NotFound, ValidationFailed
from mask.kit.time import as_utc, utcnow
from mask.link import service as link_service
from mask.link.repository import LinkRepository
from mask.link.schemas import ImportedClicks
from mask.link.service import short_url

MAX_BUCKETS = 5000
MAX_FILTER_VALUES = 100
MAX_FUTURE = timedelta(days=366)
MAX_INDEX = 32767  # a rule or variant index is a SMALLINT


class AnalyticsLinkNotFound(NotFound):
    code = "link_not_found"


def click_store(session: AsyncSession) -> ClickStore:
    """The store analytics reads from (a ClickHouse store would be chosen here from the settings)."""
    return SqlClickStore(session)


async def record_clicks(session: AsyncSession, clicks: list[EnrichedClick]) -> None:
    """Click listener: keep the rollups in step with a batch of newly stored clicks, in its transaction."""
    await SqlClickStore(session).record(clicks)


async def clear_link_clicks(session: AsyncSession, *, workspace_id: str, link_id: str) -> link_service.LinkView:
    """Delete every click of one of the workspace's links: raw clicks, rollups, first sightings and the link's
    `clicks`/`last_clicked_at`, in one transaction, with a `link.clicks_deleted` event (LinkNotFound for
    another workspace's link). `clicks_reserved` (what a click limit has let through) is kept: clearing analytics
    does not reopen a limited link. Clicks still in the click journal are stored later as new clicks."""
    view = await link_service.get(session, workspace_id=workspace_id, link_id=link_id, lock=True)
    link = view.link
    removed = link.clicks
    await SqlClickStore(session).erase(workspace_id, link_id=link.id)
    link.clicks, link.last_clicked_at = 0, None
    await session.flush()
    data = {**link_service.to_schema(view).model_dump(mode="json"), "clicks_deleted": removed}
    await event_service.record(session, workspace_id=workspace_id, type="link.clicks_deleted", data=data)
    return view


async def clear_bio_page_clicks(session: AsyncSession, *, workspace_id: str, bio_page_id: str) -> None:
    """Delete every view of one of the workspace's bio pages and every click on its blocks, as
    `clear_link_clicks` does for a link, with a `bio_page.clicks_deleted` event."""
    view = await bio_page_service.get(session, workspace_id=workspace_id, page_id=bio_page_id, lock=True)
    page = view.page
    removed = {"views_deleted": page.views, "clicks_deleted": page.clicks}
    await SqlClickStore(session).erase(workspace_id, bio_page_id=page.id)
    page.views, page.clicks = 0, 0
    for block in view.blocks:
        block.clicks = 0
    await session.flush()
    data = {**bio_page_service.to_schema(view).model_dump(mode="json"), **removed}
    await event_service.record(session, workspace_id=workspace_id, type="bio_page.clicks_deleted", data=data)


async def rebuild_rollups(
    session: AsyncSession,
    *,
    workspace_id: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> None:
    """Recompute the rollups of one workspace (or all), of the UTC days in [start, end) (or all time), from
    the raw clicks: backfills, bulk loads and repairs."""
    await SqlClickStore(session).rebuild(workspace_id, start, end)


async def retained_since(session: AsyncSession) -> datetime | None:
    """The first UTC day whose raw clicks are all kept, when MASK_CLICK_RETENTION_DAYS has dropped older ones."""
    return await SqlClickStore(session).dropped_before()


async def rebuild_days(
    session: AsyncSession, *, workspace_id: str | None = None, since: date | None = None, until: date | None = None
) -> list[tuple[str, datetime]]:
    """The (workspace, UTC day) steps of a rebuild: every day from a workspace's first stored click to its
    last, within [since, until] when given, never before the retention mark (`retained_since`)."""
    store = SqlClickStore(session)
    dropped = await store.dropped_before()
    workspaces = [workspace_id] if workspace_id is not None else await store.click_workspaces()
    steps: list[tuple[str, datetime]] = []
    for workspace in workspaces:
        span = await store.click_days(workspace)
        if span is None:
            continue
        first, last = (as_utc(value).replace(hour=0, minute=0, second=0, microsecond=0) for value in span)
        if since is not None:
            first = max(first, datetime(since.year, since.month, since.day, tzinfo=UTC))
        if until is not None:
            last = min(last, datetime(until.year, until.month, until.day, tzinfo=UTC))
        if dropped is not None:  # days whose raw clicks retention dropped: their rollups are all there is
            first = max(first, dropped)
        day = first
        while day <= last:
            steps.append((workspace, day))
            day += timedelta(days=1)
    return steps


async def clicks(
    session: AsyncSession,
    *,
    workspace_id: str,
    params: AnalyticsParams,
    store: ClickStore | None = None,
    now: datetime | None = None,
) -> BaseModel:
    """Answer GET /v1/analytics/clicks for a workspace: validated, then one store query.

    `store` answers the question; the bio pages' views endpoint passes one that counts page views instead.
    """
    store = store or click_store(session)
    now = as_utc(now or utcnow())
    query = await resolve_query(session, workspace_id=workspace_id, params=params, now=now)
    query = replace(query, rank_by_unique=params.unique)
    tz = zone(params.timezone)
    assert tz is not None  # resolve_query refused an unknown one
    group_by = params.group_by
    if group_by is GroupBy.count:
        counts = await store.totals(query)
        imported = await _imported(session, query)
        if imported is not None:
            return LinkClickCount(clicks=counts.clicks, unique_clicks=counts.unique_clicks, imported_clicks=imported)
        return ClickCount(clicks=counts.clicks, unique_clicks=counts.unique_clicks)
    if group_by is GroupBy.timeseries:
        return await _timeseries(store, query, params, tz, now)
    if group_by is GroupBy.links:
        return await _links(session, store, query, params.limit)
    if group_by is GroupBy.bio_blocks:
        rows = await store.breakdown(query, ("bio_page_id", "bio_block_id"), limit=params.limit)
        return BioBlocksBreakdown(
            data=[
                BioBlockClicks(
                    bio_page_id=str(row.keys[0]),
                    bio_block_id=str(row.keys[1]),
                    clicks=row.counts.clicks,
                    unique_clicks=row.counts.unique_clicks,
                )
                for row in rows
            ]
        )
    if group_by in INDEX_KEYS:
        key = INDEX_KEYS[group_by][0]
        rows = await store.breakdown(query, (key,), limit=params.limit)
        return BREAKDOWN_MODELS[group_by].model_validate(
            {
                "data": [
                    {
                        key: None if row.keys[0] is None else int(row.keys[0]),
                        "clicks": row.counts.clicks,
                        "unique_clicks": row.counts.unique_clicks,
                    }
                    for row in rows
                ]
            }
        )
    key = DIMENSION_KEYS[group_by][0]
    if group_by is GroupBy.tags:
        rows = await store.tag_breakdown(query, limit=params.limit)
    else:
        rows = await store.breakdown(query, (key,), limit=params.limit)
    model = BREAKDOWN_MODELS[group_by]
    return model.model_validate(
        {
            "data": [
                {key: row.keys[0], "clicks": row.counts.clicks, "unique_clicks": row.counts.unique_clicks}
                for row in rows
            ]
        }
    )


async def _imported(session: AsyncSession, query: ClickQuery) -> ImportedClicks | None:
    """The click total another shortener counted for the one link a question is filtered to, if it has one."""
    named = [f.include for f in query.filters if f.column == "link_id" and f.include is not None]
    if len(named) != 1 or len(named[0]) != 1:
        return None
    (link_id,) = named[0]
    found = (await LinkRepository(session).imported_clicks([link_id])).get(link_id)
    return None if found is None else ImportedClicks(clicks=found[0], source=found[1], imported_at=found[2])


async def resolve_query(
    session: AsyncSession, *, workspace_id: str, params: ClickFilterParams, now: datetime | None = None
) -> ClickQuery:
    """The range and filters of a request as a store question (422 naming each bad parameter; 404 for a
    `link_id` that is not the workspace's)."""
    now = as_utc(now or utcnow())
    errors: list[FieldError] = []
    tz = zone(params.timezone)
    if tz is None:
        errors.append(
            FieldError(
                "timezone",
                "unknown_timezone",
                f"`{params.timezone}` is not an IANA timezone name (e.g. Europe/Berlin).",
            )
        )
    filters = [
        value_filter
        for name in FILTER_PARAMS
        if name != "tag" and (value_filter := _parse_filter(name, getattr(params, name), errors)) is not None
    ]
    tag_filter = _tags_filter(params, errors)
    if tag_filter is not None:
        filters.append(tag_filter)
    start, end = _resolve_range(params, tz or ZoneInfo("UTC"), now, errors)
    group_by = getattr(params, "group_by", None)
    if group_by in ORPHAN_ONLY and params.kind != "orphan":
        errors.append(
            FieldError("group_by", "orphan_only", f"`{group_by.value}` breaks down orphan hits: add `kind=orphan`.")
        )
    for name in ORPHAN_FILTERS:
        if params.kind != "orphan" and getattr(params, name) is not None:
            errors.append(FieldError(name, "orphan_only", f"`{name}` filters orphan hits: add `kind=orphan`."))
    if params.kind == "orphan" and params.bio_page_id is not None:
        errors.append(FieldError("bio_page_id", "invalid_for_orphans", "Orphan hits never belong to a bio page."))
    if errors:
        raise ValidationFailed(errors)
    assert start is not None and end is not None
    await _check_links(session, workspace_id, filters)
    await _check_bio_pages(session, workspace_id, params.bio_page_id)
    return ClickQuery(
        workspace_id=workspace_id,
        start=start,
        end=end,
        filters=tuple(filters),
        bots=_bot_mode(params, group_by),
        event=Event.orphan if params.kind == "orphan" else Event.click,
    )


def _bot_mode(params: ClickFilterParams, group_by: GroupBy | None) -> BotMode:
    """`bots` when given; else every traffic type for a question about them (a `traffic_type` filter, the
    `traffic_types` breakdown), the non-human ones for `group_by=bots`, and humans only otherwise."""
    if params.bots is not None:
        return params.bots
    if group_by is GroupBy.bots:
        return BotMode.only
    if group_by is GroupBy.traffic_types or params.traffic_type is not None:
        return BotMode.include
    return BotMode.exclude


async def _timeseries(
    store: ClickStore, query: ClickQuery, params: AnalyticsParams, tz: ZoneInfo, now: datetime
) -> ClickTimeseries:
    start = query.start
    if params.interval is Interval.all and params.start is None:
        first = await store.first_click_at(query)
        start = max(first, BEGINNING) if first is not None else query.end - timedelta(microseconds=1)
        query = replace(query, start=start)
    granularity = params.granularity or auto_granularity(start, query.end)
    if count_buckets(start, query.end, granularity) > MAX_BUCKETS:
        raise ValidationFailed.single(
            "granularity",
            "too_many_buckets",
            f"`{granularity.value}` buckets over this range would be more than {MAX_BUCKETS:,}; choose a coarser "
            "granularity or a shorter range.",
        )
    starts = bucket_starts(start, query.end, tz, granularity)
    counts = await store.timeseries(query, starts)
    return ClickTimeseries(
        granularity=granularity,
        data=[
            TimeseriesPoint(start=bucket, clicks=c.clicks, unique_clicks=c.unique_clicks)
            for bucket, c in zip(starts, counts, strict=True)
        ],
    )


async def _links(session: AsyncSession, store: ClickStore, query: ClickQuery, limit: int) -> LinksBreakdown:
    rows = await store.breakdown(query, ("link_id",), limit=limit)
    labels = await AnalyticsLinkRepository(session).labels(query.workspace_id, (str(row.keys[0]) for row in rows))
    data = []
    for row in rows:
        link_id = str(row.keys[0])
        label = labels.get(link_id)
        data.append(
            LinkClicks(
                link_id=link_id,
                slug=label[0] if label else None,
                short_url=short_url(label[1], label[0]) if label else None,
                url=label[2] if label else None,
                clicks=row.counts.clicks,
                unique_clicks=row.counts.unique_clicks,
            )
        )
    return LinksBreakdown(data=data)


async def _check_links(session: AsyncSession, workspace_id: str, filters: Sequence[ValueFilter]) -> None:
    named: set[str] = set()
    for value_filter in filters:
        if value_filter.column == "link_id":
            named |= (value_filter.include or frozenset()) | value_filter.exclude
    if not named:
        return
    missing = sorted(named - await AnalyticsLinkRepository(session).existing_ids(workspace_id, named))
    if missing:
        raise AnalyticsLinkNotFound(f"No link `{missing[0]}` in this workspace.", param="link_id")


async def _check_bio_pages(session: AsyncSession, workspace_id: str, raw: str | None) -> None:
    """A `bio_page_id` filter naming a page that is not the workspace's is `404`, for clicks as for views."""
    if raw is None:
        return
    named = {value for _, value in filter_items(raw) if value}
    missing = sorted(named - await BioPageRepository(session).existing_ids(workspace_id, named))
    if missing:
        raise BioPageNotFound(f"No bio page `{missing[0]}` in this workspace.", param="bio_page_id")


# `(none)` as a filter value: clicks without one (an unknown country, a direct visit, no UTM source).
NONE_VALUE = "(none)"
NONE_FILTERABLE = frozenset(DIMENSIONS) - {"trigger", "traffic_type"}  # always have a value


# Characters a backslash escapes in a filter value (and whitespace): the syntax's own.
ESCAPABLE = ",\\-("


def filter_items(raw: str) -> list[tuple[bool, str | None]]:
    r"""The items of a filter parameter, `a,b,-c`: (excluded, value) each, the value None for `(none)`.

    Items are split at commas and trimmed, and a leading `-` excludes. A backslash makes the next character part
    of the value when it is one of the syntax's own (`\,` a comma, `\\` a backslash, `\-` a leading minus, `\(` so
    `\(none)` is that text) or whitespace (kept, not trimmed); before any other character it is itself, so values
    written before escapes existed mean what they meant."""
    items: list[list[tuple[str, bool]]] = [[]]  # each item's characters, and whether each was escaped
    index = 0
    while index < len(raw):
        char, following = raw[index], raw[index + 1 : index + 2]
        if char == "\\" and following and (following in ESCAPABLE or following.isspace()):
            items[-1].append((following, True))
            index += 2
            continue
        if char == ",":
            items.append([])
        else:
            items[-1].append((char, False))
        index += 1
    parsed: list[tuple[bool, str | None]] = []
    for chars in items:
        chars = _trimmed(chars)
        negative = chars[:1] == [("-", False)]
        if negative:
            chars = _trimmed(chars[1:])
        value = "".join(char for char, _ in chars)
        escaped = any(was_escaped for _, was_escaped in chars)
        parsed.append((negative, None if value == NONE_VALUE and not escaped else value))
    return parsed


def _trimmed(chars: list[tuple[str, bool]]) -> list[tuple[str, bool]]:
    """An item without the whitespace at either end that was not escaped."""
    start, end = 0, len(chars)
    while start < end and not chars[start][1] and chars[start][0].isspace():
        start += 1
    while end > start and not chars[end - 1][1] and chars[end - 1][0].isspace():
        end -= 1
    return chars[start:end]


def escape_filter_value(value: str) -> str:
    """`value` as one filter item that means exactly it, whatever it holds (`filter_items` reads it back)."""
    escaped = value.replace("\\", "\\\\").replace(",", "\\,")
    if value[-1:].isspace():  # an escaped space is not trimmed
        escaped = escaped[:-1] + "\\" + escaped[-1:]
    if value[:1] in ("-", "(") or (value[:1].isspace() and len(value) > 1):
        escaped = "\\" + escaped
    return escaped


def _parse_filter(name: str, raw: str | None, errors: list[FieldError]) -> ValueFilter | None:
    """`a,b` (any of), `-a` (not a), or a mix: `a,b,-c`; `(none)` is "no value" (`-(none)`: any value); a
    backslash escapes (`filter_items`)."""
    if raw is None:
        return None
    include: set[str] = set()
    exclude: set[str] = set()
    items = filter_items(raw)
    if len(items) > MAX_FILTER_VALUES:
        errors.append(FieldError(name, "too_many_values", f"At most {MAX_FILTER_VALUES} values."))
        return None
    for negative, value in items:
        if value is None:
            if name not in NONE_FILTERABLE:
                errors.append(
                    FieldError(name, "invalid_value", f"`{name}` always has a value; `(none)` matches nothing.")
                )
                return None
            (exclude if negative else include).add(UNKNOWN)
            continue
        problem = _check_value(name, value)
        if problem is not None:
            errors.append(FieldError(name, *problem))
            return None
        if name == "country":
            value = value.upper()
        elif name == "domain":
            value = value.lower()
        elif name in INTEGER_DECISIONS:
            value = str(int(value))  # `01` is rule 1, as the rollups spell it
        (exclude if negative else include).add(value)
    column = TAG if name in ("tag", "tags") else name
    assert column in (*DIMENSIONS, *DECISIONS, TAG, "link_id", "bio_page_id", "domain")
    return ValueFilter(column, frozenset(include) if include else None, frozenset(exclude))


def _tags_filter(params: ClickFilterParams, errors: list[FieldError]) -> ValueFilter | None:
    """`tags=a,b,-c` with `tag_match=any|all`; `tag` is the older spelling of `tags` (not both)."""
    if params.tag is not None and params.tags is not None:
        errors.append(FieldError("tags", "conflicting_filters", "Give either `tag` or `tags`, not both."))
        return None
    name, raw = ("tags", params.tags) if params.tags is not None else ("tag", params.tag)
    parsed = _parse_filter(name, raw, errors)
    return None if parsed is None else replace(parsed, all_of=params.tag_match == "all")


def _check_value(name: str, value: str) -> tuple[str, str] | None:
    if not value:
        return "empty_value", "An empty value; separate values with single commas, e.g. `US,DE` or `-US`."
    if any(ord(char) < 32 for char in value):
        return "invalid_value", "Control characters are not allowed."
    if name == "country" and not (len(value) == 2 and value.isascii() and value.isalpha()):
        return "invalid_country", f"`{value}` is not an ISO 3166-1 alpha-2 country code (e.g. US, DE)."
    if name == "trigger" and value not in TRIGGERS:
        return "invalid_trigger", f"`{value}` is not a trigger; one of {', '.join(TRIGGERS)}."
    if name == "orphan_type" and value not in ORPHAN_TYPES:
        return "invalid_orphan_type", f"`{value}` is not an orphan type; one of {', '.join(ORPHAN_TYPES)}."
    if name == "traffic_type" and value not in TRAFFIC_TYPES:
        return "invalid_traffic_type", f"`{value}` is not a traffic type; one of {', '.join(TRAFFIC_TYPES)}."
    if name in INTEGER_DECISIONS and not (value.isascii() and value.isdigit() and int(value) <= MAX_INDEX):
        return "invalid_index", f"`{value}` is not an index; a number from 0 to {MAX_INDEX} (0 is the first)."
    return None


def _parse_instant(name: str, raw: str, tz: ZoneInfo, errors: list[FieldError]) -> datetime | None:
    try:
        value = datetime.fromisoformat(raw.strip())
    except ValueError:
        errors.append(
            FieldError(
                name,
                "invalid_datetime",
                f"`{raw}` is not an ISO 8601 date or time (e.g. 2026-03-01 or 2026-03-01T12:00:00Z).",
            )
        )
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)  # a local time in the requested timezone
    return value.astimezone(UTC)


def _resolve_range(
    params: ClickFilterParams, tz: ZoneInfo, now: datetime, errors: list[FieldError]
) -> tuple[datetime | None, datetime | None]:
    if params.start is None and params.end is None:
        interval = params.interval or Interval.h24
        return interval_start(interval, now, tz), now
    if params.interval is not None:
        errors.append(FieldError("interval", "conflicting_range", "Give either `interval` or `start`/`end`."))
        return None, None
    if params.start is None:
        errors.append(FieldError("start", "required", "`start` is required with `end`."))
        return None, None
    start = _parse_instant("start", params.start, tz, errors)
    end = _parse_instant("end", params.end, tz, errors) if params.end is not None else now
    if start is None or end is None:
        return None, None
    if start < BEGINNING:
        errors.append(FieldError("start", "out_of_range", "`start` must be on or after 2000-01-01."))
    elif end > now + MAX_FUTURE:
        errors.append(FieldError("end", "out_of_range", "`end` must be within a year from now."))
    elif end <= start:
        param = "end" if params.end is not None else "start"
        errors.append(FieldError(param, "invalid_range", "`end` must be after `start`."))
    return start, end


def csv_columns(group_by: GroupBy) -> list[str]:
    """The CSV header of a group_by, in the order of its JSON keys."""
    if group_by is GroupBy.count:
        return ["clicks", "unique_clicks"]
    if group_by is GroupBy.timeseries:
        return ["start", "clicks", "unique_clicks"]
    if group_by is GroupBy.links:
        return ["link_id", "slug", "short_url", "url", "clicks", "unique_clicks"]
    if group_by is GroupBy.bio_blocks:
        return ["bio_page_id", "bio_block_id", "clicks", "unique_clicks"]
    if group_by in INDEX_KEYS:
        return [INDEX_KEYS[group_by][0], "clicks", "unique_clicks"]
    return [DIMENSION_KEYS[group_by][0], "clicks", "unique_clicks"]


def rows_of(result: BaseModel) -> list[dict[str, Any]]:
    """The rows of any answer as JSON-ready dicts (a count is one row)."""
    data = result.model_dump(mode="json")
    return data["data"] if "data" in data else [data]
