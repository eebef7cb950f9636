"""Webhooks: the rules for endpoints, and the database side of delivery (fan-out, claims, outcomes,
retention).

The HTTP side of delivery lives in dispatcher.py; SQL lives in repository.py. Nothing here commits.
"""

from __future__ import annotations

import secrets as random_secrets
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from mask.click.schemas import EnrichedClick
from mask.config import Settings
from mask.event import service as event_service
from mask.kit.errors import Conflict, FieldError, NotFound, ValidationFailed
from mask.kit.ids import new_id
from mask.kit.pagination import decode_cursor, encode_cursor
from mask.kit.time import isoformat_z, utcnow
from mask.kit.url import UrlProblem
from mask.link import service as link_service
from mask.models.event import Event
from mask.models.webhook import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from mask.tag.repository import TagRepository
from mask.webhook import ssrf
from mask.webhook.policy import DeliveryPolicy
from mask.webhook.repository import ClaimedJob, WebhookRepository
from mask.webhook.schemas import (
    EVENT_TYPES,
    PING,
    Delivery,
    DeliveryAttempt,
    Webhook,
    WebhookCreate,
    WebhookUpdate,
)
from mask.webhook.signing import generate_secret

# After a rotation the old secret keeps signing (a second signature) this long, so receivers can switch over.
PREVIOUS_SECRET_VALID_FOR = timedelta(hours=24)
LINK_CLICKED = "link.clicked"


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


@dataclass(frozen=True)
class AttemptOutcome:
    """What one attempt of a claimed delivery came to. `interrupted`: cut by shutdown, not an attempt."""

    job: ClaimedJob
    attempted_at: datetime
    duration_ms: int = 0
    status_code: int | None = None
    succeeded: bool = False
    response_excerpt: str | None = None
    error: str | None = None
    interrupted: bool = False


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


def event_payload(event: Event) -> dict[str, Any]:
    """The body every receiver gets: the event envelope around the resource as the API returns it."""
    return {
        "id": event.id,
        "type": event.type,
        "created_at": isoformat_z(event.created_at),
        "workspace_id": event.workspace_id,
        "data": event.data,
    }


# Endpoints


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
    return CreatedWebhook(endpoint=endpoint, secret=secret)


async def get(session: AsyncSession, *, workspace_id: str, webhook_id: str) -> WebhookEndpoint:
    """One of the workspace's endpoints, or WebhookNotFound (also for other workspaces' ids)."""
    endpoint = await WebhookRepository(session).get(workspace_id, webhook_id)
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
    now = utcnow()
    if data.enabled is True and not endpoint.enabled:
        changes.update(enabled=True, disabled_reason=None, disabled_at=None, consecutive_failures=0, failing_since=None)
    elif data.enabled is False and endpoint.enabled:
        changes.update(enabled=False, disabled_reason="manual", disabled_at=now)
    for name, value in changes.items():
        setattr(endpoint, name, value)
    endpoint.updated_at = now
    await session.flush()
    return endpoint


async def delete(session: AsyncSession, *, workspace_id: str, webhook_id: str) -> None:
    """Remove an endpoint with its delivery log; nothing more is sent to it."""
    endpoint = await get(session, workspace_id=workspace_id, webhook_id=webhook_id)
    await WebhookRepository(session).delete(endpoint)
    await session.flush()


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
    return view


# link.clicked


async def record_link_clicks(session: AsyncSession, *, clicks: Sequence[EnrichedClick]) -> int:
    """Write a `link.clicked` event per click (the link as the API shows it, the enriched click)."""
    link_ids = {click.link_id for click in clicks if click.link_id}
    links = {link.id: link for link in await WebhookRepository(session).links(link_ids)}
    tags = await TagRepository(session).names_for_links(links)
    schemas = {
        link_id: link_service.to_schema(link_service.LinkView(link=link, tags=tags.get(link_id, []))).model_dump(
            mode="json"
        )
        for link_id, link in links.items()
    }
    recorded = 0
    for click in clicks:
        link = links.get(click.link_id or "")
        if link is None or link.workspace_id != click.workspace_id:
            continue  # deleted since, or not a link click
        await event_service.record(
            session,
            workspace_id=click.workspace_id,
            type=LINK_CLICKED,
            data={"link": schemas[link.id], "click": click.public_dict()},
        )
        recorded += 1
    return recorded


async def workspaces_subscribed(session: AsyncSession, *, workspace_ids: Sequence[str], event_type: str) -> set[str]:
    """Which of these workspaces have an enabled endpoint subscribed to `event_type`."""
    subscriptions = await WebhookRepository(session).subscriptions(workspace_ids)
    return {workspace_id for workspace_id, types in subscriptions.items() if event_type in types}


# Delivery, database side


async def fan_out(session: AsyncSession, *, now: datetime, limit: int) -> int:
    """Turn undelivered outbox events into one pending delivery per enabled, subscribed endpoint."""
    repository = WebhookRepository(session)
    events = await repository.undispatched_events(limit)
    if not events:
        return 0
    endpoints = await repository.enabled_endpoints(event.workspace_id for event in events)
    by_workspace: dict[str, list[WebhookEndpoint]] = defaultdict(list)
    for endpoint in endpoints:
        by_workspace[endpoint.workspace_id].append(endpoint)
    rows = [
        {
            "id": new_id("whd"),
            "workspace_id": event.workspace_id,
            "endpoint_id": endpoint.id,
            "event_id": event.id,
            "event_type": event.type,
            "status": "pending",
            "attempt_count": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for event in events
        for endpoint in by_workspace.get(event.workspace_id, [])
        if event.type in endpoint.events
    ]
    if rows:
        await repository.insert_deliveries(rows)
    await repository.mark_dispatched([event.id for event in events], now)
    return len(events)


async def claim(
    session: AsyncSession,
    *,
    now: datetime,
    capacity: int,
    per_endpoint: int,
    in_flight: Counter[str],
    lease: timedelta,
) -> list[ClaimedJob]:
    """Lease up to `capacity` due deliveries, never more than `per_endpoint` in flight to one endpoint."""
    if capacity <= 0:
        return []
    repository = WebhookRepository(session)
    saturated = [endpoint for endpoint, count in in_flight.items() if count >= per_endpoint]
    candidates = await repository.due_deliveries(now, limit=capacity * 4, exclude_endpoints=saturated)
    taken: Counter[str] = Counter()
    chosen: list[str] = []
    for delivery_id, endpoint_id in candidates:
        if len(chosen) >= capacity:
            break
        if in_flight[endpoint_id] + taken[endpoint_id] >= per_endpoint:
            continue
        taken[endpoint_id] += 1
        chosen.append(delivery_id)
    if not chosen:
        return []
    lease_id = random_secrets.token_hex(16)
    await repository.lease(chosen, lease_id=lease_id, now=now, until=now + lease)
    return await repository.claimed_jobs(lease_id, now)


async def record_outcomes(
    session: AsyncSession, *, outcomes: Sequence[AttemptOutcome], policy: DeliveryPolicy, now: datetime
) -> list[str]:
    """Log attempts, schedule retries or finish deliveries, track endpoint health; return those disabled."""
    repository = WebhookRepository(session)
    existing = await repository.existing_deliveries(outcome.job.delivery_id for outcome in outcomes)
    outcomes = [outcome for outcome in outcomes if outcome.job.delivery_id in existing]  # else endpoint deleted
    # Endpoint rows first, in id order, then deliveries: the order in which deleting an endpoint cascades, so
    # that a concurrent DELETE /v1/webhooks/{id} (or another dispatcher) waits instead of deadlocking.
    disabled = await _track_health(repository, [o for o in outcomes if not o.interrupted], policy, now)
    finished: list[dict[str, Any]] = []
    for outcome in outcomes:
        job = outcome.job
        if outcome.interrupted:
            await repository.release(job.delivery_id, job.lease_id, now)
            continue
        next_attempt_at: datetime | None = None
        if outcome.succeeded:
            status = "succeeded"
        else:
            delay = policy.retry_delay(job.attempt_number)
            status = "pending" if delay is not None else "failed"
            next_attempt_at = now + delay if delay is not None else None
        finished.append(
            {
                "id": job.delivery_id,
                "lease_id": job.lease_id,
                "status": status,
                "attempt_count": job.attempt_number,
                "next_attempt_at": next_attempt_at,
                "last_status_code": outcome.status_code,
                "last_attempt_at": outcome.attempted_at,
                "completed_at": None if status == "pending" else now,
            }
        )
        repository.add_attempt(
            WebhookAttempt(
                id=new_id("wha"),
                delivery_id=job.delivery_id,
                number=job.attempt_number,
                attempted_at=outcome.attempted_at,
                duration_ms=outcome.duration_ms,
                status_code=outcome.status_code,
                succeeded=outcome.succeeded,
                response_excerpt=outcome.response_excerpt,
                error=outcome.error[:500] if outcome.error else None,
                next_attempt_at=next_attempt_at,
            )
        )
    await repository.finish_attempts(finished)
    await session.flush()
    return disabled


async def _track_health(
    repository: WebhookRepository, outcomes: list[AttemptOutcome], policy: DeliveryPolicy, now: datetime
) -> list[str]:
    """Update each endpoint's run of failures from these attempts; disable those failing past the rule."""
    by_endpoint: dict[str, list[AttemptOutcome]] = defaultdict(list)
    for outcome in outcomes:
        by_endpoint[outcome.job.endpoint_id].append(outcome)
    disabled = []
    for endpoint_id in sorted(by_endpoint):
        results = sorted(by_endpoint[endpoint_id], key=lambda outcome: outcome.attempted_at)
        successes = [index for index, outcome in enumerate(results) if outcome.succeeded]
        failures = results[successes[-1] + 1 :] if successes else results
        last_failure_at = max((o.attempted_at for o in results if not o.succeeded), default=None)
        if successes:
            await repository.endpoint_succeeded(
                endpoint_id,
                failures_after=len(failures),
                failing_since=failures[0].attempted_at if failures else None,
                last_success_at=results[successes[-1]].attempted_at,
                last_failure_at=last_failure_at,
            )
        else:
            assert last_failure_at is not None
            await repository.endpoint_failed(
                endpoint_id,
                failures=len(failures),
                first_failure_at=failures[0].attempted_at,
                last_failure_at=last_failure_at,
            )
        if failures and await repository.disable_if_failing(
            endpoint_id,
            min_failures=policy.disable_after_failures,
            failing_before=now - policy.disable_after,
            now=now,
        ):
            disabled.append(endpoint_id)
    return disabled


async def prune(session: AsyncSession, *, before: datetime) -> int:
    """Delete one chunk of finished deliveries and dispatched events older than `before`; return how many."""
    repository = WebhookRepository(session)
    return await repository.prune_deliveries(before) + await repository.prune_events(before)
