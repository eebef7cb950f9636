"""`/v1/shared-dashboards`: public analytics pages of one link, tag, domain or bio page.

Scopes: reading (list, get) needs `analytics:read`; creating, changing, rotating and revoking need `links:write`
(publishing a link's numbers is a change members make, viewers do not). The page's URL is in the answers to
create and rotate only; those answers are `Cache-Control: no-store`, so an idempotent retry is `409
idempotency_secret_not_replayed` instead of the URL again.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from mask.auth.dependencies import AnalyticsRead, LinksWrite
from mask.dependencies import ContextDep, SessionDep
from mask.kit.pagination import Page
from mask.kit.schemas import CURSOR_SCHEMA, error_responses
from mask.shared_dashboard import service as shared_dashboard_service
from mask.shared_dashboard.schemas import (
    SharedDashboard,
    SharedDashboardCreate,
    SharedDashboardUpdate,
    SharedDashboardWithUrl,
)

router = APIRouter(prefix="/shared-dashboards", tags=["Shared dashboards"])

Limit = Annotated[int, Query(ge=1, le=100)]
Cursor = Annotated[
    str | None, Query(max_length=200, description="`next_cursor` of the previous page", json_schema_extra=CURSOR_SCHEMA)
]
# An answer holding the page's URL, shown once: never cached, never kept for an idempotent replay.
NO_STORE = "no-store"


def _with_url(created: shared_dashboard_service.Created) -> SharedDashboardWithUrl:
    return SharedDashboardWithUrl(**shared_dashboard_service.to_schema(created.dashboard).model_dump(), url=created.url)


@router.post(
    "",
    status_code=201,
    response_model=SharedDashboardWithUrl,
    responses=error_responses(403, 404, 422),
    summary="Share a link's, tag's, domain's or bio page's analytics",
    description="Scope: `links:write`. Exactly one of `link_id`, `tag`, `domain`, `bio_page_id` (`422` "
    "otherwise); an object that is not the workspace's is `404`. The page's `url` is in this answer only.",
)
async def create_shared_dashboard(
    body: SharedDashboardCreate, auth: LinksWrite, session: SessionDep, context: ContextDep, response: Response
) -> SharedDashboardWithUrl:
    created = await shared_dashboard_service.create(
        session, settings=context.settings, workspace_id=auth.workspace_id, data=body
    )
    response.headers["Cache-Control"] = NO_STORE
    return _with_url(created)


@router.get(
    "",
    response_model=Page[SharedDashboard],
    responses=error_responses(403, 422),
    summary="List shared dashboards, newest first",
    description="Scope: `analytics:read`. URLs are not listed: only their hash is stored.",
)
async def list_shared_dashboards(
    auth: AnalyticsRead, session: SessionDep, limit: Limit = 20, cursor: Cursor = None
) -> Page[SharedDashboard]:
    rows, next_cursor = await shared_dashboard_service.list_page(
        session, workspace_id=auth.workspace_id, limit=limit, cursor=cursor
    )
    return Page[SharedDashboard](
        data=[shared_dashboard_service.to_schema(row) for row in rows],
        has_more=next_cursor is not None,
        next_cursor=next_cursor,
    )


@router.get(
    "/{dashboard_id}",
    response_model=SharedDashboard,
    responses=error_responses(403, 404),
    summary="Get a shared dashboard",
    description="Scope: `analytics:read`.",
)
async def get_shared_dashboard(dashboard_id: str, auth: AnalyticsRead, session: SessionDep) -> SharedDashboard:
    return shared_dashboard_service.to_schema(
        await shared_dashboard_service.get(session, workspace_id=auth.workspace_id, dashboard_id=dashboard_id)
    )


@router.patch(
    "/{dashboard_id}",
    response_model=SharedDashboard,
    responses=error_responses(403, 404, 422),
    summary="Change a shared dashboard's password, expiry or title",
    description="Scope: `links:write`. `password: null` removes the password; a new password logs every "
    "visitor out. `expires_at: null`: never expires.",
)
async def update_shared_dashboard(
    dashboard_id: str, body: SharedDashboardUpdate, auth: LinksWrite, session: SessionDep
) -> SharedDashboard:
    row = await shared_dashboard_service.update(
        session, workspace_id=auth.workspace_id, dashboard_id=dashboard_id, data=body
    )
    return shared_dashboard_service.to_schema(row)


@router.post(
    "/{dashboard_id}/rotate",
    response_model=SharedDashboardWithUrl,
    responses=error_responses(403, 404),
    summary="Give a shared dashboard a new URL",
    description="Scope: `links:write`. The old URL answers `404` at once; the new `url` is in this answer only.",
)
async def rotate_shared_dashboard(
    dashboard_id: str, auth: LinksWrite, session: SessionDep, context: ContextDep, response: Response
) -> SharedDashboardWithUrl:
    rotated = await shared_dashboard_service.rotate(
        session, settings=context.settings, workspace_id=auth.workspace_id, dashboard_id=dashboard_id
    )
    response.headers["Cache-Control"] = NO_STORE
    return _with_url(rotated)


@router.delete(
    "/{dashboard_id}",
    status_code=204,
    responses=error_responses(403, 404),
    summary="Revoke a shared dashboard",
    description="Scope: `links:write`. Its URL answers `404` at once.",
)
async def revoke_shared_dashboard(dashboard_id: str, auth: LinksWrite, session: SessionDep) -> Response:
    await shared_dashboard_service.revoke(session, workspace_id=auth.workspace_id, dashboard_id=dashboard_id)
    return Response(status_code=204)
