"""Building clicks for analytics tests: real links through the API, clicks through `record_batch`."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import count
from typing import Any

import httpx

from mask.analytics import service as analytics_service
from mask.app import MaskApp
from mask.click import service as click_service
from mask.click.schemas import EnrichedClick
from mask.db import session_scope
from tests.conftest import Tenant

_ids = count(1)


def at(text: str) -> datetime:
    """A UTC instant from `2026-03-08T04:30` (seconds optional)."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def click(
    tenant: Tenant,
    when: datetime,
    *,
    link_id: str | None = None,
    visitor: str | None = None,
    domain: str = "localhost:8000",
    **fields: Any,
) -> EnrichedClick:
    number = next(_ids)
    return EnrichedClick(
        click_id=f"clk_test{number:08d}",
        clicked_at=when,
        workspace_id=tenant.workspace_id,
        domain=domain,
        visitor_hash=visitor or f"visitor{number}",
        link_id=link_id,
        **fields,
    )


async def record(app: MaskApp, clicks: list[EnrichedClick]) -> None:
    """Store clicks as the click writer does: one batch, rollups maintained by the analytics listener."""
    async with session_scope(app.context.sessionmaker) as session:
        await click_service.record_batch(session, clicks, [analytics_service.record_clicks])


async def create_link(client: httpx.AsyncClient, tenant: Tenant, slug: str, **fields: Any) -> str:
    response = await client.post(
        "/v1/links", headers=tenant.headers, json={"url": f"https://example.com/{slug}", "slug": slug, **fields}
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def analytics(client: httpx.AsyncClient, tenant: Tenant, **params: Any) -> Any:
    response = await client.get("/v1/analytics/clicks", headers=tenant.headers, params=params)
    assert response.status_code == 200, response.text
    return response.json()
