"""Test databases: every test gets a fresh database cloned from a migrated template.

SQLite: the template is a file migrated once; each test copies it. PostgreSQL (MASK_TEST_POSTGRES_URL):
a database migrated once per session, emptied (TRUNCATE, seed rows restored) before each test. The schema
therefore always comes from the Alembic migrations, and tests never see each other's rows.

With CI=true a missing PostgreSQL or Redis is a failure, not a skip.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import socket
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
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


def require_binary(name: str, hint: str) -> str:
    """The path of a program a test needs: skip without it on a laptop, fail under CI=true."""
    path = shutil.which(name)
    if path is not None:
        return path
    message = f"{name} is not installed ({hint})"
    if IN_CI:
        pytest.fail(f"{message}, and CI=true requires it", pytrace=False)
    pytest.skip(message)


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


class PostgresDatabase:
    """One migrated database for the whole session, emptied before each test.

    Cloning a database per test costs about a second on this machine (CREATE … TEMPLATE plus DROP); a TRUNCATE
    of every table costs a few milliseconds. Rows the migrations seed (e.g. plan limits) are saved once and put
    back after each TRUNCATE, so every test starts from exactly the migrated state.
    """

    def __init__(self) -> None:
        self.name = f"mask_test_{os.getpid()}_{secrets.token_hex(3)}"
        self.url = with_database(POSTGRES_URL, self.name)
        self.tables: list[str] = []
        self.seeds: dict[str, list[tuple[object, ...]]] = {}

    def _run(self, work: Callable[[Any], Awaitable[None]], database: str | None = None) -> None:
        import asyncpg

        async def run() -> None:
            dsn = postgres_admin_dsn() if database is None else with_database(postgres_admin_dsn(), database)
            connection = await asyncpg.connect(dsn)
            try:
                await work(connection)
            finally:
                await connection.close()

        with ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(asyncio.run, run()).result()

    def build(self) -> None:
        from mask.migrate import upgrade

        async def create(connection: Any) -> None:
            await connection.execute(f'CREATE DATABASE "{self.name}"')

        async def inspect(connection: Any) -> None:
            rows = await connection.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
            )
            self.tables = sorted(row["tablename"] for row in rows)
            for table in self.tables:
                records = await connection.fetch(f'SELECT * FROM "{table}"')
                if records:
                    self.seeds[table] = [tuple(record.values()) for record in records]

        self._run(create)
        upgrade(self.url)
        self._run(inspect, self.name)

    def reset(self) -> None:
        async def truncate(connection: Any) -> None:
            await connection.execute("SET lock_timeout = '20s'")
            if self.tables:
                names = ", ".join(f'"{table}"' for table in self.tables)
                await connection.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
            for table, records in self.seeds.items():
                await connection.copy_records_to_table(table, records=records)

        self._run(truncate, self.name)

    def destroy(self) -> None:
        async def drop(connection: Any) -> None:
            await connection.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

        self._run(drop)
