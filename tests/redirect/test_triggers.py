"""Scans told apart from clicks: the QR code's `?qr=1` is stripped by the redirect and recorded as the click's
trigger; disabled links stop at once, archived ones keep redirecting; `last_clicked_at` follows human clicks."""

from __future__ import annotations

import httpx

from mask.app import MaskApp
from tests.conftest import Tenant
from tests.redirect.helpers import BROWSER, create_link, stored_clicks
from tests.redirect.test_enrichment import GOOGLEBOT

HUMAN = {"User-Agent": BROWSER}


async def test_a_scan_is_a_click_with_trigger_qr_and_the_marker_never_reaches_the_destination(
    client: httpx.AsyncClient, tenant: Tenant, app: MaskApp
) -> None:
    link = await create_link(client, tenant, slug="menu", url="https://example.com/menu?lang=en")
    scanned = await client.get("/menu?qr=1", headers=HUMAN)
    assert scanned.status_code == 302 and scanned.headers["location"] == "https://example.com/menu?lang=en"
    tagged = await client.get("/menu?utm_source=poster&qr=1", headers=HUMAN)
    assert tagged.headers["location"] == "https://example.com/menu?lang=en&utm_source=poster"
    other = await client.get("/menu?qr=2", headers=HUMAN)  # not the marker: passed through like any parameter
    assert other.headers["location"] == "https://example.com/menu?lang=en&qr=2"
    plain = await client.get("/menu", headers=HUMAN)
    assert plain.status_code == 302
    clicks = sorted(await stored_clicks(app), key=lambda click: click.id)
    assert [click.trigger for click in clicks] == ["qr", "qr", "link", "link"]
    assert clicks[1].utm_source == "poster"
    body = (await client.get(f"/v1/links/{link['id']}", headers=tenant.headers)).json()
    assert body["clicks"] == 4  # a scan is a click like any other
    triggers = await client.get(
        "/v1/analytics/clicks",
        params={"group_by": "triggers", "interval": "all", "link_id": link["id"]},
        headers=tenant.headers,
    )
    assert {row["trigger"]: row["clicks"] for row in triggers.json()["data"]} == {"qr": 2, "link": 2}
    only_scans = await client.get(
        "/v1/analytics/clicks", params={"trigger": "qr", "interval": "all"}, headers=tenant.headers
    )
    assert only_scans.json()["clicks"] == 2
    bad = await client.get("/v1/analytics/clicks", params={"trigger": "nfc"}, headers=tenant.headers)
    assert bad.status_code == 422 and bad.json()["error"]["errors"][0]["code"] == "invalid_trigger"


async def test_bio_page_traffic_is_triggered_by_bio(client: httpx.AsyncClient, tenant: Tenant, app: MaskApp) -> None:
    page = await client.post(
        "/v1/bio-pages",
        json={"handle": "shop", "title": "Shop", "blocks": [{"type": "link", "title": "Go", "url": "https://x.test/"}]},
        headers=tenant.headers,
    )
    assert page.status_code == 201, page.text
    block_id = page.json()["blocks"][0]["id"]
    assert (await client.get("/@shop", headers=HUMAN)).status_code == 200
    assert (await client.get(f"/@shop/b/{block_id}", headers=HUMAN)).status_code == 302
    assert {click.trigger for click in await stored_clicks(app)} == {"bio"}


async def test_a_disabled_link_stops_at_once_without_a_click_and_comes_back_when_enabled(
    client: httpx.AsyncClient, tenant: Tenant, app: MaskApp
) -> None:
    link = await create_link(client, tenant, slug="paused")
    assert (await client.get("/paused", headers=HUMAN)).status_code == 302  # now cached
    off = await client.patch(f"/v1/links/{link['id']}", json={"disabled": True}, headers=tenant.headers)
    assert off.status_code == 200 and off.json()["disabled"] is True
    answer = await client.get("/paused", headers={**HUMAN, "Accept": "application/json"})
    assert answer.status_code == 404 and answer.json()["error"]["code"] == "link_disabled"
    assert "location" not in answer.headers
    assert (await client.get("/paused?qr=1", headers=HUMAN)).status_code == 404
    assert len(await stored_clicks(app)) == 1  # only the click before it was disabled
    on = await client.patch(f"/v1/links/{link['id']}", json={"disabled": False}, headers=tenant.headers)
    assert on.status_code == 200
    assert (await client.get("/paused", headers=HUMAN)).status_code == 302


async def test_an_archived_link_still_redirects_and_leaves_the_default_list(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    kept = await create_link(client, tenant, slug="kept")
    old = await create_link(client, tenant, slug="old")
    await client.patch(f"/v1/links/{old['id']}", json={"archived": True}, headers=tenant.headers)
    assert (await client.get("/old", headers=HUMAN)).status_code == 302

    async def ids(**params: str) -> list[str]:
        response = await client.get("/v1/links", params=params, headers=tenant.headers)
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["data"]]

    assert await ids() == [kept["id"]]
    assert await ids(archived="true") == [old["id"]]
    assert await ids(archived="all") == [old["id"], kept["id"]]
    assert (await client.get("/v1/links", params={"archived": "maybe"}, headers=tenant.headers)).status_code == 422


async def test_last_clicked_at_follows_human_clicks_only(
    client: httpx.AsyncClient, tenant: Tenant, app: MaskApp
) -> None:
    link = await create_link(client, tenant, slug="lately")
    assert link["last_clicked_at"] is None
    await client.get("/lately", headers={"User-Agent": GOOGLEBOT})
    await stored_clicks(app)
    assert (await client.get(f"/v1/links/{link['id']}", headers=tenant.headers)).json()["last_clicked_at"] is None
    await client.get("/lately", headers=HUMAN)
    [_, human] = sorted(await stored_clicks(app), key=lambda click: click.id)
    body = (await client.get(f"/v1/links/{link['id']}", headers=tenant.headers)).json()
    assert body["last_clicked_at"] is not None
    assert body["last_clicked_at"][:19] == human.clicked_at.strftime("%Y-%m-%dT%H:%M:%S")
