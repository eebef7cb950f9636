"""GET /v1/analytics/views: page views through the click pipeline, with the click analytics' options."""

from __future__ import annotations

import httpx

from mask.app import MaskApp
from tests.bio_page.conftest import CHROME, GOOGLEBOT, create_page, flush_clicks
from tests.conftest import Tenant, TenantFactory

OTHER_BROWSER = {
    "User-Agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.5 Safari/605.1.15"
}


async def _traffic(
    client: httpx.AsyncClient, public: httpx.AsyncClient, tenant: Tenant, app: MaskApp
) -> dict[str, str]:
    """Two pages; `ada` gets 3 human views (2 visitors), a bot view, a HEAD and 2 block clicks."""
    ada = await create_page(client, tenant)
    bob = await create_page(client, tenant, handle="bob")
    await public.get("/@ada")
    await public.get("/@ada")
    await public.get("/@ada", headers=OTHER_BROWSER)
    await public.get("/@ada", headers=GOOGLEBOT)
    await public.head("/@ada")
    await public.get(f"/@ada/b/{ada['blocks'][0]['id']}")
    await public.get(f"/@ada/b/{ada['blocks'][4]['id']}", headers=OTHER_BROWSER)
    await public.get("/@bob")
    await flush_clicks(app)
    return {"ada": ada["id"], "bob": bob["id"]}


async def views(client: httpx.AsyncClient, tenant: Tenant, **params: str) -> httpx.Response:
    return await client.get("/v1/analytics/views", params=params, headers=tenant.headers)


async def test_views_count_humans_apart_from_clicks(
    client: httpx.AsyncClient, public: httpx.AsyncClient, tenant: Tenant, app: MaskApp
) -> None:
    ids = await _traffic(client, public, tenant, app)
    response = await views(client, tenant, bio_page_id=ids["ada"])
    assert response.status_code == 200, response.text
    assert response.json() == {"views": 3, "unique_views": 2}
    assert (await views(client, tenant, bio_page_id=ids["ada"], bots="include")).json()["views"] == 4
    assert (await views(client, tenant)).json() == {"views": 4, "unique_views": 3}  # both pages
    page = (await client.get(f"/v1/bio-pages/{ids['ada']}", headers=tenant.headers)).json()
    interval_all = (await views(client, tenant, bio_page_id=ids["ada"], interval="all")).json()
    assert interval_all["views"] == page["views"] == 3
    # Click analytics leaves the views out: only the two block clicks are clicks.
    clicks = await client.get("/v1/analytics/clicks", params={"bio_page_id": ids["ada"]}, headers=tenant.headers)
    assert clicks.json()["clicks"] == page["clicks"] == 2


async def test_views_time_series_and_breakdowns(
    client: httpx.AsyncClient, public: httpx.AsyncClient, tenant: Tenant, app: MaskApp
) -> None:
    ids = await _traffic(client, public, tenant, app)
    series = (await views(client, tenant, group_by="timeseries", interval="24h", granularity="hour")).json()
    assert sum(point["views"] for point in series["data"]) == 4
    assert set(series["data"][0]) == {"start", "views", "unique_views"}
    pages = (await views(client, tenant, group_by="bio_pages")).json()["data"]
    assert [(row["bio_page_id"], row["views"]) for row in pages] == [(ids["ada"], 3), (ids["bob"], 1)]
    browsers = (await views(client, tenant, group_by="browsers", bio_page_id=ids["ada"])).json()["data"]
    assert {row["browser"]: row["views"] for row in browsers} == {"Chrome Mobile": 2, "Safari": 1}
    assert "Chrome" in CHROME
    csv = await views(client, tenant, group_by="bio_pages", format="csv")
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines()[0] == "bio_page_id,views,unique_views"


async def test_views_refuse_what_does_not_apply_and_other_workspaces_pages(
    client: httpx.AsyncClient,
    public: httpx.AsyncClient,
    tenant: Tenant,
    app: MaskApp,
    make_tenant: TenantFactory,
) -> None:
    ids = await _traffic(client, public, tenant, app)
    for params in ({"group_by": "bio_blocks"}, {"group_by": "links"}, {"link_id": "lnk_x"}, {"tag": "a"}):
        response = await views(client, tenant, **params)
        assert response.status_code == 422, params
        assert response.json()["error"]["errors"][0]["code"] == "invalid_for_views"
    assert (await views(client, tenant, interval="fortnight")).status_code == 422
    other = await make_tenant()
    response = await views(client, other, bio_page_id=ids["ada"])
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "bio_page_not_found"
    assert (await views(client, other)).json() == {"views": 0, "unique_views": 0}
    reader = await make_tenant(scopes=["bio_pages:read"])
    assert (await views(client, reader)).status_code == 403
