"""The domain pages: records to create with copy buttons, status and last check, "Check now", per-domain
settings; the links list marks links whose domain is not verified."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from mask.app import MaskApp
from mask.db import session_scope
from mask.models.domain import Domain
from tests.dashboard.conftest import make_person
from tests.dns_zone import Zone, dns_server


@pytest.fixture(scope="module")
def dns() -> Iterator[tuple[Zone, str]]:
    with dns_server() as server:
        yield server


@pytest.fixture
def settings_overrides(dns: tuple[Zone, str]) -> dict[str, Any]:
    return {"dns_resolvers": [dns[1]], "dns_timeout": 1.0, "cname_target": "edge.mask.test"}


async def test_a_domain_page_shows_the_records_checks_now_and_saves_settings(
    app: MaskApp, dns: tuple[Zone, str]
) -> None:
    zone = dns[0]
    person = await make_person(app, "ada@example.com")
    added = await person.post(f"{person.base}/domains", {"domain": "go.dash.test"})
    assert added.status_code == 303
    detail_url = added.headers["location"].split("?")[0]
    page = await person.http.get(detail_url)
    async with session_scope(app.context.sessionmaker) as session:
        token = (await session.execute(select(Domain.verification_token))).scalar_one()
    assert "Pending verification" in page.text and "do not answer until it is verified" in page.text
    assert 'data-copy="_mask-challenge.go.dash.test"' in page.text
    assert f'data-copy="mask-verify={token}"' in page.text
    assert 'data-copy="edge.mask.test"' in page.text

    await person.post(f"{person.base}/links", {"url": "https://example.com/", "slug": "x", "domain": "go.dash.test"})
    links = await person.http.get(f"{person.base}/links")
    assert "Domain not verified" in links.text

    checked = await person.post(f"{detail_url}/verify", form_page=detail_url)
    assert checked.status_code == 303 and "done=domain-checked" in checked.headers["location"]
    assert "No TXT record at" in (await person.http.get(detail_url)).text

    zone.set("_mask-challenge.go.dash.test", "TXT", f"mask-verify={token}")
    verified = await person.post(f"{detail_url}/verify", form_page=detail_url)
    assert "done=domain-verified" in verified.headers["location"]
    page = await person.http.get(detail_url)
    assert "Verified" in page.text and "last checked just now" in page.text
    assert "Domain not verified" not in (await person.http.get(f"{person.base}/links")).text

    saved = await person.post(
        detail_url,
        {"root_url": "https://brand.example", "robots": "allow", "apple_app_site_association": "", "asset_links": ""},
        form_page=detail_url,
    )
    assert saved.status_code == 303
    assert 'value="https://brand.example/"' in (await person.http.get(detail_url)).text
    bad = await person.post(
        detail_url, {"root_url": "ftp://x", "apple_app_site_association": "{not json"}, form_page=detail_url
    )
    assert bad.status_code == 422
    assert re.search(r'id="e-apple_app_site_association">This is not valid JSON', bad.text)
    zone.records.clear()


async def test_a_claim_released_to_another_workspace_is_announced(app: MaskApp, dns: tuple[Zone, str]) -> None:
    zone = dns[0]
    squatter = await make_person(app, "sam@example.com")
    owner = await make_person(app, "ada@example.com")
    await squatter.post(f"{squatter.base}/domains", {"domain": "go.contested.test"})
    added = await owner.post(f"{owner.base}/domains", {"domain": "go.contested.test"})
    detail_url = added.headers["location"].split("?")[0]
    async with session_scope(app.context.sessionmaker) as session:
        rows = (await session.execute(select(Domain))).scalars().all()
        token = next(row.verification_token for row in rows if detail_url.endswith(row.id))
    zone.set("_mask-challenge.go.contested.test", "TXT", f"mask-verify={token}")
    await owner.post(f"{detail_url}/verify", form_page=detail_url)
    page = await squatter.http.get(f"{squatter.base}/domains")
    assert "Claimed elsewhere" in page.text and "Another workspace proved it owns" in page.text
    zone.records.clear()


async def test_the_default_domain_is_chosen_among_verified_domains_and_preselected(app: MaskApp) -> None:
    person = await make_person(app, "grace@example.com")
    added = await person.post(f"{person.base}/domains", {"domain": "go.grace.test"})
    assert added.status_code == 303
    page = await person.http.get(f"{person.base}/domains")
    assert "Default domain" not in page.text  # nothing verified yet: nothing to choose
    async with session_scope(app.context.sessionmaker) as session:
        claim = (await session.execute(select(Domain))).scalar_one()
        claim.verified, claim.verification_status = True, "verified"
    page = await person.http.get(f"{person.base}/domains")
    assert '<option value="go.grace.test">' in page.text
    chosen = await person.post(
        f"{person.base}/settings/default-domain",
        {"default_domain": "go.grace.test"},
        form_page=f"{person.base}/domains",
    )
    assert chosen.status_code == 303 and "done=default-domain-set" in chosen.headers["location"]
    form = await person.http.get(f"{person.base}/links/new")
    assert '<option value="go.grace.test" selected>' in form.text
    created = await person.post(f"{person.base}/links", {"url": "https://example.com/", "slug": "g"})
    assert created.status_code == 303
    links = await person.http.get(f"{person.base}/links")
    assert "go.grace.test/g" in links.text
    refused = await person.post(
        f"{person.base}/settings/default-domain",
        {"default_domain": "elsewhere.test"},
        form_page=f"{person.base}/domains",
    )
    assert refused.status_code == 422 and "not one of this workspace" in refused.text
