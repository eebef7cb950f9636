"""Webhook delivery, database side: events fanned out to deliveries, deliveries claimed (leases), attempt
outcomes recorded with retries and endpoint health, old deliveries pruned. The HTTP side is dispatcher.py."""

from __future__ import annotations

import secrets as random_secrets
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from mask.kit.ids import new_id
from mask.models.webhook import WebhookAttempt, WebhookEndpoint
from mask.webhook.policy import DeliveryPolicy
from mask.webhook.repository import ClaimedJob, WebhookRepository


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
