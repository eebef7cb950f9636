"""The per-worker cache of published pages: changes show at once here, and in other workers through Redis."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy import update

from mask.app import MaskApp
from mask.bootstrap import create_app
from mask.config import Settings
from mask.db import session_scope
from mask.models.bio_page import BioPage
from tests.backends import REDIS_URL, require_service
from tests.bio_page.conftest import BROWSER, create_page
from tests.conftest import Tenant
from tests.waiting import eventually


async def _set_title_behind_the_apps_back(app: MaskApp, page_id: str, title: str) -> None:
    async with session_scope(app.context.sessionmaker) as session:
        await session.execute(update(BioPage).where(BioPage.id == page_id).values(title=title))


async def test_pages_are_served_from_the_cache_and_every_change_shows_at_once(
    client: httpx.AsyncClient, public: httpx.AsyncClient, tenant: Tenant, app: MaskApp
) -> None:
    assert (await public.get("/@ada")).status_code == 404  # now known not to exist, for a few seconds
    page = await create_page(client, tenant)
    assert (await public.get("/@ada")).status_code == 200  # creating it dropped the negative entry
    await _set_title_behind_the_apps_back(app, page["id"], "Changed in the database")
    assert "Changed in the database" not in (await public.get("/@ada")).text  # cached: no query per view
    await client.patch(f"/v1/bio-pages/{page['id']}", json={"title": "Countess"}, headers=tenant.headers)
    assert '<h1 dir="auto">Countess</h1>' in (await public.get("/@ada")).text
    link = page["blocks"][0]
    blocks = [{"id": link["id"], "type": "link", "title": "Moved", "url": "https://example.com/moved"}]
    await client.patch(f"/v1/bio-pages/{page['id']}", json={"blocks": blocks}, headers=tenant.headers)
    assert (await public.get(f"/@ada/b/{link['id']}")).headers["location"] == "https://example.com/moved"
    assert (await public.get(f"/@ada/b/{page['blocks'][4]['id']}")).status_code == 404  # removed block
    await client.patch(f"/v1/bio-pages/{page['id']}", json={"handle": "countess"}, headers=tenant.headers)
    assert (await public.get("/@ada")).status_code == 404
    assert (await public.get("/@countess")).status_code == 200


async def test_a_failed_change_leaves_the_cache_alone(
    client: httpx.AsyncClient, public: httpx.AsyncClient, tenant: Tenant
) -> None:
    page = await create_page(client, tenant)
    await create_page(client, tenant, handle="taken")
    assert (await public.get("/@ada")).status_code == 200
    refused = await client.patch(
        f"/v1/bio-pages/{page['id']}", json={"handle": "taken", "title": "No"}, headers=tenant.headers
    )
    assert refused.status_code == 409
    assert '<h1 dir="auto">Ada</h1>' in (await public.get("/@ada")).text


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
def settings_overrides(request: pytest.FixtureRequest) -> dict[str, Any]:
    if "redis_prefix" not in request.fixturenames:
        return {}
    prefix: str = request.getfixturevalue("redis_prefix")
    # A TTL far beyond the tests' deadlines: a change that reaches another worker came through Redis.
    return {"redis_url": REDIS_URL, "redis_prefix": prefix, "redirect_cache_ttl": 3600}


@pytest.fixture
async def other_worker(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A second MASK process in all but name: its own page cache and Redis subscription, the same database."""
    second = create_app(settings)
    await second.context.startup()
    transport = httpx.ASGITransport(app=second, client=("198.51.100.8", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost:8000", headers=BROWSER) as http:
        yield http
    await second.context.shutdown()


@pytest.mark.redis
async def test_a_change_in_one_worker_reaches_the_others_through_redis(
    redis_prefix: str, client: httpx.AsyncClient, other_worker: httpx.AsyncClient, tenant: Tenant
) -> None:
    page = await create_page(client, tenant)
    assert '<h1 dir="auto">Ada</h1>' in (await other_worker.get("/@ada")).text  # cached there

    await client.patch(f"/v1/bio-pages/{page['id']}", json={"title": "Countess"}, headers=tenant.headers)

    async def retitled() -> bool:
        return '<h1 dir="auto">Countess</h1>' in (await other_worker.get("/@ada")).text

    await eventually(retitled, message="the change seen by the other worker")

    await client.patch(f"/v1/bio-pages/{page['id']}", json={"published": False}, headers=tenant.headers)

    async def hidden() -> bool:
        return (await other_worker.get("/@ada")).status_code == 404

    await eventually(hidden, message="the unpublished page gone from the other worker")
