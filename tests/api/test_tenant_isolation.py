"""Walk every endpoint with a path id from the OpenAPI schema: another workspace's ids are always 404,
and nothing of theirs changes."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from mask.app import MaskApp
from tests.api.people import fast_argon2, join
from tests.conftest import Tenant, TenantFactory

__all__ = ["fast_argon2"]


async def _resources_of(client: httpx.AsyncClient, tenant: Tenant, app: MaskApp | None = None) -> dict[str, str]:
    """Create one of every resource the API has, returning {path parameter name: id}."""
    domain = (await client.post("/v1/domains", json={"domain": "go.victim.test"}, headers=tenant.headers)).json()
    link = (
        await client.post(
            "/v1/links",
            json={
                "url": "https://example.com/private",
                "slug": "victim",
                "tags": ["secret"],
                "variants": [
                    {"url": "https://example.com/a", "weight": 50},
                    {"url": "https://example.com/b", "weight": 50},
                ],
            },
            headers=tenant.headers,
        )
    ).json()
    ids = {"link_id": link["id"], "domain_id": domain["id"], "n": "0"}  # n: the link's first A/B variant
    tags = (await client.get("/v1/tags", headers=tenant.headers)).json()["data"]
    ids["tag_id"] = next(tag["id"] for tag in tags if tag["name"] == "secret")
    # Packages that add resources register them here as they land (webhooks, bio pages, …).
    webhook = await client.post(
        "/v1/webhooks", json={"url": "http://127.0.0.1:9/mask", "events": ["link.created"]}, headers=tenant.headers
    )
    assert webhook.status_code == 201, webhook.text
    ids["webhook_id"] = webhook.json()["id"]
    sent = await client.post(f"/v1/webhooks/{ids['webhook_id']}/test", headers=tenant.headers)
    assert sent.status_code == 202, sent.text
    deliveries = await client.get(f"/v1/webhooks/{ids['webhook_id']}/deliveries", headers=tenant.headers)
    ids["delivery_id"] = deliveries.json()["data"][0]["id"]
    bio_page = await client.post(
        "/v1/bio-pages", json={"handle": "victimpage", "title": "Victim"}, headers=tenant.headers
    )
    assert bio_page.status_code == 201, bio_page.text
    ids["bio_page_id"] = bio_page.json()["id"]
    shared = await client.post("/v1/shared-dashboards", json={"link_id": link["id"]}, headers=tenant.headers)
    assert shared.status_code == 201, shared.text
    ids["dashboard_id"] = shared.json()["id"]
    key = await client.post("/v1/keys", json={"name": "victim"}, headers=tenant.headers)
    ids["key_id"] = key.json()["id"]
    invitation = await client.post("/v1/invitations", json={"role": "member"}, headers=tenant.headers)
    ids["invitation_id"] = invitation.json()["id"]
    if app is not None:
        ids["user_id"] = (await join(app, tenant.workspace_id, f"{tenant.slug}@example.com", "member")).user_id
    imported = await client.post(
        "/v1/imports",
        json={"source": "mask-csv", "file_content": "url\nhttps://example.com/i\n"},
        headers=tenant.headers,
    )
    assert imported.status_code == 202, imported.text
    ids["import_id"] = imported.json()["id"]
    return ids


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"webhooks_allow_private": True}  # the victim's webhook points at a loopback port


async def test_every_endpoint_answers_404_for_another_workspaces_ids(
    app: MaskApp, client: httpx.AsyncClient, make_tenant: TenantFactory
) -> None:
    victim, attacker = await make_tenant(), await make_tenant()
    ids = await _resources_of(client, victim, app)
    schema = (await client.get("/v1/openapi.json")).json()
    checked = 0
    for path, operations in schema["paths"].items():
        names = re.findall(r"{(\w+)}", path)
        if not names:
            continue
        assert all(name in ids for name in names), f"add a {names} resource to this test for {path}"
        concrete = path
        for name in names:
            concrete = concrete.replace("{" + name + "}", ids[name])
        for method in operations:
            body: dict[str, object] | None = {} if method in ("post", "patch", "put") else None
            response = await client.request(method.upper(), concrete, json=body, headers=attacker.headers)
            assert response.status_code == 404, f"{method.upper()} {path} → {response.status_code}"
            assert response.json()["error"]["type"] == "invalid_request_error"
            checked += 1
    assert checked >= 15
    # …and the victim's data is intact and invisible in the attacker's lists.
    link = await client.get(f"/v1/links/{ids['link_id']}", headers=victim.headers)
    assert link.status_code == 200 and link.json()["url"] == "https://example.com/private"
    assert (await client.get(f"/v1/domains/{ids['domain_id']}", headers=victim.headers)).status_code == 200
    listings = ("/v1/links", "/v1/domains", "/v1/tags", "/v1/webhooks", "/v1/bio-pages", "/v1/members")
    for listing in (*listings, "/v1/shared-dashboards"):
        assert (await client.get(listing, headers=attacker.headers)).json()["data"] == []
    assert (await client.get(f"/v1/keys/{ids['key_id']}", headers=victim.headers)).json()["revoked_at"] is None
    assert (await client.get(f"/v1/members/{ids['user_id']}", headers=victim.headers)).json()["role"] == "member"
    assert (await client.get("/v1/links", params={"tag": "secret"}, headers=attacker.headers)).json()["data"] == []


async def test_list_filters_never_reach_into_another_workspace(
    client: httpx.AsyncClient, make_tenant: TenantFactory
) -> None:
    victim, attacker = await make_tenant(), await make_tenant()
    await _resources_of(client, victim)
    for params in ({"domain": "go.victim.test"}, {"q": "private"}, {"q": "victim"}):
        assert (await client.get("/v1/links", params=params, headers=attacker.headers)).json()["data"] == []
