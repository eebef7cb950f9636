"""Disabled endpoints get nothing; a run of failures disables an endpoint; one slow receiver holds up no other."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx

from mask.app import MaskApp
from tests.conftest import Tenant
from tests.waiting import eventually
from tests.webhook.conftest import create_link, create_webhook, use_policy
from tests.webhook.receiver import Receiver


async def test_disabled_endpoints_get_nothing(
    app: MaskApp, client: httpx.AsyncClient, tenant: Tenant, receiver: Receiver
) -> None:
    use_policy(app)
    off_from_start = await Receiver().start()
    switched_off = await Receiver().start()
    try:
        await create_webhook(client, tenant, receiver)
        await create_webhook(client, tenant, off_from_start, enabled=False)
        later = await create_webhook(client, tenant, switched_off)
        response = await client.patch(f"/v1/webhooks/{later['id']}", headers=tenant.headers, json={"enabled": False})
        assert response.json()["enabled"] is False

        for n in range(3):
            await create_link(client, tenant, f"quiet-{n}")
        await eventually(lambda: len(receiver.received) == 3, message="the enabled endpoint's deliveries")
        await asyncio.sleep(0.3)
        assert off_from_start.received == [] and switched_off.received == []

        refused = await client.post(f"/v1/webhooks/{later['id']}/test", headers=tenant.headers)
        assert refused.status_code == 409 and refused.json()["error"]["code"] == "webhook_disabled"
        deliveries = (await client.get(f"/v1/webhooks/{later['id']}/deliveries", headers=tenant.headers)).json()
        assert deliveries["data"] == []  # nothing was even queued for it
    finally:
        await off_from_start.stop()
        await switched_off.stop()


async def test_an_endpoint_failing_for_the_whole_window_is_disabled_and_can_be_re_enabled(
    app: MaskApp, client: httpx.AsyncClient, tenant: Tenant, receiver: Receiver
) -> None:
    # The rule compressed: at least 3 failed attempts in a row (each delivery may make 4), over any time span.
    use_policy(app, disable_after_failures=3, disable_after=timedelta(0))
    receiver.default_status = 502
    webhook = await create_webhook(client, tenant, receiver)
    url = f"/v1/webhooks/{webhook['id']}"
    await create_link(client, tenant, "first")
    await create_link(client, tenant, "second")

    async def disabled() -> bool:
        return (await client.get(url, headers=tenant.headers)).json()["enabled"] is False

    await eventually(disabled, message="the endpoint being disabled")
    state = (await client.get(url, headers=tenant.headers)).json()
    assert state["disabled_reason"] == "failing" and state["disabled_at"] is not None
    assert state["consecutive_failures"] >= 3 and state["failing_since"] is not None
    await asyncio.sleep(0.3)
    attempts_when_disabled = len(receiver.received)
    await create_link(client, tenant, "third")
    await asyncio.sleep(0.4)
    assert len(receiver.received) == attempts_when_disabled, "a disabled endpoint got more requests"

    owed = (await client.get(f"{url}/deliveries", headers=tenant.headers, params={"status": "pending"})).json()
    retry = await client.post(f"{url}/deliveries/{owed['data'][0]['id']}/retry", headers=tenant.headers)
    assert retry.status_code == 409 and retry.json()["error"]["code"] == "webhook_disabled"

    receiver.default_status = 200
    enabled = (await client.patch(url, headers=tenant.headers, json={"enabled": True})).json()
    assert enabled["enabled"] and enabled["consecutive_failures"] == 0 and enabled["disabled_reason"] is None

    # deliveries owed before it was disabled resume; what happened while disabled was not queued for it
    def delivered_slugs() -> set[str]:
        return {r.payload["data"]["slug"] for r in receiver.received if r.payload and r.verified}

    await eventually(lambda: {"first", "second"} <= delivered_slugs(), message="owed deliveries after re-enabling")
    await asyncio.sleep(0.3)
    assert "third" not in delivered_slugs()


async def test_a_success_resets_the_failure_count(
    app: MaskApp, client: httpx.AsyncClient, tenant: Tenant, receiver: Receiver
) -> None:
    use_policy(app)
    receiver.statuses = [500, 500]
    webhook = await create_webhook(client, tenant, receiver)
    await create_link(client, tenant, "recovers")
    await eventually(lambda: len(receiver.received) == 3, message="two failures then a success")

    async def reset() -> bool:
        state = (await client.get(f"/v1/webhooks/{webhook['id']}", headers=tenant.headers)).json()
        return state["consecutive_failures"] == 0 and state["last_success_at"] is not None

    await eventually(reset, message="the failure count reset")


async def test_a_slow_receiver_holds_up_only_its_own_deliveries(
    app: MaskApp, client: httpx.AsyncClient, tenant: Tenant, receiver: Receiver
) -> None:
    policy = use_policy(app, max_in_flight=6, max_in_flight_per_endpoint=2)
    slow = await Receiver(gate=asyncio.Event()).start()  # answers nothing until the gate opens
    try:
        await create_webhook(client, tenant, slow)
        await create_webhook(client, tenant, receiver)
        for n in range(8):
            await create_link(client, tenant, f"busy-{n}")

        await eventually(lambda: len(receiver.received) == 8, message="the fast receiver's deliveries")
        assert slow.in_flight == policy.max_in_flight_per_endpoint  # held, but never more than the limit
        assert slow.max_in_flight == policy.max_in_flight_per_endpoint

        assert slow.gate is not None
        slow.gate.set()
        await eventually(lambda: len(slow.received) == 8, message="the slow receiver catching up")
        assert slow.max_in_flight <= policy.max_in_flight_per_endpoint
    finally:
        if slow.gate is not None:
            slow.gate.set()
        await slow.stop()
