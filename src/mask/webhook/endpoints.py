from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from mask.auth.dependencies import WebhooksRead, WebhooksWrite
from mask.dependencies import ContextDep, SessionDep
from mask.kit.pagination import Page
from mask.kit.schemas import CURSOR_SCHEMA, error_responses
from mask.webhook import service as webhook_service
from mask.webhook.schemas import (
    Delivery,
    DeliveryDetail,
    Webhook,
    WebhookCreate,
    WebhookUpdate,
    WebhookWithSecret,
)

router = APIRouter(prefix="/webhooks", tags=["Webhooks"])

Limit = Annotated[int, Query(ge=1, le=100)]
Cursor = Annotated[
    str | None, Query(max_length=200, description="`next_cursor` of the previous page", json_schema_extra=CURSOR_SCHEMA)
]


def _with_secret(created: webhook_service.CreatedWebhook) -> WebhookWithSecret:
    return WebhookWithSecret(**webhook_service.to_schema(created.endpoint).model_dump(), secret=created.secret)


# An answer holding a secret shown once: never cached, and never kept for an idempotent replay (the idempotency
# middleware answers a retry 409 idempotency_secret_not_replayed instead, as for API keys).
NO_STORE = "no-store"


@router.post(
    "",
    status_code=201,
    response_model=WebhookWithSecret,
    responses=error_responses(400, 403, 422),
    summary="Create a webhook",
    description="Scope: `webhooks:write`. The signing `secret` is in this answer only. A URL that is not "
    "public (loopback, private, link-local, metadata, …) is `422`.",
)
async def create_webhook(
    body: WebhookCreate, auth: WebhooksWrite, session: SessionDep, context: ContextDep, response: Response
) -> WebhookWithSecret:
    created = await webhook_service.create(
        session, settings=context.settings, workspace_id=auth.workspace_id, data=body
    )
    response.headers["Cache-Control"] = NO_STORE
    return _with_secret(created)


@router.get(
    "",
    response_model=Page[Webhook],
    responses=error_responses(403, 422),
    summary="List webhooks, newest first",
    description="Scope: `webhooks:read`.",
)
async def list_webhooks(
    auth: WebhooksRead, session: SessionDep, limit: Limit = 20, cursor: Cursor = None
) -> Page[Webhook]:
    rows, next_cursor = await webhook_service.list_page(
        session, workspace_id=auth.workspace_id, limit=limit, cursor=cursor
    )
    return Page[Webhook](
        data=[webhook_service.to_schema(row) for row in rows],
        has_more=next_cursor is not None,
        next_cursor=next_cursor,
    )


@router.get(
    "/{webhook_id}",
    response_model=Webhook,
    responses=error_responses(403, 404),
    summary="Get a webhook",
    description="Scope: `webhooks:read`.",
)
async def get_webhook(webhook_id: str, auth: WebhooksRead, session: SessionDep) -> Webhook:
    return webhook_service.to_schema(
        await webhook_service.get(session, workspace_id=auth.workspace_id, webhook_id=webhook_id)
    )


@router.patch(
    "/{webhook_id}",
    response_model=Webhook,
    responses=error_responses(400, 403, 404, 422),
    summary="Update a webhook",
    description="Scope: `webhooks:write`. `enabled: true` re-enables a disabled webhook.",
)
async def update_webhook(
    webhook_id: str, body: WebhookUpdate, auth: WebhooksWrite, session: SessionDep, context: ContextDep
) -> Webhook:
    endpoint = await webhook_service.update(
        session, settings=context.settings, workspace_id=auth.workspace_id, webhook_id=webhook_id, data=body
    )
    return webhook_service.to_schema(endpoint)


@router.delete(
    "/{webhook_id}",
    status_code=204,
    responses=error_responses(403, 404),
    summary="Delete a webhook",
    description="Scope: `webhooks:write`. Its delivery log goes with it.",
)
async def delete_webhook(webhook_id: str, auth: WebhooksWrite, session: SessionDep, context: ContextDep) -> Response:
    await webhook_service.delete(session, workspace_id=auth.workspace_id, webhook_id=webhook_id)
    return Response(status_code=204)


@router.post(
    "/{webhook_id}/rotate-secret",
    response_model=WebhookWithSecret,
    responses=error_responses(403, 404),
    summary="Rotate the signing secret",
    description="Scope: `webhooks:write`. The new `secret` is in this answer only; for 24 hours the old "
    "secret also signs (a second `v1,` signature), so receivers can switch without a gap.",
)
async def rotate_secret(
    webhook_id: str, auth: WebhooksWrite, session: SessionDep, response: Response
) -> WebhookWithSecret:
    rotated = await webhook_service.rotate_secret(session, workspace_id=auth.workspace_id, webhook_id=webhook_id)
    response.headers["Cache-Control"] = NO_STORE
    return _with_secret(rotated)


@router.post(
    "/{webhook_id}/test",
    status_code=202,
    response_model=Delivery,
    responses=error_responses(403, 404, 409),
    summary="Send a test event",
    description="Scope: `webhooks:write`. Queues a signed `ping` event to this webhook; follow it in "
    "its deliveries. A disabled webhook is `409`.",
)
async def test_webhook(webhook_id: str, auth: WebhooksWrite, session: SessionDep, context: ContextDep) -> Delivery:
    view = await webhook_service.send_test(session, workspace_id=auth.workspace_id, webhook_id=webhook_id)
    return webhook_service.delivery_to_schema(view)


@router.get(
    "/{webhook_id}/deliveries",
    response_model=Page[Delivery],
    responses=error_responses(403, 404, 422),
    summary="List a webhook's deliveries, newest first",
    description="Scope: `webhooks:read`. Each delivery lists its attempts: time, status code, duration, "
    "response excerpt, error and the retry scheduled after it.",
)
async def list_deliveries(
    webhook_id: str,
    auth: WebhooksRead,
    session: SessionDep,
    limit: Limit = 20,
    cursor: Cursor = None,
    status: Annotated[Literal["pending", "succeeded", "failed"] | None, Query()] = None,
    event_type: Annotated[str | None, Query(max_length=64)] = None,
) -> Page[Delivery]:
    views, next_cursor = await webhook_service.list_deliveries(
        session,
        workspace_id=auth.workspace_id,
        webhook_id=webhook_id,
        limit=limit,
        cursor=cursor,
        status=status,
        event_type=event_type,
    )
    return Page[Delivery](
        data=[webhook_service.delivery_to_schema(view) for view in views],
        has_more=next_cursor is not None,
        next_cursor=next_cursor,
    )


@router.get(
    "/{webhook_id}/deliveries/{delivery_id}",
    response_model=DeliveryDetail,
    responses=error_responses(403, 404),
    summary="Get a delivery with its payload",
    description="Scope: `webhooks:read`.",
)
async def get_delivery(webhook_id: str, delivery_id: str, auth: WebhooksRead, session: SessionDep) -> DeliveryDetail:
    view, payload = await webhook_service.get_delivery(
        session, workspace_id=auth.workspace_id, webhook_id=webhook_id, delivery_id=delivery_id
    )
    return DeliveryDetail(**webhook_service.delivery_to_schema(view).model_dump(), payload=payload)


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/retry",
    status_code=202,
    response_model=Delivery,
    responses=error_responses(403, 404, 409),
    summary="Retry a delivery now",
    description="Scope: `webhooks:write`. Sends the same event (same `webhook-id`) again at once; a "
    "delivery whose retries were used up gets one more attempt. A disabled webhook is `409`.",
)
async def retry_delivery(
    webhook_id: str, delivery_id: str, auth: WebhooksWrite, session: SessionDep, context: ContextDep
) -> Delivery:
    view = await webhook_service.retry_delivery(
        session, workspace_id=auth.workspace_id, webhook_id=webhook_id, delivery_id=delivery_id
    )
    return webhook_service.delivery_to_schema(view)
