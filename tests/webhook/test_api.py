"""The /v1/webhooks API: shapes, validation, secrets shown once, enabling, scopes and tenant isolation."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import text
from standardwebhooks.webhooks import Webhook as StandardWebhook

from mask.app import MaskApp
from mask.config import Settings
from mask.db import session_scope
from mask.kit.errors import ValidationFailed
from mask.webhook import service as webhook_service
from mask.webhook.policy import DeliveryPolicy
from mask.webhook.schemas import EVENT_TYPES, WebhookCreate
from tests.conftest import Tenant, TenantFactory
from tests.waiting import eventually
from tests.webhook.conftest import create_link, create_webhook
from tests.webhook.receiver import Receiver


async def test_create_returns_the_secret_once_and_reads_never_show_it(
    client: httpx.AsyncClient, tenant: Tenant, receiver: Receiver
) -> None:
    response = await client.post(
        "/v1/webhooks",
        headers=tenant.headers,
        json={
            "url": receiver.url,
            "events": ["link.clicked", "link.created", "link.created"],
            "description": " Zapier ",
        },
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["id"].startswith("wh_")
    assert created["secret"].startswith("whsec_") and len(created["secret"]) >= 38
    assert created["events"] == ["link.created", "link.clicked"]  # canonical order, no duplicates
    assert created["description"] == "Zapier"
    assert created["enabled"] is True and created["disabled_reason"] is None
    assert created["workspace_id"] == tenant.workspace_id
    assert created["created_at"].endswith("Z")

    fetched = await client.get(f"/v1/webhooks/{created['id']}", headers=tenant.headers)
    listed = await client.get("/v1/webhooks", headers=tenant.headers)
    assert "secret" not in fetched.json()
    assert [item["id"] for item in listed.json()["data"]] == [created["id"]]
    assert "secret" not in listed.json()["data"][0]
    assert created["secret"] not in fetched.text + listed.text


async def test_a_retried_creation_or_rotation_never_keeps_the_secret_for_a_replay(
    app: MaskApp, client: httpx.AsyncClient, tenant: Tenant, receiver: Receiver
) -> None:
    headers = {**tenant.headers, "Idempotency-Key": "one-webhook"}
    body = {"url": receiver.url, "events": ["link.created"]}
    first = await client.post("/v1/webhooks", headers=headers, json=body)
    assert first.status_code == 201 and first.headers["cache-control"] == "no-store"
    again = await client.post("/v1/webhooks", headers=headers, json=body)
    assert again.status_code == 409 and again.json()["error"]["code"] == "idempotency_secret_not_replayed"
    assert first.json()["secret"] not in again.text
    assert len((await client.get("/v1/webhooks", headers=tenant.headers)).json()["data"]) == 1  # made once
    rotate = {**tenant.headers, "Idempotency-Key": "one-rotation"}
    rotated = await client.post(f"/v1/webhooks/{first.json()['id']}/rotate-secret", headers=rotate)
    assert rotated.status_code == 200 and rotated.headers["cache-control"] == "no-store"
    secrets = (first.json()["secret"], rotated.json()["secret"])
    async with session_scope(app.context.sessionmaker) as session:
        stored = [row[0] or "" for row in await session.execute(text("SELECT response_body FROM idempotency_records"))]
    assert all(secret not in each for secret in secrets for each in stored)


async def test_list_is_newest_first_with_cursor_pagination(
    client: httpx.AsyncClient, tenant: Tenant, receiver: Receiver
) -> None:
    ids = [(await create_webhook(client, tenant, receiver, description=f"n{i}"))["id"] for i in range(5)]
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await client.get("/v1/webhooks", headers=tenant.headers, params=params)).json()
        seen += [item["id"] for item in page["data"]]
        if not page["has_more"]:
            break
        cursor = page["next_cursor"]
    assert seen == list(reversed(ids))


INVALID_BODIES: list[tuple[dict[str, Any], str, str]] = [
    ({"url": "https://example.com/h", "events": []}, "events", "events_required"),
    ({"url": "https://example.com/h", "events": ["link.exploded"]}, "events", "unknown_event_type"),
    ({"url": "https://example.com/h", "events": ["ping"]}, "events", "unknown_event_type"),
    ({"url": "ftp://example.com/h", "events": ["link.created"]}, "url", "unsupported_scheme"),
    ({"url": "not a url", "events": ["link.created"]}, "url", "invalid_url"),
    ({"url": "https://user:pw@example.com/h", "events": ["link.created"]}, "url", "credentials_in_url"),
    ({"url": "https://example.com/\t", "events": "link.created"}, "events", "list_type"),
    ({"events": ["link.created"]}, "url", "required"),
    ({"url": "https://example.com/h", "events": ["link.created"], "secret": "mine"}, "secret", "unknown_field"),
]


async def test_invalid_bodies_are_422_naming_the_field(client: httpx.AsyncClient, tenant: Tenant) -> None:
    for body, param, code in INVALID_BODIES:
        response = await client.post("/v1/webhooks", headers=tenant.headers, json=body)
        assert response.status_code == 422, (body, response.text)
        errors = response.json()["error"]["errors"]
        assert {"param": param, "code": code} in [{"param": e["param"], "code": e["code"]} for e in errors], body
    assert (await client.get("/v1/webhooks", headers=tenant.headers)).json()["data"] == []


async def test_every_event_type_can_be_subscribed(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await client.post(
        "/v1/webhooks", headers=tenant.headers, json={"url": "https://example.com/all", "events": list(EVENT_TYPES)}
    )
    assert response.status_code == 201, response.text
    assert response.json()["events"] == list(EVENT_TYPES)


async def test_https_is_required_in_production(app: MaskApp, tenant: Tenant) -> None:
    production = Settings(env="production", secret_key="s" * 40, database_url=app.context.settings.database_url)
    async with session_scope(app.context.sessionmaker) as session:
        with pytest.raises(ValidationFailed) as refused:
            await webhook_service.create(
                session,
                settings=production,
                workspace_id=tenant.workspace_id,
                data=WebhookCreate(url="http://example.com/h", events=["link.created"]),
            )
    assert refused.value.errors[0].code == "https_required"


async def test_patch_changes_fields_and_disabling_is_visible(
    client: httpx.AsyncClient, tenant: Tenant, receiver: Receiver
) -> None:
    webhook = await create_webhook(client, tenant, receiver)
    url = f"/v1/webhooks/{webhook['id']}"
    changed = await client.patch(
        url, headers=tenant.headers, json={"events": ["domain.created"], "description": "ops", "enabled": False}
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["events"], body["description"], body["enabled"]) == (["domain.created"], "ops", False)
    assert body["disabled_reason"] == "manual" and body["disabled_at"] is not None

    enabled = (await client.patch(url, headers=tenant.headers, json={"enabled": True})).json()
    assert enabled["enabled"] is True and enabled["disabled_reason"] is None and enabled["disabled_at"] is None

    cleared = await client.patch(url, headers=tenant.headers, json={"url": None, "events": None})
    assert cleared.status_code == 422
    assert {e["param"] for e in cleared.json()["error"]["errors"]} == {"url", "events"}
    private = await client.patch(url, headers=tenant.headers, json={"url": "https://[::1]/x"})
    assert private.status_code == 200  # MASK_WEBHOOKS_ALLOW_PRIVATE is on for these tests (loopback receiver)
    assert private.json()["url"] == "https://[::1]/x"


async def test_rotating_the_secret_signs_with_both_secrets_for_a_day(
    client: httpx.AsyncClient, tenant: Tenant, receiver: Receiver, fast: DeliveryPolicy
) -> None:
    webhook = await create_webhook(client, tenant, receiver)
    old_secret = webhook["secret"]
    rotated = await client.post(f"/v1/webhooks/{webhook['id']}/rotate-secret", headers=tenant.headers)
    assert rotated.status_code == 200, rotated.text
    new_secret = rotated.json()["secret"]
    assert new_secret.startswith("whsec_") and new_secret != old_secret

    await create_link(client, tenant, "rotated")
    await eventually(lambda: len(receiver.received) == 1, message="the delivery after rotation")
    request = receiver.received[0]
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    for secret in (new_secret, old_secret):  # a receiver on either secret accepts it
        assert StandardWebhook(secret).verify(request.body, request.headers)["type"] == "link.created"


async def test_delete_removes_the_webhook_and_its_log(
    client: httpx.AsyncClient, tenant: Tenant, receiver: Receiver, fast: DeliveryPolicy
) -> None:
    webhook = await create_webhook(client, tenant, receiver)
    await client.post(f"/v1/webhooks/{webhook['id']}/test", headers=tenant.headers)
    await eventually(lambda: len(receiver.received) == 1, message="the ping")
    assert (await client.delete(f"/v1/webhooks/{webhook['id']}", headers=tenant.headers)).status_code == 204
    assert (await client.get(f"/v1/webhooks/{webhook['id']}", headers=tenant.headers)).status_code == 404
    gone = await client.get(f"/v1/webhooks/{webhook['id']}/deliveries", headers=tenant.headers)
    assert gone.status_code == 404
    assert gone.json()["error"]["code"] == "webhook_not_found"


async def test_read_only_keys_cannot_change_webhooks(
    client: httpx.AsyncClient, make_tenant: TenantFactory, receiver: Receiver
) -> None:
    owner = await make_tenant()
    webhook = await create_webhook(client, owner, receiver)
    reader = await make_tenant(scopes=["webhooks:read"])
    no_scope = await make_tenant(scopes=["links:read"])
    refused = await client.post(
        "/v1/webhooks", headers=reader.headers, json={"url": receiver.url, "events": ["link.created"]}
    )
    assert refused.status_code == 403
    assert refused.json()["error"]["required_scope"] == "webhooks:write"
    assert (await client.get("/v1/webhooks", headers=reader.headers)).status_code == 200
    listed = await client.get("/v1/webhooks", headers=no_scope.headers)
    assert listed.status_code == 403 and listed.json()["error"]["required_scope"] == "webhooks:read"
    assert (await client.get("/v1/webhooks")).status_code == 401
    assert webhook["id"]


async def test_another_workspaces_ids_are_404_on_every_endpoint(
    client: httpx.AsyncClient, make_tenant: TenantFactory, receiver: Receiver, fast: DeliveryPolicy
) -> None:
    owner = await make_tenant()
    intruder = await make_tenant()
    webhook = await create_webhook(client, owner, receiver)
    sent = (await client.post(f"/v1/webhooks/{webhook['id']}/test", headers=owner.headers)).json()
    await eventually(lambda: len(receiver.received) == 1, message="the owner's ping")
    own = await create_webhook(client, intruder, receiver)  # the intruder's own webhook, for mixed-id attempts

    base = f"/v1/webhooks/{webhook['id']}"
    delivery = f"{base}/deliveries/{sent['id']}"
    calls = [
        ("GET", base, None),
        ("PATCH", base, {"enabled": False}),
        ("DELETE", base, None),
        ("POST", f"{base}/rotate-secret", None),
        ("POST", f"{base}/test", None),
        ("GET", f"{base}/deliveries", None),
        ("GET", delivery, None),
        ("POST", f"{delivery}/retry", None),
        # the intruder's own webhook with the owner's delivery id
        ("GET", f"/v1/webhooks/{own['id']}/deliveries/{sent['id']}", None),
        ("POST", f"/v1/webhooks/{own['id']}/deliveries/{sent['id']}/retry", None),
    ]
    for method, path, body in calls:
        response = await client.request(method, path, headers=intruder.headers, json=body)
        assert response.status_code == 404, (method, path, response.text)
        assert response.json()["error"]["type"] == "invalid_request_error"
    listed = (await client.get("/v1/webhooks", headers=intruder.headers)).json()["data"]
    assert [item["id"] for item in listed] == [own["id"]]

    # …and nothing of the owner's changed
    after = (await client.get(base, headers=owner.headers)).json()
    assert after["enabled"] is True
    assert len(receiver.received) == 1
    deliveries = (await client.get(f"{base}/deliveries", headers=owner.headers)).json()["data"]
    assert [d["id"] for d in deliveries] == [sent["id"]]
