"""Webhooks, the management API: endpoints (create, change, rotate secrets, test) and their delivery log.

Delivery itself is delivery.py (database side: fan-out, claims, outcomes, retention) and dispatcher.py (HTTP);
`link.clicked` events are clicks.py. SQL lives in repository.py. Nothing here commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from mask import audit
from mask.config import Settings
from mask.kit.errors import Conflict, FieldError, NotFound, ValidationFailed
from mask.kit.ids import new_id
from mask.kit.pagination import decode_cursor, encode_cursor
from mask.kit.time import utcnow
from mask.kit.url import UrlProblem
from mask.models.event import Event
from mask.models.webhook import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from mask.signals import WebhooksChanged, emit
from mask.webhook import ssrf
from mask.webhook.repository import WebhookRepository
from mask.webhook.schemas import (
    EVENT_TYPES,
    PING,
    Delivery,
    DeliveryAttempt,
    Webhook,
    WebhookCreate,
    WebhookUpdate,
    event_payload,
)
from mask.webhook.signing import generate_secret

# After a rotation the old secret keeps signing (a second signature) this long, so receivers can switch over.
PREVIOUS_SECRET_VALID_FOR = timedelta(hours=24)


class WebhookNotFound(NotFound):
    code = "webhook_not_found"


class DeliveryNotFound(NotFound):
    code = "delivery_not_found"


class WebhookDisabled(Conflict):
    code = "webhook_disabled"


@dataclass(frozen=True)
class CreatedWebhook:
    endpoint: WebhookEndpoint
    secret: str  # shown once


@dataclass(frozen=True)
class DeliveryView:
    delivery: WebhookDelivery
    attempts: list[WebhookAttempt]


# Presentation


def to_schema(endpoint: WebhookEndpoint) -> Webhook:
    return Webhook.model_validate(endpoint)


def delivery_to_schema(view: DeliveryView) -> Delivery:
    delivery = view.delivery
    return Delivery(
        id=delivery.id,
        webhook_id=delivery.endpoint_id,
        event_id=delivery.event_id,
        event_type=delivery.event_type,
        status=delivery.status,
        attempt_count=delivery.attempt_count,
        next_retry_at=delivery.next_attempt_at if delivery.status == "pending" else None,
        last_status_code=delivery.last_status_code,
        last_attempt_at=delivery.last_attempt_at,
        created_at=delivery.created_at,
        completed_at=delivery.completed_at,
        attempts=[
            DeliveryAttempt(
                id=a.id,
                number=a.number,
                attempted_at=a.attempted_at,
                duration_ms=a.duration_ms,
                status_code=a.status_code,
                succeeded=a.succeeded,
                response_excerpt=a.response_excerpt,
                error=a.error,
                next_retry_at=a.next_attempt_at,
            )
            for a in view.attempts
        ],
    )


# Endpoints (each change tells the dispatcher: mask.signals.WebhooksChanged)


async def _check_url(settings: Settings, raw: str, errors: list[FieldError]) -> str | None:
    allow_private = settings.webhooks_allow_private
    try:
        url = ssrf.check_url(raw, allow_private=allow_private, require_https=settings.is_production)
        await ssrf.check_resolved(url, allow_private=allow_private)
    except UrlProblem as problem:
        errors.append(FieldError("url", problem.code, problem.message))
        return None
    return url


def _check_events(raw: list[str], errors: list[FieldError]) -> list[str]:
    names = [name.strip() for name in raw]
    unknown = sorted({name for name in names if name not in EVENT_TYPES})
    if unknown:
        errors.append(
            FieldError(
                "events",
                "unknown_event_type",
                f"Unknown event type(s) {', '.join(unknown)}; valid: {', '.join(EVENT_TYPES)}.",
            )
        )
    elif not names:
        errors.append(FieldError("events", "events_required", "Subscribe to at least one event type."))
    return [name for name in EVENT_TYPES if name in names]  # canonical order, no duplicates


def _audit(session: AsyncSession, endpoint: WebhookEndpoint, action: str, **details: str) -> None:
    audit.record(
        session,
        workspace_id=endpoint.workspace_id,
        action=action,
        target_type="webhook",
        target_id=endpoint.id,
        details={"url": endpoint.url, **details},
    )


async def create(
    session: AsyncSession, *, settings: Settings, workspace_id: str, data: WebhookCreate
) -> CreatedWebhook:
    """Register an endpoint; its signing secret is returned now and never again (422 on a refused URL)."""
    errors: list[FieldError] = []
    url = await _check_url(settings, data.url, errors)
    events = _check_events(data.events, errors)
    if errors:
        raise ValidationFailed(errors)
    assert url is not None
    now = utcnow()
    secret = generate_secret()
    endpoint = WebhookEndpoint(
        id=new_id("wh"),
        workspace_id=workspace_id,
        url=url,
        description=data.description.strip(),
        events=events,
        secret=secret,
        enabled=data.enabled,
        disabled_reason=None if data.enabled else "manual",
        disabled_at=None if data.enabled else now,
        consecutive_failures=0,
        created_at=now,
        updated_at=now,
    )
    WebhookRepository(session).add(endpoint)
    await session.flush()
    emit(session, WebhooksChanged(workspace_id))
    _audit(session, endpoint, "webhook.created")
    return CreatedWebhook(endpoint=endpoint, secret=secret)


async def get(session: AsyncSession, *, workspace_id: str, webhook_id: str, lock: bool = False) -> WebhookEndpoint:
    """One of the workspace's endpoints, or WebhookNotFound (also for other workspaces' ids). `lock`: for a
    change, the row is locked first, so a concurrent change or delete is done before it is read (or waits)."""
    repository = WebhookRepository(session)
    locked = not lock or await repository.lock(workspace_id, webhook_id)
    endpoint = await repository.get(workspace_id, webhook_id) if locked else None
    if endpoint is None:
        raise WebhookNotFound(f"No webhook `{webhook_id}` in this workspace.", param="id")
    return endpoint


async def list_page(
    session: AsyncSession, *, workspace_id: str, limit: int, cursor: str | None
) -> tuple[list[WebhookEndpoint], str | None]:
    """A page of the workspace's endpoints, newest first, and the next page's cursor."""
    after = decode_cursor(cursor) if cursor else None
    rows = await WebhookRepository(session).list_page(workspace_id, limit=limit + 1, after=after)
    if len(rows) > limit:
        rows = rows[:limit]
        return rows, encode_cursor(rows[-1].created_at, rows[-1].id)
    return rows, None


async def update(
    session: AsyncSession, *, settings: Settings, workspace_id: str, webhook_id: str, data: WebhookUpdate
) -> WebhookEndpoint:
    """Change the fields sent. Re-enabling clears the failure count, so the endpoint starts afresh."""
    endpoint = await get(session, workspace_id=workspace_id, webhook_id=webhook_id)
    sent = data.model_fields_set
    errors: list[FieldError] = []
    changes: dict[str, Any] = {}
    for name in ("url", "events", "enabled"):
        if name in sent and getattr(data, name) is None:
            errors.append(FieldError(name, "required", f"`{name}` cannot be null."))
    if "url" in sent and data.url is not None:
        changes["url"] = await _check_url(settings, data.url, errors)
    if "events" in sent and data.events is not None:
        changes["events"] = _check_events(data.events, errors)
    if "description" in sent:
        changes["description"] = (data.description or "").strip()
    if errors:
        raise ValidationFailed(errors)
    # Locked only now: the URL check above waits on DNS, which must not hold SQLite's write lock.
    if not await WebhookRepository(session).lock(workspace_id, webhook_id):
        raise WebhookNotFound(f"No webhook `{webhook_id}` in this workspace.", param="id")
    await session.refresh(endpoint)
    now = utcnow()
    if data.enabled is True and not endpoint.enabled:
        changes.update(enabled=True, disabled_reason=None, disabled_at=None, consecutive_failures=0, failing_since=None)
    elif data.enabled is False and endpoint.enabled:
        changes.update(enabled=False, disabled_reason="manual", disabled_at=now)
    for name, value in changes.items():
        setattr(endpoint, name, value)
    endpoint.updated_at = now
    await session.flush()
    emit(session, WebhooksChanged(workspace_id))
    _audit(session, endpoint, "webhook.updated")
    return endpoint


async def delete(session: AsyncSession, *, workspace_id: str, webhook_id: str) -> None:
    """Remove an endpoint with its delivery log; nothing more is sent to it."""
    endpoint = await get(session, workspace_id=workspace_id, webhook_id=webhook_id, lock=True)
    _audit(session, endpoint, "webhook.deleted")
    await WebhookRepository(session).delete(endpoint)
    await session.flush()
    emit(session, WebhooksChanged(workspace_id))


async def rotate_secret(session: AsyncSession, *, workspace_id: str, webhook_id: str) -> CreatedWebhook:
    """A new signing secret, returned once; the old one also signs for 24 hours more."""
    endpoint = await get(session, workspace_id=workspace_id, webhook_id=webhook_id)
    now = utcnow()
    secret = generate_secret()
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_expires_at = now + PREVIOUS_SECRET_VALID_FOR
    endpoint.secret = secret
    endpoint.updated_at = now
    await session.flush()
    _audit(session, endpoint, "webhook.secret_rotated")
    return CreatedWebhook(endpoint=endpoint, secret=secret)


async def send_test(session: AsyncSession, *, workspace_id: str, webhook_id: str) -> DeliveryView:
    """Queue a `ping` event to this endpoint alone; it is delivered, signed and logged like any other."""
    endpoint = await get(session, workspace_id=workspace_id, webhook_id=webhook_id)
    if not endpoint.enabled:
        raise WebhookDisabled("This webhook is disabled; enable it (PATCH `enabled: true`) to send it events.")
    now = utcnow()
    repository = WebhookRepository(session)
    event = Event(
        id=new_id("evt"),
        workspace_id=workspace_id,
        type=PING,
        created_at=now,
        dispatched_at=now,
        data={"webhook_id": endpoint.id, "message": "A test event from MASK."},
    )
    repository.add_event(event)
    delivery = WebhookDelivery(
        id=new_id("whd"),
        workspace_id=workspace_id,
        endpoint_id=endpoint.id,
        event_id=event.id,
        event_type=PING,
        status="pending",
        attempt_count=0,
        next_attempt_at=now,
        created_at=now,
    )
    repository.add_delivery(delivery)
    await session.flush()
    emit(session, WebhooksChanged(workspace_id))
    _audit(session, endpoint, "webhook.test_sent")
    return DeliveryView(delivery=delivery, attempts=[])


async def list_deliveries(
    session: AsyncSession,
    *,
    workspace_id: str,
    webhook_id: str,
    limit: int,
    cursor: str | None,
    status: str | None,
    event_type: str | None,
) -> tuple[list[DeliveryView], str | None]:
    """A page of an endpoint's deliveries, newest first, each with its attempts."""
    endpoint = await get(session, workspace_id=workspace_id, webhook_id=webhook_id)
    after = decode_cursor(cursor) if cursor else None
    repository = WebhookRepository(session)
    rows = await repository.list_deliveries(
        endpoint.id, limit=limit + 1, after=after, status=status, event_type=event_type
    )
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor(rows[-1].created_at, rows[-1].id)
    attempts = await repository.attempts_for(row.id for row in rows)
    return [DeliveryView(delivery=row, attempts=attempts.get(row.id, [])) for row in rows], next_cursor


async def get_delivery(
    session: AsyncSession, *, workspace_id: str, webhook_id: str, delivery_id: str
) -> tuple[DeliveryView, dict[str, Any] | None]:
    """One delivery of one of the workspace's endpoints with its attempts and the payload it carries."""
    endpoint = await get(session, workspace_id=workspace_id, webhook_id=webhook_id)
    repository = WebhookRepository(session)
    delivery = await repository.get_delivery(endpoint.id, delivery_id)
    if delivery is None:
        raise DeliveryNotFound(f"No delivery `{delivery_id}` for this webhook.", param="delivery_id")
    attempts = await repository.attempts_for([delivery.id])
    event = await repository.get_event(delivery.event_id)
    return DeliveryView(delivery, attempts.get(delivery.id, [])), event_payload(event) if event else None


async def retry_delivery(
    session: AsyncSession, *, workspace_id: str, webhook_id: str, delivery_id: str
) -> DeliveryView:
    """Send a delivery again now, whatever its state; one whose retries were used up gets one more attempt."""
    view, _ = await get_delivery(session, workspace_id=workspace_id, webhook_id=webhook_id, delivery_id=delivery_id)
    endpoint = await get(session, workspace_id=workspace_id, webhook_id=webhook_id)
    if not endpoint.enabled:
        raise WebhookDisabled("This webhook is disabled; enable it (PATCH `enabled: true`) before retrying.")
    delivery = view.delivery
    delivery.status = "pending"
    delivery.next_attempt_at = utcnow()
    delivery.lease_id = None
    delivery.completed_at = None
    await session.flush()
    emit(session, WebhooksChanged(workspace_id))
    _audit(session, endpoint, "webhook.delivery_retried", delivery_id=delivery.id)
    return view
