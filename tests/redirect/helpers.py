"""Shared helpers for the redirect tests: links through the API, stored clicks straight from the database."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from mask.app import MaskApp
from mask.db import session_scope
from mask.models.click import Click
from tests.conftest import Tenant
from tests.domains import add_verified_domain

BROWSER = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
)


async def create_link(client: httpx.AsyncClient, tenant: Tenant, **fields: Any) -> dict[str, Any]:
    body = {"url": "https://example.com/page", **fields}
    response = await client.post("/v1/links", json=body, headers=tenant.headers)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


async def add_domain(client: httpx.AsyncClient, app: MaskApp, tenant: Tenant, name: str) -> None:
    """A custom domain of the tenant's, verified (only verified domains serve links)."""
    await add_verified_domain(client, app, tenant, name)


async def stored_count(engine: AsyncEngine) -> int:
    """Clicks stored."""
    async with engine.connect() as connection:
        return int(await connection.scalar(select(func.count()).select_from(Click)) or 0)


async def stored_clicks(app: MaskApp) -> list[Click]:
    """Ship the click journal, then read every stored click."""
    assert await app.services.clicks.tracker.flush()
    async with session_scope(app.context.sessionmaker) as session:
        return list((await session.execute(select(Click).order_by(Click.id))).scalars())
