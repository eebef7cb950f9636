from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body

from mask.auth.dependencies import LinksWrite
from mask.bulk import service as bulk_service
from mask.bulk.schemas import MAX_BULK_ITEMS, BulkAnswer, BulkDelete, BulkResult, BulkUpdate, item_schema
from mask.dependencies import ContextDep, SessionDep
from mask.kit.http import request_id_var
from mask.kit.schemas import ErrorObject, error_responses
from mask.link import service as link_service

router = APIRouter(prefix="/links", tags=["Links"])

PER_ITEM = (
    "Each item gets its own result at its `index`: `status` is what the item alone would have got, with `link` "
    "or `error` (the API's error shape). A bad item never aborts the others. Up to 1,000 items; one request "
    "against the rate limit; `Idempotency-Key` replays the first answer."
)


def _answer(outcomes: list[bulk_service.Outcome]) -> BulkAnswer:
    request_id = request_id_var.get()
    data = [
        BulkResult(
            index=outcome.index,
            status=outcome.status,
            id=outcome.link_id or (outcome.view.link.id if outcome.view else None),
            link=link_service.to_schema(outcome.view) if outcome.view is not None else None,
            error=ErrorObject(**outcome.error.body(request_id)["error"]) if outcome.error is not None else None,
        )
        for outcome in outcomes
    ]
    failed = sum(1 for outcome in outcomes if outcome.error is not None)
    return BulkAnswer(data=data, succeeded=len(outcomes) - failed, failed=failed)


@router.post(
    "/bulk",
    response_model=BulkAnswer,
    responses=error_responses(400, 403, 422),
    summary="Create up to 1,000 links",
    description="Scope: `links:write`. The body is an array of link objects, each as `POST /v1/links` takes. "
    + PER_ITEM
    + " One `link.bulk_created` webhook event lists the links created.",
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": item_schema()}}}},
)
async def create_links(
    auth: LinksWrite,
    session: SessionDep,
    context: ContextDep,
    body: Annotated[list[Any], Body(max_length=MAX_BULK_ITEMS, min_length=1)],
) -> BulkAnswer:
    outcomes = await bulk_service.create_many(
        session,
        settings=context.settings,
        workspace_id=auth.workspace_id,
        items=[bulk_service.parse_item(item) for item in body],
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
async def update_links(body: BulkUpdate, auth: LinksWrite, session: SessionDep, context: ContextDep) -> BulkAnswer:
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
async def delete_links(body: BulkDelete, auth: LinksWrite, session: SessionDep) -> BulkAnswer:
    return _answer(await bulk_service.delete_many(session, workspace_id=auth.workspace_id, ids=body.ids))
