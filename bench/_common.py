"""Small helpers shared by the benches: percentiles, free ports, throwaway databases, a served MASK, Redis
key cleanup."""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
POSTGRES_URL = os.environ.get("MASK_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary(name: str, seconds: list[float], wall: float) -> str:
    count = len(seconds)
    return (
        f"{name:<38} n={count:>7}  {count / wall:>9.0f}/s  p50={percentile(seconds, 50) * 1000:7.2f} ms  "
        f"p99={percentile(seconds, 99) * 1000:7.2f} ms  mean={statistics.fmean(seconds) * 1000:7.2f} ms"
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _admin(statement: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(POSTGRES_URL.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@contextmanager
def throwaway_database(backend: str, *, keep: bool = False) -> Iterator[str]:
    """A fresh migrated database URL, removed afterwards (PostgreSQL: unless `keep`)."""
    from mask.migrate import upgrade

    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="mask-bench-") as directory:
            url = f"sqlite+aiosqlite:///{directory}/bench.db"
            upgrade(url)
            yield url
        return
    name = f"mask_bench_{secrets.token_hex(4)}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    url = POSTGRES_URL.rpartition("/")[0] + "/" + name
    try:
        upgrade(url)
        yield url
    finally:
        if not keep:
            asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def wait_until_healthy(base: str, process: subprocess.Popen[bytes], *, timeout: float) -> None:
    """Poll `/health` until the server answers 200; fail if it exits or the time runs out."""
    import httpx

    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or process.poll() is not None:
            raise RuntimeError(f"the server at {base} did not start")
        time.sleep(0.2)


@contextmanager
def served(database_url: str, *, workers: int = 1, extra_env: dict[str, str] | None = None) -> Iterator[str]:
    """`mask serve` as a subprocess on a free port; yields its base URL."""

    port = free_port()
    journal = tempfile.mkdtemp(prefix="mask-bench-journal-")  # never ./var/clicks, which other servers share
    env = (
        os.environ
        | {
            "MASK_DATABASE_URL": database_url,
            "MASK_LOG_LEVEL": "warning",
            "MASK_SHORT_DOMAIN": f"127.0.0.1:{port}",
            "MASK_CLICK_JOURNAL_DIR": journal,
        }
        | (extra_env or {})
    )
    mask = str(Path(sys.executable).with_name("mask"))
    process = subprocess.Popen([mask, "serve", "--port", str(port), "--workers", str(workers)], env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(base, process, timeout=30)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)
        shutil.rmtree(journal, ignore_errors=True)


async def delete_redis_keys(url: str, prefix: str) -> None:
    """Delete a run's Redis keys (everything under its prefix)."""
    from redis.asyncio import Redis

    client = Redis.from_url(url)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()
