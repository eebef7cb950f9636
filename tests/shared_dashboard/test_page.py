"""The public page /share/<token>: exactly its object's human clicks, nothing of other links or workspaces, no
referrer URLs, no way into the dashboard, noindex, and one 404 for every dead address."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import text

from mask.analytics import service as analytics_service
from mask.app import MaskApp
from mask.db import session_scope
from tests.conftest import Tenant, TenantFactory
from tests.redirect.helpers import BROWSER
from tests.shared_dashboard.helpers import SECRET_REFERRER_URL, breakdown, path_of, seed, total


async def open_share(client: httpx.AsyncClient, tenant: Tenant, **body: object) -> str:
    response = await client.post("/v1/shared-dashboards", headers=tenant.headers, json=body)
    assert response.status_code == 201, response.text
    return path_of(response.json()["url"])


async def test_a_link_page_shows_exactly_its_human_clicks_and_nothing_else(
    app: MaskApp, client: httpx.AsyncClient, tenant: Tenant, make_tenant: TenantFactory
) -> None:
    other = await make_tenant(plan="enterprise", slug="othercorp")
    seeded = await seed(app, client, tenant, other)
    path = await open_share(client, tenant, link_id=seeded.alpha)
    response = await client.get(path)
    assert response.status_code == 200, response.text
    html = response.text
    assert total(html) == 3 and total(html, "unique") == 3  # the two bot clicks left out
    assert breakdown(html, "Countries") == {"DE": 2, "FR": 1}
    assert breakdown(html, "Referrers") == {"Direct / none": 2, "news.example": 1}
    assert breakdown(html, "UTM sources") == {"Direct / none": 2, "newsletter": 1}
    assert breakdown(html, "UTM campaigns") == {"Unknown": 2, "spring-sale": 1}
    assert breakdown(html, "Devices")["mobile"] == 1
    # Nothing of the other link, the other workspace, the bots; no referrer URL; no way into the dashboard.
    for leaked in ("JP", "BR", "US", "beta-ref", "other-workspace", "bot.example", "othercorp", tenant.slug):
        assert leaked not in html, leaked
    assert SECRET_REFERRER_URL not in html and "private-article" not in html
    targets = re.findall(r'(?:href|src|action)="([^"]*)"', html)
    assert targets and all(t.startswith(("/app/static/", f"{path}?", "#")) for t in targets), targets
    assert "localhost:8000/alpha" in html  # the page names its link when no title was given
    # No stats page per link to guess (`/alpha+` and the like): only the random /share/<token> shows numbers.
    for guess in ("/alpha+", "/alpha/stats", "/share/alpha", f"/share/{seeded.alpha}"):
        answer = await client.get(guess)
        assert answer.status_code == 404 and "data-total" not in answer.text, guess


async def test_the_period_selector_changes_the_range(
    app: MaskApp, client: httpx.AsyncClient, tenant: Tenant, make_tenant: TenantFactory
) -> None:
    other = await make_tenant(plan="enterprise")
    seeded = await seed(app, client, tenant, other)
    path = await open_share(client, tenant, link_id=seeded.alpha, title="Spring launch")
    async with session_scope(app.context.sessionmaker) as session:  # two old human clicks, 20 days ago
        await session.execute(
            text("UPDATE clicks SET clicked_at = :at WHERE link_id = :link AND country = 'DE'"),
            {"at": datetime.now(UTC) - timedelta(days=20), "link": seeded.alpha},
        )
    async with session_scope(app.context.sessionmaker) as session:
        await analytics_service.rebuild_rollups(session, workspace_id=tenant.workspace_id)
    last_day = await client.get(path, params={"interval": "24h"})
    month = await client.get(path, params={"interval": "30d"})
    assert total(last_day.text) == 1 and total(month.text) == 3
    assert 'aria-current="true">24 hours' in last_day.text
    assert "Spring launch" in month.text
    assert total((await client.get(path, params={"interval": "nonsense"})).text) == 3  # the default, 30 days


async def test_tag_domain_and_bio_page_pages_count_only_their_clicks(
    app: MaskApp, client: httpx.AsyncClient, tenant: Tenant, make_tenant: TenantFactory
) -> None:
    other = await make_tenant(plan="enterprise")
    seeded = await seed(app, client, tenant, other)
    tag_page = (await client.get(await open_share(client, tenant, tag="spring"))).text
    assert total(tag_page) == 8  # alpha's 3 and beta's 5; not the other workspace's "spring" link
    assert breakdown(tag_page, "Countries") == {"JP": 5, "DE": 2, "FR": 1}
    domain_page = (await client.get(await open_share(client, tenant, domain="go.brand.test"))).text
    assert total(domain_page) == 5 and breakdown(domain_page, "Countries") == {"JP": 5}
    bio_page = (await client.get(await open_share(client, tenant, bio_page_id=seeded.bio_page_id))).text
    assert total(bio_page) == 2 and breakdown(bio_page, "Countries") == {"IT": 2}
    other_page = (await client.get(await open_share(client, other, link_id=seeded.gamma))).text
    assert total(other_page) == 7 and breakdown(other_page, "Countries") == {"BR": 7}


async def test_every_answer_is_noindex_no_referrer_and_never_cached(client: httpx.AsyncClient, tenant: Tenant) -> None:
    link = await client.post("/v1/links", headers=tenant.headers, json={"url": "https://example.com/x", "slug": "x"})
    path = await open_share(client, tenant, link_id=link.json()["id"])
    for response in (await client.get(path), await client.get("/share/not-a-token")):
        assert response.headers["x-robots-tag"].startswith("noindex")
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["cache-control"] == "no-store"
        assert '<meta name="robots" content="noindex, nofollow">' in response.text
    empty = await client.get(path)
    assert total(empty.text) == 0 and "No visits in this range." in empty.text


async def test_unknown_rotated_revoked_expired_and_orphaned_addresses_are_the_same_404(
    app: MaskApp, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    links = [
        (await client.post("/v1/links", headers=tenant.headers, json={"url": "https://example.com/", "slug": s})).json()
        for s in ("r1", "r2", "r3", "r4")
    ]
    created = [
        (await client.post("/v1/shared-dashboards", headers=tenant.headers, json={"link_id": link["id"]})).json()
        for link in links
    ]
    rotated, revoked, expired, _orphaned = created  # the last one: its link is deleted below
    assert (await client.post(f"/v1/shared-dashboards/{rotated['id']}/rotate", headers=tenant.headers)).is_success
    assert (await client.delete(f"/v1/shared-dashboards/{revoked['id']}", headers=tenant.headers)).is_success
    async with session_scope(app.context.sessionmaker) as session:
        await session.execute(
            text("UPDATE shared_dashboards SET expires_at = :at WHERE id = :id"),
            {"at": datetime.now(UTC) - timedelta(seconds=1), "id": expired["id"]},
        )
    assert (await client.delete(f"/v1/links/{links[3]['id']}", headers=tenant.headers)).is_success
    unknown = await client.get("/share/" + "A" * 43)
    assert unknown.status_code == 404
    for other in ("/share/", "/share/a/b", "/share/" + "A" * 300):
        response = await client.get(other)
        assert (response.status_code, response.text) == (404, unknown.text), other
        assert response.headers["x-robots-tag"].startswith("noindex")
    for item in created:
        response = await client.get(path_of(item["url"]))
        assert response.status_code == 404 and response.text == unknown.text
    listed = (await client.get(f"/v1/shared-dashboards/{expired['id']}", headers=tenant.headers)).json()
    assert listed["expired"] is True


async def test_the_page_is_served_on_the_app_host_only(client: httpx.AsyncClient, tenant: Tenant) -> None:
    """A workspace's own domain serves its short links under every path: /share/… there is a short link lookup."""
    link = await client.post("/v1/links", headers=tenant.headers, json={"url": "https://example.com/", "slug": "h"})
    path = await open_share(client, tenant, link_id=link.json()["id"])
    assert (await client.get(path)).status_code == 200
    elsewhere = await client.get(path, headers={"host": "go.brand.test"})
    assert elsewhere.status_code == 404 and "data-total" not in elsewhere.text


async def test_a_short_link_named_share_still_redirects_on_the_app_host(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    made = await client.post(
        "/v1/links", headers=tenant.headers, json={"url": "https://example.com/s", "slug": "share"}
    )
    assert made.status_code == 201, made.text
    response = await client.get("/share", headers={"User-Agent": BROWSER})
    assert response.status_code == 302 and response.headers["location"] == "https://example.com/s"
