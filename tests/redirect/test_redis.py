"""With Redis: cache invalidation across workers (pub/sub); clicks never touch Redis, except that the click
stream an older version left is stored at start."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import orjson
import pytest
from redis.asyncio import Redis

from mask.app import MaskApp
from mask.bootstrap import create_app
from mask.click.legacy import stream_key
from mask.click.schemas import RawClick
from mask.config import Settings
from tests.backends import REDIS_URL, require_service
from tests.conftest import Tenant
from tests.redirect.helpers import create_link, stored_clicks
from tests.waiting import eventually

pytestmark = pytest.mark.redis


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    require_service("Redis", REDIS_URL, 6379)
    prefix = f"mask-test-{secrets.token_hex(4)}:"
    yield prefix

    async def cleanup() -> None:
        redis = Redis.from_url(REDIS_URL)
        keys = [key async for key in redis.scan_iter(f"{prefix}*")]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()

    asyncio.run(cleanup())


@pytest.fixture
def settings_overrides(redis_prefix: str) -> dict[str, Any]:
    # A TTL far beyond the tests' deadlines: a change that reaches another worker came through Redis.
    return {"redis_url": REDIS_URL, "redis_prefix": redis_prefix, "redirect_cache_ttl": 3600}


@pytest.fixture
async def other_worker(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A second MASK process in all but name: its own cache, its own Redis subscription, the same database."""
    second = create_app(settings)
    await second.context.startup()
    transport = httpx.ASGITransport(app=second, client=("198.51.100.7", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost:8000") as http:
        yield http
    await second.context.shutdown()


async def test_a_change_in_one_worker_reaches_the_other_through_redis(
    client: httpx.AsyncClient, other_worker: httpx.AsyncClient, tenant: Tenant
) -> None:
    link = await create_link(client, tenant, slug="shared", url="https://example.com/1")
    assert (await other_worker.get("/shared")).headers["location"] == "https://example.com/1"  # cached there

    await client.patch(f"/v1/links/{link['id']}", json={"url": "https://example.com/2"}, headers=tenant.headers)

    async def moved() -> bool:
        return bool((await other_worker.get("/shared")).headers.get("location") == "https://example.com/2")

    await eventually(moved, message="the change seen by the other worker")

    await client.delete(f"/v1/links/{link['id']}", headers=tenant.headers)

    async def gone() -> bool:
        return (await other_worker.get("/shared")).status_code == 404

    await eventually(gone, message="the deletion seen by the other worker")


async def test_with_redis_clicks_still_go_through_the_journal_never_redis(
    client: httpx.AsyncClient, tenant: Tenant, app: MaskApp, settings: Settings
) -> None:
    await create_link(client, tenant, slug="journaled")
    for _ in range(20):
        assert (await client.get("/journaled")).status_code == 302
    assert len(await stored_clicks(app)) == 20
    redis = app.context.redis
    assert redis is not None
    assert int(await redis.exists(stream_key(settings.redis_prefix))) == 0


async def test_stream_entries_the_previous_version_left_are_stored_once_at_start(
    tenant: Tenant, settings: Settings
) -> None:
    redis = Redis.from_url(REDIS_URL)
    key = stream_key(settings.redis_prefix)
    raws = [
        RawClick(
            click_id=f"clk_left{i}",
            at=time.time(),
            workspace_id=tenant.workspace_id,
            domain="localhost:8000",
            link_id="lnk_gone",
            ip="81.2.69.160",
            user_agent="Mozilla/5.0",
        )
        for i in range(5)
    ]
    try:
        await redis.xgroup_create(key, "writers", id="0", mkstream=True)
        await redis.xadd(key, {"clicks": orjson.dumps([r.to_row() for r in raws[:3]]).decode(), "n": 3})
        for raw in raws[3:]:  # single clicks as named fields, as the oldest versions wrote them
            await redis.xadd(key, dict(raw.to_fields()))  # type: ignore[arg-type]
        await redis.xadd(key, dict(raws[0].to_fields()))  # type: ignore[arg-type]  # delivered twice: stored once
        # A consumer that read everything and died before acknowledging.
        await redis.xreadgroup("writers", "dead-worker", {key: ">"}, count=100)

        app = create_app(settings)
        await app.context.startup()
        try:

            async def stored() -> bool:
                return len(await stored_clicks(app)) == 5

            await eventually(stored, message="every click stored")
            assert sorted(c.click_id for c in await stored_clicks(app)) == sorted(r.click_id for r in raws)
            assert {c.country for c in await stored_clicks(app)} == {"GB"}
            assert int(await redis.xlen(key)) == 0
        finally:
            await app.context.shutdown()
    finally:
        await redis.aclose()
