"""Never losing a click, against real `mask serve` processes and real signals.

2,000 redirects from a concurrent client; the server is stopped while they run (SIGTERM: graceful; SIGKILL of
the whole process group, like a crash), restarted on the same database and click journal, and the clicks stored
are compared with the `302` answers the client received. More crashes (one worker, the background process, one
of two hosts behind Caddy) in tests/click/test_crashes.py.
"""

from __future__ import annotations

import asyncio
import secrets
import signal
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import httpx
import pytest
from redis import Redis
from sqlalchemy import func, insert, select

from mask.kit.ids import new_id
from mask.models.click import Click
from mask.models.link import Link
from mask.models.workspace import Workspace
from tests.backends import REDIS_URL, PostgresDatabase, SqliteTemplate, require_service
from tests.redirect.servers import MaskServer, free_port

pytestmark = pytest.mark.slow

REQUESTS = 2000
CONCURRENCY = 32
STOP_AFTER = 600  # answered redirects before the signal
SLUGS = [f"load{i}" for i in range(20)]


def _seed_links(url: str, domain: str) -> None:
    """Links straight into the database (no API key, no rate limit in the way)."""
    import asyncio as aio

    from sqlalchemy.ext.asyncio import create_async_engine

    async def seed() -> None:
        engine = create_async_engine(url)
        async with engine.begin() as connection:
            workspace = new_id("ws")
            handle = f"load{secrets.token_hex(3)}"
            await connection.execute(insert(Workspace), [{"id": workspace, "slug": handle, "name": handle}])
            await connection.execute(
                insert(Link),
                [
                    {
                        "id": new_id("lnk"),
                        "workspace_id": workspace,
                        "domain": domain,
                        "slug": slug,
                        "url": f"https://example.com/{slug}",
                        "clicks": 0,
                    }
                    for slug in SLUGS
                ],
            )
        await engine.dispose()

    aio.run(seed())


def _count(url: str) -> tuple[int, int]:
    """(clicks stored, sum of links.clicks)."""
    from sqlalchemy.ext.asyncio import create_async_engine

    async def count() -> tuple[int, int]:
        engine = create_async_engine(url)
        async with engine.connect() as connection:
            clicks = await connection.scalar(select(func.count()).select_from(Click))
            counted = await connection.scalar(select(func.coalesce(func.sum(Link.clicks), 0)))
        await engine.dispose()
        return int(clicks or 0), int(counted or 0)

    return asyncio.run(count())


class Load(NamedTuple):
    answered: int  # 302 answers
    failed: int  # requests without one
    reasons: Counter[str]  # why they failed: an exception's name or the status answered, to show in assertions


async def _load(base_url: str, on_progress: object) -> Load:
    """Send REQUESTS redirects with CONCURRENCY connections; count the 302 answers and the requests without one."""
    answered = 0
    reasons: Counter[str] = Counter()
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    queue = iter(range(REQUESTS))
    # The timeout is a hang guard only: a busy machine (the suite runs in parallel) can stall a request for seconds.
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60.0) as client:

        async def worker() -> None:
            nonlocal answered
            for i in queue:
                try:
                    response = await client.get(
                        f"/{SLUGS[i % len(SLUGS)]}", headers={"User-Agent": f"Mozilla/5.0 load-{i % 7}"}
                    )
                except httpx.HTTPError as error:
                    reasons[type(error).__name__] += 1
                    continue
                if response.status_code == 302:
                    answered += 1
                    assert callable(on_progress)
                    on_progress(answered)
                else:
                    reasons[f"{response.status_code} {response.text[:200]}"] += 1

        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return Load(answered, sum(reasons.values()), reasons)


def _run_and_interrupt(server: MaskServer, signum: int) -> tuple[int, int]:
    fired = False

    def on_progress(answered: int) -> None:
        nonlocal fired
        if not fired and answered >= STOP_AFTER:
            fired = True
            server.signal(signum)

    answered, failed, _reasons = asyncio.run(_load(server.url, on_progress))
    assert fired, "the server was never interrupted"
    server.wait(60)
    return answered, failed


def _settle(url: str, expected_at_least: int, timeout: float = 20.0) -> tuple[int, int]:
    deadline = time.monotonic() + timeout
    stored = _count(url)
    while stored[0] < expected_at_least and time.monotonic() < deadline:
        time.sleep(0.25)
        stored = _count(url)
    return stored


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    return tmp_path / "server.log"


def test_sigterm_while_redirecting_loses_no_click_sqlite(sqlite_template: SqliteTemplate, logs: Path) -> None:
    url = sqlite_template.clone()
    port = free_port()
    domain = f"127.0.0.1:{port}"
    _seed_links(url, domain)
    env = {"MASK_DATABASE_URL": url, "MASK_SHORT_DOMAIN": domain, "MASK_CLICK_JOURNAL_DIR": str(logs.parent / "clicks")}

    server = MaskServer(env, workers=2, port=port, log=logs).start()
    try:
        answered, failed = _run_and_interrupt(server, signal.SIGTERM)
    finally:
        server.kill()
    assert STOP_AFTER <= answered < REQUESTS, (answered, failed)

    restarted = MaskServer(env, workers=1, port=port, log=logs).start()
    try:
        stored, counted = _settle(url, answered)
    finally:
        restarted.stop()
    assert stored == answered, f"{answered} redirects answered, {stored} clicks stored; see {logs}"
    assert counted == answered  # the links' counters agree (every client here is a "browser")


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    require_service("Redis", REDIS_URL, 6379)
    prefix = f"mask-test-{secrets.token_hex(4)}:"
    yield prefix
    redis = Redis.from_url(REDIS_URL)
    keys = list(redis.scan_iter(f"{prefix}*"))
    if keys:
        redis.delete(*keys)
    redis.close()


@pytest.mark.postgres
@pytest.mark.redis
def test_sigkill_while_redirecting_loses_no_click_postgres_redis(
    postgres_database: PostgresDatabase, redis_prefix: str, logs: Path
) -> None:
    postgres_database.reset()
    url = postgres_database.url
    port = free_port()
    domain = f"127.0.0.1:{port}"
    _seed_links(url, domain)
    env = {
        "MASK_DATABASE_URL": url,
        "MASK_SHORT_DOMAIN": domain,
        "MASK_REDIS_URL": REDIS_URL,
        "MASK_REDIS_PREFIX": redis_prefix,
        "MASK_CLICK_JOURNAL_DIR": str(logs.parent / "clicks"),
        "MASK_CLICK_DRAIN_SECONDS": "120",  # a hang guard: the restarted server's SIGTERM ships all it has
    }

    server = MaskServer(env, workers=2, port=port, log=logs).start()
    try:
        answered, failed = _run_and_interrupt(server, signal.SIGKILL)
    finally:
        server.kill()
    assert STOP_AFTER <= answered < REQUESTS, (answered, failed)

    restarted = MaskServer(env, workers=1, port=port, log=logs).start()
    try:
        _settle(url, answered)
    finally:
        restarted.stop()  # graceful: its background process ships what the journal still holds first
    stored, counted = _count(url)
    # Every 302 the client received is stored. A SIGKILL can also land after a click was written to the
    # journal but before its 302 left the process: such a click is stored although its client saw an error,
    # so the only clicks beyond the answered ones are among the failed requests.
    assert answered <= stored <= answered + failed, (answered, stored, failed, str(logs))
    assert counted == stored
