"""Shared fixtures: a fresh migrated database per test on SQLite and PostgreSQL, an app, an API client."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from mask.app import MaskApp
from mask.auth import service as auth_service
from mask.bootstrap import create_app
from mask.config import Settings
from mask.db import session_scope
from mask.workspace import service as workspace_service
from tests.backends import POSTGRES_URL, PostgresDatabase, SqliteTemplate, require_service

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def pytest_configure(config: pytest.Config) -> None:
    # Storing clicks yields to busy CPUs (MASK_CLICK_STORE_YIELD_SECONDS); with pytest-xdist the CPUs are busy
    # all along and tests wait for their clicks. For this process's apps and the servers tests start; tests of
    # the yielding build their own gate (tests/unit/test_cpu_gate.py, tests/click/test_journal.py).
    os.environ["MASK_CLICK_STORE_YIELD_SECONDS"] = "0"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> SqliteTemplate:
    template = SqliteTemplate(tmp_path_factory.mktemp("sqlite"))
    template.build()
    return template


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[PostgresDatabase]:
    require_service("PostgreSQL", POSTGRES_URL, 5432)
    database = PostgresDatabase()
    database.build()
    yield database
    database.destroy()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, sqlite_template: SqliteTemplate) -> Iterator[str]:
    """A fresh, migrated, empty database for this test, on each backend."""
    if request.param == "sqlite":
        yield sqlite_template.clone()
        return
    database: PostgresDatabase = request.getfixturevalue("postgres_database")
    database.reset()
    yield database.url


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """Override in a test module to change settings for its app."""
    return {}


@pytest.fixture
def settings(database_url: str, settings_overrides: dict[str, Any], tmp_path: Path) -> Settings:
    # Rate limits are off unless a test turns them on (tests/rate_limit does): suites that make hundreds of
    # requests per test must not depend on the hobby plan's 60 per minute.
    values: dict[str, Any] = {
        "env": "test",
        "database_url": database_url,
        "short_domain": "localhost:8000",
        "redis_url": None,
        "rate_limit_enabled": False,
        "mail_dir": str(tmp_path / "mail"),  # no SMTP server: mails are written here (tests read them)
        "click_journal_dir": str(tmp_path / "clicks"),  # each test's app its own click journal
        # No page title fetches to made-up destinations (example.com) unless a test serves the pages itself
        # (tests/link/test_titles.py turns it on).
        "title_fetch_enabled": False,
    }
    values.update(settings_overrides)
    return Settings(**values)


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[MaskApp]:
    application = create_app(settings)
    await application.context.startup()
    yield application
    await application.context.shutdown()


@pytest.fixture
async def client(app: MaskApp) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=("203.0.113.10", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost:8000") as http:
        yield http


@dataclass
class Tenant:
    """A workspace and an all-scopes key, with headers ready for httpx."""

    workspace_id: str
    slug: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


TenantFactory = Callable[..., Awaitable[Tenant]]


@pytest.fixture
def make_tenant(app: MaskApp) -> TenantFactory:
    counter = 0

    async def factory(*, plan: str = "hobby", scopes: list[str] | None = None, slug: str | None = None) -> Tenant:
        nonlocal counter
        counter += 1
        async with session_scope(app.context.sessionmaker) as session:
            workspace = await workspace_service.create(session, slug=slug or f"team{counter}", plan=plan)
            created = await auth_service.create(session, workspace=workspace, scopes=scopes, name="test")
        return Tenant(workspace_id=workspace.id, slug=workspace.slug, token=created.token)

    return factory


@pytest.fixture
async def tenant(make_tenant: TenantFactory) -> Tenant:
    return await make_tenant()


CORPORA = Path(__file__).resolve().parent / "data"


def corpus_path(name: str) -> Path:
    """A vendored test corpus (tests/data, see its README for sources and licences)."""
    path = CORPORA / name
    if not path.exists():
        pytest.fail(f"test corpus {path} is missing")
    return path


__all__ = ["Tenant", "TenantFactory", "corpus_path"]
