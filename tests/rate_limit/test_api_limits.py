"""API rate limits in one process (counted in memory): exactness, headers, Retry-After, plans, anonymous."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest
from sqlalchemy import event
from tests.conftest import Tenant, TenantFactory

from mask.app import MaskApp
from mask.db import session_scope
from mask.rate_limit import service as rate_limit_service
from mask.rate_limit.limiter import CLOCK_SLACK
from mask.workspace import service as workspace_service

RATE_HEADERS = ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset")


def rate(response: httpx.Response) -> tuple[int, int, int]:
    """(limit, remaining, reset) from a response; fails the test when a header is missing."""
    missing = [name for name in RATE_HEADERS if name not in response.headers]
    request = response.request
    assert not missing, f"{request.method} {request.url} → {response.status_code} lacks {missing}"
    return tuple(int(response.headers[name]) for name in RATE_HEADERS)  # type: ignore[return-value]


async def set_plan(app: MaskApp, tenant: Tenant, plan: str) -> None:
    """What `mask workspaces set-plan` does, in its own transaction."""
    async with session_scope(app.context.sessionmaker) as session:
        workspace = await workspace_service.get_by_slug_or_id(session, ref=tenant.slug)
        await workspace_service.set_plan(session, workspace=workspace, plan=plan)


async def set_plan_limit(app: MaskApp, plan: str, requests: int, window_seconds: int = 60) -> None:
    async with session_scope(app.context.sessionmaker) as session:
        await rate_limit_service.set_plan_limit(session, plan=plan, requests=requests, window_seconds=window_seconds)


async def test_exactly_60_of_200_concurrent_requests_pass_on_hobby(client: httpx.AsyncClient, tenant: Tenant) -> None:
    responses = await asyncio.gather(*(client.get("/v1/links", headers=tenant.headers) for _ in range(200)))
    statuses = [response.status_code for response in responses]
    assert statuses.count(200) == 60, statuses
    assert statuses.count(429) == 140
    remaining = sorted(rate(response)[1] for response in responses if response.status_code == 200)
    assert remaining[0] == 0 and all(rate(r)[0] == 60 for r in responses)


async def test_every_kind_of_v1_answer_carries_consistent_headers(
    client: httpx.AsyncClient, make_tenant: TenantFactory
) -> None:
    tenant = await make_tenant()
    reader = await make_tenant(scopes=["links:read"])
    auth, json_type = tenant.headers, {**tenant.headers, "Content-Type": "application/json"}
    reader_headers = reader.headers
    before = time.time()
    requests: list[tuple[str, str, dict[str, Any], int]] = [
        ("GET", "/v1/links", {"headers": auth}, 200),
        ("POST", "/v1/links", {"headers": auth, "json": {"url": "https://example.com/a"}}, 201),
        ("GET", "/v1/links/lnk_doesnotexist", {"headers": auth}, 404),
        ("GET", "/v1/no-such-route", {"headers": auth}, 404),
        ("PUT", "/v1/links", {"headers": auth, "json": {}}, 405),
        ("POST", "/v1/links", {"headers": auth, "json": {"url": 42}}, 422),
        ("POST", "/v1/links", {"headers": json_type, "content": b"{not json"}, 400),
        ("POST", "/v1/links", {"headers": {**auth, "Content-Type": "text/plain"}, "content": b"x"}, 415),
        ("POST", "/v1/links", {"headers": {**json_type, "Content-Length": "2000000"}, "content": b"{}"}, 413),
        ("POST", "/v1/domains", {"headers": reader_headers, "json": {"domain": "go.example.com"}}, 403),
    ]
    remaining_seen = []
    for method, path, options, status in requests:
        response = await client.request(method, path, **options)
        assert response.status_code == status, (method, path, response.text)
        limit, remaining, reset = rate(response)
        assert limit == 60
        assert before < reset <= time.time() + 61 + CLOCK_SLACK  # the header is rounded up, after the slack
        if options["headers"] is not reader_headers:
            remaining_seen.append(remaining)
    # One workspace, one count: every answer above, errors included, spent one request.
    assert remaining_seen == list(range(59, 59 - len(remaining_seen), -1))

    for headers in ({}, {"Authorization": "Bearer mk_live_" + "x" * 40}, {"Authorization": "Basic abc"}):
        response = await client.get("/v1/links", headers=headers)
        assert response.status_code == 401
        assert rate(response)[0] == 60  # the per-IP limit for callers without a valid key

    spec = await client.get("/v1/openapi.json")
    assert spec.status_code == 200 and rate(spec)


async def test_over_the_limit_answers_429_in_the_error_shape_with_a_truthful_retry_after(
    app: MaskApp, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    await set_plan_limit(app, "hobby", requests=3, window_seconds=2)
    for _ in range(3):
        assert (await client.get("/v1/links", headers=tenant.headers)).status_code == 200
    refused = await client.get("/v1/links", headers=tenant.headers)
    assert refused.status_code == 429
    error = refused.json()["error"]
    assert error["code"] == "rate_limit_exceeded" and error["type"] == "rate_limit_error"
    assert error["request_id"] == refused.headers["x-request-id"]
    retry_after = int(refused.headers["retry-after"])
    limit, remaining, reset = rate(refused)
    assert (limit, remaining) == (3, 0)
    assert 1 <= retry_after <= 2  # never more than the window
    assert reset <= time.time() + retry_after + 1
    await asyncio.sleep(retry_after)
    accepted = await client.get("/v1/links", headers=tenant.headers)
    assert accepted.status_code == 200, accepted.text


async def test_two_workspaces_have_independent_limits(client: httpx.AsyncClient, make_tenant: TenantFactory) -> None:
    first, second = await make_tenant(), await make_tenant()
    statuses = [(await client.get("/v1/tags", headers=first.headers)).status_code for _ in range(61)]
    assert statuses.count(200) == 60 and statuses[-1] == 429
    other = await client.get("/v1/tags", headers=second.headers)
    assert other.status_code == 200 and rate(other)[1] == 59


async def test_all_keys_of_a_workspace_share_its_limit(app: MaskApp, client: httpx.AsyncClient, tenant: Tenant) -> None:
    from mask.auth import service as auth_service

    async with session_scope(app.context.sessionmaker) as session:
        workspace = await workspace_service.get_by_slug_or_id(session, ref=tenant.slug)
        second_key = (await auth_service.create(session, workspace=workspace)).token
    for _ in range(30):
        assert (await client.get("/v1/tags", headers=tenant.headers)).status_code == 200
    response = await client.get("/v1/tags", headers={"Authorization": f"Bearer {second_key}"})
    assert response.status_code == 200 and rate(response)[1] == 29


async def test_a_plan_change_takes_effect_on_the_next_request(
    app: MaskApp, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    for _ in range(60):
        await client.get("/v1/tags", headers=tenant.headers)
    assert (await client.get("/v1/tags", headers=tenant.headers)).status_code == 429

    await set_plan(app, tenant, "pro")
    upgraded = await client.get("/v1/tags", headers=tenant.headers)
    assert upgraded.status_code == 200
    assert rate(upgraded)[:2] == (600, 600 - 61)  # the 60 earlier requests still count

    await set_plan(app, tenant, "hobby")  # a downgrade bites at once: 61 made, 60 allowed
    downgraded = await client.get("/v1/tags", headers=tenant.headers)
    assert downgraded.status_code == 429 and rate(downgraded)[:2] == (60, 0)


async def test_changing_a_plans_limit_applies_to_its_workspaces_at_once(
    app: MaskApp, client: httpx.AsyncClient, make_tenant: TenantFactory
) -> None:
    pro = await make_tenant(plan="pro")
    assert rate(await client.get("/v1/tags", headers=pro.headers))[0] == 600
    await set_plan_limit(app, "pro", requests=1200)
    assert rate(await client.get("/v1/tags", headers=pro.headers))[:2] == (1200, 1198)


@pytest.mark.parametrize(
    "settings_overrides", [{"rate_limit_anonymous_per_minute": 5, "trusted_proxies": ["203.0.113.10"]}], indirect=True
)
async def test_requests_without_a_valid_key_are_limited_per_client_ip(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    guessing = {"Authorization": "Bearer mk_live_" + "g" * 43, "X-Forwarded-For": "198.51.100.7"}
    statuses = [(await client.get("/v1/links", headers=guessing)).status_code for _ in range(7)]
    assert statuses == [401] * 5 + [429] * 2
    refused = await client.get("/v1/links", headers={"X-Forwarded-For": "198.51.100.7"})  # no key: same IP
    assert refused.status_code == 429 and rate(refused)[:2] == (5, 0)

    elsewhere = await client.get("/v1/links", headers={**guessing, "X-Forwarded-For": "198.51.100.8"})
    assert elsewhere.status_code == 401 and rate(elsewhere)[:2] == (5, 4)
    # A valid key from the throttled address counts against its workspace, not the address.
    keyed = await client.get("/v1/links", headers={**tenant.headers, "X-Forwarded-For": "198.51.100.7"})
    assert keyed.status_code == 200 and rate(keyed)[:2] == (60, 59)


@pytest.mark.parametrize(
    "settings_overrides", [{"rate_limit_anonymous_per_minute": 2, "trusted_proxies": ["203.0.113.10"]}], indirect=True
)
async def test_an_ipv6_client_is_counted_per_64_prefix(client: httpx.AsyncClient) -> None:
    for suffix in ("1", "2"):
        assert (
            await client.get("/v1/links", headers={"X-Forwarded-For": f"2001:db8:1:2::{suffix}"})
        ).status_code == 401
    rotated = await client.get("/v1/links", headers={"X-Forwarded-For": "2001:db8:1:2:ffff::9"})
    assert rotated.status_code == 429
    other_network = await client.get("/v1/links", headers={"X-Forwarded-For": "2001:db8:1:3::1"})
    assert other_network.status_code == 401


async def test_a_revoked_key_is_refused_and_counted_per_ip(
    app: MaskApp, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    from mask.auth import service as auth_service

    async with session_scope(app.context.sessionmaker) as session:
        workspace = await workspace_service.get_by_slug_or_id(session, ref=tenant.slug)
        key = (await auth_service.list_keys(session, workspace=workspace))[0]
        await auth_service.revoke(session, workspace=workspace, key_id=key.id)
    response = await client.get("/v1/links", headers=tenant.headers)
    assert response.status_code == 401 and response.json()["error"]["code"] == "invalid_api_key"
    assert rate(response)[:2] == (60, 59)


async def test_paths_outside_v1_are_not_counted(client: httpx.AsyncClient, tenant: Tenant) -> None:
    first = await client.get("/v1/tags", headers=tenant.headers)
    for path in ("/health", "/some-slug", "/docs"):
        response = await client.get(path, headers=tenant.headers)
        assert "x-ratelimit-limit" not in response.headers, path
    second = await client.get("/v1/tags", headers=tenant.headers)
    assert rate(second)[1] == rate(first)[1] - 1


async def test_the_key_is_looked_up_once_per_request_with_its_plan_limit(
    app: MaskApp, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    await client.get("/v1/tags", headers=tenant.headers)  # first use writes last_used_at; not measured
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement.lower())

    engine = app.context.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        response = await client.get("/v1/tags", headers=tenant.headers)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert response.status_code == 200
    key_lookups = [statement for statement in statements if "api_keys" in statement]
    assert len(key_lookups) == 1, statements
    assert "plan_limits" in key_lookups[0] and "workspaces" in key_lookups[0]


@pytest.mark.parametrize("settings_overrides", [{"serve_background": False}], indirect=True)  # no other users
async def test_the_limiters_lookup_returns_its_connection_before_the_endpoint_and_none_is_left_checked_out(
    app: MaskApp, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    await client.get("/v1/tags", headers=tenant.headers)
    checkouts: list[object] = []

    def record(*_args: Any) -> None:
        checkouts.append(_args)

    pool = app.context.engine.sync_engine.pool
    event.listen(pool, "checkout", record)
    try:
        assert (await client.get("/v1/tags", headers=tenant.headers)).status_code == 200
        # The key lookup's session is the endpoint's, but its connection went back to the pool in between (a
        # client sending its body slowly holds none): two checkouts, one after the other.
        assert len(checkouts) == 2
        for path in ("/v1/no-such-route", "/v1/links/lnk_nothere"):  # answered without adopting it
            await client.get(path, headers=tenant.headers)
        await asyncio.gather(*(client.get("/v1/tags", headers=tenant.headers) for _ in range(70)))  # some 429
    finally:
        event.remove(pool, "checkout", record)
    assert pool.checkedout() == 0  # type: ignore[attr-defined]


async def test_a_key_of_one_workspace_never_spends_anothers_quota(
    client: httpx.AsyncClient, make_tenant: TenantFactory
) -> None:
    first, second = await make_tenant(), await make_tenant()
    await asyncio.gather(*(client.get("/v1/tags", headers=first.headers) for _ in range(20)))
    assert rate(await client.get("/v1/tags", headers=second.headers))[1] == 59


@pytest.mark.parametrize("settings_overrides", [{"rate_limit_enabled": False}], indirect=True)
async def test_limiting_can_be_switched_off(client: httpx.AsyncClient, tenant: Tenant) -> None:
    responses = [await client.get("/v1/tags", headers=tenant.headers) for _ in range(61)]
    assert all(response.status_code == 200 for response in responses)
    assert "x-ratelimit-limit" not in responses[-1].headers
    assert (await client.get("/v1/tags")).status_code == 401


async def test_the_openapi_document_describes_the_headers(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/v1/openapi.json")).json()
    headers = schema["components"]["headers"]
    assert "Unix time" in headers["X-RateLimit-Reset"]["description"]
    assert {"X-RateLimit-Limit", "X-RateLimit-Remaining", "Retry-After"} <= set(headers)
    operations = [
        operation for path, item in schema["paths"].items() if path.startswith("/v1/") for operation in item.values()
    ]
    assert operations
    for operation in operations:
        for status, response in operation["responses"].items():
            reset = response["headers"]["X-RateLimit-Reset"]
            assert reset == {"$ref": "#/components/headers/X-RateLimit-Reset"}
            assert ("Retry-After" in response["headers"]) == (status == "429")
