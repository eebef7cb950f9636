from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response, StreamingResponse
from pydantic_core import to_json

from mask.auth.dependencies import LinksRead, LinksWrite
from mask.bulk import export
from mask.bulk import service as bulk_service
from mask.bulk.schemas import BulkAnswer, BulkCreate, BulkDelete, BulkUpdate, create_schema
from mask.dependencies import ContextDep, SessionDep
from mask.kit.http import request_id_var
from mask.kit.schemas import ErrorObject, error_responses
from mask.link import service as link_service
from mask.link.endpoints import TAGS_HELP
from mask.link.repository import Archived, Order, Sort

router = APIRouter(prefix="/links", tags=["Links"])

PER_ITEM = (
    "Each item gets its own result at its `index`: `status` is what the item alone would have got, with `link` "
    "or `error` (the API's error shape). A bad item never aborts the others. Up to 1,000 items; one request "
    "against the rate limit; `Idempotency-Key` replays the first answer."
)


def _answer(outcomes: list[bulk_service.Outcome]) -> Response:
    """The answer, `BulkAnswer` as JSON, built from plain dicts and serialised once (FastAPI would validate a
    thousand links again against the model; building the models costs more than writing the links)."""
    request_id = request_id_var.get()
    stamps: dict[datetime, str] = {}
    data = [
        {
            "index": outcome.index,
            "status": outcome.status,
            "id": outcome.link_id or (outcome.view.link.id if outcome.view else None),
            "link": link_service.to_json(outcome.view, stamps) if outcome.view is not None else None,
            "error": ErrorObject(**outcome.error.body(request_id)["error"]).model_dump(mode="json")
            if outcome.error is not None
            else None,
        }
        for outcome in outcomes
    ]
    failed = sum(1 for outcome in outcomes if outcome.error is not None)
    body = {"data": data, "succeeded": len(outcomes) - failed, "failed": failed}
    return Response(to_json(body), media_type="application/json")


@router.post(
    "/bulk",
    response_model=BulkAnswer,
    responses=error_responses(400, 403, 422),
    summary="Create up to 1,000 links",
    description="Scope: `links:write`. The body is an array of link objects, each as `POST /v1/links` takes. "
    + PER_ITEM
    + " One `link.bulk_created` webhook event lists the links created.",
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": create_schema()}}}},
)
async def create_links(
    auth: LinksWrite,
    session: SessionDep,
    context: ContextDep,
    body: BulkCreate,
) -> Response:
    outcomes = await bulk_service.create_many(
        session,
        settings=context.settings,
        workspace_id=auth.workspace_id,
        items=bulk_service.parse_items(body.links),
    )
    return _answer(outcomes)


@router.patch(
    "/bulk",
    response_model=BulkAnswer,
    responses=error_responses(400, 403, 422),
    summary="Change up to 1,000 links alike",
    description="Scope: `links:write`. Names the links by `ids` or `external_ids`; `set` holds the changes: "
    "`tags_add`, `tags_remove`, `archived`, `disabled`, `expires_at`, `expired_url` and the UTM fields (never "
    "the slug, domain or destination). An invalid `set` is `422` for the whole request; a link that is not "
    "this workspace's is a `404` item. " + PER_ITEM + " One `link.bulk_updated` event.",
)
async def update_links(body: BulkUpdate, auth: LinksWrite, session: SessionDep, context: ContextDep) -> Response:
    outcomes = await bulk_service.update_many(
        session,
        settings=context.settings,
        workspace_id=auth.workspace_id,
        ids=body.ids,
        external_ids=body.external_ids,
        changes=body.set,
    )
    return _answer(outcomes)


@router.delete(
    "/bulk",
    response_model=BulkAnswer,
    responses=error_responses(400, 403, 422),
    summary="Delete up to 1,000 links",
    description='Scope: `links:write`. `{"ids": [...]}`; a link that is not this workspace\'s is a `404` item. '
    + PER_ITEM
    + " One `link.bulk_deleted` event.",
)
async def delete_links(body: BulkDelete, auth: LinksWrite, session: SessionDep) -> Response:
    return _answer(await bulk_service.delete_many(session, workspace_id=auth.workspace_id, ids=body.ids))


MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "ndjson": "application/x-ndjson"}


@router.get(
    "/export",
    response_class=StreamingResponse,
    responses={
        **error_responses(403, 422),
        200: {"content": {"text/csv": {}, "application/x-ndjson": {}}, "description": "The links, streamed."},
    },
    summary="Export links (CSV or NDJSON)",
    description="Scope: `links:read`. Every link the filters select (the same as `GET /v1/links`), streamed: "
    "`format=csv` has the columns the CSV import reads back (`source=mask-csv`), with cells a spreadsheet would "
    "run as a formula prefixed with `'`; `format=ndjson` has one link object (as `GET /v1/links/{id}`) a line.",
)
async def export_links(
    auth: LinksRead,
    session: SessionDep,
    context: ContextDep,
    format: Annotated[Literal["csv", "ndjson"], Query(description="`csv` (default) or `ndjson`.")] = "csv",
    sort: Annotated[Sort, Query(description="What to sort by.")] = Sort.created_at,
    order: Annotated[Order, Query(description="`desc` (default) or `asc`.")] = Order.desc,
    archived: Annotated[Archived, Query(description="`false` (default), `true` (only archived) or `all`.")] = (
        Archived.false
    ),
    tags: Annotated[str | None, Query(max_length=2000, description=TAGS_HELP)] = None,
    tag_match: Annotated[Literal["any", "all"], Query(description="How `tags` combine.")] = "any",
    domain: Annotated[str | None, Query(max_length=253)] = None,
    q: Annotated[str | None, Query(max_length=200, description="Search in URL, slug and title")] = None,
) -> StreamingResponse:
    query = link_service.ListQuery(
        sort=sort, order=order, archived=archived, domain=domain, query=q, tags=tags, tag_match=tag_match
    )
    first = await export.first_page(session, workspace_id=auth.workspace_id, query=query)
    body = export.stream(context.sessionmaker, workspace_id=auth.workspace_id, query=query, format=format, first=first)
    filename = f"links.{format}"
    return StreamingResponse(
        body,
        media_type=MEDIA_TYPES[format],
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )
