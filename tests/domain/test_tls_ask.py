"""`GET /internal/tls/allowed?domain=` (Caddy's on-demand TLS `ask`): yes only for verified domains and the
default short domain, asked only by MASK_TRUSTED_PROXIES (tests/domain/conftest.py trusts 127.0.0.1)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from mask.app import MaskApp
from tests.conftest import TenantFactory
from tests.domain.conftest import add
from tests.domains import verify_domain

ASK = "/internal/tls/allowed"


@pytest.fixture
async def proxy(app: MaskApp) -> AsyncIterator[httpx.AsyncClient]:
    """The TLS proxy: MASK sees it connect from 127.0.0.1 (a trusted proxy)."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=("127.0.0.1", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as http:
        yield http


async def test_only_verified_domains_and_the_default_short_domain_get_a_certificate(
    proxy: httpx.AsyncClient, client: httpx.AsyncClient, make_tenant: TenantFactory, app: MaskApp
) -> None:
    owner, squatter = await make_tenant(), await make_tenant()
    await add(client, squatter, "go.brand.test")  # a pending claim by another workspace changes nothing
    await verify_domain(app, owner, "go.brand.test")
    await add(client, owner, "go.pending.test")
    await add(client, squatter, "go.squatted.test")
    answers = {
        name: (await proxy.get(ASK, params={"domain": name})).status_code
        for name in ("go.brand.test", "GO.BRAND.TEST.", "localhost", "go.pending.test", "go.squatted.test")
    }
    assert answers == {
        "go.brand.test": 200,
        "GO.BRAND.TEST.": 200,
        "localhost": 200,
        "go.pending.test": 404,
        "go.squatted.test": 404,
    }
    for name in ("unknown.test", "127.0.0.1", "x" * 300):
        assert (await proxy.get(ASK, params={"domain": name})).status_code == 404, name
    missing = await proxy.get(ASK)
    assert missing.status_code == 400 and missing.json()["allowed"] is False


async def test_a_newly_verified_domain_is_allowed_at_once(
    proxy: httpx.AsyncClient, client: httpx.AsyncClient, make_tenant: TenantFactory, app: MaskApp
) -> None:
    tenant = await make_tenant()
    await add(client, tenant, "go.new.test")
    assert (await proxy.get(ASK, params={"domain": "go.new.test"})).status_code == 404  # cached as not serving
    await verify_domain(app, tenant, "go.new.test")
    assert (await proxy.get(ASK, params={"domain": "go.new.test"})).status_code == 200


async def test_anyone_but_a_trusted_proxy_is_refused_on_every_host(
    client: httpx.AsyncClient, proxy: httpx.AsyncClient, make_tenant: TenantFactory, app: MaskApp
) -> None:
    tenant = await make_tenant()
    await verify_domain(app, tenant, "go.brand.test")
    # `client` connects from 203.0.113.10, which is no proxy of ours; a forwarded address does not count.
    for host in ("localhost:8000", "go.brand.test"):
        refused = await client.get(
            ASK, params={"domain": "go.brand.test"}, headers={"Host": host, "X-Forwarded-For": "127.0.0.1"}
        )
        assert refused.status_code == 403 and refused.json()["allowed"] is False
    on_custom_host = await proxy.get(ASK, params={"domain": "go.brand.test"}, headers={"Host": "go.brand.test"})
    assert on_custom_host.status_code == 200
    assert (await proxy.post(ASK, params={"domain": "go.brand.test"})).status_code == 405
    assert (await proxy.get("/internal/other")).status_code == 404
