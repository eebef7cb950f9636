"""Rate limit test fixtures: settings per test, a unique Redis key prefix, real servers on free ports."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis
from tests.backends import REDIS_URL, require_binary, require_service


@pytest.fixture
def redis_prefix() -> str:
    """Keys of this test only, on a Redis other engineers and test runs share."""
    return f"masktest:{secrets.token_hex(6)}:"


@pytest.fixture
def settings_overrides(request: pytest.FixtureRequest, redis_prefix: str) -> dict[str, Any]:
    """Per-test settings through `@pytest.mark.parametrize("settings_overrides", [{…}], indirect=True)`."""
    # Redis's timeout is a hang guard here: on a machine busy with the rest of the suite a healthy Redis can take
    # seconds to answer, and a request counted in memory instead would break the exact counts asserted.
    return {
        "redis_prefix": redis_prefix,
        "rate_limit_enabled": True,
        "rate_limit_redis_timeout": 30.0,
        **getattr(request, "param", {}),
    }


@pytest.fixture
async def shared_redis(redis_prefix: str) -> AsyncIterator[str]:
    """The machine's Redis (MASK_TEST_REDIS_URL); this test's keys are deleted afterwards."""
    require_service("Redis", REDIS_URL, 6379)
    yield REDIS_URL
    client = Redis.from_url(REDIS_URL)
    try:
        keys = [key async for key in client.scan_iter(match=f"{redis_prefix}*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


class OwnRedis:
    """A redis-server of this test's own on a free port, so stopping it disturbs nobody else."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = require_binary("redis-server", "apt-get install redis-server")
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port, timeout=10)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    server = OwnRedis(tmp_path)
    server.start()
    yield server
    server.stop()


MASK = str(Path(sys.executable).parent / "mask")


def mask_env(database_url: str, **settings: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("MASK_")}
    env.update(
        {
            "MASK_ENV": "test",
            "MASK_DATABASE_URL": database_url,
            "MASK_LOG_LEVEL": "warning",
            "MASK_SERVE_BACKGROUND": "false",
            "MASK_RATE_LIMIT_REDIS_TIMEOUT": "30",  # a hang guard (see settings_overrides)
        }
    )
    env.update({f"MASK_{key.upper()}": value for key, value in settings.items()})
    return env


class Server:
    """`mask serve` as a real subprocess on a free port."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.log = log
        # Its own click journal beside its log, never the working directory's var/clicks (shared by every server
        # started from the repository on PostgreSQL: another's background process would ship these clicks).
        env = {"MASK_CLICK_JOURNAL_DIR": str(log.parent / f"clicks-{self.port}"), **env}
        with log.open("wb") as output:
            self.process = subprocess.Popen(
                [MASK, "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"mask serve exited: {self.log.read_text()}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise TimeoutError(f"mask serve not ready after {timeout} s: {self.log.read_text()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
