"""Test databases: every test gets a fresh database cloned from a migrated template.

SQLite: the template is a file migrated once; each test copies it. PostgreSQL (MASK_TEST_POSTGRES_URL):
the template is a database migrated once; each test runs `CREATE DATABASE … TEMPLATE …`. The schema
therefore always comes from the Alembic migrations, and tests never see each other's rows.

With CI=true a missing PostgreSQL or Redis is a failure, not a skip.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import socket
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
POSTGRES_URL = os.environ.get("MASK_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("MASK_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url.replace("+asyncpg", ""))
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or default_port), timeout=1):
            return True
    except OSError:
        return False


def require_service(name: str, url: str, default_port: int) -> None:
    """Skip (laptop) or fail (CI) when a server the test needs is not there."""
    if _reachable(url, default_port):
        return
    message = f"{name} is not reachable at {url}"
    if IN_CI:
        pytest.fail(f"{message}, and CI=true requires it", pytrace=False)
    pytest.skip(f"{message}; start it to run these tests (set CI=true to make this a failure)")


def postgres_admin_dsn() -> str:
    return POSTGRES_URL.replace("postgresql+asyncpg://", "postgresql://")


def with_database(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


class SqliteTemplate:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.template = directory / "template.db"

    def build(self) -> None:
        from mask.migrate import upgrade

        upgrade(f"sqlite+aiosqlite:///{self.template}")

    def clone(self) -> str:
        path = self.directory / f"t_{secrets.token_hex(6)}.db"
        shutil.copyfile(self.template, path)
        return f"sqlite+aiosqlite:///{path}"


class PostgresTemplate:
    def __init__(self) -> None:
        self.name = f"mask_tpl_{os.getpid()}_{secrets.token_hex(3)}"

    def _admin(self, statement: str) -> None:
        """Run one statement outside a transaction (CREATE/DROP DATABASE), from any thread or loop state."""
        import asyncpg

        async def run() -> None:
            connection = await asyncpg.connect(postgres_admin_dsn())
            try:
                await connection.execute(statement)
            finally:
                await connection.close()

        with ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(asyncio.run, run()).result()

    def build(self) -> None:
        from mask.migrate import upgrade

        self._admin(f'CREATE DATABASE "{self.name}"')
        upgrade(with_database(POSTGRES_URL, self.name))

    def clone(self) -> str:
        name = f"mask_t_{os.getpid()}_{secrets.token_hex(4)}"
        self._admin(f'CREATE DATABASE "{name}" TEMPLATE "{self.name}"')
        return with_database(POSTGRES_URL, name)

    def drop(self, url: str) -> None:
        name = url.rpartition("/")[2]
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def destroy(self) -> None:
        self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
