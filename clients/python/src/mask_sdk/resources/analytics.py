"""`client.analytics`: click and bio page view counts (`/v1/analytics/…`). Scope `analytics:read`.

Both operations take the same parameters: a range (`interval`, or `start`/`end`, read in `timezone`), filters
(a value, a list of values meaning any of them, or values prefixed with `-` to exclude them), `group_by`, and for
breakdowns `limit` and `unique`. What comes back depends on `group_by`: `ClickCount` for `"count"` (the default),
`ClickTimeseries` for `"timeseries"`, a breakdown (`Breakdown[CountryClicks]`, `LinksBreakdown`, …) otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Literal, TypeAlias, TypeVar

from mask_sdk._endpoint import Args, ChosenBy, Resource, Text, endpoint, given
from mask_sdk.models import (
    CLICKS_BY_GROUP,
    VIEWS_BY_GROUP,
    Breakdown,
    ClickAnalytics,
    ClickRow,
    GroupBy,
    ViewAnalytics,
    ViewBreakdown,
)

R = TypeVar("R")

Filter: TypeAlias = str | Sequence[str] | None
Interval = Literal["24h", "7d", "30d", "90d", "1y", "mtd", "qtd", "ytd", "all"]


def _query(
    self: object,
    *,
    group_by: GroupBy | None = None,
    interval: Interval | None = None,
    start: str | date | datetime | None = None,
    end: str | date | datetime | None = None,
    timezone: str | None = None,
    granularity: Literal["hour", "day", "month"] | None = None,
    link_id: Filter = None,
    domain: Filter = None,
    tag: Filter = None,
    tags: Filter = None,
    tag_match: Literal["any", "all"] | None = None,
    bio_page_id: Filter = None,
    country: Filter = None,
    city: Filter = None,
    device: Filter = None,
    browser: Filter = None,
    os: Filter = None,
    referrer: Filter = None,
    utm_source: Filter = None,
    utm_medium: Filter = None,
    utm_campaign: Filter = None,
    utm_term: Filter = None,
    utm_content: Filter = None,
    trigger: Filter = None,
    bots: Literal["exclude", "include", "only"] | None = None,
    unique: bool | None = None,
    limit: int | None = None,
) -> Args:
    return given(locals())


class Analytics(Resource[R]):
    clicks = endpoint(
        "GET",
        "/v1/analytics/clicks",
        returns=ChosenBy[ClickAnalytics]("group_by", CLICKS_BY_GROUP, default="count", fallback=Breakdown[ClickRow]),
        query={"format": "json"},
        doc="Clicks on the workspace's links and bio page blocks: totals, a time series or a breakdown.",
    )(_query)
    clicks_csv = endpoint(
        "GET",
        "/v1/analytics/clicks",
        returns=Text(),
        query={"format": "csv"},
        doc="The same rows as `clicks()`, as CSV text.",
    )(_query)
    views = endpoint(
        "GET",
        "/v1/analytics/views",
        returns=ChosenBy[ViewAnalytics]("group_by", VIEWS_BY_GROUP, default="count", fallback=ViewBreakdown),
        query={"format": "json"},
        doc="Views of the workspace's bio pages: `views`/`unique_views` in place of clicks.",
    )(_query)
    views_csv = endpoint(
        "GET",
        "/v1/analytics/views",
        returns=Text(),
        query={"format": "csv"},
        doc="The same rows as `views()`, as CSV text.",
    )(_query)
