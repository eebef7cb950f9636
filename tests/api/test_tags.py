"""Tag management: create, rename, colour, merge, delete (scope tags:write); analytics filters by several tags."""

from __future__ import annotations

from typing import Any

import httpx

from mask.app import MaskApp
from tests.analytics.helpers import at, click, record
from tests.conftest import Tenant, TenantFactory


async def tag(client: httpx.AsyncClient, tenant: Tenant, **body: Any) -> httpx.Response:
    return await client.post("/v1/tags", json=body, headers=tenant.headers)


async def link(client: httpx.AsyncClient, tenant: Tenant, slug: str, tags: list[str]) -> str:
    response = await client.post(
        "/v1/links", json={"url": f"https://example.com/{slug}", "slug": slug, "tags": tags}, headers=tenant.headers
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def tags_of(client: httpx.AsyncClient, tenant: Tenant, link_id: str) -> list[str]:
    return list((await client.get(f"/v1/links/{link_id}", headers=tenant.headers)).json()["tags"])


async def test_a_tag_is_created_renamed_recoloured_and_deleted_without_touching_links(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    created = await tag(client, tenant, name="  launch ", color="Blue")
    assert created.status_code == 201, created.text
    assert {k: created.json()[k] for k in ("name", "color", "link_count")} == {
        "name": "launch",
        "color": "blue",
        "link_count": 0,
    }
    assert (await tag(client, tenant, name="launch")).json()["error"]["code"] == "tag_exists"
    link_id = await link(client, tenant, "l1", ["launch", "other"])
    renamed = await client.patch(
        f"/v1/tags/{created.json()['id']}", json={"name": "go-live", "color": "green"}, headers=tenant.headers
    )
    assert renamed.status_code == 200 and renamed.json()["link_count"] == 1
    assert await tags_of(client, tenant, link_id) == ["go-live", "other"]
    deleted = await client.delete(f"/v1/tags/{created.json()['id']}", headers=tenant.headers)
    assert deleted.status_code == 204
    assert await tags_of(client, tenant, link_id) == ["other"]
    assert (await client.get(f"/v1/tags/{created.json()['id']}", headers=tenant.headers)).status_code == 404


async def test_renaming_onto_another_tag_needs_merge_and_then_moves_its_links(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    one = await link(client, tenant, "one", ["promo", "q1"])
    two = await link(client, tenant, "two", ["promo-2024"])
    tags = {t["name"]: t for t in (await client.get("/v1/tags", headers=tenant.headers)).json()["data"]}
    source = tags["promo-2024"]["id"]
    clash = await client.patch(f"/v1/tags/{source}", json={"name": "promo"}, headers=tenant.headers)
    assert clash.status_code == 409 and clash.json()["error"]["code"] == "tag_exists"
    await client.patch(f"/v1/links/{two}", json={"tags": ["promo-2024", "promo"]}, headers=tenant.headers)
    merged = await client.patch(f"/v1/tags/{source}", json={"name": "promo", "merge": True}, headers=tenant.headers)
    assert merged.status_code == 200, merged.text
    assert merged.json()["id"] == tags["promo"]["id"] and merged.json()["link_count"] == 2
    assert await tags_of(client, tenant, one) == ["promo", "q1"]
    assert await tags_of(client, tenant, two) == ["promo"]
    assert (await client.get(f"/v1/tags/{source}", headers=tenant.headers)).status_code == 404


async def test_bad_tag_input_is_422_and_scopes_are_enforced(
    client: httpx.AsyncClient, make_tenant: TenantFactory
) -> None:
    tenant = await make_tenant()
    for body, param, code in (
        ({"name": ""}, "name", "invalid_tag"),
        ({"name": "x" * 51}, "name", "invalid_tag"),
        ({"name": "tab\there"}, "name", "invalid_tag"),
        ({"name": "ok", "color": "mauve"}, "color", "invalid_color"),
        ({"name": "ok", "shade": "red"}, "shade", "unknown_field"),
    ):
        response = await tag(client, tenant, **body)
        assert response.status_code == 422, body
        assert {e["param"]: e["code"] for e in response.json()["error"]["errors"]} == {param: code}
    reader = await make_tenant(scopes=["links:read", "links:write"])
    refused = await tag(client, reader, name="nope")
    assert refused.status_code == 403 and refused.json()["error"]["required_scope"] == "tags:write"
    assert (await client.get("/v1/tags", headers=reader.headers)).status_code == 200


async def test_analytics_filter_by_several_tags_any_or_all_and_exclusions(
    client: httpx.AsyncClient, tenant: Tenant, app: MaskApp
) -> None:
    red = await link(client, tenant, "r", ["red"])
    both = await link(client, tenant, "rb", ["red", "blue"])
    blue = await link(client, tenant, "b", ["blue"])
    when = at("2026-03-08T04:30")
    await record(
        app,
        [
            click(tenant, when, link_id=red),
            click(tenant, when, link_id=both),
            click(tenant, when, link_id=both),
            click(tenant, when, link_id=blue),
        ],
    )

    async def count(**params: str) -> int:
        response = await client.get(
            "/v1/analytics/clicks",
            params={"start": "2026-03-08", "end": "2026-03-09", **params},
            headers=tenant.headers,
        )
        assert response.status_code == 200, response.text
        return int(response.json()["clicks"])

    assert await count(tags="red,blue") == 4
    assert await count(tags="red,blue", tag_match="all") == 2
    assert await count(tags="-red") == 1
    assert await count(tags="blue,-red") == 1
    assert await count(tag="red") == 3
    conflict = await client.get("/v1/analytics/clicks", params={"tag": "a", "tags": "b"}, headers=tenant.headers)
    assert conflict.status_code == 422
