"""Nothing is lost: across a restart of MASK while the receiver is down, and when a dispatcher dies mid-attempt."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import timedelta

import httpx
from sqlalchemy import func, select, update

from mask.app import MaskApp
from mask.bootstrap import create_app
from mask.config import Settings
from mask.db import session_scope
from mask.kit.time import utcnow
from mask.models.event import Event
from mask.models.webhook import WebhookAttempt, WebhookDelivery
from mask.webhook import delivery as webhook_delivery
from tests.conftest import Tenant
from tests.waiting import eventually
from tests.webhook.conftest import FAST, create_link, create_webhook, dispatcher_of
from tests.webhook.receiver import Receiver


async def _attempts(app: MaskApp) -> int:
    async with session_scope(app.context.sessionmaker) as session:
        return int(await session.scalar(select(func.count()).select_from(WebhookAttempt)) or 0)


async def test_events_survive_a_restart_while_the_receiver_is_down(
    app: MaskApp, client: httpx.AsyncClient, tenant: Tenant, settings: Settings
) -> None:
    receiver = await Receiver().start()
    port = receiver.port
    dispatcher_of(app).policy = replace(FAST, retry_delays=(timedelta(milliseconds=200),) * 20)
    await create_webhook(client, tenant, receiver, events=["link.created", "link.updated"])
    await receiver.stop()  # the receiver is down from here on

    links = [await create_link(client, tenant, f"outage-{n}") for n in range(6)]
    await client.patch(f"/v1/links/{links[0]['id']}", headers=tenant.headers, json={"utm_source": "news"})

    async def owed() -> set[str]:
        async with session_scope(app.context.sessionmaker) as session:
            return set((await session.execute(select(WebhookDelivery.event_id))).scalars())

    async def all_owed_and_tried() -> bool:
        return len(await owed()) == 7 and dispatcher_of(app).stats["failed"] >= 7

    await eventually(all_owed_and_tried, message="every event owed and attempted while the receiver is down")
    expected = await owed()

    await app.context.shutdown()  # MASK stops while deliveries are pending…
    receiver = await Receiver(port=port, secrets=receiver.secrets).start()  # …the receiver comes back…
    restarted = create_app(settings)  # …and MASK starts again on the same database
    await restarted.context.startup()
    try:
        dispatcher_of(restarted).policy = FAST
        await eventually(
            lambda: {p["id"] for p in receiver.payloads()} >= expected,
            message="every event delivered after the restart",
        )
        assert all(r.verified for r in receiver.received)
        assert Counter(p["type"] for p in receiver.payloads() if p["id"] in expected) >= Counter(
            {"link.created": 6, "link.updated": 1}
        )

        async def all_succeeded() -> bool:
            async with session_scope(restarted.context.sessionmaker) as session:
                statuses = set((await session.execute(select(WebhookDelivery.status))).scalars())
            return statuses == {"succeeded"}

        await eventually(all_succeeded, message="every delivery recorded as succeeded")
    finally:
        await restarted.context.shutdown()
        await receiver.stop()


async def test_a_delivery_claimed_by_a_dispatcher_that_died_is_delivered_when_its_lease_runs_out(
    app: MaskApp, client: httpx.AsyncClient, tenant: Tenant, receiver: Receiver
) -> None:
    dispatcher = dispatcher_of(app)
    await dispatcher.stop()  # this process's dispatcher is not running while the "other worker" claims
    await create_webhook(client, tenant, receiver)
    await create_link(client, tenant, "orphaned")
    lease = timedelta(milliseconds=700)
    async with session_scope(app.context.sessionmaker) as session:
        await webhook_delivery.fan_out(session, now=utcnow(), limit=100)
    claimed_at = utcnow()
    async with session_scope(app.context.sessionmaker) as session:  # a worker claims it, then dies
        jobs = await webhook_delivery.claim(
            session, now=claimed_at, capacity=10, per_endpoint=10, in_flight=Counter(), lease=lease
        )
    assert len(jobs) == 1

    dispatcher.policy = replace(FAST, lease=lease)
    await dispatcher.start()
    await eventually(lambda: len(receiver.received) == 1, message="the orphaned delivery")
    assert receiver.received[0].at >= claimed_at + lease, "delivered before the dead worker's lease ran out"
    assert receiver.received[0].headers["webhook-id"] == jobs[0].event.id


async def test_the_same_event_is_never_fanned_out_twice_to_an_endpoint(
    app: MaskApp, client: httpx.AsyncClient, tenant: Tenant, receiver: Receiver
) -> None:
    await dispatcher_of(app).stop()
    await create_webhook(client, tenant, receiver)
    await create_link(client, tenant, "once")
    async with session_scope(app.context.sessionmaker) as session:
        events = await webhook_delivery.fan_out(session, now=utcnow(), limit=100)
    async with session_scope(app.context.sessionmaker) as session:  # as if a second worker re-read the outbox
        await session.execute(update(WebhookDelivery).values(status="pending"))
        await session.execute(update(Event).values(dispatched_at=None))
    async with session_scope(app.context.sessionmaker) as session:
        again = await webhook_delivery.fan_out(session, now=utcnow(), limit=100)
        count = await session.scalar(select(func.count()).select_from(WebhookDelivery))
    assert (events, again, count) == (1, 1, 1)
    assert await _attempts(app) == 0
