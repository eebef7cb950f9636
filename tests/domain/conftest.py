"""Domain tests: MASK's DNS lookups go to a real DNS server on loopback (tests/dns_zone.py), never elsewhere."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from mask.app import MaskApp
from mask.db import session_scope
from mask.domain.tasks import DomainChecker
from mask.models.event import Event
from tests.conftest import Tenant
from tests.dns_zone import Zone, dns_server

CNAME_TARGET = "edge.mask.test"
PUBLIC_IPS = ["203.0.113.7", "2001:db8::7"]


@pytest.fixture(scope="session")
def dns() -> Iterator[tuple[Zone, str]]:
    with dns_server() as server:
        yield server


@pytest.fixture
def zone(dns: tuple[Zone, str]) -> Iterator[Zone]:
    zone = dns[0]
    yield zone
    zone.records.clear()
    zone.servfail.clear()
    zone.silent.clear()


@pytest.fixture
def settings_overrides(dns: tuple[Zone, str]) -> dict[str, Any]:
    return {
        "dns_resolvers": [dns[1]],
        "dns_timeout": 3.0,  # generous on a busy machine; the silent name's test waits this long
        "cname_target": CNAME_TARGET,
        "public_ips": PUBLIC_IPS,
        "trusted_proxies": ["127.0.0.1"],
    }


def publish(zone: Zone, domain: dict[str, Any]) -> None:
    """Create the TXT record the API asked for."""
    record = domain["verification"]["record"]
    zone.set(record["name"], "TXT", record["value"])


async def add(client: httpx.AsyncClient, tenant: Tenant, name: str) -> dict[str, Any]:
    response = await client.post("/v1/domains", json={"domain": name}, headers=tenant.headers)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


async def verify(client: httpx.AsyncClient, tenant: Tenant, domain_id: str) -> dict[str, Any]:
    response = await client.post(f"/v1/domains/{domain_id}/verify", headers=tenant.headers)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def checker_of(app: MaskApp) -> DomainChecker:
    assert app.services.domain_checker is not None
    return app.services.domain_checker


async def events(app: MaskApp, workspace_id: str, kind: str) -> list[dict[str, Any]]:
    async with session_scope(app.context.sessionmaker) as session:
        rows = await session.execute(
            select(Event.data).where(Event.workspace_id == workspace_id, Event.type == kind).order_by(Event.id)
        )
        return [dict(row) for row in rows.scalars()]
