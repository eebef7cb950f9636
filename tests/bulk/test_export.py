"""`GET /v1/links/export`: CSV and NDJSON, the list's filters, formula cells escaped, tenant isolation."""

from __future__ import annotations

import csv
import io
import json

import httpx

from tests.conftest import Tenant, TenantFactory


async def seed(client: httpx.AsyncClient, tenant: Tenant, items: list[dict[str, object]]) -> list[dict[str, object]]:
    response = await client.post("/v1/links/bulk", json={"links": items}, headers=tenant.headers)
    assert response.json()["failed"] == 0, response.text
    return [result["link"] for result in response.json()["data"]]


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


async def test_csv_export_has_every_link_with_its_columns_and_escapes_formulas(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    await seed(
        client,
        tenant,
        [
            {"url": "https://example.com/1", "slug": "one", "title": '=HYPERLINK("http://evil")', "tags": ["a", "b"]},
            {"url": "https://example.com/2", "slug": "two", "notes": "@SUM(1)", "tags": ["x,y"], "title": "'quoted"},
        ],
    )
    response = await client.get("/v1/links/export?format=csv", headers=tenant.headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    exported = {row["slug"]: row for row in rows(response.text)}
    assert exported["one"]["title"] == '\'=HYPERLINK("http://evil")'
    assert exported["one"]["tags"] == "a,b"
    assert exported["two"]["notes"] == "'@SUM(1)"
    assert exported["two"]["title"] == "''quoted"
    assert json.loads(exported["two"]["tags"]) == ["x,y"]
    assert exported["one"]["short_url"] == "http://localhost:8000/one"


async def test_ndjson_export_is_one_link_object_a_line(client: httpx.AsyncClient, tenant: Tenant) -> None:
    links = await seed(client, tenant, [{"url": f"https://example.com/{n}"} for n in range(3)])
    response = await client.get("/v1/links/export?format=ndjson", headers=tenant.headers)
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert sorted(line["id"] for line in lines) == sorted(str(link["id"]) for link in links)
    assert response.headers["content-type"].startswith("application/x-ndjson")


async def test_export_pages_through_more_links_than_one_page(client: httpx.AsyncClient, tenant: Tenant) -> None:
    for start in range(0, 2300, 1000):
        await seed(client, tenant, [{"url": f"https://example.com/{n}"} for n in range(start, min(start + 1000, 2300))])
    response = await client.get("/v1/links/export", headers=tenant.headers)
    exported = rows(response.text)
    assert len(exported) == 2300 and len({row["id"] for row in exported}) == 2300


async def test_export_takes_the_lists_filters_and_refuses_bad_ones(client: httpx.AsyncClient, tenant: Tenant) -> None:
    await seed(
        client,
        tenant,
        [
            {"url": "https://example.com/1", "tags": ["spring"]},
            {"url": "https://example.com/2", "tags": ["autumn"]},
            {"url": "https://example.com/3", "archived": True, "tags": ["spring"]},
        ],
    )
    spring = rows((await client.get("/v1/links/export?tags=spring", headers=tenant.headers)).text)
    assert [row["url"] for row in spring] == ["https://example.com/1"]
    every = rows((await client.get("/v1/links/export?tags=spring&archived=all", headers=tenant.headers)).text)
    assert len(every) == 2
    bad = await client.get("/v1/links/export?format=xml", headers=tenant.headers)
    assert bad.status_code == 422 and bad.json()["error"]["errors"][0]["param"] == "format"


async def test_an_export_holds_only_the_keys_workspace(client: httpx.AsyncClient, make_tenant: TenantFactory) -> None:
    ours, theirs = await make_tenant(), await make_tenant()
    await seed(client, theirs, [{"url": "https://theirs.example/"}])
    await seed(client, ours, [{"url": "https://ours.example/"}])
    exported = rows((await client.get("/v1/links/export", headers=ours.headers)).text)
    assert [row["url"] for row in exported] == ["https://ours.example/"]
    reader = await make_tenant(scopes=["analytics:read"])
    assert (await client.get("/v1/links/export", headers=reader.headers)).status_code == 403
