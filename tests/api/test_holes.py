"""Smaller holes found by the adversarial pass (issue 17): proxies, methods, malformed JSON, long queries, bio page
images and analytics filters each get the one right answer."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from mask.app import MaskApp
from mask.bootstrap import create_app
from mask.config import Settings
from mask.redirect.destination import MAX_PASSED_QUERY
from tests.conftest import Tenant, TenantFactory

STRONG = "k" * 48


@pytest.fixture
async def production_app(database_url: str) -> AsyncIterator[MaskApp]:
    settings = Settings(
        env="production",
        database_url=database_url,
        secret_key=STRONG,
        trusted_proxies=["10.0.0.0/8"],
        short_domain="sho.rt",
    )
    application = create_app(settings)
    await application.context.startup()
    yield application
    await application.context.shutdown()


def client_for(app: MaskApp, *, peer: str, scheme: str = "http") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(peer, 1234))
    return httpx.AsyncClient(transport=transport, base_url=f"{scheme}://sho.rt")


@pytest.mark.parametrize(("proto", "expected"), [("https, http", 403), ("http, https", 401), ("https", 401)])
async def test_a_trusted_proxys_forwarded_proto_is_read_from_its_right_most_value(
    production_app: MaskApp, proto: str, expected: int
) -> None:
    """The proxy appends its own value; whatever comes before it is what the client sent."""
    async with client_for(production_app, peer="10.1.2.3") as client:
        response = await client.get("/v1/links", headers={"X-Forwarded-Proto": proto})
    assert response.status_code == expected, response.text


async def test_the_dashboards_https_redirect_keeps_the_query_string(production_app: MaskApp) -> None:
    async with client_for(production_app, peer="203.0.113.9") as client:
        response = await client.get("/app/login?next=/app/links%3Fq%3Da&x=1")
    assert response.status_code == 308
    assert response.headers["location"] == "https://sho.rt/app/login?next=/app/links%3Fq%3Da&x=1"


async def test_405_lists_every_method_of_the_path(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await client.put("/v1/links", headers=tenant.headers)
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert {method.strip() for method in response.headers["allow"].split(",")} >= {"GET", "POST"}
    link = (await client.post("/v1/links", json={"url": "https://example.com"}, headers=tenant.headers)).json()
    response = await client.put(f"/v1/links/{link['id']}", headers=tenant.headers)
    assert {method.strip() for method in response.headers["allow"].split(",")} >= {"GET", "PATCH", "DELETE"}


@pytest.mark.parametrize(
    "body",
    [
        b'{"url": "https://example.com/\xff\xfe"}',  # not UTF-8
        b'{"url": "https://example.com", "title": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",  # deeper than parsed
        b'{"url": "https://example.com", "clicks": ' + b"9" * 5000 + b"}",  # more digits than Python converts
    ],
    ids=["invalid-utf8", "deep-nesting", "huge-number"],
)
async def test_json_that_cannot_be_read_is_invalid_json(client: httpx.AsyncClient, tenant: Tenant, body: bytes) -> None:
    response = await client.post(
        "/v1/links", content=body, headers=tenant.headers | {"Content-Type": "application/json"}
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "invalid_json"


async def test_a_long_query_on_a_short_url_is_dropped_not_passed_on(client: httpx.AsyncClient, tenant: Tenant) -> None:
    created = await client.post(
        "/v1/links", json={"url": "https://example.com/page?a=1", "slug": "longq"}, headers=tenant.headers
    )
    assert created.status_code == 201, created.text
    short = await client.get("/longq?ref=news")
    assert short.headers["location"] == "https://example.com/page?a=1&ref=news"
    long = await client.get("/longq?ref=" + "x" * (MAX_PASSED_QUERY + 1))
    assert long.status_code == 302
    assert long.headers["location"] == "https://example.com/page?a=1"
    # Encoding counts: 700 characters that become 2,100 once percent-encoded are dropped too.
    encoded = await client.get("/longq?q=" + "%22" * 700)
    assert encoded.headers["location"] == "https://example.com/page?a=1"


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/a.png",
        "https://10.0.0.7/a.png",
        "https://192.168.1.1/a.png",
        "https://169.254.169.254/latest",
        "https://[::1]/a.png",
        "https://0x7f000001/a.png",
        "https://localhost/a.png",
        "https://printer.local/a.png",
        "https://wiki.internal/a.png",
    ],
)
async def test_bio_page_images_may_not_point_inside_a_network(
    client: httpx.AsyncClient, tenant: Tenant, url: str
) -> None:
    """Every visitor's browser fetches them: from a private address it would probe the visitor's own network."""
    for field in ("avatar_url", "og_image_url"):
        response = await client.post("/v1/bio-pages", json={"handle": "imgs", field: url}, headers=tenant.headers)
        assert response.status_code == 422, response.text
        errors = {error["param"]: error["code"] for error in response.json()["error"]["errors"]}
        assert errors == {field: "blocked_destination"}


async def test_bio_page_images_follow_the_destination_rules(client: httpx.AsyncClient, tenant: Tenant) -> None:
    created = await client.post(
        "/v1/bio-pages",
        json={"handle": "pics", "avatar_url": "https://images.example.com/a.png"},
        headers=tenant.headers,
    )
    assert created.status_code == 201, created.text
    page = created.json()
    loop = await client.patch(
        f"/v1/bio-pages/{page['id']}", json={"og_image_url": "https://localhost:8000/x"}, headers=tenant.headers
    )
    assert loop.status_code == 422
    assert loop.json()["error"]["errors"][0]["code"] in {"redirect_loop", "blocked_destination"}


async def test_click_analytics_of_another_workspaces_bio_page_is_404(
    client: httpx.AsyncClient, make_tenant: TenantFactory
) -> None:
    owner, other = await make_tenant(), await make_tenant()
    page = (await client.post("/v1/bio-pages", json={"handle": "mine"}, headers=owner.headers)).json()
    mine = await client.get("/v1/analytics/clicks", params={"bio_page_id": page["id"]}, headers=owner.headers)
    assert mine.status_code == 200, mine.text
    for path in ("/v1/analytics/clicks", "/v1/analytics/views"):
        response = await client.get(path, params={"bio_page_id": page["id"]}, headers=other.headers)
        assert response.status_code == 404, (path, response.text)
        assert response.json()["error"]["param"] == "bio_page_id"


@pytest.mark.parametrize("value", [0, 1, "off", "true", "yes", 1.0])
async def test_booleans_are_json_booleans_only(client: httpx.AsyncClient, tenant: Tenant, value: object) -> None:
    link = (await client.post("/v1/links", json={"url": "https://example.com"}, headers=tenant.headers)).json()
    for path, body in (
        ("/v1/links", {"url": "https://example.com/b", "archived": value}),
        (f"/v1/links/{link['id']}", {"disabled": value}),
        ("/v1/webhooks", {"url": "https://hooks.example.com/x", "events": ["link.created"], "enabled": value}),
        ("/v1/bio-pages", {"handle": "strict", "published": value}),
    ):
        method = client.patch if path.startswith("/v1/links/") else client.post
        response = await method(path, json=body, headers=tenant.headers)
        assert response.status_code == 422, (path, response.text)
        assert response.json()["error"]["errors"][0]["code"] == "bool_type", (path, response.text)


async def test_numbers_are_json_numbers_only(client: httpx.AsyncClient, tenant: Tenant) -> None:
    for margin in ("4", True, 4.5):
        response = await client.patch("/v1/qr-style", json={"margin": margin}, headers=tenant.headers)
        assert response.status_code == 422, response.text
    assert (await client.patch("/v1/qr-style", json={"margin": 4}, headers=tenant.headers)).status_code == 200
