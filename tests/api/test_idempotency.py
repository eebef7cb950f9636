from __future__ import annotations

import asyncio
import hashlib
from datetime import timedelta

import httpx
import pytest
from sqlalchemy.exc import OperationalError

from mask.app import MaskApp
from mask.auth.repository import ApiKeyRepository
from mask.db import session_scope
from mask.idempotency.middleware import PENDING_LEASE
from mask.idempotency.repository import IdempotencyRepository
from mask.kit.crypto import hash_token
from mask.kit.time import utcnow
from tests.conftest import Tenant, TenantFactory


async def count_links(client: httpx.AsyncClient, tenant: Tenant) -> int:
    return len((await client.get("/v1/links", params={"limit": 100}, headers=tenant.headers)).json()["data"])


async def test_a_retry_with_the_same_key_and_body_returns_the_first_response(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    headers = tenant.headers | {"Idempotency-Key": "order-42"}
    first = await client.post("/v1/links", json={"url": "https://example.com/a"}, headers=headers)
    second = await client.post("/v1/links", json={"url": "https://example.com/a"}, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second.headers["idempotent-replayed"] == "true"
    assert await count_links(client, tenant) == 1


async def test_the_same_key_with_another_body_is_refused_and_creates_nothing(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    headers = tenant.headers | {"Idempotency-Key": "k1"}
    await client.post("/v1/links", json={"url": "https://example.com/a"}, headers=headers)
    other = await client.post("/v1/links", json={"url": "https://example.com/b"}, headers=headers)
    assert other.status_code == 422
    assert other.json()["error"]["code"] == "validation_error"
    assert other.json()["error"]["errors"][0]["code"] == "idempotency_key_reused"
    assert await count_links(client, tenant) == 1


async def test_concurrent_duplicates_never_create_two_resources(client: httpx.AsyncClient, tenant: Tenant) -> None:
    headers = tenant.headers | {"Idempotency-Key": "burst"}
    responses = await asyncio.gather(
        *[client.post("/v1/links", json={"url": "https://example.com/burst"}, headers=headers) for _ in range(8)]
    )
    statuses = sorted(response.status_code for response in responses)
    assert set(statuses) <= {201, 409}, statuses
    created = {response.json()["id"] for response in responses if response.status_code == 201}
    assert len(created) == 1
    assert await count_links(client, tenant) == 1


async def test_keys_are_scoped_to_the_credential(client: httpx.AsyncClient, make_tenant: TenantFactory) -> None:
    first, second = await make_tenant(), await make_tenant()
    a = await client.post(
        "/v1/links", json={"url": "https://example.com/x"}, headers=first.headers | {"Idempotency-Key": "same"}
    )
    b = await client.post(
        "/v1/links", json={"url": "https://example.com/x"}, headers=second.headers | {"Idempotency-Key": "same"}
    )
    assert a.status_code == b.status_code == 201 and a.json()["id"] != b.json()["id"]


async def test_a_validation_failure_is_replayed_and_a_fixed_request_needs_a_new_key(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    headers = tenant.headers | {"Idempotency-Key": "bad-one"}
    first = await client.post("/v1/links", json={"url": "javascript:x"}, headers=headers)
    again = await client.post("/v1/links", json={"url": "javascript:x"}, headers=headers)
    assert first.status_code == again.status_code == 422
    assert again.headers.get("idempotent-replayed") == "true"


async def test_an_overlong_key_is_422(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await client.post(
        "/v1/links", json={"url": "https://example.com"}, headers=tenant.headers | {"Idempotency-Key": "k" * 256}
    )
    assert response.status_code == 422 and response.json()["error"]["param"] == "Idempotency-Key"


async def test_domains_are_idempotent_too(client: httpx.AsyncClient, tenant: Tenant) -> None:
    headers = tenant.headers | {"Idempotency-Key": "dom"}
    first = await client.post("/v1/domains", json={"domain": "go.idem.test"}, headers=headers)
    second = await client.post("/v1/domains", json={"domain": "go.idem.test"}, headers=headers)
    assert first.status_code == second.status_code == 201 and first.json() == second.json()


async def test_a_revoked_key_gets_401_not_the_replay_of_its_earlier_answer(
    client: httpx.AsyncClient, tenant: Tenant, app: MaskApp
) -> None:
    headers = tenant.headers | {"Idempotency-Key": "before-revoking"}
    first = await client.post("/v1/links", json={"url": "https://example.com/r"}, headers=headers)
    assert first.status_code == 201
    async with session_scope(app.context.sessionmaker) as session:
        key = await ApiKeyRepository(session).get_by_hash(hash_token(tenant.token))
        assert key is not None
        key.revoked_at = utcnow()
    again = await client.post("/v1/links", json={"url": "https://example.com/r"}, headers=headers)
    assert again.status_code == 401, again.text
    assert "idempotent-replayed" not in again.headers


async def test_the_scope_is_the_api_key_not_the_spelling_of_the_header(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    body = {"url": "https://example.com/spelt"}
    first = await client.post(
        "/v1/links", json=body, headers={"Authorization": f"Bearer {tenant.token}", "Idempotency-Key": "spelling"}
    )
    second = await client.post(
        "/v1/links", json=body, headers={"Authorization": f"bearer  {tenant.token} ", "Idempotency-Key": "spelling"}
    )
    assert first.status_code == second.status_code == 201
    assert second.headers.get("idempotent-replayed") == "true"
    assert second.json()["id"] == first.json()["id"]
    assert await count_links(client, tenant) == 1


RETRIED_BODY = b'{"url": "https://example.com/retried"}'


async def _abandon_claim(app: MaskApp, tenant: Tenant, key: str, *, minutes_ago: float) -> None:
    """A claim of `POST /v1/links` with RETRIED_BODY left pending, as by a request whose worker died before it
    finished: the real repository writes it, dated back."""
    async with session_scope(app.context.sessionmaker) as session:
        api_key = await ApiKeyRepository(session).get_by_hash(hash_token(tenant.token))
        assert api_key is not None
        request_hash = hashlib.sha256(b"\n".join([b"/v1/links", b"", RETRIED_BODY])).hexdigest()
        await IdempotencyRepository(session).claim(
            api_key.id, key, request_hash, utcnow() - timedelta(minutes=minutes_ago)
        )


async def test_a_claim_abandoned_past_its_lease_lets_the_retry_run(
    client: httpx.AsyncClient, tenant: Tenant, app: MaskApp
) -> None:
    await _abandon_claim(app, tenant, "died-mid-request", minutes_ago=PENDING_LEASE.total_seconds() / 60 + 1)
    headers = tenant.headers | {"Idempotency-Key": "died-mid-request", "Content-Type": "application/json"}
    retry = await client.post("/v1/links", content=RETRIED_BODY, headers=headers)
    assert retry.status_code == 201, retry.text
    replay = await client.post("/v1/links", content=RETRIED_BODY, headers=headers)
    assert replay.headers.get("idempotent-replayed") == "true" and replay.json()["id"] == retry.json()["id"]
    assert await count_links(client, tenant) == 1


async def test_a_claim_within_its_lease_is_still_in_progress(
    client: httpx.AsyncClient, tenant: Tenant, app: MaskApp
) -> None:
    await _abandon_claim(app, tenant, "still-running", minutes_ago=0)
    response = await client.post(
        "/v1/links",
        content=RETRIED_BODY,
        headers=tenant.headers | {"Idempotency-Key": "still-running", "Content-Type": "application/json"},
    )
    assert response.status_code == 409, response.text
    assert response.json()["error"]["code"] == "idempotency_in_progress"
    assert await count_links(client, tenant) == 0


async def test_when_the_answer_cannot_be_kept_the_client_still_gets_it_and_a_retry_is_not_stuck(
    client: httpx.AsyncClient, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Fault injection: the database refuses the statement that keeps the answer (as a lost connection would).
    async def refuse(*args: object, **kwargs: object) -> None:
        raise OperationalError("UPDATE idempotency_records", {}, Exception("connection lost"))

    monkeypatch.setattr(IdempotencyRepository, "complete", refuse)
    headers = tenant.headers | {"Idempotency-Key": "unkept"}
    first = await client.post("/v1/links", json={"url": "https://example.com/unkept"}, headers=headers)
    assert first.status_code == 201, first.text
    monkeypatch.undo()
    retry = await client.post("/v1/links", json={"url": "https://example.com/unkept"}, headers=headers)
    assert retry.status_code == 201 and "idempotent-replayed" not in retry.headers
