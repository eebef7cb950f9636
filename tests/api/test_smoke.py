from __future__ import annotations

import httpx

from tests.conftest import Tenant


async def test_seed_request_creates_link_with_documented_shape(client: httpx.AsyncClient, tenant: Tenant) -> None:
    domain = await client.post("/v1/domains", json={"domain": "go.yourbrand.com"}, headers=tenant.headers)
    assert domain.status_code == 201, domain.text
    response = await client.post(
        "/v1/links",
        headers=tenant.headers,
        json={
            "url": "https://example.com/long-page",
            "slug": "my-link",
            "domain": "go.yourbrand.com",
            "tags": ["campaign-q1"],
            "utm_source": "twitter",
            "utm_medium": "social",
            "expires_at": "2026-12-31T23:59:59Z",
        },
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["short_url"] == "https://go.yourbrand.com/my-link"
