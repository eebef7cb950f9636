"""Click totals imported from another shortener are shown apart from MASK's own clicks: `imported_clicks` on the
link, on a one-link analytics count, and as a separate line in the dashboard; never added to `clicks`."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from mask.app import MaskApp
from mask.db import session_scope
from mask.models.imports import ImportedLinkStats
from mask.models.link import Link
from tests.analytics.helpers import analytics, at, click, record
from tests.conftest import Tenant, TenantFactory
from tests.dashboard.conftest import make_person
from tests.domains import verify_domain
from tests.imports.helpers import all_links, run

BITLY = (
    b"Title,Long URL,Bitly link,Custom Bitly link,Date Created,Tags,Clicks\r\n"
    b"Spring,https://shop.example/spring,https://bit.ly/3abcDEF,go.brand.test/spring,2021-06-01T10:00:00+0000,,1204\r\n"
    b"Quiet,https://shop.example/quiet,https://bit.ly/quiet,,2021-06-01T10:00:00+0000,,0\r\n"
)


async def _imported(app: MaskApp, client: httpx.AsyncClient, tenant: Tenant) -> tuple[dict[str, Any], dict[str, Any]]:
    await verify_domain(app, tenant, "go.brand.test")
    job = await run(client, tenant, BITLY, source="bitly-csv", domains={"bit.ly": "go.brand.test"})
    assert job["counts"]["created"] == 2, job
    return {link["slug"]: link for link in await all_links(client, tenant)}, job


async def test_imported_totals_are_on_the_link_and_never_in_its_clicks(
    app: MaskApp, client: httpx.AsyncClient, tenant: Tenant, make_tenant: TenantFactory
) -> None:
    links, job = await _imported(app, client, tenant)
    spring, quiet = links["spring"]["id"], links["quiet"]["id"]
    expected = {"clicks": 1204, "source": "bitly-csv", "imported_at": job["created_at"]}
    got = (await client.get(f"/v1/links/{spring}", headers=tenant.headers)).json()
    assert got["imported_clicks"] == expected and got["clicks"] == 0
    assert (await client.get(f"/v1/links/{quiet}", headers=tenant.headers)).json()["imported_clicks"] is None
    listed = {link["id"]: link for link in (await client.get("/v1/links", headers=tenant.headers)).json()["data"]}
    assert listed[spring]["imported_clicks"] == expected and listed[quiet]["imported_clicks"] is None
    patched = await client.patch(f"/v1/links/{spring}", headers=tenant.headers, json={"title": "Spring sale"})
    assert patched.status_code == 200 and patched.json()["imported_clicks"] == expected

    await record(app, [click(tenant, at("2026-03-07T10:00"), link_id=spring, domain="go.brand.test")])
    assert (await client.get(f"/v1/links/{spring}", headers=tenant.headers)).json()["clicks"] == 1
    one_link = await analytics(client, tenant, group_by="count", interval="all", link_id=spring)
    assert one_link == {"clicks": 1, "unique_clicks": 1, "imported_clicks": expected}
    assert await analytics(client, tenant, group_by="count", interval="all") == {"clicks": 1, "unique_clicks": 1}
    series = await analytics(client, tenant, group_by="timeseries", interval="all", link_id=spring)
    assert sum(point["clicks"] for point in series["data"]) == 1

    # Deleting the link's clicks deletes MASK's clicks only.
    assert (await client.delete(f"/v1/links/{spring}/clicks", headers=tenant.headers)).status_code == 204
    after = (await client.get(f"/v1/links/{spring}", headers=tenant.headers)).json()
    assert after["clicks"] == 0 and after["imported_clicks"] == expected

    other = await make_tenant()
    assert (await client.get(f"/v1/links/{spring}", headers=other.headers)).status_code == 404
    refused = await client.get(
        "/v1/analytics/clicks", headers=other.headers, params={"group_by": "count", "link_id": spring}
    )
    assert refused.status_code == 404


async def test_the_dashboard_shows_imported_clicks_as_a_separate_line(app: MaskApp) -> None:
    person = await make_person(app, "ada@example.com")
    created = await person.post(f"{person.base}/links", {"url": "https://example.com/", "slug": "moved"})
    assert created.status_code == 303
    async with session_scope(app.context.sessionmaker) as session:
        link = (await session.execute(select(Link).where(Link.slug == "moved"))).scalar_one()
        session.add(ImportedLinkStats(link_id=link.id, workspace_id=link.workspace_id, source="bitly", clicks=1204))
    page = await person.http.get(f"{person.base}/analytics", params={"link_id": link.id})
    assert page.status_code == 200
    assert "+ 1,204 clicks imported from Bitly" in page.text
    assert "kept" in page.text  # the "Clear click data" section says imported totals stay
    detail = await person.http.get(f"{person.base}/links/{link.id}")  # the link's own page, same report
    assert detail.status_code == 200 and "+ 1,204 clicks imported from Bitly" in detail.text
    workspace = await person.http.get(f"{person.base}/analytics")
    assert "clicks imported from" not in workspace.text
