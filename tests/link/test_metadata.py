"""`GET /v1/links/metadata?url=`: a real page on loopback read for its preview fields, through the SSRF guard."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.conftest import Tenant
from tests.link.pages import PageServer, Route


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    # Pages are served on 127.0.0.2, an exception made for these tests; every other private address stays refused.
    return {"title_fetch_allowed_networks": ["127.0.0.2/32"]}


@pytest.fixture
async def pages() -> AsyncIterator[PageServer]:
    server = await PageServer().start()
    yield server
    await server.stop()


HEAD = (
    b'<meta property="og:title" content="Spring &amp; sale">'
    b'<meta name="description" content="Plain description">'
    b'<meta property="og:description" content="Everything   20 % off">'
    b'<meta property="og:image" content="https://cdn.example.com/s.png">'
)


async def test_open_graph_tags_pre_fill_a_preview(client: httpx.AsyncClient, tenant: Tenant, pages: PageServer) -> None:
    pages.routes["/og"] = Route(body=b"<html><head><title>Fallback</title>" + HEAD + b"</head><body></body></html>")
    pages.routes["/plain"] = Route(
        body=b'<html><head><title>Just a title</title><meta property="og:image" content="/local.png"></head></html>'
    )

    og = await client.get("/v1/links/metadata", params={"url": pages.url("/og")}, headers=tenant.headers)
    plain = await client.get("/v1/links/metadata", params={"url": pages.url("/plain")}, headers=tenant.headers)

    assert og.status_code == 200, og.text
    assert {key: og.json()[key] for key in ("title", "description", "image_url")} == {
        "title": "Spring & sale",
        "description": "Everything 20 % off",
        "image_url": "https://cdn.example.com/s.png",
    }
    assert (plain.json()["title"], plain.json()["image_url"]) == ("Just a title", None)  # http image: not offered


async def test_a_private_address_is_refused_by_the_guard(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await client.get("/v1/links/metadata", params={"url": "http://127.0.0.3:9/"}, headers=tenant.headers)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "metadata_unavailable"


async def test_metadata_needs_a_key_and_a_valid_url(client: httpx.AsyncClient, tenant: Tenant) -> None:
    assert (await client.get("/v1/links/metadata", params={"url": "https://example.com/"})).status_code == 401
    bad = await client.get("/v1/links/metadata", params={"url": "ftp://example.com/"}, headers=tenant.headers)
    assert bad.status_code == 422
