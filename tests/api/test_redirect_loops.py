"""A destination that leads back to MASK is refused however it is spelt: a browser would loop through it,
each pass a click and a webhook event. Hosts are compared after WHATWG normalisation, without the trailing dot;
for a loopback short domain, every loopback name and address on its port is MASK."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from mask.app import MaskApp
from mask.bootstrap import create_app
from mask.config import Settings
from tests.conftest import Tenant, TenantFactory
from tests.domains import verify_domain

LOOPS_TO_THE_LOCAL_SHORT_DOMAIN = [
    "http://localhost:8000/x",
    "HTTP://LOCALHOST:8000/x",
    "http://localhost.:8000/x",
    "http://app.localhost:8000/x",
    "http://127.0.0.1:8000/x",
    "http://127.1:8000/x",
    "http://0x7f000001:8000/x",
    "http://2130706433:8000/x",
    "http://127.0.0.2:8000/x",
    "http://[::1]:8000/x",
    "http://[0:0:0:0:0:0:0:1]:8000/x",
]


async def _refused(client: httpx.AsyncClient, tenant: Tenant, body: dict[str, Any]) -> dict[str, str]:
    response = await client.post("/v1/links", json=body, headers=tenant.headers)
    assert response.status_code == 422, response.text
    return {error["param"]: error["code"] for error in response.json()["error"]["errors"]}


@pytest.mark.parametrize("url", LOOPS_TO_THE_LOCAL_SHORT_DOMAIN)
async def test_every_spelling_of_the_local_short_domain_is_a_loop(
    client: httpx.AsyncClient, tenant: Tenant, url: str
) -> None:
    assert await _refused(client, tenant, {"url": url}) == {"url": "redirect_loop"}
    assert await _refused(client, tenant, {"url": "https://example.com/", "expired_url": url}) == {
        "expired_url": "redirect_loop"
    }


async def test_another_port_on_this_machine_is_not_mask(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await client.post("/v1/links", json={"url": "http://127.0.0.1:9999/x"}, headers=tenant.headers)
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    "url",
    [
        "https://go.brand.test./x",
        "https://go.brand.test%2e/x",
        "HTTPS://GO.BRAND.TEST./x",
        "http://go.brand.test:8080/",
    ],
)
async def test_every_spelling_of_a_verified_workspace_domain_is_a_loop(
    client: httpx.AsyncClient, make_tenant: TenantFactory, url: str, app: MaskApp
) -> None:
    owner, other = await make_tenant(), await make_tenant()
    assert (
        await client.post("/v1/domains", json={"domain": "go.brand.test"}, headers=owner.headers)
    ).status_code == 201
    # A mere claim serves nothing: it must not forbid links to the site (a squatter would block its owner).
    pending = await client.post("/v1/links", json={"url": url}, headers=other.headers)
    assert pending.status_code == 201, pending.text
    await verify_domain(app, owner, "go.brand.test")
    assert await _refused(client, other, {"url": url}) == {"url": "redirect_loop"}
    page = await client.post(
        "/v1/bio-pages",
        json={"handle": "loops", "blocks": [{"type": "link", "title": "Back", "url": url}]},
        headers=other.headers,
    )
    assert page.status_code == 422
    assert {e["param"]: e["code"] for e in page.json()["error"]["errors"]} == {"blocks.0.url": "redirect_loop"}


@pytest.fixture
async def production_like(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """MASK on a real short domain without a port (`sho.rt`), as in production."""
    app = create_app(settings.model_copy(update={"short_domain": "sho.rt"}))
    await app.context.startup()
    transport = httpx.ASGITransport(app=app, client=("203.0.113.10", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://sho.rt") as http:
        yield http
    await app.context.shutdown()


@pytest.mark.parametrize("url", ["HTTPS://SHO.RT./x", "https://sho.rt./x", "http://Sho.Rt/x", "https://sho.rt:8443/x"])
async def test_every_spelling_of_a_production_short_domain_is_a_loop(
    production_like: httpx.AsyncClient, make_tenant: TenantFactory, url: str
) -> None:
    tenant = await make_tenant()
    assert await _refused(production_like, tenant, {"url": url}) == {"url": "redirect_loop"}


async def test_every_url_field_is_loop_checked_on_update_too_and_bio_images(
    production_like: httpx.AsyncClient, make_tenant: TenantFactory
) -> None:
    """`url` and `expired_url` on PATCH, and a bio page's images (each view would be a click)."""
    tenant = await make_tenant()
    link = await production_like.post("/v1/links", json={"url": "https://example.com/"}, headers=tenant.headers)
    assert link.status_code == 201, link.text
    for field in ("url", "expired_url"):
        response = await production_like.patch(
            f"/v1/links/{link.json()['id']}", json={field: "HTTPS://SHO.RT./x"}, headers=tenant.headers
        )
        assert response.status_code == 422, response.text
        assert {e["param"]: e["code"] for e in response.json()["error"]["errors"]} == {field: "redirect_loop"}
    for field in ("avatar_url", "og_image_url"):
        response = await production_like.post(
            "/v1/bio-pages", json={"handle": "pics", field: "https://sho.rt./me.png"}, headers=tenant.headers
        )
        assert response.status_code == 422, response.text
        assert {e["param"]: e["code"] for e in response.json()["error"]["errors"]} == {field: "redirect_loop"}
