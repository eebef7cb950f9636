"""The links API: create, read, update, delete, list; the rules for url, slug, domain, tags, utm and expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from mask.app import MaskApp
from tests.conftest import Tenant, TenantFactory
from tests.domains import verify_domain

SEED = {
    "url": "https://example.com/long-page",
    "slug": "my-link",
    "domain": "go.yourbrand.com",
    "tags": ["campaign-q1"],
    "utm_source": "twitter",
    "utm_medium": "social",
    "expires_at": "2026-12-31T23:59:59Z",
}


def future(days: int = 30) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


async def create(client: httpx.AsyncClient, tenant: Tenant, **fields: object) -> httpx.Response:
    return await client.post("/v1/links", json={"url": "https://example.com/", **fields}, headers=tenant.headers)


def errors_of(response: httpx.Response) -> dict[str, str]:
    return {error["param"]: error["code"] for error in response.json()["error"]["errors"]}


async def test_the_seed_request_answers_201_with_exactly_the_documented_fields(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    await client.post("/v1/domains", json={"domain": "go.yourbrand.com"}, headers=tenant.headers)
    seed = dict(SEED, expires_at=future()) if datetime.now(UTC) > datetime(2026, 12, 31, tzinfo=UTC) else SEED
    response = await client.post("/v1/links", json=seed, headers=tenant.headers)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["id"].startswith("lnk_")
    assert {
        k: body[k]
        for k in ("url", "short_url", "slug", "domain", "tags", "clicks", "utm_source", "utm_medium", "expires_at")
    } == {
        "url": "https://example.com/long-page",
        "short_url": "https://go.yourbrand.com/my-link",
        "slug": "my-link",
        "domain": "go.yourbrand.com",
        "tags": ["campaign-q1"],
        "clicks": 0,
        "utm_source": "twitter",
        "utm_medium": "social",
        "expires_at": seed["expires_at"],
    }
    assert body["created_at"].endswith("Z") and datetime.fromisoformat(body["created_at"])
    assert (await client.get(f"/v1/links/{body['id']}", headers=tenant.headers)).json() == body


async def test_a_link_without_slug_gets_seven_random_alphanumerics_on_the_default_domain(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    slugs = set()
    for _ in range(5):
        body = (await create(client, tenant)).json()
        assert len(body["slug"]) == 7 and body["slug"].isalnum() and body["slug"].isascii()
        assert body["domain"] == "localhost:8000"
        assert body["short_url"] == f"http://localhost:8000/{body['slug']}"
        slugs.add(body["slug"])
    assert len(slugs) == 5


async def test_slugs_are_case_sensitive(client: httpx.AsyncClient, tenant: Tenant) -> None:
    assert (await create(client, tenant, slug="Promo")).status_code == 201
    assert (await create(client, tenant, slug="promo")).status_code == 201
    assert (await create(client, tenant, slug="Promo")).status_code == 409


async def test_a_taken_slug_is_409_even_when_another_workspace_took_it(
    client: httpx.AsyncClient, make_tenant: TenantFactory
) -> None:
    first, second = await make_tenant(), await make_tenant()
    assert (await create(client, first, slug="launch")).status_code == 201
    response = await create(client, second, slug="launch")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "slug_taken"
    assert response.json()["error"]["param"] == "slug"


@pytest.mark.parametrize("slug", ["", "a b", "ünï", "x" * 65, "a/b", "a.b", "%41", "a?b"])
async def test_malformed_slugs_are_422(client: httpx.AsyncClient, tenant: Tenant, slug: str) -> None:
    response = await create(client, tenant, slug=slug)
    assert response.status_code == 422
    assert "slug" in errors_of(response)


@pytest.mark.parametrize("slug", ["v1", "api", "app", "static", "health", "docs", "APP", "Api"])
async def test_reserved_words_are_refused_as_slugs_whatever_their_case(
    client: httpx.AsyncClient, tenant: Tenant, slug: str
) -> None:
    response = await create(client, tenant, slug=slug)
    assert response.status_code == 422
    assert errors_of(response) == {"slug": "reserved_slug"}


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("javascript:alert(1)", "unsupported_scheme"),
        ("data:text/html,<script>alert(1)</script>", "unsupported_scheme"),
        ("file:///etc/passwd", "unsupported_scheme"),
        ("ftp://example.com/x", "unsupported_scheme"),
        ("https://user:pass@example.com/", "credentials_in_url"),
        ("https://user@example.com/", "credentials_in_url"),
        ("example.com/no-scheme", "invalid_url"),
        ("https://", "invalid_url"),
        ("https://exa mple.com/", "invalid_url"),
        ("https://example.com/\nx", "invalid_url"),
        ("   ", "url_required"),
        ("https://example.com/" + "a" * 2030, "string_too_long"),
        ("https://example.com/" + "ä" * 1000, "url_too_long"),  # 2,048 once percent-encoded
        ("http://localhost:8000/loop", "redirect_loop"),
    ],
)
async def test_destination_urls_that_are_refused_say_why(
    client: httpx.AsyncClient, tenant: Tenant, url: str, code: str
) -> None:
    response = await client.post("/v1/links", json={"url": url}, headers=tenant.headers)
    assert response.status_code == 422, response.text
    assert errors_of(response)["url"] == code


async def test_a_url_on_any_workspace_verified_custom_domain_is_a_loop(
    client: httpx.AsyncClient, make_tenant: TenantFactory, app: MaskApp
) -> None:
    owner, other = await make_tenant(), await make_tenant()
    await client.post("/v1/domains", json={"domain": "go.brand.test"}, headers=owner.headers)
    await verify_domain(app, owner, "go.brand.test")  # a mere claim serves nothing, so it loops nothing
    response = await create(client, other, url="https://GO.brand.test/x")
    assert errors_of(response) == {"url": "redirect_loop"}


async def test_internationalised_hosts_are_stored_as_punycode(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await create(client, tenant, url="https://bücher.example/straße?q=ä")
    assert response.status_code == 201
    assert response.json()["url"] == "https://xn--bcher-kva.example/stra%C3%9Fe?q=%C3%A4"


async def test_every_invalid_field_is_listed_in_one_422(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await client.post(
        "/v1/links",
        headers=tenant.headers,
        json={
            "url": "javascript:x",
            "slug": "app",
            "domain": "not-mine.example",
            "tags": [" "],
            "expires_at": "2001-01-01T00:00:00Z",
            "expired_url": "ftp://x",
        },
    )
    assert response.status_code == 422
    assert errors_of(response) == {
        "url": "unsupported_scheme",
        "slug": "reserved_slug",
        "domain": "unknown_domain",
        "tags.0": "invalid_tag",
        "expires_at": "expiry_in_past",
        "expired_url": "unsupported_scheme",
    }
    body = response.json()["error"]
    assert body["type"] == "invalid_request_error" and body["request_id"].startswith("req_")


async def test_type_and_length_errors_name_the_field(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await client.post(
        "/v1/links",
        headers=tenant.headers,
        json={"url": 5, "utm_source": "x" * 256, "tags": "not-a-list", "expires_at": "tomorrow", "utm_sorce": "typo"},
    )
    assert response.status_code == 422
    assert set(errors_of(response)) == {"url", "utm_source", "tags", "expires_at", "utm_sorce"}
    assert errors_of(response)["utm_sorce"] == "unknown_field"


async def test_url_is_required(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await client.post("/v1/links", json={"slug": "x1"}, headers=tenant.headers)
    assert response.status_code == 422 and errors_of(response) == {"url": "required"}


async def test_tags_are_trimmed_deduplicated_and_stored_once_per_workspace(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    first = await create(client, tenant, tags=["  q1 ", "q1", "launch"])
    assert first.json()["tags"] == ["launch", "q1"]
    await create(client, tenant, tags=["q1"])
    tags = (await client.get("/v1/tags", headers=tenant.headers)).json()["data"]
    assert [(tag["name"], tag["link_count"]) for tag in tags] == [("launch", 1), ("q1", 2)]


async def test_tag_limits(client: httpx.AsyncClient, tenant: Tenant) -> None:
    too_many = await create(client, tenant, tags=[f"t{i}" for i in range(26)])
    assert errors_of(too_many) == {"tags": "too_many_tags"}
    too_long = await create(client, tenant, tags=["ok", "x" * 51])
    assert errors_of(too_long) == {"tags.1": "invalid_tag"}
    assert (await create(client, tenant, tags=[f"t{i}" for i in range(25)])).status_code == 201


async def test_domain_must_be_the_default_or_one_of_the_workspace_domains(
    client: httpx.AsyncClient, make_tenant: TenantFactory
) -> None:
    owner, other = await make_tenant(), await make_tenant()
    await client.post("/v1/domains", json={"domain": "go.owner.test"}, headers=owner.headers)
    assert errors_of(await create(client, other, domain="go.owner.test")) == {"domain": "unknown_domain"}
    assert (await create(client, owner, domain="GO.owner.test")).json()["domain"] == "go.owner.test"
    assert (await create(client, other, domain="localhost:8000")).status_code == 201


async def test_the_same_slug_may_exist_on_two_domains(client: httpx.AsyncClient, tenant: Tenant) -> None:
    await client.post("/v1/domains", json={"domain": "go.one.test"}, headers=tenant.headers)
    assert (await create(client, tenant, slug="same")).status_code == 201
    assert (await create(client, tenant, slug="same", domain="go.one.test")).status_code == 201


async def test_patch_changes_only_what_is_sent_and_null_clears(client: httpx.AsyncClient, tenant: Tenant) -> None:
    link = (
        await create(client, tenant, slug="p1", tags=["a"], utm_source="x", utm_campaign="c", expires_at=future())
    ).json()
    response = await client.patch(
        f"/v1/links/{link['id']}",
        headers=tenant.headers,
        json={"url": "https://example.org/new", "utm_source": None, "expires_at": None},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["url"] == "https://example.org/new"
    assert body["utm_source"] is None and body["expires_at"] is None
    assert body["utm_campaign"] == "c" and body["tags"] == ["a"] and body["slug"] == "p1"
    assert body["updated_at"] >= link["updated_at"]
    cleared = await client.patch(f"/v1/links/{link['id']}", headers=tenant.headers, json={"tags": None})
    assert cleared.json()["tags"] == []


async def test_patch_refuses_clearing_required_fields_and_rechecks_everything(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    link = (await create(client, tenant, slug="keep")).json()
    await create(client, tenant, slug="taken")
    path = f"/v1/links/{link['id']}"
    assert errors_of(await client.patch(path, headers=tenant.headers, json={"url": None, "slug": None})) == {
        "url": "required",
        "slug": "required",
    }
    assert errors_of(await client.patch(path, headers=tenant.headers, json={"url": "javascript:x"})) == {
        "url": "unsupported_scheme"
    }
    conflict = await client.patch(path, headers=tenant.headers, json={"slug": "taken"})
    assert conflict.status_code == 409
    unchanged = (await client.get(path, headers=tenant.headers)).json()
    assert unchanged["slug"] == "keep" and unchanged["url"] == link["url"]
    assert (await client.patch(path, headers=tenant.headers, json={"slug": "keep"})).status_code == 200


async def test_delete_answers_204_and_the_link_is_gone(client: httpx.AsyncClient, tenant: Tenant) -> None:
    link = (await create(client, tenant, slug="bye")).json()
    response = await client.delete(f"/v1/links/{link['id']}", headers=tenant.headers)
    assert response.status_code == 204 and response.content == b""
    assert (await client.get(f"/v1/links/{link['id']}", headers=tenant.headers)).status_code == 404
    assert (await client.delete(f"/v1/links/{link['id']}", headers=tenant.headers)).status_code == 404
    assert (await create(client, tenant, slug="bye")).status_code == 201  # the slug is free again


async def test_list_walks_every_link_newest_first_with_cursors(client: httpx.AsyncClient, tenant: Tenant) -> None:
    created = [(await create(client, tenant, slug=f"s{i:02d}")).json()["id"] for i in range(23)]
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": 5} | ({"cursor": cursor} if cursor else {})
        page = (await client.get("/v1/links", params=params, headers=tenant.headers)).json()
        pages += 1
        seen += [link["id"] for link in page["data"]]
        assert page["has_more"] == (page["next_cursor"] is not None)
        if not page["has_more"]:
            break
        cursor = page["next_cursor"]
    assert pages == 5
    assert seen == list(reversed(created))


async def test_list_filters_by_tag_domain_and_search(client: httpx.AsyncClient, tenant: Tenant) -> None:
    await client.post("/v1/domains", json={"domain": "go.filter.test"}, headers=tenant.headers)
    a = (await create(client, tenant, slug="alpha", tags=["red"], url="https://shop.example/sale")).json()
    b = (await create(client, tenant, slug="beta", tags=["blue"], domain="go.filter.test")).json()
    c = (
        await create(client, tenant, slug="gamma_1", tags=["red", "blue"], url="https://example.com/d?off=100%")
    ).json()

    async def ids(**params: str) -> list[str]:
        response = await client.get("/v1/links", params=params, headers=tenant.headers)
        assert response.status_code == 200, response.text
        return [link["id"] for link in response.json()["data"]]

    assert await ids(tag="red") == [c["id"], a["id"]]
    assert await ids(tag="nope") == []
    assert await ids(domain="go.filter.test") == [b["id"]]
    assert await ids(q="shop.example") == [a["id"]]
    assert await ids(q="100%") == [c["id"]]  # LIKE wildcards are matched literally
    assert await ids(q="_") == [c["id"]]
    assert await ids(tag="blue", domain="localhost:8000") == [c["id"]]


@pytest.mark.parametrize(
    "params", [{"limit": "0"}, {"limit": "101"}, {"limit": "x"}, {"cursor": "garbage!"}, {"cursor": "W10"}]
)
async def test_bad_list_parameters_are_422(client: httpx.AsyncClient, tenant: Tenant, params: dict[str, str]) -> None:
    response = await client.get("/v1/links", params=params, headers=tenant.headers)
    assert response.status_code == 422
    assert response.json()["error"]["param"] in ("limit", "cursor")


async def test_expiry_must_be_in_the_future_and_expired_url_is_validated(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    ok = await create(client, tenant, expires_at=future(), expired_url="https://example.com/expired")
    assert ok.status_code == 201 and ok.json()["expired_url"] == "https://example.com/expired"
    naive = await create(
        client, tenant, expires_at=(datetime.now(UTC) + timedelta(days=1)).replace(tzinfo=None).isoformat()
    )
    assert naive.status_code == 201 and naive.json()["expires_at"].endswith("Z")
    offset = await create(client, tenant, expires_at="2099-01-01T12:00:00+02:00")
    assert offset.json()["expires_at"] == "2099-01-01T10:00:00Z"
