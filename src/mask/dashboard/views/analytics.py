"""Analytics: a time-series chart and breakdowns through mask.analytics.service (the API's own questions).

The page's query string is the API's parameters (interval, bots, and any filter), so a view can be shared
as a link and every number can be checked against GET /v1/analytics/clicks with the same parameters.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from pydantic import BaseModel, ValidationError
from starlette.responses import Response

from mask.analytics import service as analytics_service
from mask.analytics import views as views_service
from mask.analytics.export import to_csv
from mask.analytics.schemas import FILTER_PARAMS, ORPHAN_FILTERS, ORPHAN_ONLY, AnalyticsParams, GroupBy
from mask.analytics.service import NONE_FILTERABLE, NONE_VALUE, escape_filter_value, filter_items
from mask.bio_page import service as bio_page_service
from mask.dashboard.countries import country_label
from mask.dashboard.web import Page, view
from mask.dashboard.world_map import shaded_map
from mask.kit.errors import MaskError
from mask.link import service as link_service
from mask.tag import service as tag_service
from mask.workspace.permissions import Permission

INTERVALS = [
    ("24h", "24 hours"),
    ("7d", "7 days"),
    ("30d", "30 days"),
    ("90d", "90 days"),
    ("1y", "1 year"),
    ("all", "All time"),
]
BOT_MODES = [("exclude", "Humans"), ("include", "Humans + bots"), ("only", "Bots only")]
DEFAULT_INTERVAL = "30d"
# Every breakdown the API answers, in the order a person looks for them.
BREAKDOWNS: list[tuple[GroupBy, str, str]] = [
    (GroupBy.links, "Top links", "link_id"),
    (GroupBy.countries, "Countries", "country"),
    (GroupBy.cities, "Cities", "city"),
    (GroupBy.referrers, "Referrers", "referrer"),
    (GroupBy.referrer_urls, "Referrer URLs", "referrer_url"),
    (GroupBy.devices, "Devices", "device"),
    (GroupBy.browsers, "Browsers", "browser"),
    (GroupBy.os, "Operating systems", "os"),
    (GroupBy.domains, "Short domains", "domain"),
    (GroupBy.utm_sources, "UTM sources", "utm_source"),
    (GroupBy.utm_mediums, "UTM mediums", "utm_medium"),
    (GroupBy.utm_campaigns, "UTM campaigns", "utm_campaign"),
    (GroupBy.utm_terms, "UTM terms", "utm_term"),
    (GroupBy.utm_contents, "UTM contents", "utm_content"),
    (GroupBy.tags, "Tags", "tag"),
    (GroupBy.bio_pages, "Bio pages", "bio_page_id"),
    (GroupBy.bio_blocks, "Bio page blocks", "bio_block_id"),
    (GroupBy.triggers, "Clicks, QR scans, bio pages", "trigger"),
]
# Hits that found no link (`kind=orphan`): a section of their own on the workspace's page.
ORPHAN_BREAKDOWNS: list[tuple[GroupBy, str, str]] = [
    (GroupBy.orphan_types, "What they asked for", "orphan_type"),
    (GroupBy.paths, "Paths asked for", "path"),
]
ORPHAN_LABELS = {  # mask.click.schemas.ORPHAN_TYPES as people say them
    "unknown_slug": "Unknown slug",
    "domain_root": "Domain root (/)",
    "expired_link": "Expired link",
    "limit_reached": "Click limit reached",
}
# A link's own hits that were not clicks (the orphan types that name a link), as its page says them.
LINK_ORPHAN_NAMES = {
    "expired_link": ("hit after the link expired", "hits after the link expired"),
    "limit_reached": ("hit after its click limit was reached", "hits after its click limit was reached"),
}
# A link's own page: what varies between the clicks of one link.
LINK_BREAKDOWNS = [
    item
    for item in BREAKDOWNS
    if item[0] not in (GroupBy.links, GroupBy.domains, GroupBy.tags, GroupBy.bio_pages, GroupBy.bio_blocks)
]
ACCEPTED = ("interval", "start", "end", "timezone", "bots", *FILTER_PARAMS, "tags", "tag_match")
TRIGGER_LABELS = {"link": "Link clicks", "qr": "QR code scans", "bio": "Bio page"}
ROWS = 8  # rows of a card before "Show all"
ALL_ROWS = 100  # rows of an expanded card (the CSV has up to 1,000)
# What the "not counted" line calls each traffic type left out of the totals (singular, plural).
LEFT_OUT_NAMES = {
    "bot": ("bot", "bots"),
    "preview": ("link preview", "link previews"),
    "prefetch": ("prefetch", "prefetches"),
}
# Timezones offered first in the picker; any IANA name can be typed (the API checks it).
COMMON_TIMEZONES = (
    "UTC",
    "America/Los_Angeles",
    "America/Denver",
    "America/Chicago",
    "America/New_York",
    "America/Sao_Paulo",
    "Europe/London",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Madrid",
    "Africa/Lagos",
    "Asia/Dubai",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Asia/Shanghai",
    "Asia/Tokyo",
    "Australia/Sydney",
)


@dataclass(frozen=True)
class Row:
    label: str
    value: str | None  # what a filter on this row sends; None when the row cannot be filtered on
    clicks: int
    unique_clicks: int
    share: float
    color: str | None = None  # a tag's colour


@dataclass(frozen=True)
class Breakdown:
    group_by: str
    key: str  # the filter parameter a row of this breakdown sets
    title: str
    csv_url: str
    load_url: str  # the card on its own: fetched by the page (htmx), or followed as a link without script
    rows: list[Row] | None = None  # None until loaded
    more_url: str | None = None  # the card with every row (up to ALL_ROWS), when it has more than it shows
    expanded: bool = False

    @property
    def filter_key(self) -> str:
        """The filter a row sets: a bio block's row filters on its page (the API has no block filter)."""
        return "bio_page_id" if self.key == "bio_block_id" else self.key


SOURCE_NAMES = {"bitly": "Bitly", "shlink": "Shlink", "dub": "Dub", "yourls": "YOURLS", "kutt": "Kutt", "mask": "MASK"}


def imported_label(source: str) -> str:
    """An import's `source` as people say it: `bitly-csv` → Bitly, `csv` → a CSV file."""
    name = source.removesuffix("-csv")
    return SOURCE_NAMES.get(name, "a CSV file" if name == "csv" else name)


def _query(page: Page) -> dict[str, str]:
    """The accepted analytics parameters of this page's URL (the rest is ignored, not refused). A custom range
    (`start`, `end`) replaces the interval."""
    params = page.request.query_params
    query = {name: params[name].strip() for name in ACCEPTED if params.get(name, "").strip()}
    if "start" in query:
        query.pop("interval", None)
    else:
        query.pop("end", None)
        query.setdefault("interval", DEFAULT_INTERVAL)
    if query.get("timezone") == "UTC":
        del query["timezone"]
    return query


def link_query(page: Page, link_id: str) -> dict[str, str]:
    """A link page's question: its range, timezone and bot mode from the URL, filtered to the link."""
    kept = ("interval", "start", "end", "timezone", "bots")
    query = {name: value for name, value in _query(page).items() if name in kept}
    query["link_id"] = link_id
    return query


def _params(query: dict[str, str], group_by: GroupBy, **extra: Any) -> AnalyticsParams:
    """The API's parameters for one question. The page's orphan filters (`orphan_type`, `path`) narrow only its
    orphan hits: a question about clicks leaves them out (the API refuses them there), one about orphan hits
    (`kind=orphan`, which `orphan_types` and `paths` imply) keeps them."""
    if group_by in ORPHAN_ONLY:
        extra.setdefault("kind", "orphan")
    if extra.get("kind") != "orphan":
        query = {name: value for name, value in query.items() if name not in ORPHAN_FILTERS}
    return AnalyticsParams.model_validate({**query, "group_by": group_by.value, **extra})


def _label(key: str, value: str | None, item: dict[str, Any], names: dict[str, str]) -> tuple[str, str | None]:
    """What a row reads as, and the filter a click on it sends: the value escaped (`/a,b` is `/a\\,b`), `(none)`
    for "no value", None when the row cannot be filtered on."""
    label, sent = _label_and_value(key, value, item, names)
    return label, sent if sent is None or (sent == NONE_VALUE and value is None) else escape_filter_value(sent)


def _label_and_value(
    key: str, value: str | None, item: dict[str, Any], names: dict[str, str]
) -> tuple[str, str | None]:
    if key == "link_id":
        return (item.get("short_url") or "(deleted link)").split("://", 1)[-1], value
    if key == "trigger":
        return TRIGGER_LABELS.get(value or "", value or "Unknown"), value
    if key == "orphan_type":
        return ORPHAN_LABELS.get(value or "", value or "Unknown"), value
    if key == "bio_page_id":
        return names.get(value or "", value or "Unknown"), value
    if key == "bio_block_id":  # no block filter in the API: the row filters on its page
        return names.get(value or "", "Page views" if value is None else value), item.get("bio_page_id")
    if value is None:
        empty = "Direct / none" if key in ("referrer", "referrer_url") or key.startswith("utm_") else "Unknown"
        return empty, NONE_VALUE if key in NONE_FILTERABLE else None
    if key == "country":
        return country_label(value), value
    return value, value


def _rows(
    result: BaseModel, key: str, colors: dict[str, str] | None = None, names: dict[str, str] | None = None
) -> list[Row]:
    """A breakdown's rows; each bar is as long as its share of the top row (one query, no separate total)."""
    rows = []
    items = analytics_service.rows_of(result)
    top = max((item["clicks"] for item in items), default=0)
    for item in items:
        label, value = _label(key, item.get(key), item, names or {})
        rows.append(
            Row(
                label=label,
                value=value,
                clicks=item["clicks"],
                unique_clicks=item["unique_clicks"],
                share=item["clicks"] / top if top else 0.0,
                color=(colors or {}).get(str(item.get(key))) if key == "tag" else None,
            )
        )
    return rows


def _url(base: str, query: dict[str, str], **changes: str | None) -> str:
    merged = {**query, **changes}
    return f"{base}?{urlencode({name: value for name, value in merged.items() if value})}"


def _cards(page: Page, query: dict[str, str], breakdowns: list[tuple[GroupBy, str, str]]) -> list[Breakdown]:
    return [
        Breakdown(
            group_by=group_by.value,
            key=key,
            title=title,
            csv_url=_url(f"{page.base}/analytics.csv", query, group_by=group_by.value, limit="1000"),
            load_url=_url(f"{page.base}/analytics/breakdown", query, group_by=group_by.value),
        )
        for group_by, title, key in breakdowns
    ]


async def report(
    page: Page, query: dict[str, str], *, breakdowns: list[tuple[GroupBy, str, str]], base: str
) -> dict[str, Any]:
    """Totals and the time series for `query`, and the breakdown cards (each loads itself: one query each, so
    no page waits for ten)."""
    workspace_id = page.ws.workspace.id
    totals = await analytics_service.clicks(page.db, workspace_id=workspace_id, params=_params(query, GroupBy.count))
    total = int(getattr(totals, "clicks", 0))
    views = await _page_views(page, query)
    points: list[dict[str, Any]] = []
    granularity = "day"
    if total or views:  # without clicks (or page views) there is no chart to draw and nothing to break down
        series = await analytics_service.clicks(
            page.db, workspace_id=workspace_id, params=_params(query, GroupBy.timeseries)
        )
        points = analytics_service.rows_of(series)
        granularity = str(getattr(series, "granularity", granularity))
    left_out = await _left_out(page, query)
    link_orphans = await _link_orphans(page, query)
    chart: dict[str, Any] = {
        "timezone": query.get("timezone", "UTC"),
        "granularity": granularity,
        "t": [point["start"] for point in points],
        "clicks": [point["clicks"] for point in points],
        "unique": [point["unique_clicks"] for point in points],
    }
    if views is not None and points:
        view_series = await views_service.views(
            page.db, workspace_id=workspace_id, params=_params(query, GroupBy.timeseries)
        )
        by_start = {point["start"]: point["views"] for point in view_series["data"]}
        chart["views"] = [by_start.get(point["start"], 0) for point in points]
    filters = [
        (name, _filter_text(name, value), _url(base, query, **{name: None}))
        for name, value in query.items()
        if (name in FILTER_PARAMS and name not in ORPHAN_FILTERS) or name == "tags"
    ]
    imported = getattr(totals, "imported_clicks", None)  # one link, imported with another shortener's total
    return {
        "query": query,
        "totals": totals,
        "views": views,
        "imported": imported,
        "imported_from": imported_label(imported.source) if imported is not None else None,
        "left_out": left_out,
        "link_orphans": link_orphans,
        "chart_json": json.dumps(chart).replace("<", "\\u003c"),
        "points": points,
        "breakdowns": _cards(page, query, breakdowns) if total or views else [],
        "filters": filters,
        "base_url": base,
        "intervals": [
            (value, label, _url(base, query, interval=value, start=None, end=None)) for value, label in INTERVALS
        ],
        "range_form": _range_form(query),
        "timezone": query.get("timezone", "UTC"),
        "timezones": COMMON_TIMEZONES,
        "bot_modes": [
            (value, label, _url(base, query, bots=None if value == "exclude" else value)) for value, label in BOT_MODES
        ],
        "series_csv_url": _url(f"{page.base}/analytics.csv", query, group_by="timeseries"),
        "map_url": _url(f"{page.base}/analytics/map", query),
    }


async def _page_views(page: Page, query: dict[str, str]) -> int | None:
    """Views of the one bio page the question is about (None when it is not about exactly one page)."""
    page_id = query.get("bio_page_id", "")
    if not page_id or "," in page_id or page_id.startswith("-") or page_id == NONE_VALUE:
        return None
    if any(name in query for name in ("link_id", "tag", "tags")):
        return None
    counted = await views_service.views(
        page.db, workspace_id=page.ws.workspace.id, params=_params(query, GroupBy.count)
    )
    return int(counted["views"])


def _filter_text(name: str, value: str) -> str:
    """A filter chip's value as people read it: each of its values (escapes undone), `not …` for an exclusion."""

    def read(item: str | None) -> str:
        if item is None:
            return "none" if name in ("referrer", "referrer_url") or name.startswith("utm_") else "unknown"
        if name == "orphan_type":
            return ORPHAN_LABELS.get(item, item)
        if name == "country":
            return country_label(item)
        return item

    return ", ".join(f"not {read(item)}" if negative else read(item) for negative, item in filter_items(value))


def _range_form(query: dict[str, str]) -> dict[str, Any]:
    """The custom range form: its dates (the `start`/`end` days, `end` shown inclusive) and the hidden inputs
    that keep the rest of the question."""
    start, end = query.get("start", ""), query.get("end", "")
    shown_end = ""
    if len(end) == 10:
        try:
            shown_end = (date.fromisoformat(end) - timedelta(days=1)).isoformat()
        except ValueError:
            shown_end = ""
    kept = {name: value for name, value in query.items() if name not in ("interval", "start", "end", "timezone")}
    return {"start": start[:10], "end": shown_end, "kept": kept}


async def _left_out(page: Page, query: dict[str, str]) -> str | None:
    """What the totals leave out and why ("37 bots and 12 link previews not counted"), when they count humans
    only (the default); None when nothing was left out. One more rollup question: the same range and filters by
    traffic type."""
    if "bots" in query or "traffic_type" in query:
        return None
    result = await analytics_service.clicks(
        page.db, workspace_id=page.ws.workspace.id, params=_params(query, GroupBy.traffic_types, bots="only")
    )
    counts = {row["traffic_type"]: row["clicks"] for row in analytics_service.rows_of(result)}
    parts = [
        f"{counts[kind]:,} {names[0] if counts[kind] == 1 else names[1]}"
        for kind, names in LEFT_OUT_NAMES.items()
        if counts.get(kind)
    ]
    if not parts:
        return None
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return f"{listed} not counted"


ORPHANS_ANCHOR = "#orphan-hits"


async def _link_orphans(page: Page, query: dict[str, str]) -> dict[str, str] | None:
    """What a question about one link leaves out because the link no longer counted (`"37 hits after the link
    expired, not counted as clicks"`): its orphan hits by type in the same range, bot mode and filters (the API's
    `kind=orphan&link_id=…&group_by=orphan_types`), and where the workspace's page shows them. None when there
    are none, or the question is not about exactly one link (or is about a bio page: orphans never belong to one)."""
    links = filter_items(query.get("link_id", ""))
    if len(links) != 1 or links[0][0] or not links[0][1] or "bio_page_id" in query:
        return None
    result = await analytics_service.clicks(
        page.db, workspace_id=page.ws.workspace.id, params=_params(query, GroupBy.orphan_types, kind="orphan")
    )
    parts = []
    for row in analytics_service.rows_of(result):
        kind, count = str(row["orphan_type"]), int(row["clicks"])
        one, many = LINK_ORPHAN_NAMES.get(kind, (f"{kind} hit", f"{kind} hits"))
        parts.append(f"{count:,} {one if count == 1 else many}")
    if not parts:
        return None
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return {"text": f"{listed}, not counted as clicks", "url": _url(f"{page.base}/analytics", query) + ORPHANS_ANCHOR}


async def orphan_report(page: Page, query: dict[str, str], *, base: str) -> dict[str, Any] | None:
    """The page's "Hits that found no link" section: the orphan hits' total for the same range and filters
    (`kind=orphan`, the API's question), its own filter chips, and two cards that load themselves (by type, by
    path). None when the question cannot be about orphan hits (a bio page's: orphans never belong to one)."""
    if "bio_page_id" in query:
        return None
    totals = await analytics_service.clicks(
        page.db, workspace_id=page.ws.workspace.id, params=_params(query, GroupBy.count, kind="orphan")
    )
    total = int(getattr(totals, "clicks", 0))
    return {
        "totals": totals,
        "filters": [
            (name, _filter_text(name, value), _url(base, query, **{name: None}) + ORPHANS_ANCHOR)
            for name, value in query.items()
            if name in ORPHAN_FILTERS
        ],
        "breakdowns": _cards(page, query, ORPHAN_BREAKDOWNS) if total else [],
    }


@dataclass(frozen=True)
class VariantRow:
    number: int  # 0-based, as the API's `variant`
    url: str
    weight: int  # per cent of visitors the test sends here
    clicks: int
    unique_clicks: int
    share: float  # of the clicks the test split (0–1)
    filter_url: str  # the analytics page, filtered to this link and variant


async def variant_comparison(page: Page, query: dict[str, str], variants: list[Any]) -> list[VariantRow]:
    """An A/B test's variants side by side: clicks (and unique) per variant from `group_by=variants`, each one's
    share of the test's clicks against its weight. Every variant has a row, clicked or not."""
    if not variants:
        return []
    result = await analytics_service.clicks(
        page.db, workspace_id=page.ws.workspace.id, params=_params(query, GroupBy.variants, limit=100)
    )
    counted = {row["variant"]: row for row in analytics_service.rows_of(result) if row["variant"] is not None}
    split = sum(row["clicks"] for number, row in counted.items() if number < len(variants))
    base = f"{page.base}/analytics"
    rows = []
    for number, variant in enumerate(variants):
        row = counted.get(number, {"clicks": 0, "unique_clicks": 0})
        rows.append(
            VariantRow(
                number=number,
                url=variant.url,
                weight=variant.weight,
                clicks=row["clicks"],
                unique_clicks=row["unique_clicks"],
                share=row["clicks"] / split if split else 0.0,
                filter_url=_url(base, query, variant=str(number)),
            )
        )
    return rows


@view(workspace=True, permission=Permission.analytics_read)
async def workspace_analytics(page: Page) -> Response:
    query = _query(page)
    base = f"{page.base}/analytics"
    _inclusive_end(page, query)
    try:
        values = await report(page, query, breakdowns=BREAKDOWNS, base=base)
        values["orphans"] = await orphan_report(page, query, base=base)
    except (MaskError, ValidationError) as error:
        message = error.message if isinstance(error, MaskError) else "These analytics parameters are not valid."
        return page.render("analytics.html", status=getattr(error, "status_code", 422), problem=message, reset_url=base)
    link = None
    if "link_id" in query and "," not in query["link_id"] and not query["link_id"].startswith("-"):
        link = link_service.to_schema(
            await link_service.get(page.db, workspace_id=page.ws.workspace.id, link_id=query["link_id"])
        )
    bio = None
    if values["views"] is not None:
        bio = bio_page_service.to_schema(
            await bio_page_service.get(page.db, workspace_id=page.ws.workspace.id, page_id=query["bio_page_id"])
        )
    return page.render("analytics.html", problem=None, link=link, bio=bio, **values)


def _inclusive_end(page: Page, query: dict[str, str]) -> None:
    """The range form sends the last day to include (`until`); the API's `end` is exclusive: the next day."""
    until = page.request.query_params.get("until", "").strip()
    if "start" in query and until:
        try:
            query["end"] = (date.fromisoformat(until) + timedelta(days=1)).isoformat()
        except ValueError:
            query["end"] = until  # not a date: the API names the problem


async def _names(page: Page, key: str) -> dict[str, str]:
    """Bio page titles and block titles of this workspace, for the bio breakdowns' rows."""
    if key not in ("bio_page_id", "bio_block_id"):
        return {}
    names: dict[str, str] = {}
    pages, _ = await bio_page_service.list_page(
        page.db, workspace_id=page.ws.workspace.id, limit=100, cursor=None, domain=None
    )
    for bio_view in pages:
        schema = bio_page_service.to_schema(bio_view)
        names[schema.id] = schema.title or schema.handle
        for block in schema.blocks:
            names[block.id] = f"{schema.title or schema.handle}: {_block_title(block)}"
    return names


def _block_title(block: Any) -> str:
    for attribute in ("title", "label", "text", "url"):
        value = getattr(block, attribute, None)
        if isinstance(value, str) and value.strip():
            return value.strip()[:60]
    return str(getattr(block, "type", "block"))


@view(workspace=True, permission=Permission.links_write)
async def clear_link_clicks(page: Page) -> Response:
    """The link analytics page's "Clear click data" (DELETE /v1/links/{id}/clicks)."""
    link_id = page.request.path_params["link_id"]
    await analytics_service.clear_link_clicks(page.db, workspace_id=page.ws.workspace.id, link_id=link_id)
    return page.redirect(f"{page.base}/analytics?{urlencode({'link_id': link_id})}", done="link-clicks-deleted")


@view(workspace=True, permission=Permission.analytics_read)
async def breakdown(page: Page) -> Response:
    """One breakdown card: what the analytics page loads for each card (or, without script, a page of its own).
    `rows=all` expands it to ALL_ROWS rows."""
    query = _query(page)
    asked = page.request.query_params.get("group_by")
    chosen = next((item for item in (*BREAKDOWNS, *ORPHAN_BREAKDOWNS) if item[0].value == asked), None)
    if chosen is None:
        raise analytics_service.AnalyticsLinkNotFound("No such breakdown.")
    group_by, title, key = chosen
    expanded = page.request.query_params.get("rows") == "all"
    wanted = ALL_ROWS if expanded else ROWS
    # One row more than shown tells whether there are more.
    result = await analytics_service.clicks(
        page.db, workspace_id=page.ws.workspace.id, params=_params(query, group_by, limit=wanted + 1)
    )
    colors = await tag_service.colors(page.db, workspace_id=page.ws.workspace.id) if key == "tag" else None
    rows = _rows(result, key, colors, await _names(page, key))
    [card] = _cards(page, query, [chosen])
    card = Breakdown(
        group_by=card.group_by,
        key=key,
        title=title,
        csv_url=card.csv_url,
        load_url=card.load_url,
        rows=rows[:wanted],
        more_url=f"{card.load_url}&rows=all" if len(rows) > wanted and not expanded else None,
        expanded=expanded,
    )
    base = f"{page.base}/analytics"
    anchor = ORPHANS_ANCHOR if group_by in ORPHAN_ONLY else ""  # a filter on an orphan row lands on their section
    values: dict[str, Any] = {
        "section": card,
        "shown_before": ROWS,
        "filter_url": lambda name, value: _url(base, query, **{name: value}) + anchor,
    }
    if page.request.headers.get("hx-request"):
        return page.render("analytics/_card.html", **values)
    return page.render("analytics/card.html", back_url=_url(base, query), **values)


@view(workspace=True, permission=Permission.analytics_read)
async def world_map(page: Page) -> Response:
    """The map card: every country's clicks (one query) shading an inline SVG; the Countries card is its list."""
    query = _query(page)
    result = await analytics_service.clicks(
        page.db, workspace_id=page.ws.workspace.id, params=_params(query, GroupBy.countries, limit=300)
    )
    counts = {row["country"]: row["clicks"] for row in analytics_service.rows_of(result) if row["country"]}
    total = sum(counts.values())

    def describe(code: str, clicks: int) -> str:
        return f"{country_label(code)}: {clicks:,} click{'' if clicks == 1 else 's'}"

    svg = shaded_map(counts, describe, f"World map of clicks: {len(counts)} countries, {total:,} clicks")
    values: dict[str, Any] = {"svg": svg, "countries": len(counts)}
    if page.request.headers.get("hx-request"):
        return page.render("analytics/_map.html", **values)
    return page.render("analytics/map.html", back_url=_url(f"{page.base}/analytics", query), **values)


@view(workspace=True, permission=Permission.analytics_read)
async def analytics_csv(page: Page) -> Response:
    """The rows of one question as CSV, exactly as the API's `format=csv` answers it."""
    query = _query(page)
    raw_group = page.request.query_params.get("group_by", "timeseries")
    limit = page.request.query_params.get("limit")
    try:
        group_by = GroupBy(raw_group)
        extra = {"limit": int(limit)} if limit and limit.isdigit() else {}
        params = _params(query, group_by, **extra)
    except (ValueError, ValidationError) as error:
        return Response(f"invalid analytics parameters: {error}", status_code=422, media_type="text/plain")
    result = await analytics_service.clicks(page.db, workspace_id=page.ws.workspace.id, params=params)
    body = to_csv(analytics_service.csv_columns(group_by), analytics_service.rows_of(result))
    filename = f"{page.ws.workspace.slug}-clicks-{group_by.value}-{query.get('interval', 'range')}.csv"
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
