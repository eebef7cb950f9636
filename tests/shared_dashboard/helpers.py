"""Reading a shared page's numbers back out of its HTML, and seeding two workspaces' clicks."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx

from mask.app import MaskApp
from tests.analytics.helpers import click, create_link, record
from tests.conftest import Tenant

SECRET_REFERRER_URL = "https://news.example/private-article?token=abc123"


def path_of(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def total(html: str, name: str = "clicks") -> int:
    found = re.search(rf'data-total="{name}">([\d,]+)<', html)
    assert found is not None, html
    return int(found.group(1).replace(",", ""))


def breakdown(html: str, title: str) -> dict[str, int]:
    """{label: clicks} of one breakdown card."""
    section = re.search(rf'<section class="card breakdown" aria-label="{title}">(.*?)</section>', html, re.S)
    assert section is not None, f"no {title} card"
    rows = re.findall(r'<span class="bar-label">([^<]*)</span>\s*<span class="count"[^>]*>([\d,]+)</span>', section[1])
    return {label: int(count.replace(",", "")) for label, count in rows}


@dataclass
class Seeded:
    alpha: str  # link in the first workspace, tagged "spring": 3 human clicks, 2 bots
    beta: str  # link in the first workspace, tagged "spring", clicked through go.brand.test: 5 human clicks
    gamma: str  # the other workspace's link, tagged "spring" there too: 7 human clicks
    bio_page_id: str  # the first workspace's bio page: 2 block clicks, 4 views


async def seed(app: MaskApp, client: httpx.AsyncClient, tenant: Tenant, other: Tenant) -> Seeded:
    alpha = await create_link(client, tenant, "alpha", tags=["spring"])
    beta = await create_link(client, tenant, "beta", tags=["spring"])
    gamma = await create_link(client, other, "gamma", tags=["spring"])
    domain = await client.post("/v1/domains", json={"domain": "go.brand.test"}, headers=tenant.headers)
    assert domain.status_code == 201, domain.text
    page = await client.post("/v1/bio-pages", json={"handle": "ada"}, headers=tenant.headers)
    assert page.status_code == 201, page.text
    bio_page_id = page.json()["id"]
    when = datetime.now(UTC) - timedelta(hours=1)
    clicks = [
        click(tenant, when, link_id=alpha, country="DE", referrer="news.example", referrer_url=SECRET_REFERRER_URL),
        click(tenant, when, link_id=alpha, country="DE", device="mobile", browser="Firefox", os="Android"),
        click(tenant, when, link_id=alpha, country="FR", utm_source="newsletter", utm_campaign="spring-sale"),
        click(tenant, when, link_id=alpha, country="US", is_bot=True, referrer="bot.example"),
        click(tenant, when, link_id=alpha, country="US", is_bot=True),
        *[
            click(tenant, when, link_id=beta, country="JP", domain="go.brand.test", referrer="beta-ref.example")
            for _ in range(5)
        ],
        *[click(other, when, link_id=gamma, country="BR", referrer="other-workspace.example") for _ in range(7)],
        *[
            click(tenant, when, bio_page_id=bio_page_id, bio_block_id="blk_one", trigger="bio", country="IT")
            for _ in range(2)
        ],
        *[click(tenant, when, bio_page_id=bio_page_id, country="IT") for _ in range(4)],  # views, not clicks
    ]
    await record(app, clicks)
    return Seeded(alpha=alpha, beta=beta, gamma=gamma, bio_page_id=bio_page_id)
