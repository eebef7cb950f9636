"""Custom domains in tests: a claim through the API, verified by the operator's word (no DNS needed), the way
`mask domains add --verified` does it. Tests of DNS verification itself are in tests/domain/."""

from __future__ import annotations

from typing import Any

import httpx

from mask.app import MaskApp
from mask.db import session_scope
from mask.domain import service as domain_service
from tests.conftest import Tenant


async def verify_domain(app: MaskApp, tenant: Tenant, name: str) -> None:
    """Mark the tenant's claim of `name` verified (adding it if needed); its links answer from now on."""
    async with session_scope(app.context.sessionmaker) as session:
        await domain_service.operator_verify(
            session, settings=app.context.settings, workspace_id=tenant.workspace_id, name=name
        )


async def add_verified_domain(client: httpx.AsyncClient, app: MaskApp, tenant: Tenant, name: str) -> dict[str, Any]:
    """POST /v1/domains, then verify the claim; the domain as the API shows it."""
    response = await client.post("/v1/domains", json={"domain": name}, headers=tenant.headers)
    assert response.status_code == 201, response.text
    await verify_domain(app, tenant, name)
    fresh = await client.get(f"/v1/domains/{response.json()['id']}", headers=tenant.headers)
    data: dict[str, Any] = fresh.json()
    return data
