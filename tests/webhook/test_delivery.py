"""Delivery end to end: outbox event → fan-out → signed POST to a real receiver on loopback → logged."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import func, select

from mask.app import MaskApp
from mask.db import session_scope
from mask.models.event import Event
from mask.webhook.policy import DeliveryPolicy
from tests.conftest import Tenant, TenantFactory
from tests.waiting import eventually
from tests.webhook.conftest import create_link, create_webhook, use_policy
from tests.webhook.receiver import Receiver


async def test_link_created_arrives_signed_and_verifies_with_standardwebhooks(
    client: httpx.AsyncClient, tenant: Tenant, receiver: Receiver, fast: DeliveryPolicy
) -> None:
    await create_webhook(client, tenant, receiver, events=["link.created", "link.deleted"])
    link = await create_link(client, tenant, "launch")

    await eventually(lambda: len(receiver.received) == 1, message="the link.created delivery")
    request = receiver.received[0]
    assert request.verified, "standardwebhooks refused the signature"
    assert request.payload is not None
    assert request.payload["type"] == "link.created"
    assert request.payload["workspace_id"] == tenant.workspace_id
    assert request.payload["data"] == link
    assert request.payload["id"].startswith("evt_") and request.headers["webhook-id"] == request.payload["id"]
    assert request.payload["created_at"].endswith("Z")
    assert request.headers["content-type"] == "application/json"
    assert request.headers["webhook-signature"].startswith("v1,")


async def test_only_subscribed_event_types_are_delivered(
    client: httpx.AsyncClient, tenant: Tenant, receiver: Receiver, fast: DeliveryPolicy
) -> None:
    await create_webhook(client, tenant, receiver, events=["link.deleted"])
    link = await create_link(client, tenant, "short-lived")
    assert (await client.delete(f"/v1/links/{link['id']}", headers=tenant.headers)).status_code == 204

    await eventually(lambda: len(receiver.received) >= 1, message="the link.deleted delivery")
    await asyncio.sleep(0.3)  # a link.created delivery, if wrongly sent, would have arrived by now
    assert [p["type"] for p in receiver.payloads()] == ["link.deleted"]
    assert receiver.payloads()[0]["data"]["id"] == link["id"]


async def test_receiver_failing_twice_then_succeeding_gets_the_event_with_every_attempt_logged(
    client: httpx.AsyncClient, tenant: Tenant, receiver: Receiver, fast: DeliveryPolicy
) -> None:
    receiver.statuses = [500, 503]
    webhook = await create_webhook(client, tenant, receiver)
    await create_link(client, tenant, "retried")

    await eventually(lambda: len(receiver.received) == 3, message="two failures and a success")
    assert len({r.headers["webhook-id"] for r in receiver.received}) == 1, "a retry is the same message"
    assert all(r.verified for r in receiver.received)

    async def logged() -> bool:
        page = (await client.get(f"/v1/webhooks/{webhook['id']}/deliveries", headers=tenant.headers)).json()
        return bool(page["data"]) and page["data"][0]["status"] == "succeeded"

    await eventually(logged, message="the delivery recorded as succeeded")
    page = (await client.get(f"/v1/webhooks/{webhook['id']}/deliveries", headers=tenant.headers)).json()
    delivery = page["data"][0]
    assert delivery["event_type"] == "link.created"
    assert delivery["event_id"] == receiver.received[0].headers["webhook-id"]
    assert delivery["attempt_count"] == 3 and delivery["next_retry_at"] is None
    attempts = delivery["attempts"]
    assert [a["status_code"] for a in attempts] == [500, 503, 200]
    assert [a["number"] for a in attempts] == [1, 2, 3]
    assert [a["succeeded"] for a in attempts] == [False, False, True]
    assert attempts[0]["next_retry_at"] is not None and attempts[2]["next_retry_at"] is None
    assert attempts[0]["next_retry_at"] > attempts[0]["attempted_at"]
    assert '"status": 500' in attempts[0]["response_excerpt"]
    assert all(isinstance(a["duration_ms"], int) and a["duration_ms"] >= 0 for a in attempts)
    assert attempts[0]["error"] == "HTTP 500"

    detail = (
        await client.get(f"/v1/webhooks/{webhook['id']}/deliveries/{delivery['id']}", headers=tenant.headers)
    ).json()
    assert detail["payload"] == receiver.received[-1].payload

    endpoint = (await client.get(f"/v1/webhooks/{webhook['id']}", headers=tenant.headers)).json()
    assert endpoint["enabled"] and endpoint["consecutive_failures"] == 0
    assert endpoint["last_success_at"] is not None and endpoint["last_failure_at"] is not None


async def test_retries_run_out_then_a_manual_retry_delivers(
    app: MaskApp, client: httpx.AsyncClient, tenant: Tenant, receiver: Receiver
) -> None:
    policy = use_policy(app)
    receiver.default_status = 500
    webhook = await create_webhook(client, tenant, receiver)
    await create_link(client, tenant, "doomed")
    url = f"/v1/webhooks/{webhook['id']}/deliveries"

    async def failed() -> bool:
        return bool((await client.get(url, headers=tenant.headers, params={"status": "failed"})).json()["data"] != [])

    await eventually(failed, message="the delivery giving up")
    assert len(receiver.received) == policy.max_attempts
    delivery = (await client.get(url, headers=tenant.headers)).json()["data"][0]
    assert delivery["status"] == "failed" and delivery["completed_at"] is not None

    receiver.default_status = 204
    retried = await client.post(f"{url}/{delivery['id']}/retry", headers=tenant.headers)
    assert retried.status_code == 202, retried.text
    assert retried.json()["status"] == "pending"

    async def succeeded() -> bool:
        answer = await client.get(f"{url}/{delivery['id']}", headers=tenant.headers)
        return bool(answer.json()["status"] == "succeeded")

    await eventually(succeeded, message="the manual retry")
    assert len(receiver.received) == policy.max_attempts + 1
    assert receiver.received[-1].headers["webhook-id"] == delivery["event_id"]


async def test_test_endpoint_sends_a_signed_ping_to_that_webhook_only(
    client: httpx.AsyncClient, tenant: Tenant, receiver: Receiver, fast: DeliveryPolicy
) -> None:
    other = await Receiver().start()
    try:
        webhook = await create_webhook(client, tenant, receiver)
        await create_webhook(client, tenant, other)
        response = await client.post(f"/v1/webhooks/{webhook['id']}/test", headers=tenant.headers)
        assert response.status_code == 202, response.text
        assert response.json()["event_type"] == "ping"
        await eventually(lambda: len(receiver.received) == 1, message="the ping")
        ping = receiver.received[0]
        assert ping.verified and ping.payload is not None
        assert ping.payload["type"] == "ping" and ping.payload["data"]["webhook_id"] == webhook["id"]
        await asyncio.sleep(0.2)
        assert other.received == []
    finally:
        await other.stop()


async def test_every_subscribed_endpoint_gets_its_own_copy(
    client: httpx.AsyncClient, make_tenant: TenantFactory, receiver: Receiver, fast: DeliveryPolicy
) -> None:
    tenant = await make_tenant()
    second = await Receiver().start()
    try:
        await create_webhook(client, tenant, receiver)
        await create_webhook(client, tenant, second)
        await create_link(client, tenant, "twice")
        await eventually(lambda: len(receiver.received) == 1 and len(second.received) == 1, message="both copies")
        assert receiver.received[0].verified and second.received[0].verified
        # each verifies with its own endpoint's secret only
        assert receiver.secrets != second.secrets
    finally:
        await second.stop()


async def test_events_nobody_subscribed_to_are_marked_dispatched(
    app: MaskApp, client: httpx.AsyncClient, tenant: Tenant, fast: DeliveryPolicy
) -> None:
    await create_link(client, tenant, "unwatched")

    async def dispatched() -> bool:
        async with session_scope(app.context.sessionmaker) as session:
            pending = await session.scalar(select(func.count()).select_from(Event).where(Event.dispatched_at.is_(None)))
        return pending == 0

    await eventually(dispatched, message="the outbox draining")


async def test_domain_and_bio_page_events_are_delivered_as_the_api_returns_them(
    client: httpx.AsyncClient, tenant: Tenant, receiver: Receiver, fast: DeliveryPolicy
) -> None:
    await create_webhook(client, tenant, receiver, events=["domain.created", "bio_page.created", "bio_page.deleted"])
    domain = (await client.post("/v1/domains", headers=tenant.headers, json={"domain": "go.hooks.example"})).json()
    page = await client.post("/v1/bio-pages", headers=tenant.headers, json={"handle": "hooked"})
    assert page.status_code == 201, page.text
    assert (await client.delete(f"/v1/bio-pages/{page.json()['id']}", headers=tenant.headers)).status_code == 204

    await eventually(lambda: len(receiver.received) == 3, message="domain and bio page deliveries")
    by_type = {p["type"]: p["data"] for p in receiver.payloads()}
    assert by_type["domain.created"] == domain
    assert by_type["bio_page.created"] == page.json()
    assert by_type["bio_page.deleted"]["id"] == page.json()["id"]
    assert all(r.verified for r in receiver.received)


async def test_a_committed_event_wakes_the_dispatcher_instead_of_waiting_for_the_next_poll(
    app: MaskApp, client: httpx.AsyncClient, tenant: Tenant, receiver: Receiver
) -> None:
    # Polling every hour: within the deadline only the wake-up after the commit can deliver it.
    use_policy(app, poll_interval=3600.0)
    await asyncio.sleep(0.6)  # let the pass started under the default poll interval end; from now on it idles
    await create_webhook(client, tenant, receiver)
    await asyncio.sleep(0.2)
    await create_link(client, tenant, "prompt")
    await eventually(lambda: len(receiver.received) == 1, message="a delivery woken by the commit")
