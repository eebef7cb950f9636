from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse

from mask.analytics import events as events_service
from mask.analytics import service as analytics_service
from mask.analytics import views as views_service
from mask.analytics.export import to_csv
from mask.analytics.schemas import (
    ANALYTICS_RESPONSE,
    AnalyticsParams,
    ClickEventPage,
    EventsExportParams,
    EventsParams,
    ViewsResponse,
)
from mask.auth.dependencies import AnalyticsRead, BioPagesWrite, LinksWrite
from mask.dependencies import ContextDep, SessionDep
from mask.kit.schemas import error_responses

router = APIRouter(prefix="/analytics", tags=["Analytics"])

DESCRIPTION = """
Scope: `analytics:read`. Counts the workspace's clicks over a range, optionally filtered, grouped by `group_by`:

- `count` → `{"clicks", "unique_clicks"}`
- `timeseries` → `{"data": [{"start", "clicks", "unique_clicks"}, …]}`, every bucket, empty ones included
- a breakdown → `{"data": [{"<key>", "clicks", "unique_clicks"}, …]}`, most clicks first, at most `limit` rows;
  the key is singular (`country`, `device`, `referrer`, `tag`, …); `links` rows carry `link_id`, `slug`,
  `short_url` and `url`, `bio_blocks` rows `bio_page_id` and `bio_block_id`. Unknown values are a `null` row.

Only human clicks count unless `bots` says otherwise, so `group_by=count&link_id=…&interval=all` equals the
link's `clicks`. Every hit is stored with its `traffic_type` (`human`, `bot`, `preview`, `prefetch`):
`group_by=traffic_types` says what was left out and why, `group_by=bots` which bots, and `traffic_type` filters
on it. `kind=orphan` asks about hits that found no link (unknown slugs and roots of the workspace's own domains,
expired links, links whose click limit is spent; `group_by=orphan_types|paths`), which no other answer counts.
`unique_clicks` counts a visitor's first click of the (UTC) day on a link or bio page.
`format=csv` or `Accept: text/csv` returns the same rows as CSV. Invalid parameters are `422` naming the
parameter; a `link_id` that is not one of the workspace's links is `404`. Bio page views are not clicks (see
`GET /v1/analytics/views`).
"""

CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The counts (JSON, or CSV with `format=csv` / `Accept: text/csv`).",
        "content": {
            "text/csv": {"schema": {"type": "string"}, "example": "country,clicks,unique_clicks\r\nUS,120,80\r\n"}
        },
    },
}


def wants_csv(format_param: str | None, accept: str | None) -> bool:
    """`format` decides; otherwise `Accept: text/csv` when it is preferred over (or instead of) JSON."""
    if format_param is not None:
        return format_param == "csv"
    if not accept:
        return False
    weights: dict[str, float] = {}
    for part in accept.split(","):
        media, *options = [piece.strip() for piece in part.split(";")]
        weight = 1.0
        for option in options:
            name, _, value = option.partition("=")
            if name.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        weights.setdefault(media.lower(), weight)
    csv_weight = weights.get("text/csv", 0.0)
    return csv_weight > 0 and csv_weight >= weights.get("application/json", 0.0)


@router.get(
    "/clicks",
    response_model=ANALYTICS_RESPONSE,
    responses={**error_responses(403, 404, 422), **CSV_RESPONSE},
    summary="Click analytics: totals, time series and breakdowns",
    description=DESCRIPTION,
)
async def get_clicks(
    request: Request, auth: AnalyticsRead, session: SessionDep, params: Annotated[AnalyticsParams, Query()]
) -> Any:
    result = await analytics_service.clicks(session, workspace_id=auth.workspace_id, params=params)
    if wants_csv(params.format, request.headers.get("accept")):
        body = to_csv(analytics_service.csv_columns(params.group_by), analytics_service.rows_of(result))
        filename = f"clicks-{params.group_by.value}.csv"
        return Response(
            body,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    return result


VIEWS_DESCRIPTION = """
Scope: `analytics:read`. Views of the workspace's bio pages: every time option of `GET /v1/analytics/clicks`
(`interval`, `start`/`end`, `timezone`, `granularity`), its filters (`bio_page_id`, `domain`, `country`, `device`,
`referrer`, `utm_*`, …) and its breakdowns that apply to a page view (`count`, `timeseries`, `bio_pages`,
`countries`, `devices`, `browsers`, `os`, `referrers`, `utm_*`, …), with `views`/`unique_views` in place of
`clicks`/`unique_clicks`.

A view is a `GET` of the public page by a human (bots are recorded and flagged, and count only with `bots`);
`HEAD` requests and browser prefetches are not views. A unique view is a visitor's first view of the page in a
UTC day. `group_by=count&bio_page_id=…&interval=all` equals the page's `views`. A `bio_page_id` that is not one
of the workspace's pages is `404`; `link_id`, `tag` and the `links`, `tags`, `bio_blocks` breakdowns are `422`
(clicks on a page's blocks are in `GET /v1/analytics/clicks?bio_page_id=…&group_by=bio_blocks`). A view is never
an orphan hit: `kind=orphan`, `orphan_type`, `path` and `group_by=orphan_types|paths` are `422` here (code
`invalid_for_views`); orphan hits are in `GET /v1/analytics/clicks?kind=orphan`.
"""


@router.get(
    "/views",
    response_model=ViewsResponse,
    responses={**error_responses(403, 404, 422), **CSV_RESPONSE},
    summary="Bio page views: totals, time series and breakdowns",
    description=VIEWS_DESCRIPTION,
)
async def get_views(
    request: Request, auth: AnalyticsRead, session: SessionDep, params: Annotated[AnalyticsParams, Query()]
) -> Any:
    data = await views_service.views(session, workspace_id=auth.workspace_id, params=params)
    if wants_csv(params.format, request.headers.get("accept")):
        rows = data["data"] if "data" in data else [data]
        return Response(
            to_csv(views_service.view_columns(params.group_by), rows),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="views-{params.group_by.value}.csv"'},
        )
    return data


EVENTS_DESCRIPTION = """
Scope: `analytics:read`. The clicks themselves, newest first, each with the fields of the `link.clicked`
webhook's click (never an IP address or a raw user agent). Every time option and filter of
`GET /v1/analytics/clicks` applies (`interval`, `start`/`end`, `link_id`, `tags`, `country`, `bots`, …); bio
page views are not clicks and are left out. Pages of `limit` events follow `next_cursor`; for every event of a
range in one request, use `GET /v1/analytics/events/export`.
"""


@router.get(
    "/events",
    response_model=ClickEventPage,
    responses=error_responses(403, 404, 422),
    summary="Click events: the clicks themselves, a page at a time",
    description=EVENTS_DESCRIPTION,
)
async def get_events(
    auth: AnalyticsRead, session: SessionDep, params: Annotated[EventsParams, Query()]
) -> ClickEventPage:
    return await events_service.page(session, workspace_id=auth.workspace_id, params=params)


EXPORT_DESCRIPTION = """
Scope: `analytics:read`. Every click event of the range and filters of `GET /v1/analytics/events`, newest
first, streamed at constant memory: an export of millions of clicks is one request. CSV (the default; cells a
spreadsheet would read as formulas are prefixed with `'`) or NDJSON (`format=ndjson`, or `Accept:
application/x-ndjson`), one event per line.
"""

EXPORT_MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "ndjson": "application/x-ndjson"}


@router.get(
    "/events/export",
    responses={
        **error_responses(403, 404, 422),
        200: {
            "description": "Every event, as CSV or NDJSON.",
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/x-ndjson": {"schema": {"type": "string"}},
            },
        },
    },
    response_class=StreamingResponse,
    summary="Export click events as CSV or NDJSON",
    description=EXPORT_DESCRIPTION,
)
async def export_events(
    request: Request,
    auth: AnalyticsRead,
    session: SessionDep,
    context: ContextDep,
    params: Annotated[EventsExportParams, Query()],
) -> StreamingResponse:
    kind = params.format
    if kind is None:
        kind = "ndjson" if "application/x-ndjson" in request.headers.get("accept", "").lower() else "csv"
    query = await analytics_service.resolve_query(session, workspace_id=auth.workspace_id, params=params)
    return StreamingResponse(
        events_service.export(context.sessionmaker, query, format=kind),
        media_type=EXPORT_MEDIA_TYPES[kind],
        headers={"Content-Disposition": f'attachment; filename="clicks.{kind}"'},
    )


# Deleting a link's or a bio page's clicks: under the link's and the page's paths (and their write scopes: who may
# change or delete the link may delete what it counted; there is no analytics write scope), served from here
# because the clicks and their rollups are analytics' (mask.link must not import mask.analytics).
targets = APIRouter()

CLEAR_NOTE = (
    " In one transaction: the raw clicks (events and exports), every rollup (totals, time series, breakdowns), "
    "the first sightings that make clicks unique, and the counters. Clicks made before the call that were still "
    "on their way to the database (the click journal, usually under a second) are stored afterwards as new "
    "clicks. A link's `clicks_remaining` (its click limit) is not reset. Another workspace's id is `404`."
)


@targets.delete(
    "/links/{link_id}/clicks",
    status_code=204,
    responses=error_responses(403, 404),
    tags=["Links"],
    summary="Delete a link's clicks",
    description="Scope: `links:write`. The link's `clicks` becomes 0 and `last_clicked_at` null; a "
    "`link.clicks_deleted` event (webhooks, audit log) says how many human clicks went (`clicks_deleted`)."
    + CLEAR_NOTE,
)
async def delete_link_clicks(link_id: str, auth: LinksWrite, session: SessionDep) -> Response:
    await analytics_service.clear_link_clicks(session, workspace_id=auth.workspace_id, link_id=link_id)
    return Response(status_code=204)


@targets.delete(
    "/bio-pages/{bio_page_id}/clicks",
    status_code=204,
    responses=error_responses(403, 404),
    tags=["Bio pages"],
    summary="Delete a bio page's views and clicks",
    description="Scope: `bio_pages:write`. The page's views and the clicks on its blocks; `views`, `clicks` and "
    "each block's `clicks` become 0; a `bio_page.clicks_deleted` event carries `views_deleted` and "
    "`clicks_deleted`." + CLEAR_NOTE,
)
async def delete_bio_page_clicks(bio_page_id: str, auth: BioPagesWrite, session: SessionDep) -> Response:
    await analytics_service.clear_bio_page_clicks(session, workspace_id=auth.workspace_id, bio_page_id=bio_page_id)
    return Response(status_code=204)
