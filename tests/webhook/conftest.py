from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import httpx
import pytest

from mask.app import MaskApp
from mask.webhook.dispatcher import WebhookDispatcher
from mask.webhook.policy import DeliveryPolicy
from tests.conftest import Tenant
from tests.webhook.receiver import Receiver

# Real behaviour on a compressed clock: retries after tens of milliseconds instead of minutes.
FAST = DeliveryPolicy(
    retry_delays=(timedelta(milliseconds=50), timedelta(milliseconds=100), timedelta(milliseconds=150)),
    timeout=5.0,
    lease=timedelta(seconds=30),
    poll_interval=0.05,
    shutdown_grace=2.0,
)


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"webhooks_allow_private": True}  # the receiver is on loopback


def dispatcher_of(app: MaskApp) -> WebhookDispatcher:
    runtime = app.services.webhooks
    return runtime.dispatcher


def use_policy(app: MaskApp, **changes: Any) -> DeliveryPolicy:
    dispatcher = dispatcher_of(app)
    dispatcher.policy = replace(FAST, **changes)
    return dispatcher.policy


@pytest.fixture
def fast(app: MaskApp) -> DeliveryPolicy:
    """The app's dispatcher on the fast policy."""
    return use_policy(app)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    started = await Receiver().start()
    yield started
    await started.stop()


async def create_webhook(
    client: httpx.AsyncClient, tenant: Tenant, receiver: Receiver, events: list[str] | None = None, **fields: Any
) -> dict[str, Any]:
    """Create an endpoint for the receiver and teach the receiver its secret."""
    response = await client.post(
        "/v1/webhooks",
        headers=tenant.headers,
        json={"url": fields.pop("url", receiver.url), "events": events or ["link.created"], **fields},
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    receiver.secrets.append(body["secret"])
    return body


async def create_link(client: httpx.AsyncClient, tenant: Tenant, slug: str) -> dict[str, Any]:
    response = await client.post(
        "/v1/links", headers=tenant.headers, json={"url": f"https://example.com/{slug}", "slug": slug}
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body
