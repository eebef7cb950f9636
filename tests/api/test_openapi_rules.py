"""The OpenAPI document states the rules it can (issue 17), so that a client generated from it, or schemathesis,
sends what the API accepts; and what it found answers in the error shape, never 500."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.conftest import Tenant


async def document(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/v1/openapi.json")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def body_schema(doc: dict[str, Any], path: str, method: str) -> dict[str, Any]:
    ref = doc["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema: dict[str, Any] = doc["components"]["schemas"][ref.rsplit("/", 1)[1]]
    return schema


async def test_the_document_states_slug_cursor_min_items_and_never_null_fields(client: httpx.AsyncClient) -> None:
    doc = await document(client)
    slug = body_schema(doc, "/v1/links", "post")["properties"]["slug"]["anyOf"][0]
    assert slug["pattern"] == "^[A-Za-z0-9_-]{1,64}$"
    cursor = next(p for p in doc["paths"]["/v1/links"]["get"]["parameters"] if p["name"] == "cursor")
    assert "^[A-Za-z0-9_-]*$" in str(cursor["schema"])
    assert body_schema(doc, "/v1/webhooks", "post")["properties"]["events"]["minItems"] == 1
    update = body_schema(doc, "/v1/links/{link_id}", "patch")["properties"]
    assert update["archived"]["type"] == "boolean" and "anyOf" not in update["archived"]  # null is refused
    assert update["url"]["type"] == "string"


async def test_every_operation_with_a_body_documents_400_413_and_415(client: httpx.AsyncClient) -> None:
    doc = await document(client)
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            if "requestBody" in operation:
                assert {"400", "413", "415"} <= set(operation["responses"]), (method, path)


async def test_a_logo_that_is_not_ascii_base64_is_422_not_500(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await client.patch(
        "/v1/qr-style", json={"logo": {"media_type": "image/png", "data": "\u00c7"}}, headers=tenant.headers
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["errors"][0]["code"] == "invalid_base64"


async def test_allow_names_the_documented_resource_of_a_literal_path(client: httpx.AsyncClient) -> None:
    response = await client.request("OPTIONS", "/v1/links/info")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET"  # not also PATCH and DELETE of /v1/links/{link_id}


async def test_every_operation_documents_431_the_cap_on_the_request_head(client: httpx.AsyncClient) -> None:
    """Every operation documents the cap on the request head (431), which schemathesis counts as a refusal."""
    doc = await document(client)
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            assert "431" in operation["responses"], (method, path)


async def test_every_documented_operation_without_a_key_is_401(client: httpx.AsyncClient) -> None:
    """What schemathesis' missing-header check would ask (it is off in scripts/schemathesis.toml)."""
    doc = await document(client)
    checked = 0
    for path, item in doc["paths"].items():
        concrete = re.sub(r"{\w+}", "x", path)
        for method in item:
            response = await client.request(method.upper(), concrete)
            assert response.status_code == 401, (method, path, response.text)
            checked += 1
    assert checked >= 30
