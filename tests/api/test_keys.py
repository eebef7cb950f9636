"""`/v1/keys`: keys made with a key, never with more than it has; shown once; revoked; tenant-isolated."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import text

from mask.app import MaskApp
from mask.db import session_scope
from mask.kit.time import isoformat_z, utcnow
from mask.workspace.permissions import grantable_scopes
from tests.api.people import fast_argon2, join
from tests.conftest import TenantFactory

__all__ = ["fast_argon2"]


async def test_a_key_makes_a_key_that_is_shown_once_works_and_can_be_revoked(
    client: httpx.AsyncClient, make_tenant: TenantFactory
) -> None:
    tenant = await make_tenant()
    made = await client.post(
        "/v1/keys", json={"name": "CI", "scopes": ["links:read", "links:write"]}, headers=tenant.headers
    )
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["secret"].startswith("mk_live_") and body["secret"].startswith(body["prefix"])
    assert body["scopes"] == ["links:read", "links:write"] and body["name"] == "CI"
    assert made.headers["cache-control"] == "no-store"
    new = {"Authorization": f"Bearer {body['secret']}"}
    assert (await client.post("/v1/links", json={"url": "https://example.com/a"}, headers=new)).status_code == 201
    assert (await client.get("/v1/domains", headers=new)).json()["error"]["required_scope"] == "domains:read"
    # Never again: not in the list, not in the key.
    listed = (await client.get("/v1/keys", headers=tenant.headers)).json()["data"]
    assert listed[0]["id"] == body["id"]
    assert all("secret" not in key for key in listed)
    got = await client.get(f"/v1/keys/{body['id']}", headers=tenant.headers)
    assert got.status_code == 200 and "secret" not in got.json() and got.json()["revoked_at"] is None
    assert (await client.delete(f"/v1/keys/{body['id']}", headers=tenant.headers)).status_code == 204
    assert (await client.get("/v1/links", headers=new)).status_code == 401
    gone = await client.get(f"/v1/keys/{body['id']}", headers=tenant.headers)
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "api_key_not_found"
    assert body["id"] not in [
        key["id"] for key in (await client.get("/v1/keys", headers=tenant.headers)).json()["data"]
    ]
    again = await client.delete(f"/v1/keys/{body['id']}", headers=tenant.headers)
    assert again.status_code == 404


async def test_a_key_never_makes_a_key_with_a_scope_it_lacks(
    client: httpx.AsyncClient, make_tenant: TenantFactory
) -> None:
    tenant = await make_tenant(scopes=["links:read", "keys:write", "keys:read"])
    escalation = await client.post("/v1/keys", json={"scopes": ["links:write"]}, headers=tenant.headers)
    assert escalation.status_code == 403
    error = escalation.json()["error"]
    assert error["code"] == "scope_not_held" and error["param"] == "scopes" and "links:write" in error["message"]
    # Its own scopes, or fewer, are fine; none given means the asking key's.
    same = await client.post("/v1/keys", json={}, headers=tenant.headers)
    assert same.status_code == 201 and same.json()["scopes"] == ["links:read", "keys:read", "keys:write"]
    fewer = await client.post("/v1/keys", json={"scopes": ["links:read"]}, headers=tenant.headers)
    assert fewer.status_code == 201 and fewer.json()["scopes"] == ["links:read"]
    # A key made by a key cannot make one with more either.
    narrow = {"Authorization": f"Bearer {fewer.json()['secret']}"}
    assert (await client.post("/v1/keys", json={}, headers=narrow)).json()["error"]["required_scope"] == "keys:write"
    unknown = await client.post("/v1/keys", json={"scopes": ["links:rule"]}, headers=tenant.headers)
    assert unknown.status_code == 422 and unknown.json()["error"]["errors"][0]["code"] == "invalid_scope"
    assert len((await client.get("/v1/keys", headers=tenant.headers)).json()["data"]) == 3


async def test_keys_need_their_scopes(client: httpx.AsyncClient, make_tenant: TenantFactory) -> None:
    tenant = await make_tenant(scopes=["links:read", "links:write"])
    for method, path in (("GET", "/v1/keys"), ("POST", "/v1/keys"), ("DELETE", "/v1/keys/key_x")):
        response = await client.request(method, path, json={} if method == "POST" else None, headers=tenant.headers)
        assert response.status_code == 403, (method, path)
        assert response.json()["error"]["required_scope"] == ("keys:read" if method == "GET" else "keys:write")


async def test_a_members_key_stays_within_their_role_and_revokes_only_their_own_keys(
    app: MaskApp, client: httpx.AsyncClient, make_tenant: TenantFactory
) -> None:
    tenant = await make_tenant()
    admin = await join(app, tenant.workspace_id, "admin@example.com", "admin")
    member = await join(app, tenant.workspace_id, "member@example.com", "member")
    assert "webhooks:read" not in grantable_scopes("member")
    beyond = await client.post("/v1/keys", json={"scopes": ["webhooks:read"]}, headers=member.headers)
    assert beyond.status_code == 403 and beyond.json()["error"]["code"] == "scope_not_held"
    made = await client.post("/v1/keys", json={"name": "mine"}, headers=member.headers)
    assert made.status_code == 201 and made.json()["scopes"] == grantable_scopes("member")
    assert made.json()["created_by"] == member.user_id  # the member's, like the key that asked
    # A member revokes their own keys only; someone else's is not theirs to see (404).
    assert (await client.delete(f"/v1/keys/{admin.key_id}", headers=member.headers)).status_code == 404
    assert (await client.get("/v1/links", headers=admin.headers)).status_code == 200
    assert (await client.delete(f"/v1/keys/{made.json()['id']}", headers=member.headers)).status_code == 204
    # An admin manages everyone's keys.
    assert (await client.delete(f"/v1/keys/{member.key_id}", headers=admin.headers)).status_code == 204
    assert (await client.get("/v1/links", headers=member.headers)).status_code == 401


async def test_a_key_made_through_the_api_goes_when_its_member_leaves(
    app: MaskApp, client: httpx.AsyncClient, make_tenant: TenantFactory
) -> None:
    tenant = await make_tenant()
    member = await join(app, tenant.workspace_id, "leaver@example.com", "member")
    made = (await client.post("/v1/keys", json={}, headers=member.headers)).json()
    child = {"Authorization": f"Bearer {made['secret']}"}
    assert (await client.get("/v1/links", headers=child)).status_code == 200
    removed = await client.delete(f"/v1/members/{member.user_id}", headers=tenant.headers)
    assert removed.status_code == 204, removed.text
    assert (await client.get("/v1/links", headers=child)).status_code == 401


async def test_expiry_is_in_the_future_and_stops_the_key(client: httpx.AsyncClient, make_tenant: TenantFactory) -> None:
    tenant = await make_tenant()
    past = await client.post("/v1/keys", json={"expires_at": "2020-01-01T00:00:00Z"}, headers=tenant.headers)
    assert past.status_code == 422 and past.json()["error"]["errors"][0]["code"] == "expiry_in_past"
    soon = isoformat_z(utcnow() + timedelta(days=7))
    made = await client.post("/v1/keys", json={"expires_at": soon}, headers=tenant.headers)
    assert made.status_code == 201 and made.json()["expires_at"] is not None
    bad = await client.post("/v1/keys", json={"expires_at": "next week", "nam": "x"}, headers=tenant.headers)
    assert bad.status_code == 422
    assert {error["param"] for error in bad.json()["error"]["errors"]} == {"expires_at", "nam"}


async def test_another_workspaces_key_is_not_found(client: httpx.AsyncClient, make_tenant: TenantFactory) -> None:
    victim, attacker = await make_tenant(), await make_tenant()
    key = (await client.post("/v1/keys", json={"name": "victim"}, headers=victim.headers)).json()
    assert (await client.get(f"/v1/keys/{key['id']}", headers=attacker.headers)).status_code == 404
    revoked = await client.delete(f"/v1/keys/{key['id']}", headers=attacker.headers)
    assert revoked.status_code == 404 and revoked.json()["error"]["code"] == "api_key_not_found"
    assert key["id"] not in {k["id"] for k in (await client.get("/v1/keys", headers=attacker.headers)).json()["data"]}
    victim_key = {"Authorization": f"Bearer {key['secret']}"}
    assert (await client.get("/v1/links", headers=victim_key)).status_code == 200


async def test_key_changes_are_in_the_audit_log_as_the_dashboards_are(
    client: httpx.AsyncClient, make_tenant: TenantFactory
) -> None:
    tenant = await make_tenant()
    key = (await client.post("/v1/keys", json={"name": "audited"}, headers=tenant.headers)).json()
    await client.delete(f"/v1/keys/{key['id']}", headers=tenant.headers)
    entries = (await client.get("/v1/audit-log", headers=tenant.headers)).json()["data"]
    actions = {(entry["action"], entry["target_id"]): entry for entry in entries}
    created = actions[("api_key.created", key["id"])]
    assert created["actor"]["type"] == "api_key" and created["details"]["name"] == "audited"
    assert ("api_key.revoked", key["id"]) in actions
    assert key["secret"] not in str(entries)


async def test_a_retried_creation_makes_one_key_and_never_keeps_its_secret(
    app: MaskApp, client: httpx.AsyncClient, make_tenant: TenantFactory
) -> None:
    tenant = await make_tenant()
    headers = {**tenant.headers, "Idempotency-Key": "make-one-key"}
    first = await client.post("/v1/keys", json={"name": "once"}, headers=headers)
    again = await client.post("/v1/keys", json={"name": "once"}, headers=headers)
    assert first.status_code == 201
    assert again.status_code == 409 and again.headers["idempotent-replayed"] == "true"
    assert again.json()["error"]["code"] == "idempotency_secret_not_replayed"
    assert first.json()["id"] in again.json()["error"]["message"]
    assert first.json()["secret"] not in again.text
    assert [key["name"] for key in (await client.get("/v1/keys", headers=tenant.headers)).json()["data"]] == [
        "once",
        "test",
    ]
    async with session_scope(app.context.sessionmaker) as session:
        stored = [row[0] or "" for row in await session.execute(text("SELECT response_body FROM idempotency_records"))]
    assert stored and all(first.json()["secret"] not in body for body in stored)
