"""Analytics: a time-series chart and breakdowns through mask.analytics.service (the API's own questions).

The page's query string is the API's parameters (interval, bots, and any filter), so a view can be shared
as a link and every number can be checked against GET /v1/analytics/clicks with the same parameters.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from pydantic import BaseModel, ValidationError
from starlette.responses import Response

from mask.analytics import service as analytics_service
from mask.analytics.export import to_csv
from mask.analytics.schemas import FILTER_PARAMS, AnalyticsParams, GroupBy
from mask.dashboard.web import Page, view
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
BREAKDOWNS: list[tuple[GroupBy, str, str]] = [
    (GroupBy.links, "Top links", "link_id"),
    (GroupBy.countries, "Countries", "country"),
    (GroupBy.referrers, "Referrers", "referrer"),
    (GroupBy.devices, "Devices", "device"),
    (GroupBy.browsers, "Browsers", "browser"),
    (GroupBy.os, "Operating systems", "os"),
    (GroupBy.utm_sources, "UTM sources", "utm_source"),
    (GroupBy.utm_mediums, "UTM mediums", "utm_medium"),
    (GroupBy.utm_campaigns, "UTM campaigns", "utm_campaign"),
    (GroupBy.tags, "Tags", "tag"),
    (GroupBy.triggers, "Clicks, QR scans, bio pages", "trigger"),
]
LINK_BREAKDOWNS = [
    item
    for item in BREAKDOWNS
    if item[0]
    in (
        GroupBy.countries,
        GroupBy.referrers,
        GroupBy.devices,
        GroupBy.browsers,
        GroupBy.os,
        GroupBy.utm_sources,
        GroupBy.triggers,
    )
]
ACCEPTED = ("interval", "bots", *FILTER_PARAMS, "tags", "tag_match")
TRIGGER_LABELS = {"link": "Link clicks", "qr": "QR code scans", "bio": "Bio page"}
ROWS = 8


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


def _query(page: Page) -> dict[str, str]:
    """The accepted analytics parameters of this page's URL (the rest is ignored, not refused)."""
    params = page.request.query_params
    query = {name: params[name].strip() for name in ACCEPTED if params.get(name, "").strip()}
    query.setdefault("interval", DEFAULT_INTERVAL)
    return query


def link_query(page: Page, link_id: str) -> dict[str, str]:
    """A link page's question: its range and bot mode from the URL, filtered to the link."""
    query = {name: value for name, value in _query(page).items() if name in ("interval", "bots")}
    query["link_id"] = link_id
    return query


def _params(query: dict[str, str], group_by: GroupBy, **extra: Any) -> AnalyticsParams:
    return AnalyticsParams.model_validate({**query, "group_by": group_by.value, **extra})


def _rows(result: BaseModel, key: str, colors: dict[str, str] | None = None) -> list[Row]:
    """A breakdown's rows; each bar is as long as its share of the top row (one query, no separate total)."""
    rows = []
    items = analytics_service.rows_of(result)
    top = max((item["clicks"] for item in items), default=0)
    for item in items:
        if key == "link_id":
            label = (item.get("short_url") or "(deleted link)").split("://", 1)[-1]
            value = item["link_id"]
        elif key == "trigger":
            value = item.get(key)
            label = TRIGGER_LABELS.get(value or "", value or "Unknown")
        else:
            label = item.get(key) or ("Direct / none" if key in ("referrer", "utm_source") else "Unknown")
            value = item.get(key)
        rows.append(
            Row(
                label=label,
                value=value,
                clicks=item["clicks"],
                unique_clicks=item["unique_clicks"],
                share=item["clicks"] / top if top else 0.0,
                color=(colors or {}).get(str(value)) if key == "tag" else None,
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
    points: list[dict[str, Any]] = []
    granularity = "day"
    if total:  # without clicks there is no chart to draw and nothing to break down
        series = await analytics_service.clicks(
            page.db, workspace_id=workspace_id, params=_params(query, GroupBy.timeseries)
        )
        points = analytics_service.rows_of(series)
        granularity = str(getattr(series, "granularity", granularity))
    chart = {
        "granularity": granularity,
        "t": [point["start"] for point in points],
        "clicks": [point["clicks"] for point in points],
        "unique": [point["unique_clicks"] for point in points],
    }
    filters = [
        (name, value, _url(base, query, **{name: None}))
        for name, value in query.items()
        if name in FILTER_PARAMS or name == "tags"
    ]
    return {
        "query": query,
        "totals": totals,
        "chart_json": json.dumps(chart).replace("<", "\\u003c"),
        "points": points,
        "breakdowns": _cards(page, query, breakdowns) if total else [],
        "filters": filters,
        "base_url": base,
        "intervals": [(value, label, _url(base, query, interval=value)) for value, label in INTERVALS],
        "bot_modes": [
            (value, label, _url(base, query, bots=None if value == "exclude" else value)) for value, label in BOT_MODES
        ],
        "series_csv_url": _url(f"{page.base}/analytics.csv", query, group_by="timeseries"),
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
    try:
        values = await report(page, query, breakdowns=BREAKDOWNS, base=base)
    except (MaskError, ValidationError) as error:
        message = error.message if isinstance(error, MaskError) else "These analytics parameters are not valid."
        return page.render("analytics.html", status=getattr(error, "status_code", 422), problem=message, reset_url=base)
    link = None
    if "link_id" in query and "," not in query["link_id"] and not query["link_id"].startswith("-"):
        link = link_service.to_schema(
            await link_service.get(page.db, workspace_id=page.ws.workspace.id, link_id=query["link_id"])
        )
    return page.render("analytics.html", problem=None, link=link, **values)


@view(workspace=True, permission=Permission.analytics_read)
async def breakdown(page: Page) -> Response:
    """One breakdown card: what the analytics page loads for each card (or, without script, a page of its own)."""
    query = _query(page)
    chosen = next((item for item in BREAKDOWNS if item[0].value == page.request.query_params.get("group_by")), None)
    if chosen is None:
        raise analytics_service.AnalyticsLinkNotFound("No such breakdown.")
    group_by, title, key = chosen
    result = await analytics_service.clicks(
        page.db, workspace_id=page.ws.workspace.id, params=_params(query, group_by, limit=ROWS)
    )
    [card] = _cards(page, query, [chosen])
    card = Breakdown(
        group_by=card.group_by,
        key=key,
        title=title,
        csv_url=card.csv_url,
        load_url=card.load_url,
        rows=_rows(
            result, key, await tag_service.colors(page.db, workspace_id=page.ws.workspace.id) if key == "tag" else None
        ),
    )
    base = f"{page.base}/analytics"
    values: dict[str, Any] = {"section": card, "filter_url": lambda name, value: _url(base, query, **{name: value})}
    if page.request.headers.get("hx-request"):
        return page.render("analytics/_card.html", **values)
    return page.render("analytics/card.html", back_url=_url(base, query), **values)


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
