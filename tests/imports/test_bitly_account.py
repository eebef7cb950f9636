"""Importing a Bitly account through its API v4 (a local stand-in server): every group, `search_after` pages,
custom back-halves on a mapped domain, tags, titles, creation dates, click totals kept apart, `429`s waited out,
a refused token ending the job with its reason, and the token forgotten afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from mask.app import MaskApp
from mask.db import session_scope
from mask.models.imports import Import, ImportedLinkStats
from tests.conftest import Tenant
from tests.domains import verify_domain
from tests.imports.bitly_server import TOKEN, BitlyAccount, bitlink, serve
from tests.imports.helpers import all_links, finished

ACCOUNT = BitlyAccount(groups={})


@pytest.fixture(scope="module")
def bitly_url() -> Iterator[str]:
    with serve(ACCOUNT) as url:
        yield url


@pytest.fixture
def settings_overrides(bitly_url: str) -> dict[str, Any]:
    return {"import_bitly_api_url": bitly_url}


def account_of_151_links() -> None:
    ACCOUNT.groups.clear()
    ACCOUNT.groups["Ba1"] = [bitlink(n, tags=["q1"] if n % 2 else []) for n in range(150)]
    ACCOUNT.groups["Bb2"] = [
        bitlink(
            999,
            custom_bitlinks=["https://go.brand.test/spring"],
            title="Spring sale",
            tags=["sale", "spring"],
            archived=True,
            created_at="2019-03-04T05:06:07+0000",
        )
    ]
    ACCOUNT.clicks.clear()
    ACCOUNT.clicks["bit.ly/3b00999"] = 1204
    ACCOUNT.rate_limit_once.clear()
    ACCOUNT.rate_limit_once.add("/v4/groups/Ba1/bitlinks?size=100&archived=both&search_after=100")
    ACCOUNT.limited = 0


async def test_every_group_and_page_of_a_bitly_account_is_imported(
    app: MaskApp, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    account_of_151_links()
    await verify_domain(app, tenant, "go.brand.test")
    response = await client.post(
        "/v1/imports",
        json={"source": "bitly", "token": TOKEN, "domains": {"bit.ly": "go.brand.test"}},
        headers=tenant.headers,
    )
    assert response.status_code == 202, response.text
    job = await finished(client, tenant, response.json()["id"])
    assert job["status"] == "completed", job
    assert job["counts"] == {"created": 151, "updated": 0, "skipped": 0, "failed": 0}
    assert job["progress"] == {"done": 151, "total": 151}
    assert ACCOUNT.limited == 1  # the 429 was waited out and the page asked again
    links = {link["slug"]: link for link in await all_links(client, tenant)}
    assert len(links) == 151
    assert links["3b00001"]["short_url"] == "https://go.brand.test/3b00001"
    assert links["3b00001"]["tags"] == ["q1"] and links["3b00001"]["title"] == "Item 1"
    spring = links["spring"]
    assert (spring["url"], spring["archived"], spring["tags"]) == (
        "https://shop.example/item/999",
        True,
        ["sale", "spring"],
    )
    assert spring["created_at"] == "2019-03-04T05:06:07Z" and spring["clicks"] == 0
    async with session_scope(app.context.sessionmaker) as session:
        stats = (
            await session.execute(select(ImportedLinkStats).where(ImportedLinkStats.link_id == spring["id"]))
        ).scalar_one()
        stored = (await session.execute(select(Import))).scalar_one()
    assert (stats.clicks, stats.source) == (1204, "bitly")
    assert stored.secret is None  # the token is not kept once the job ended


async def test_a_refused_token_fails_the_job_with_the_reason(client: httpx.AsyncClient, tenant: Tenant) -> None:
    account_of_151_links()
    response = await client.post("/v1/imports", json={"source": "bitly", "token": "wrong"}, headers=tenant.headers)
    job = await finished(client, tenant, response.json()["id"])
    assert job["status"] == "failed" and "403 FORBIDDEN" in job["error"]
    assert await all_links(client, tenant) == []


async def test_a_group_that_is_not_the_accounts_is_refused(client: httpx.AsyncClient, tenant: Tenant) -> None:
    account_of_151_links()
    response = await client.post(
        "/v1/imports", json={"source": "bitly", "token": TOKEN, "group_guid": "Bzz"}, headers=tenant.headers
    )
    job = await finished(client, tenant, response.json()["id"])
    assert job["status"] == "failed" and "Bzz" in job["error"]
