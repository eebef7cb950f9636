"""Run Alembic migrations programmatically (`mask migrate`, the test fixtures, the benches)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config

# Package data: found beside this module in an installed wheel as in a checkout.
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "heads") -> None:
    """Bring the database to the latest schema. Safe to call from inside a running event loop's thread pool."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        command.upgrade(alembic_config(database_url), revision)
        return
    raise RuntimeError("call mask.migrate.upgrade from a thread (asyncio.to_thread), not inside the event loop")
