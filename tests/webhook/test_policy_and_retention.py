"""The documented retry schedule and the retention of delivery logs."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import func, select

from mask.app import MaskApp
from mask.db import session_scope
from mask.kit.time import utcnow
from mask.models.event import Event
from mask.models.webhook import WebhookAttempt, WebhookDelivery
from mask.webhook import delivery as webhook_delivery
from mask.webhook.policy import RETRY_DELAYS, DeliveryPolicy
from tests.conftest import Tenant
from tests.waiting import eventually
from tests.webhook.conftest import create_link, create_webhook, dispatcher_of, use_policy
from tests.webhook.receiver import Receiver


def test_the_default_schedule_is_ten_attempts_over_about_a_day_with_bounded_jitter() -> None:
    policy = DeliveryPolicy()
    assert policy.max_attempts == 10
    assert timedelta(hours=20) <= sum(RETRY_DELAYS, timedelta()) <= timedelta(hours=28)
    assert list(RETRY_DELAYS) == sorted(RETRY_DELAYS), "delays never shrink"
    for attempt, base in enumerate(RETRY_DELAYS, start=1):
        samples = [policy.retry_delay(attempt) for _ in range(200)]
        assert all(s is not None and base * 0.8 <= s <= base * 1.2 for s in samples)
        assert len(set(samples)) > 1, "jittered, so that retries of a burst do not arrive together"
    assert policy.retry_delay(policy.max_attempts) is None
    assert policy.timeout == 10.0


async def test_finished_deliveries_and_old_events_are_pruned_after_the_retention_period(
    app: MaskApp, client: httpx.AsyncClient, tenant: Tenant, receiver: Receiver
) -> None:
    use_policy(app)
    await create_webhook(client, tenant, receiver)
    await create_link(client, tenant, "old")
    await eventually(lambda: dispatcher_of(app).stats["succeeded"] == 1, message="the delivery")

    async def settled() -> bool:
        async with session_scope(app.context.sessionmaker) as session:
            return await session.scalar(select(func.count()).select_from(WebhookAttempt)) == 1

    await eventually(settled, message="the attempt being logged")
    async with session_scope(app.context.sessionmaker) as session:
        assert await webhook_delivery.prune(session, before=utcnow() - timedelta(days=30)) == 0
    async with session_scope(app.context.sessionmaker) as session:
        assert await webhook_delivery.prune(session, before=utcnow() + timedelta(seconds=1)) >= 2
    async with session_scope(app.context.sessionmaker) as session:
        counts = [
            await session.scalar(select(func.count()).select_from(table))
            for table in (WebhookDelivery, WebhookAttempt, Event)
        ]
    assert counts == [0, 0, 0]
