"""Webhooks (owners only): endpoints, the secret shown once, the delivery log with retry, and test events.

Everything goes through mask.webhook.service; like the API, each change wakes the dispatcher once the request
has committed (the service emits mask.signals.WebhooksChanged).
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError
from starlette.responses import Response

from mask.dashboard.web import Page, Rerender, field_errors, view
from mask.dashboard.wording import humanize
from mask.kit.errors import MaskError
from mask.webhook import service as webhook_service
from mask.webhook.schemas import EVENT_TYPES, WebhookCreate, WebhookUpdate
from mask.workspace.permissions import Permission

DELIVERIES_PER_PAGE = 25
STATUSES = ("pending", "succeeded", "failed")


async def _form(page: Page) -> dict[str, Any]:
    form = await page.form()
    return {
        "url": (await page.field("url")).strip(),
        "description": await page.field("description"),
        "events": [value for value in form.getlist("events") if isinstance(value, str)],
    }


async def _list_page(
    page: Page,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
) -> Response:
    # A webhook made by the form just before (post/redirect/get): its secret is shown on this one view.
    created = page.take_flash("webhook_created") if status == 200 else None
    rows, _ = await webhook_service.list_page(page.db, workspace_id=page.ws.workspace.id, limit=100, cursor=None)
    return page.render(
        "webhooks/list.html",
        status=status,
        webhooks=[webhook_service.to_schema(row) for row in rows],
        event_types=EVENT_TYPES,
        errors=errors or {},
        values=values or {"events": []},
        created=created,
        headers={"Cache-Control": "no-store"},
    )


@view(workspace=True, permission=Permission.webhooks_read)
async def list_webhooks(page: Page) -> Response:
    return await _list_page(page)


@view(workspace=True, permission=Permission.webhooks_write)
async def create_webhook(page: Page) -> Response:
    values = await _form(page)
    try:
        data = WebhookCreate.model_validate(values)
        created = await webhook_service.create(
            page.db, settings=page.settings, workspace_id=page.ws.workspace.id, data=data
        )
    except (MaskError, ValidationError) as error:
        raise Rerender(
            await _list_page(
                page,
                status=422 if isinstance(error, ValidationError) else error.status_code,
                errors=field_errors(error),
                values=values,
            )
        ) from error
    # The secret is shown once, on the page this answer leads to (kept sealed in the session, never in the URL):
    # a reload of that page shows it no more and creates nothing.
    page.flash("webhook_created", {"secret": created.secret, "endpoint": {"id": created.endpoint.id}})
    return page.redirect(f"{page.base}/webhooks")


async def _detail(
    page: Page,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
) -> Response:
    webhook_id = page.request.path_params["webhook_id"]
    endpoint = webhook_service.to_schema(
        await webhook_service.get(page.db, workspace_id=page.ws.workspace.id, webhook_id=webhook_id)
    )
    status_filter = page.request.query_params.get("status")
    if status_filter not in STATUSES:
        status_filter = None
    cursor = page.request.query_params.get("cursor") or None
    views, next_cursor = await webhook_service.list_deliveries(
        page.db,
        workspace_id=page.ws.workspace.id,
        webhook_id=webhook_id,
        limit=DELIVERIES_PER_PAGE,
        cursor=cursor[:200] if cursor else None,
        status=status_filter,
        event_type=None,
    )
    deliveries = [webhook_service.delivery_to_schema(item) for item in views]
    context: dict[str, Any] = dict(
        webhook=endpoint,
        deliveries=deliveries,
        next_cursor=next_cursor,
        status_filter=status_filter,
        statuses=STATUSES,
        pending=any(item.status == "pending" for item in deliveries),
    )
    if page.request.headers.get("hx-target", "").endswith("#webhook-live"):
        return page.render("webhooks/_live.html", **context)
    return page.render(
        "webhooks/detail.html",
        status=status,
        event_types=EVENT_TYPES,
        errors=errors or {},
        values=values
        or {
            "url": endpoint.url,
            "description": endpoint.description,
            "events": endpoint.events,
            "enabled": endpoint.enabled,
        },
        secret=page.take_flash(f"secret:{webhook_id}") if status == 200 else None,
        headers={"Cache-Control": "no-store"},
        **context,
    )


@view(workspace=True, permission=Permission.webhooks_read)
async def webhook_detail(page: Page) -> Response:
    return await _detail(page)


@view(workspace=True, permission=Permission.webhooks_write)
async def update_webhook(page: Page) -> Response:
    values = await _form(page)
    values["enabled"] = await page.field("enabled") == "on"
    try:
        data = WebhookUpdate.model_validate(values)
        await webhook_service.update(
            page.db,
            settings=page.settings,
            workspace_id=page.ws.workspace.id,
            webhook_id=page.request.path_params["webhook_id"],
            data=data,
        )
    except (MaskError, ValidationError) as error:
        if isinstance(error, webhook_service.WebhookNotFound):
            raise
        raise Rerender(
            await _detail(
                page,
                status=422 if isinstance(error, ValidationError) else error.status_code,
                errors=field_errors(error),
                values=values,
            )
        ) from error
    return page.see_other(f"{page.base}/webhooks/{page.request.path_params['webhook_id']}", notice="webhook-saved")


@view(workspace=True, permission=Permission.webhooks_write)
async def send_test(page: Page) -> Response:
    webhook_id = page.request.path_params["webhook_id"]
    try:
        await webhook_service.send_test(page.db, workspace_id=page.ws.workspace.id, webhook_id=webhook_id)
    except webhook_service.WebhookDisabled as error:
        raise Rerender(
            await _detail(page, status=error.status_code, errors={"__all__": humanize(error.message)})
        ) from error
    return page.see_other(f"{page.base}/webhooks/{webhook_id}", notice="webhook-test-sent")


@view(workspace=True, permission=Permission.webhooks_write)
async def rotate_secret(page: Page) -> Response:
    webhook_id = page.request.path_params["webhook_id"]
    rotated = await webhook_service.rotate_secret(page.db, workspace_id=page.ws.workspace.id, webhook_id=webhook_id)
    page.flash(f"secret:{webhook_id}", rotated.secret)  # shown once on the page this leads to
    return page.redirect(f"{page.base}/webhooks/{webhook_id}")


@view(workspace=True, permission=Permission.webhooks_write)
async def delete_webhook(page: Page) -> Response:
    await webhook_service.delete(
        page.db, workspace_id=page.ws.workspace.id, webhook_id=page.request.path_params["webhook_id"]
    )
    return page.see_other(f"{page.base}/webhooks", notice="webhook-deleted")


@view(workspace=True, permission=Permission.webhooks_write)
async def retry_delivery(page: Page) -> Response:
    webhook_id = page.request.path_params["webhook_id"]
    try:
        await webhook_service.retry_delivery(
            page.db,
            workspace_id=page.ws.workspace.id,
            webhook_id=webhook_id,
            delivery_id=page.request.path_params["delivery_id"],
        )
    except webhook_service.WebhookDisabled as error:
        raise Rerender(
            await _detail(page, status=error.status_code, errors={"__all__": humanize(error.message)})
        ) from error
    return page.see_other(f"{page.base}/webhooks/{webhook_id}", notice="webhook-retried")


@view(workspace=True, permission=Permission.webhooks_read)
async def delivery_detail(page: Page) -> Response:
    webhook_id = page.request.path_params["webhook_id"]
    found, payload = await webhook_service.get_delivery(
        page.db,
        workspace_id=page.ws.workspace.id,
        webhook_id=webhook_id,
        delivery_id=page.request.path_params["delivery_id"],
    )
    return page.render(
        "webhooks/delivery.html",
        delivery=webhook_service.delivery_to_schema(found),
        payload=json.dumps(payload, indent=2, ensure_ascii=False) if payload else None,
        webhook_id=webhook_id,
    )
