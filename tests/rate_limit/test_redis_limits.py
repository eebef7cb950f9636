"""Rate limits counted in Redis: exact across processes, plan changes seen by every worker, and Redis failing."""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from redis.asyncio import Redis
from tests.conftest import Tenant, TenantFactory
from tests.rate_limit.conftest import MASK, OwnRedis, Server, mask_env

from mask.app import MaskApp
from mask.bootstrap import create_app
from mask.config import Settings
from mask.rate_limit.limiter import REDIS_RETRY_AFTER

pytestmark = pytest.mark.redis


def limit_headers(response: httpx.Response) -> tuple[int, int]:
    return int(response.headers["x-ratelimit-limit"]), int(response.headers["x-ratelimit-remaining"])


async def test_exactly_60_of_200_concurrent_requests_pass_when_counted_in_redis(
    shared_redis: str, settings: Settings, tenant: Tenant, redis_prefix: str
) -> None:
    # Two app instances (as two workers would be) on one Redis: the count is one.
    shared = settings.model_copy(update={"redis_url": shared_redis})
    apps = [create_app(shared), create_app(shared)]
    clients = [
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://localhost:8000") for app in apps
    ]
    try:
        for app in apps:
            await app.context.startup()
        responses = await asyncio.gather(*(clients[i % 2].get("/v1/tags", headers=tenant.headers) for i in range(200)))
        statuses = [response.status_code for response in responses]
        assert statuses.count(200) == 60 and statuses.count(429) == 140, statuses
        redis = Redis.from_url(shared_redis)
        try:
            assert [key async for key in redis.scan_iter(match=f"{redis_prefix}ratelimit:*")]
        finally:
            await redis.aclose()
    finally:
        for client in clients:
            await client.aclose()
        for app in apps:
            await app.context.shutdown()


@pytest.fixture
def two_servers(database_url: str, shared_redis: str, redis_prefix: str, tmp_path: Path) -> Iterator[list[Server]]:
    env = mask_env(database_url, redis_url=shared_redis, redis_prefix=redis_prefix)
    servers = [Server(env, tmp_path / f"serve{i}.log") for i in range(2)]
    try:
        for server in servers:
            server.wait_ready()
        yield servers
    finally:
        for server in servers:
            server.stop()


@pytest.mark.slow
async def test_two_mask_serve_processes_share_one_exact_count_and_see_a_plan_change_at_once(
    two_servers: list[Server], tenant: Tenant, database_url: str, redis_prefix: str
) -> None:
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(timeout=60, limits=limits) as http:
        responses = await asyncio.gather(
            *(http.get(f"{two_servers[i % 2].url}/v1/tags", headers=tenant.headers) for i in range(200))
        )
        statuses = [response.status_code for response in responses]
        assert statuses.count(200) == 60 and statuses.count(429) == 140, statuses
        # Each process got 100 of them: had each counted alone, up to 120 would have passed.

        # The real CLI, in a third process: both workers apply the new plan on their next request. In a thread:
        # this process's app (which made the tenant) keeps its event loop, as a real process would.
        done = await asyncio.to_thread(
            subprocess.run,
            [MASK, "workspaces", "set-plan", tenant.slug, "pro"],
            timeout=60,
            env=mask_env(database_url, redis_prefix=redis_prefix),
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr
        after = [await http.get(f"{server.url}/v1/tags", headers=tenant.headers) for server in two_servers]
        assert [response.status_code for response in after] == [200, 200]
        assert [limit_headers(response) for response in after] == [(600, 539), (600, 538)]


@pytest.fixture
async def app_on_own_redis(own_redis: OwnRedis, settings: Settings) -> AsyncIterator[MaskApp]:
    app = create_app(settings.model_copy(update={"redis_url": own_redis.url}))
    await app.context.startup()
    yield app
    await app.context.shutdown()


async def test_the_api_keeps_answering_when_redis_stops_and_shares_counts_again_when_it_returns(
    app_on_own_redis: MaskApp, own_redis: OwnRedis, make_tenant: TenantFactory
) -> None:
    tenant = await make_tenant()
    transport = httpx.ASGITransport(app=app_on_own_redis, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost:8000") as http:

        async def call() -> httpx.Response:
            return await http.get("/v1/tags", headers=tenant.headers)

        assert [limit_headers(await call()) for _ in range(3)] == [(60, 59), (60, 58), (60, 57)]
        health = (await http.get("/health")).json()["rate_limit"]
        assert health["backend"] == "redis" and health["redis_failures"] == 0

        own_redis.stop()
        started = time.monotonic()
        during = [await call() for _ in range(20)]
        assert time.monotonic() - started < 5  # no request waits on the dead server for long
        assert all(response.status_code == 200 for response in during), [r.text for r in during]
        assert all(limit_headers(response)[0] == 60 for response in during)  # counted in memory meanwhile
        assert limit_headers(during[-1])[1] == 40
        health = (await http.get("/health")).json()["rate_limit"]
        assert health["redis_available"] is False
        assert health["redis_failures"] >= 1 and health["decided_in_memory_while_redis_down"] == 20

        own_redis.start()  # same port, empty: counting resumes there once the retry pause is over
        await asyncio.sleep(REDIS_RETRY_AFTER + 0.2)
        back = await call()
        assert back.status_code == 200 and limit_headers(back) == (60, 59)
        assert (await http.get("/health")).json()["rate_limit"]["redis_available"] is True


async def test_each_concurrent_response_reports_its_own_remaining_count(
    shared_redis: str, settings: Settings, tenant: Tenant
) -> None:
    """Counted and reported in one step: 40 requests at once see 40 different counts, none repeated."""
    app = create_app(settings.model_copy(update={"redis_url": shared_redis}))
    await app.context.startup()
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://localhost:8000") as http:
            responses = await asyncio.gather(*(http.get("/v1/tags", headers=tenant.headers) for _ in range(40)))
        assert all(response.status_code == 200 for response in responses)
        remaining = sorted(limit_headers(response)[1] for response in responses)
        assert remaining == list(range(60 - 40, 60)), remaining
    finally:
        await app.context.shutdown()
