"""`client.analytics`: click and bio page view counts (`/v1/analytics/…`). Scope `analytics:read`.

Both operations take the same parameters: a range (`interval`, or `start`/`end`, read in `timezone`), filters
(a value, a list of values meaning any of them, or values prefixed with `-` to exclude them), `group_by`, and for
breakdowns `limit` and `unique`. What comes back depends on `group_by`: `ClickCount` for `"count"` (the default),
`ClickTimeseries` for `"timeseries"`, a breakdown (`Breakdown[CountryClicks]`, `LinksBreakdown`, …) otherwise.
`group_by="traffic_types"` says what was left out of the counts (bots, link previews, prefetches); `kind="orphan"`
asks about hits that found no link (unknown slugs, domain roots, expired links, links whose click limit is
spent), with `group_by="orphan_types"` or `"paths"` and the `orphan_type` and `path` filters.

What the decision engine decided for a click of a link with rules, an A/B test or a password can be broken down
(`group_by="destinations" | "variants" | "rules"`) and filtered on (`destination_url`, `variant`, `rule_index`:
0-based indexes into the link's `variants` and `rules`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Literal, TypeAlias, TypeVar

from mask_sdk._endpoint import Args, ChosenBy, Json, Resource, Text, endpoint, given, paginated
from mask_sdk.models import (
    CLICKS_BY_GROUP,
    VIEWS_BY_GROUP,
    Breakdown,
    ClickAnalytics,
    ClickEvent,
    ClickRow,
    GroupBy,
    Page,
    ViewAnalytics,
    ViewBreakdown,
)

R = TypeVar("R")

Filter: TypeAlias = str | Sequence[str] | None
IndexFilter: TypeAlias = int | str | Sequence[int | str] | None  # 0-based indexes into a link's rules / variants
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
    traffic_type: Filter = None,
    destination_url: Filter = None,
    variant: IndexFilter = None,
    rule_index: IndexFilter = None,
    orphan_type: Filter = None,  # with kind="orphan" only
    path: Filter = None,  # with kind="orphan" only
    bots: Literal["exclude", "include", "only"] | None = None,
    kind: Literal["click", "orphan"] | None = None,
    unique: bool | None = None,
    limit: int | None = None,
) -> Args:
    return given(locals())


class Analytics(Resource[R]):
    def __init__(self, runner: R) -> None:
        super().__init__(runner)
        self.events: Events[R] = Events(runner)

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


def _events(
    self: object,
    *,
    interval: Interval | None = None,
    start: str | date | datetime | None = None,
    end: str | date | datetime | None = None,
    timezone: str | None = None,
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
    traffic_type: Filter = None,
    destination_url: Filter = None,
    variant: IndexFilter = None,
    rule_index: IndexFilter = None,
    orphan_type: Filter = None,  # with kind="orphan" only
    path: Filter = None,  # with kind="orphan" only
    bots: Literal["exclude", "include", "only"] | None = None,
    kind: Literal["click", "orphan"] | None = None,
) -> Args:
    return given(locals())


class Events(Resource[R]):
    """`client.analytics.events`: the clicks themselves, newest first, with the filters of `clicks()`."""

    @paginated("/v1/analytics/events", item=ClickEvent)
    def list(
        self,
        *,
        interval: Interval | None = None,
        start: str | date | datetime | None = None,
        end: str | date | datetime | None = None,
        timezone: str | None = None,
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
        traffic_type: Filter = None,
        destination_url: Filter = None,
        variant: IndexFilter = None,
        rule_index: IndexFilter = None,
        orphan_type: Filter = None,  # with kind="orphan" only
        path: Filter = None,  # with kind="orphan" only
        bots: Literal["exclude", "include", "only"] | None = None,
        kind: Literal["click", "orphan"] | None = None,
        limit: int | None = None,
        max_items: int | None = None,
    ) -> Args:
        """Every click event, page after page (`limit` per page); `max_items` stops after that many."""
        return given(locals())

    @endpoint("GET", "/v1/analytics/events", returns=Json(Page[ClickEvent]))
    def page(
        self,
        *,
        interval: Interval | None = None,
        start: str | date | datetime | None = None,
        end: str | date | datetime | None = None,
        timezone: str | None = None,
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
        traffic_type: Filter = None,
        destination_url: Filter = None,
        variant: IndexFilter = None,
        rule_index: IndexFilter = None,
        orphan_type: Filter = None,  # with kind="orphan" only
        path: Filter = None,  # with kind="orphan" only
        bots: Literal["exclude", "include", "only"] | None = None,
        kind: Literal["click", "orphan"] | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Args:
        """One page of click events; pass its `next_cursor` back as `cursor` for the next (older) one."""
        return given(locals())

    csv = endpoint(
        "GET",
        "/v1/analytics/events/export",
        returns=Text(),
        query={"format": "csv"},
        doc="Every click event of the range and filters as CSV text (newest first).",
    )(_events)
    ndjson = endpoint(
        "GET",
        "/v1/analytics/events/export",
        returns=Text(),
        query={"format": "ndjson"},
        doc="Every click event as NDJSON text, one JSON object per line (newest first).",
    )(_events)
