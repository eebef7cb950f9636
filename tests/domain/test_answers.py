"""What a domain answers besides links (PATCH /v1/domains/{id}): root, unknown slugs, expired links, robots,
app association files; the default short domain's from settings; bad input refused field by field."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from mask.app import MaskApp
from mask.models.link import Link
from tests.conftest import Tenant
from tests.domains import add_verified_domain
from tests.redirect.helpers import create_link

HOST = {"Host": "go.brand.test"}
AASA = {
    "applinks": {"details": [{"appIDs": ["ABCDE12345.com.brand.app"], "components": [{"/": "/app/*"}]}]},
    "webcredentials": {"apps": ["ABCDE12345.com.brand.app"]},
}
FINGERPRINT = ":".join(["14", "6D", "E9", "83"] * 8)
ASSET_LINKS = [
    {
        "relation": ["delegate_permission/common.handle_all_urls"],
        "target": {
            "namespace": "android_app",
            "package_name": "com.brand.app",
            "sha256_cert_fingerprints": [FINGERPRINT],
        },
    }
]


async def patch(client: httpx.AsyncClient, tenant: Tenant, domain_id: str, **body: Any) -> httpx.Response:
    return await client.patch(f"/v1/domains/{domain_id}", json=body, headers=tenant.headers)


async def test_root_unknown_slugs_and_expired_links_go_where_the_domain_says(
    client: httpx.AsyncClient, tenant: Tenant, app: MaskApp
) -> None:
    domain = await add_verified_domain(client, app, tenant, "go.brand.test")
    await create_link(
        client,
        tenant,
        slug="old",
        url="https://example.com/old",
        domain="go.brand.test",
        expires_at="2099-01-01T00:00:00Z",
    )
    assert (await client.get("/", headers=HOST)).status_code == 404
    assert (await client.get("/nope", headers=HOST)).status_code == 404

    response = await patch(
        client,
        tenant,
        domain["id"],
        root_url="https://brand.example",
        not_found_url="https://brand.example/404",
        expired_url="https://brand.example/expired",
    )
    assert response.status_code == 200, response.text
    assert response.json()["root_url"] == "https://brand.example/"
    root = await client.get("/", headers=HOST)
    assert (root.status_code, root.headers["location"]) == (302, "https://brand.example/")
    assert root.headers["x-robots-tag"] == "noindex"
    unknown = await client.get("/nope", headers=HOST)
    assert (unknown.status_code, unknown.headers["location"]) == (302, "https://brand.example/404")
    assert (await client.get("/a/b.c", headers=HOST)).headers["location"] == "https://brand.example/404"

    link = (await client.get("/v1/links", headers=tenant.headers)).json()["data"][0]
    async with app.context.sessionmaker() as session:  # expire it without waiting
        past = datetime(2000, 1, 1, tzinfo=UTC)
        await session.execute(update(Link).where(Link.id == link["id"]).values(expires_at=past))
        await session.commit()
    app.redirect.resolver.cache.clear()
    expired = await client.get("/old", headers=HOST)
    assert (expired.status_code, expired.headers["location"]) == (302, "https://brand.example/expired")

    cleared = await patch(client, tenant, domain["id"], root_url=None, not_found_url=None)
    assert cleared.json()["root_url"] is None and cleared.json()["expired_url"] == "https://brand.example/expired"
    assert (await client.get("/", headers=HOST)).status_code == 404


async def test_robots_deny_by_default_and_allow_when_asked(
    client: httpx.AsyncClient, tenant: Tenant, app: MaskApp
) -> None:
    domain = await add_verified_domain(client, app, tenant, "go.brand.test")
    await create_link(client, tenant, slug="go", url="https://example.com/", domain="go.brand.test")
    robots = await client.get("/robots.txt", headers=HOST)
    assert robots.status_code == 200 and robots.headers["content-type"].startswith("text/plain")
    assert robots.text == "User-agent: *\nDisallow: /\n"
    assert (await client.get("/go", headers=HOST)).headers["x-robots-tag"] == "noindex"

    assert (await patch(client, tenant, domain["id"], robots="allow")).json()["robots"] == "allow"
    assert (await client.get("/robots.txt", headers=HOST)).text == "User-agent: *\nDisallow:\n"
    assert "x-robots-tag" not in (await client.get("/go", headers=HOST)).headers


async def test_app_association_files_are_served_on_their_domain_only(
    client: httpx.AsyncClient, tenant: Tenant, app: MaskApp
) -> None:
    domain = await add_verified_domain(client, app, tenant, "go.brand.test")
    await add_verified_domain(client, app, tenant, "go.other.test")
    assert (await client.get("/.well-known/apple-app-site-association", headers=HOST)).status_code == 404
    response = await patch(client, tenant, domain["id"], apple_app_site_association=AASA, asset_links=ASSET_LINKS)
    assert response.status_code == 200, response.text
    apple = await client.get("/.well-known/apple-app-site-association", headers=HOST)
    assert apple.status_code == 200 and apple.headers["content-type"] == "application/json"
    assert apple.json() == AASA
    android = await client.get("/.well-known/assetlinks.json", headers=HOST)
    assert android.json() == ASSET_LINKS
    other = await client.get("/.well-known/assetlinks.json", headers={"Host": "go.other.test"})
    assert other.status_code == 404


@pytest.mark.parametrize(
    ("body", "param", "code"),
    [
        ({"root_url": "ftp://files.example"}, "root_url", "unsupported_scheme"),
        ({"root_url": "https://go.brand.test/x"}, "root_url", "redirect_loop"),
        ({"not_found_url": "http://localhost:8000/"}, "not_found_url", "redirect_loop"),
        ({"expired_url": "not a url"}, "expired_url", "invalid_url"),
        ({"robots": None}, "robots", "required"),
        ({"robots": "maybe"}, "robots", "literal_error"),
        (
            {"apple_app_site_association": {"applinks": {"details": [{"appIDs": ["nope"]}]}}},
            "apple_app_site_association",
            "invalid_association_file",
        ),
        ({"apple_app_site_association": {"unknown": {}}}, "apple_app_site_association", "invalid_association_file"),
        ({"apple_app_site_association": ["a list"]}, "apple_app_site_association", "dict_type"),
        (
            {
                "asset_links": [
                    {
                        "relation": ["x"],
                        "target": {
                            "namespace": "android_app",
                            "package_name": "com.x",
                            "sha256_cert_fingerprints": ["AB:CD"],
                        },
                    }
                ]
            },
            "asset_links",
            "invalid_association_file",
        ),
        ({"asset_links": []}, "asset_links", "invalid_association_file"),
        ({"colour": "red"}, "colour", "unknown_field"),
    ],
)
async def test_bad_settings_are_422_naming_the_field_and_change_nothing(
    client: httpx.AsyncClient, tenant: Tenant, app: MaskApp, body: dict[str, Any], param: str, code: str
) -> None:
    domain = await add_verified_domain(client, app, tenant, "go.brand.test")
    await patch(client, tenant, domain["id"], root_url="https://brand.example/")
    response = await patch(client, tenant, domain["id"], **body)
    assert response.status_code == 422, response.text
    errors = response.json()["error"]["errors"]
    assert errors[0]["param"].split(".")[0] == param and errors[0]["code"] == code, errors
    after = (await client.get(f"/v1/domains/{domain['id']}", headers=tenant.headers)).json()
    assert after["root_url"] == "https://brand.example/" and after["robots"] == "deny"


async def test_an_association_problem_says_where_it_is(client: httpx.AsyncClient, tenant: Tenant, app: MaskApp) -> None:
    domain = await add_verified_domain(client, app, tenant, "go.brand.test")
    bad = {"applinks": {"details": [{"appIDs": ["ABCDE12345.com.ok"], "components": [{"/": "/"}]}, {"appIDs": ["x"]}]}}
    response = await patch(client, tenant, domain["id"], apple_app_site_association=bad)
    assert "applinks.details[1].appIDs[0]" in response.json()["error"]["errors"][0]["message"]


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("co.uk", "public_suffix"),
        ("github.io", "public_suffix"),
        ("s3.amazonaws.com", "public_suffix"),
        ("192.0.2.1", "invalid_domain"),
        ("go.example.com:8443", "invalid_domain"),
    ],
)
async def test_public_suffixes_addresses_and_ports_are_not_domains(
    client: httpx.AsyncClient, tenant: Tenant, name: str, code: str
) -> None:
    response = await client.post("/v1/domains", json={"domain": name}, headers=tenant.headers)
    assert response.status_code == 422 and response.json()["error"]["param"] == "domain"
    assert response.json()["error"]["errors"][0]["code"] == code
    fine = await client.post("/v1/domains", json={"domain": "pages.user.github.io"}, headers=tenant.headers)
    assert fine.status_code == 201  # a name under a public suffix is someone's


class TestTheDefaultShortDomain:
    @pytest.fixture
    def settings_overrides(self, tmp_path: Path) -> dict[str, Any]:
        aasa, links = tmp_path / "aasa.json", tmp_path / "assetlinks.json"
        aasa.write_text(json.dumps(AASA))
        links.write_text(json.dumps(ASSET_LINKS))
        return {
            "root_url": "https://brand.example/home",
            "not_found_url": "https://brand.example/missing",
            "robots": "allow",
            "apple_app_site_association_file": str(aasa),
            "asset_links_file": str(links),
        }

    async def test_answers_from_its_settings(self, client: httpx.AsyncClient, tenant: Tenant) -> None:
        await create_link(client, tenant, slug="go", url="https://example.com/")
        root = await client.get("/")
        assert (root.status_code, root.headers["location"]) == (302, "https://brand.example/home")
        assert "x-robots-tag" not in root.headers
        assert (await client.get("/nope")).headers["location"] == "https://brand.example/missing"
        assert (await client.get("/robots.txt")).text == "User-agent: *\nDisallow:\n"
        assert (await client.get("/.well-known/apple-app-site-association")).json() == AASA
        assert (await client.get("/.well-known/assetlinks.json")).json() == ASSET_LINKS
        assert (await client.get("/go")).headers["location"] == "https://example.com/"
        assert (await client.get("/app/login")).status_code == 200  # the dashboard stays at /app
