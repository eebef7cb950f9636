"""The OpenAPI document is generated from the code and describes every endpoint, scope and error."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
from fastapi.routing import APIRoute

from mask.app import MaskApp


def api_routes(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, APIRoute]]:
    """Every APIRoute with its full path, through included routers."""
    for route in routes:
        if isinstance(route, APIRoute):
            if route.include_in_schema:
                yield prefix + route.path, route
        elif hasattr(route, "original_router"):
            yield from api_routes(route.original_router.routes, prefix + route.include_context.prefix)


async def test_every_api_route_is_documented_with_scope_security_and_error_shape(
    app: MaskApp, client: httpx.AsyncClient
) -> None:
    response = await client.get("/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert "ErrorBody" in schema["components"]["schemas"]
    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    routes = list(api_routes(app.api_app.routes))
    assert len(routes) >= 9
    for path, route in routes:
        for method in route.methods or ():
            operation = schema["paths"][path][method.lower()]
            where = f"{method} {path}"
            assert operation.get("summary"), where
            assert "Scope: `" in operation.get("description", ""), f"{where} does not name its scope"
            assert operation.get("security") == [{"HTTPBearer": []}], where
            for status in ("401", "429", "500"):
                ref = operation["responses"][status]["content"]["application/json"]["schema"]["$ref"]
                assert ref.endswith("/ErrorBody"), where
            success = [code for code in operation["responses"] if code.startswith("2")]
            assert success, where


async def test_the_docs_page_is_served(client: httpx.AsyncClient) -> None:
    response = await client.get("/docs")
    assert response.status_code == 200 and "/v1/openapi.json" in response.text


async def test_documented_link_fields_match_the_response(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/v1/openapi.json")).json()
    link = schema["components"]["schemas"]["Link"]
    assert {
        "id",
        "url",
        "short_url",
        "slug",
        "domain",
        "tags",
        "clicks",
        "utm_source",
        "utm_medium",
        "expires_at",
        "created_at",
    } <= set(link["properties"])
    create = schema["components"]["schemas"]["LinkCreate"]
    assert create["required"] == ["url"]


async def test_the_reference_page_and_its_assets_are_served_by_mask_itself(client: httpx.AsyncClient) -> None:
    page = await client.get("/docs")
    assert page.status_code == 200
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert assets and all(asset.startswith("/docs/static/") for asset in assets), assets
    for asset in assets:
        answer = await client.get(asset)
        assert answer.status_code == 200 and answer.content, asset
    missing = await client.get("/docs/static/nothing.js")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "route_not_found"
