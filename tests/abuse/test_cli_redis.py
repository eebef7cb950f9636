"""With Redis, `mask abuse suspend|restore` and `mask blocklist update` take effect on running servers at once:
the command publishes what it changed on the channels their caches listen to (without Redis: within the TTL)."""

from __future__ import annotations

import asyncio
import os
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from mask.app import MaskApp
from tests.abuse.test_abuse import BIO_PAGE
from tests.backends import REDIS_URL
from tests.cli.test_cli import MASK
from tests.conftest import TenantFactory
from tests.redirect.helpers import create_link
from tests.redirect.test_redis import redis_prefix  # noqa: F401  (a fixture)
from tests.waiting import eventually

pytestmark = pytest.mark.redis


@pytest.fixture
def settings_overrides(redis_prefix: str) -> dict[str, Any]:  # noqa: F811
    # A TTL far beyond the test's deadlines: a change that reaches the app came through Redis.
    return {"redis_url": REDIS_URL, "redis_prefix": redis_prefix, "redirect_cache_ttl": 3600}


async def mask(database_url: str, prefix: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"MASK_DATABASE_URL": database_url, "MASK_REDIS_URL": REDIS_URL, "MASK_REDIS_PREFIX": prefix}
    command = [MASK, *args]
    return await asyncio.to_thread(
        subprocess.run, command, capture_output=True, text=True, env=env, timeout=60, check=False
    )


async def test_suspending_from_the_cli_drops_cached_links_and_bio_pages_at_once(
    database_url: str,
    app: MaskApp,
    client: httpx.AsyncClient,
    make_tenant: TenantFactory,
    redis_prefix: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    tenant = await make_tenant(slug="shady")
    await create_link(client, tenant, slug="cached", url="https://example.com/")
    assert (await client.post("/v1/bio-pages", json=BIO_PAGE, headers=tenant.headers)).status_code == 201
    assert (await client.get("/cached")).status_code == 302  # now in the app's cache for an hour
    assert (await client.get(f"/@{BIO_PAGE['handle']}")).status_code == 200

    suspended = await mask(database_url, redis_prefix, "abuse", "suspend", "shady")
    assert suspended.returncode == 0, suspended.stderr

    async def answers(path: str, status: int) -> bool:
        return (await client.get(path)).status_code == status

    await eventually(lambda: answers("/cached", 451), message="the suspension reached the redirect cache")
    await eventually(lambda: answers(f"/@{BIO_PAGE['handle']}", 404), message="…and the bio page cache")

    assert (await mask(database_url, redis_prefix, "abuse", "restore", "shady")).returncode == 0
    await eventually(lambda: answers("/cached", 302), message="the restoration reached the redirect cache")

    listed = tmp_path / "list.txt"
    listed.write_text("example.com\n")
    blocked = await mask(database_url, redis_prefix, "blocklist", "update", "--from", str(listed))
    assert blocked.returncode == 0, blocked.stderr
    await eventually(lambda: answers("/cached", 451), message="the blocklist's suspension reached the cache")
