"""Bio page views (`GET /v1/analytics/views`): click analytics asked about page views instead of clicks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from mask.analytics import service as analytics_service
from mask.analytics.query import ClickQuery, Counts, Event, Row
from mask.analytics.schemas import ORPHAN_FILTERS, ORPHAN_ONLY, AnalyticsParams, GroupBy
from mask.analytics.store import ClickStore
from mask.click.schemas import EnrichedClick
from mask.kit.errors import FieldError, ValidationFailed

NOT_FOR_VIEWS = frozenset(
    {GroupBy.links, GroupBy.tags, GroupBy.bio_blocks, GroupBy.destinations, GroupBy.variants, GroupBy.rules}
)
VIEW_NAMES = {"clicks": "views", "unique_clicks": "unique_views"}
# Where orphan hits are asked about: a page view is never one, so `kind=orphan` and what only they have are refused.
ORPHANS_ELSEWHERE = "page views have none: ask `GET /v1/analytics/clicks?kind=orphan`."


class ViewStore:
    """The analytics click store, asked about page views instead of clicks (mask.models.click.Click)."""

    def __init__(self, store: ClickStore) -> None:
        self.store = store

    async def record(self, clicks: Sequence[EnrichedClick]) -> None:
        await self.store.record(clicks)

    async def totals(self, query: ClickQuery) -> Counts:
        return await self.store.totals(replace(query, event=Event.view))

    async def timeseries(self, query: ClickQuery, starts: Sequence[datetime]) -> list[Counts]:
        return await self.store.timeseries(replace(query, event=Event.view), starts)

    async def breakdown(self, query: ClickQuery, columns: tuple[str, ...], *, limit: int) -> list[Row]:
        return await self.store.breakdown(replace(query, event=Event.view), columns, limit=limit)

    async def tag_breakdown(self, query: ClickQuery, *, limit: int) -> list[Row]:
        return await self.store.tag_breakdown(replace(query, event=Event.view), limit=limit)

    async def first_click_at(self, query: ClickQuery) -> datetime | None:
        return await self.store.first_click_at(replace(query, event=Event.view))


def as_views(data: dict[str, Any]) -> dict[str, Any]:
    """A click analytics answer with its counts named as views."""
    renamed = {VIEW_NAMES.get(key, key): value for key, value in data.items()}
    if isinstance(renamed.get("data"), list):
        renamed["data"] = [as_views(row) for row in renamed["data"]]
    return renamed


def view_columns(group_by: GroupBy) -> list[str]:
    """The CSV header of a views answer."""
    return [VIEW_NAMES.get(column, column) for column in analytics_service.csv_columns(group_by)]


async def views(session: AsyncSession, *, workspace_id: str, params: AnalyticsParams) -> dict[str, Any]:
    """Page views of the workspace's bio pages, with every time, filter and breakdown option of click analytics
    that applies to a page (not `link_id`, `tag`/`tags`, or the `links`, `tags`, `bio_blocks` breakdowns)."""
    errors: list[FieldError] = []
    if params.group_by in NOT_FOR_VIEWS:
        errors.append(
            FieldError("group_by", "invalid_for_views", f"`{params.group_by.value}` does not apply to page views.")
        )
    elif params.group_by in ORPHAN_ONLY:
        message = f"`{params.group_by.value}` breaks down orphan hits, and {ORPHANS_ELSEWHERE}"
        errors.append(FieldError("group_by", "invalid_for_views", message))
    if params.kind != "click":
        errors.append(FieldError("kind", "invalid_for_views", f"Orphan hits are not page views; {ORPHANS_ELSEWHERE}"))
    for name in ORPHAN_FILTERS:  # checked here: the click analytics' message ("add `kind=orphan`") is not true here
        if getattr(params, name) is not None:
            errors.append(
                FieldError(name, "invalid_for_views", f"`{name}` filters orphan hits, and {ORPHANS_ELSEWHERE}")
            )
    for name in ("link_id", "tag", "tags"):
        if getattr(params, name) is not None:
            errors.append(FieldError(name, "invalid_for_views", f"`{name}` does not apply to page views."))
    if errors:
        raise ValidationFailed(errors)
    store = ViewStore(analytics_service.click_store(session))
    result = await analytics_service.clicks(session, workspace_id=workspace_id, params=params, store=store)
    return as_views(result.model_dump(mode="json"))
