"""With Redis: cache invalidation across workers (pub/sub) and the durable click stream."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from mask.app import MaskApp
from mask.bootstrap import create_app
from mask.click.schemas import RawClick
from mask.click.stream import GROUP, encode_entry, ensure_group, stream_key
from mask.config import Settings
from tests.backends import REDIS_URL, require_service
from tests.conftest import Tenant
from tests.load import every_cpu_busy, needs_proc_stat
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
    return {"redis_url": REDIS_URL, "redis_prefix": redis_prefix, "click_claim_idle": 0.5, "redirect_cache_ttl": 3600}


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


async def test_clicks_go_through_the_stream_and_leave_it_once_stored(
    client: httpx.AsyncClient, tenant: Tenant, app: MaskApp, settings: Settings
) -> None:
    await create_link(client, tenant, slug="streamed")
    for _ in range(20):
        assert (await client.get("/streamed")).status_code == 302
    redis = app.context.redis
    assert redis is not None

    async def all_stored() -> bool:
        return len(await stored_clicks(app)) == 20

    await eventually(all_stored, message="every click stored")
    await eventually(lambda: _stream_empty(redis, stream_key(settings.redis_prefix)), message="the stream emptied")


async def _stream_empty(redis: Redis, key: str) -> bool:
    return int(await redis.xlen(key)) == 0


async def test_clicks_read_by_a_dead_consumer_are_claimed_and_stored_once(
    tenant: Tenant, app: MaskApp, settings: Settings
) -> None:
    redis = app.context.redis
    assert redis is not None
    key = stream_key(settings.redis_prefix)
    await ensure_group(redis, key)
    raws = [
        RawClick(
            click_id=f"clk_dead{i}",
            at=time.time(),
            workspace_id=tenant.workspace_id,
            domain="localhost:8000",
            link_id="lnk_gone",
            ip="81.2.69.160",
            user_agent="Mozilla/5.0",
        )
        for i in range(5)
    ]
    for raw in raws:
        await redis.xadd(key, dict(raw.to_fields()))  # type: ignore[arg-type]
    await redis.xadd(key, dict(raws[0].to_fields()))  # type: ignore[arg-type]  # delivered twice: stored once
    # A consumer that read everything and died before acknowledging (SIGKILL between read and commit).
    await redis.xreadgroup(GROUP, "dead-worker", {key: ">"}, count=100)

    async def stored() -> bool:
        return len(await stored_clicks(app)) == 5

    await eventually(stored, message="every click stored")
    assert sorted(c.click_id for c in await stored_clicks(app)) == sorted(r.click_id for r in raws)
    assert {c.country for c in await stored_clicks(app)} == {"GB"}


async def test_small_stream_entries_are_written_as_one_full_batch(
    tenant: Tenant, app: MaskApp, client: httpx.AsyncClient, settings: Settings
) -> None:
    """A quiet server appends a few clicks per entry; the consumer gathers entries up to a batch of clicks
    rather than writing one small transaction per read."""
    redis = app.context.redis
    assert redis is not None
    batches: list[int] = []

    async def count_batch(_session: Any, clicks: list[Any]) -> None:
        batches.append(len(clicks))

    app.services.clicks.listeners.append(count_batch)
    key = stream_key(settings.redis_prefix)
    await ensure_group(redis, key)
    link = (await create_link(client, tenant, slug="gathered"))["id"]
    async with redis.pipeline(transaction=True) as pipe:  # all entries at once: no read sees only some
        for entry in range(60):
            clicks = [
                RawClick(
                    click_id=f"clk_gather{entry:02d}{i}",
                    at=time.time(),
                    workspace_id=tenant.workspace_id,
                    domain="localhost:8000",
                    link_id=link,
                    ip="81.2.69.160",
                    user_agent="Mozilla/5.0",
                )
                for i in range(5)
            ]
            pipe.xadd(key, encode_entry([click.to_row() for click in clicks]))  # type: ignore[arg-type]
        await pipe.execute()

    async def stored() -> bool:
        return len(await stored_clicks(app)) == 300

    await eventually(stored, message="every click stored")
    assert batches == [300]  # 60 entries of 5 clicks, three reads of 20 entries, one transaction


@needs_proc_stat
async def test_the_stream_holds_the_clicks_while_other_processes_fill_every_cpu(
    tenant: Tenant, client: httpx.AsyncClient, app: MaskApp, settings: Settings, redis_prefix: str
) -> None:
    # Its own stream (prefix) and its gate on; the app fixture's consumer (gate off, as in every test) reads
    # the other one.
    gated = create_app(
        settings.model_copy(update={"redis_prefix": f"{redis_prefix}gated:", "click_store_yield_seconds": 30.0})
    )
    await gated.context.startup()
    try:
        redis = gated.context.redis
        assert redis is not None
        key = stream_key(f"{redis_prefix}gated:")
        link = (await create_link(client, tenant, slug="held"))["id"]
        clicks = [
            RawClick(
                click_id=f"clk_held{i:02d}",
                at=time.time(),
                workspace_id=tenant.workspace_id,
                domain="localhost:8000",
                link_id=link,
                ip="81.2.69.160",
                user_agent="Mozilla/5.0",
            )
            for i in range(20)
        ]
        with every_cpu_busy():
            await redis.xadd(key, encode_entry([click.to_row() for click in clicks]))  # type: ignore[arg-type]
            await asyncio.sleep(1.5)
            assert await stored_clicks(app) == [] and int(await redis.xlen(key)) == 1

        async def stored() -> bool:
            return len(await stored_clicks(app)) == 20

        await eventually(stored, message="every click stored")
        await eventually(lambda: _stream_empty(redis, key), message="the stream emptied")
    finally:
        await gated.context.shutdown()
