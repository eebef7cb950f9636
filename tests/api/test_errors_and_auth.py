"""One error shape for every failure, request ids everywhere, and API-key authentication with scopes."""

from __future__ import annotations

import httpx
import pytest

from mask.app import MaskApp
from mask.auth import service as auth_service
from mask.db import session_scope
from mask.link import service as link_service
from mask.workspace import service as workspace_service
from tests.conftest import Tenant, TenantFactory


def assert_error_shape(response: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert set(error) >= {"type", "code", "message", "param", "request_id"}
    assert error["code"] == code
    assert error["request_id"] == response.headers["x-request-id"]
    assert error["request_id"].startswith("req_")
    return dict(error)


async def test_unknown_routes_and_wrong_methods_use_the_error_shape(client: httpx.AsyncClient, tenant: Tenant) -> None:
    assert_error_shape(await client.get("/v1/nothing-here", headers=tenant.headers), 404, "route_not_found")
    assert_error_shape(await client.put("/v1/links", json={}, headers=tenant.headers), 405, "method_not_allowed")


async def test_malformed_json_and_non_object_bodies_are_400(client: httpx.AsyncClient, tenant: Tenant) -> None:
    headers = tenant.headers | {"content-type": "application/json"}
    assert_error_shape(await client.post("/v1/links", content=b"{nope", headers=headers), 400, "invalid_json")
    for body in (b"[1, 2]", b'"text"', b"42", b"null"):
        assert_error_shape(await client.post("/v1/links", content=body, headers=headers), 400, "invalid_body")
    assert_error_shape(await client.post("/v1/links", content=b"", headers=headers), 400, "missing_body")


async def test_a_body_that_is_not_json_is_415(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await client.post("/v1/links", data={"url": "https://e.com"}, headers=tenant.headers)
    assert_error_shape(response, 415, "unsupported_media_type")


async def test_a_body_without_content_type_is_read_as_json(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await client.post("/v1/links", content=b'{"url": "https://example.com"}', headers=tenant.headers)
    assert response.status_code == 201


async def test_oversized_bodies_are_413(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await client.post(
        "/v1/links",
        content=b"{" + b" " * 1_100_000 + b"}",
        headers=tenant.headers | {"content-type": "application/json"},
    )
    assert_error_shape(response, 413, "payload_too_large")


async def test_unexpected_exceptions_are_500_without_a_traceback(
    client: httpx.AsyncClient, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def explode(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("secret internal detail /srv/mask/db.py line 12")

    monkeypatch.setattr(link_service, "list_page", explode)
    response = await client.get("/v1/links", headers=tenant.headers)
    error = assert_error_shape(response, 500, "internal_error")
    assert error["type"] == "api_error"
    assert "secret" not in response.text and "Traceback" not in response.text


async def test_successful_responses_carry_a_request_id_too(client: httpx.AsyncClient, tenant: Tenant) -> None:
    first = await client.get("/v1/links", headers=tenant.headers)
    second = await client.get("/v1/links", headers=tenant.headers)
    assert first.headers["x-request-id"].startswith("req_")
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Basic dXNlcjpwYXNz",
        "Bearer mk_live_short",
        "Bearer sk_live_" + "a" * 40,
        "Bearer mk_live_" + "a" * 43,
        "mk_live_" + "a" * 43,
    ],
)
async def test_missing_malformed_or_unknown_keys_are_401(client: httpx.AsyncClient, authorization: str | None) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    response = await client.get("/v1/links", headers=headers)
    error = assert_error_shape(response, 401, "missing_api_key" if authorization is None else "invalid_api_key")
    assert error["type"] == "authentication_error"


async def test_a_revoked_key_stops_working_at_once(app: MaskApp, client: httpx.AsyncClient, tenant: Tenant) -> None:
    assert (await client.get("/v1/links", headers=tenant.headers)).status_code == 200
    async with session_scope(app.context.sessionmaker) as session:
        workspace = await workspace_service.get_by_slug_or_id(session, ref=tenant.slug)
        keys = await auth_service.list_keys(session, workspace=workspace)
        await auth_service.revoke(session, workspace=workspace, key_id=keys[0].id)
    assert_error_shape(await client.get("/v1/links", headers=tenant.headers), 401, "invalid_api_key")


async def test_keys_are_stored_hashed_and_record_last_use(
    app: MaskApp, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    async with session_scope(app.context.sessionmaker) as session:
        workspace = await workspace_service.get_by_slug_or_id(session, ref=tenant.slug)
        [key] = await auth_service.list_keys(session, workspace=workspace)
        assert key.last_used_at is None
        assert tenant.token not in (key.token_hash, key.prefix) and len(key.token_hash) == 64
        assert tenant.token.startswith(key.prefix)
    await client.get("/v1/links", headers=tenant.headers)
    async with session_scope(app.context.sessionmaker) as session:
        [key] = await auth_service.list_keys(session, workspace=workspace)
        assert key.last_used_at is not None


def test_generated_keys_have_the_documented_form() -> None:
    from mask.kit.crypto import generate_token

    token = generate_token(auth_service.KEY_PREFIX)
    body = token.removeprefix("mk_live_")
    assert token.startswith("mk_live_") and len(body) >= 32
    assert all(char.isalnum() or char in "-_" for char in body)


@pytest.mark.parametrize(
    ("method", "path", "scope"),
    [
        ("GET", "/v1/links", "links:read"),
        ("POST", "/v1/links", "links:write"),
        ("GET", "/v1/links/lnk_x", "links:read"),
        ("PATCH", "/v1/links/lnk_x", "links:write"),
        ("DELETE", "/v1/links/lnk_x", "links:write"),
        ("GET", "/v1/domains", "domains:read"),
        ("POST", "/v1/domains", "domains:write"),
        ("DELETE", "/v1/domains/dom_x", "domains:write"),
        ("GET", "/v1/tags", "links:read"),
    ],
)
async def test_a_key_without_the_scope_gets_403_naming_it(
    client: httpx.AsyncClient, make_tenant: TenantFactory, method: str, path: str, scope: str
) -> None:
    others = ["analytics:read"] if scope != "analytics:read" else ["links:read"]
    tenant = await make_tenant(scopes=others)
    response = await client.request(
        method, path, json={} if method in ("POST", "PATCH") else None, headers=tenant.headers
    )
    error = assert_error_shape(response, 403, "insufficient_scope")
    assert error["required_scope"] == scope and scope in str(error["message"])


async def test_read_scope_reads_but_cannot_write(client: httpx.AsyncClient, make_tenant: TenantFactory) -> None:
    reader = await make_tenant(scopes=["links:read"])
    assert (await client.get("/v1/links", headers=reader.headers)).status_code == 200
    response = await client.post("/v1/links", json={"url": "https://e.com"}, headers=reader.headers)
    assert response.status_code == 403
