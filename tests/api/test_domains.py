from __future__ import annotations

import httpx
import pytest

from mask.app import MaskApp
from tests.conftest import Tenant, TenantFactory
from tests.domains import verify_domain


async def test_a_domain_is_claimed_per_workspace_and_taken_for_all_once_verified(
    client: httpx.AsyncClient, make_tenant: TenantFactory, app: MaskApp
) -> None:
    owner, other, third = await make_tenant(), await make_tenant(), await make_tenant()
    created = await client.post("/v1/domains", json={"domain": "Go.YourBrand.com"}, headers=owner.headers)
    assert created.status_code == 201
    body = created.json()
    assert body["id"].startswith("dom_") and body["domain"] == "go.yourbrand.com" and body["verified"] is False
    again = await client.post("/v1/domains", json={"domain": "go.yourbrand.com."}, headers=owner.headers)
    assert again.status_code == 409 and again.json()["error"]["code"] == "domain_taken"
    # Unverified, a claim blocks nobody: the owner of the DNS may be another workspace.
    assert (
        await client.post("/v1/domains", json={"domain": "go.yourbrand.com"}, headers=other.headers)
    ).status_code == 201
    await verify_domain(app, owner, "go.yourbrand.com")
    taken = await client.post("/v1/domains", json={"domain": "go.yourbrand.com"}, headers=third.headers)
    assert taken.status_code == 409 and taken.json()["error"]["code"] == "domain_taken"
    listed = (await client.get("/v1/domains", headers=owner.headers)).json()
    assert [d["domain"] for d in listed["data"]] == ["go.yourbrand.com"] and listed["has_more"] is False
    assert (await client.get("/v1/domains", headers=third.headers)).json()["data"] == []
    fetched = (await client.get(f"/v1/domains/{body['id']}", headers=owner.headers)).json()
    assert fetched["id"] == body["id"] and fetched["verified"] is True


async def test_internationalised_domains_are_stored_as_punycode(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await client.post("/v1/domains", json={"domain": "links.bücher.de"}, headers=tenant.headers)
    assert response.json()["domain"] == "links.xn--bcher-kva.de"


@pytest.mark.parametrize(
    "domain",
    [
        "localhost",
        "127.0.0.1",
        "[::1]",
        "https://go.example.com",
        "go.example.com/x",
        "go.example.com:8080",
        "-bad.example.com",
        "a..b.com",
        "user@go.example.com",
        "go example.com",
        "example.123",
    ],
)
async def test_malformed_domains_are_422(client: httpx.AsyncClient, tenant: Tenant, domain: str) -> None:
    response = await client.post("/v1/domains", json={"domain": domain}, headers=tenant.headers)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["param"] == "domain"


async def test_the_default_short_domain_cannot_be_claimed(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await client.post("/v1/domains", json={"domain": "localhost:8000"}, headers=tenant.headers)
    assert response.status_code in (409, 422)


async def test_a_domain_in_use_cannot_be_deleted_and_an_unused_one_can(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    domain = (await client.post("/v1/domains", json={"domain": "go.del.test"}, headers=tenant.headers)).json()
    link = (
        await client.post("/v1/links", json={"url": "https://e.com", "domain": "go.del.test"}, headers=tenant.headers)
    ).json()
    refused = await client.delete(f"/v1/domains/{domain['id']}", headers=tenant.headers)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "domain_in_use"
    await client.delete(f"/v1/links/{link['id']}", headers=tenant.headers)
    assert (await client.delete(f"/v1/domains/{domain['id']}", headers=tenant.headers)).status_code == 204
    assert (await client.get(f"/v1/domains/{domain['id']}", headers=tenant.headers)).status_code == 404
