"""The SDK against real `mask serve` processes, one per backend for the whole package, each on a fresh database.

Every test makes its own workspace (`server.workspace()`), so tests share the server but never see each other's
data. The server counts requests (rate limiting on): workspaces are on the Enterprise plan (6,000 a minute), and
the Hobby plan is cut to `HOBBY_REQUESTS` per `HOBBY_WINDOW_SECONDS` with `mask plans set-limit`, for the tests
that need a 429. Webhooks may go to loopback receivers (MASK_WEBHOOKS_ALLOW_PRIVATE), and `mask serve` runs its
background process, which stores clicks and delivers webhooks.
"""

from __future__ import annotations

import asyncio
import secrets
import subprocess
import time
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from mask_sdk import AsyncMask, Mask
from sqlalchemy.ext.asyncio import AsyncSession

from mask.account import service as account_service
from mask.auth import service as auth_service
from mask.config import Settings
from mask.db import create_engine, create_sessionmaker, session_scope
from mask.workspace import service as workspace_service
from tests.backends import POSTGRES_URL, PostgresDatabase, SqliteTemplate, require_service
from tests.redirect.servers import MASK, MaskServer, free_port

T = TypeVar("T")

HOBBY_REQUESTS = 2
HOBBY_WINDOW_SECONDS = 3
# A browser's user agent: the clicks of an HTTP library's are recorded as a bot's, which analytics leave out.
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"


@dataclass(frozen=True)
class Workspace:
    id: str
    slug: str
    key: str  # an API key with every scope


@dataclass
class SdkServer:
    """A running `mask serve` and what a test needs to talk to it."""

    url: str
    backend: str
    database_url: str
    env: dict[str, str]

    def workspace(self, *, plan: str = "enterprise") -> Workspace:
        """A new workspace with an all-scopes key, made through MASK's own services."""
        slug = f"sdk{secrets.token_hex(5)}"

        async def work(session: AsyncSession) -> Workspace:
            workspace = await workspace_service.create(session, slug=slug, plan=plan)
            created = await auth_service.create(session, workspace=workspace, name="sdk tests", scopes=None)
            return Workspace(id=workspace.id, slug=workspace.slug, key=created.token)

        return self._in_database(work)

    def member(self, workspace: Workspace, email: str, role: str) -> Workspace:
        """A user with `role` in the workspace, and the key they made: what the dashboard's Settings make."""

        async def work(session: AsyncSession) -> Workspace:
            found = await workspace_service.get_by_slug_or_id(session, ref=workspace.id)
            user = await account_service.create_user(
                session, email=email, password=secrets.token_urlsafe(16), workspace=found, role=role
            )
            created = await auth_service.create(session, workspace=found, name=email, created_by=user.id, role=role)
            return Workspace(id=found.id, slug=found.slug, key=created.token)

        return self._in_database(work)

    def cli(self, *arguments: str) -> str:
        """Run a `mask` command against this server's database; its standard output."""
        done = subprocess.run(
            [MASK, *arguments], env=self.env, capture_output=True, text=True, timeout=120, check=False
        )
        assert done.returncode == 0, f"mask {' '.join(arguments)} failed: {done.stderr}"
        return done.stdout.strip()

    def client(self, key: str, **options: Any) -> Mask:
        return Mask(api_key=key, base_url=self.url, **options)

    def async_client(self, key: str, **options: Any) -> AsyncMask:
        return AsyncMask(api_key=key, base_url=self.url, **options)

    def click(self, short_url: str) -> None:
        """Follow a short link as a browser would (the redirect, not the destination)."""
        response = httpx.get(short_url, headers={"User-Agent": BROWSER}, follow_redirects=False, timeout=30)
        assert response.status_code == 302, response.text

    def _in_database(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        async def run() -> T:
            engine = create_engine(Settings(env="test", database_url=self.database_url))
            try:
                async with session_scope(create_sessionmaker(engine)) as session:
                    return await work(session)
            finally:
                await engine.dispose()

        with ThreadPoolExecutor(max_workers=1) as pool:  # its own event loop, whatever runs in this one
            return pool.submit(asyncio.run, run()).result()


def eventually(check: Callable[[], T | None], *, within: float = 90.0, message: str) -> T:
    """Poll `check` until it returns something truthy, and return that. The deadline is generous: it is there to
    end a test that would otherwise hang, not to measure anything."""
    deadline = time.monotonic() + within
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"{message} did not happen within {within} s")
        time.sleep(0.2)


@pytest.fixture(scope="package", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def server(
    request: pytest.FixtureRequest, sqlite_template: SqliteTemplate, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SdkServer]:
    database: PostgresDatabase | None = None
    if request.param == "sqlite":
        database_url = sqlite_template.clone()
    else:
        require_service("PostgreSQL", POSTGRES_URL, 5432)  # a skip, or a failure under CI=true
        database = PostgresDatabase()  # the package's own, apart from the one other tests empty between tests
        database.build()
        database_url = database.url
    port = free_port()
    work = tmp_path_factory.mktemp(f"sdk-{request.param}")
    env = {
        "MASK_DATABASE_URL": database_url,
        "MASK_SHORT_DOMAIN": f"127.0.0.1:{port}",
        "MASK_WEBHOOKS_ALLOW_PRIVATE": "true",
        "MASK_RATE_LIMIT_ENABLED": "true",
        "MASK_RATE_LIMIT_ANONYMOUS_PER_MINUTE": "100000",
        "MASK_CLICK_SPILL_DIR": str(work / "spill"),
    }
    running = SdkServer(url=f"http://127.0.0.1:{port}", backend=request.param, database_url=database_url, env={})
    process = MaskServer(env, port=port, log=Path(work / "serve.log"))
    running.env = {**process.env}
    running.cli("plans", "set-limit", "hobby", str(HOBBY_REQUESTS), "--window-seconds", str(HOBBY_WINDOW_SECONDS))
    process.start(timeout=60)
    try:
        yield running
    finally:
        process.stop()
        if database is not None:
            database.destroy()
