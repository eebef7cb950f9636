"""GET /v1/analytics/events: the clicks themselves, paged and exported, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import httpx
import pytest

from mask.analytics import events as events_service
from mask.analytics.schemas import EVENT_FIELDS
from mask.app import MaskApp
from mask.click.schemas import EnrichedClick
from tests.analytics.helpers import at, click, create_link, record
from tests.conftest import Tenant, TenantFactory

ALL = {"interval": "all"}
EXPORT = "/v1/analytics/events/export"


def expected(clicks: list[EnrichedClick]) -> list[dict[str, Any]]:
    """What the API must answer for these clicks: newest first, as the link.clicked webhook shows a click."""
    ordered = sorted(clicks, key=lambda c: (c.clicked_at, c.click_id), reverse=True)
    return [c.public_dict() for c in ordered]


async def every_page(client: httpx.AsyncClient, tenant: Tenant, **params: Any) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        response = await client.get("/v1/analytics/events", headers=tenant.headers, params=query)
        assert response.status_code == 200, response.text
        body = response.json()
        assert len(body["data"]) <= int(params.get("limit", 100))
        events += body["data"]
        if not body["has_more"]:
            assert body["next_cursor"] is None
            return events
        cursor = body["next_cursor"]


@pytest.fixture
async def clicked(app: MaskApp, client: httpx.AsyncClient, tenant: Tenant) -> dict[str, Any]:
    """Two links, human and bot clicks (two at the same instant), a bio page view that is not a click."""
    promo = await create_link(client, tenant, "promo", tags=["q1"])
    other = await create_link(client, tenant, "other")
    humans = [
        click(tenant, at("2026-03-01T10:00"), link_id=promo, country="US", device="mobile", utm_source="news"),
        click(tenant, at("2026-03-01T10:00"), link_id=other, country="DE", referrer="t.co"),  # same instant
        click(tenant, at("2026-03-02T08:30"), link_id=promo, country="US", referrer_url="https://t.co/x"),
        click(tenant, at("2026-03-03T23:59"), link_id=other, country=None, trigger="qr"),
        click(tenant, at("2026-03-04T00:00"), link_id=promo, country="FR", browser="Firefox", os="Linux"),
    ]
    bot = click(tenant, at("2026-03-02T09:00"), link_id=promo, is_bot=True, device="bot")
    view = click(tenant, at("2026-03-02T09:30"), bio_page_id="bio_notaclick", trigger="bio")
    await record(app, [*humans, bot, view])
    stored = {c.click_id: c for c in [*humans, bot]}
    # record_batch decides uniqueness; the stored rows carry it, so take it from there
    for event in await every_page(client, tenant, bots="include", **ALL):
        stored[event["click_id"]].is_unique = event["is_unique"]
    return {"promo": promo, "other": other, "humans": humans, "bot": bot}


async def test_pages_newest_first_equal_what_was_clicked_without_views_or_bots(
    client: httpx.AsyncClient, tenant: Tenant, clicked: dict[str, Any]
) -> None:
    events = await every_page(client, tenant, limit=2, **ALL)
    assert [e["click_id"] for e in events] == [e["click_id"] for e in expected(clicked["humans"])]
    assert events == expected(clicked["humans"])
    assert all("visitor_hash" not in e and "ip" not in e and "user_agent" not in e for e in events)
    assert [e["is_unique"] for e in events].count(True) >= 1

    with_bots = await every_page(client, tenant, limit=3, bots="include", **ALL)
    assert with_bots == expected([*clicked["humans"], clicked["bot"]])
    assert await every_page(client, tenant, bots="only", **ALL) == expected([clicked["bot"]])


async def test_the_filters_and_range_of_analytics_clicks_apply(
    client: httpx.AsyncClient, tenant: Tenant, clicked: dict[str, Any]
) -> None:
    humans: list[EnrichedClick] = clicked["humans"]
    promo = clicked["promo"]
    assert await every_page(client, tenant, link_id=promo, **ALL) == expected([c for c in humans if c.link_id == promo])
    assert await every_page(client, tenant, country="-US", **ALL) == expected([c for c in humans if c.country != "US"])
    assert await every_page(client, tenant, tags="q1", country="US", **ALL) == expected(
        [c for c in humans if c.link_id == promo and c.country == "US"]
    )
    assert await every_page(client, tenant, trigger="qr", **ALL) == expected([c for c in humans if c.trigger == "qr"])
    window = {"start": "2026-03-02", "end": "2026-03-04"}  # end exclusive: 03-04T00:00 is out
    assert await every_page(client, tenant, **window) == expected(
        [c for c in humans if at("2026-03-02T00:00") <= c.clicked_at < at("2026-03-04T00:00")]
    )


@pytest.mark.parametrize("how", ["format", "accept"])
async def test_csv_and_ndjson_exports_stream_every_event_in_batches(
    client: httpx.AsyncClient,
    tenant: Tenant,
    clicked: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    how: str,
) -> None:
    monkeypatch.setattr(events_service, "EXPORT_BATCH", 2)  # several reads, one of them short
    want = expected(clicked["humans"])

    def request(kind: str, media: str) -> dict[str, Any]:
        if how == "format":
            return {"params": {**ALL, "format": kind}, "headers": dict(tenant.headers)}
        return {"params": ALL, "headers": {**tenant.headers, "Accept": media}}

    ndjson = await client.get(EXPORT, **request("ndjson", "application/x-ndjson"))
    assert ndjson.status_code == 200, ndjson.text
    assert ndjson.headers["content-type"].startswith("application/x-ndjson")
    assert [json.loads(line) for line in ndjson.text.splitlines()] == want

    exported = await client.get(EXPORT, **request("csv", "text/csv"))
    assert exported.status_code == 200, exported.text
    assert exported.headers["content-type"].startswith("text/csv")
    assert 'filename="clicks.csv"' in exported.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [row["click_id"] for row in rows] == [e["click_id"] for e in want]
    first = rows[0]
    assert first["country"] == (want[0]["country"] or "")
    assert first["is_bot"] == "false" and first["clicked_at"] == want[0]["clicked_at"]


async def test_an_export_of_nothing_is_a_header_or_empty(client: httpx.AsyncClient, tenant: Tenant) -> None:
    exported = await client.get(EXPORT, headers=tenant.headers)  # CSV by default
    assert exported.status_code == 200
    assert exported.text.splitlines() == [",".join(EVENT_FIELDS)]
    ndjson = await client.get(EXPORT, headers=tenant.headers, params={"format": "ndjson"})
    assert ndjson.status_code == 200 and ndjson.text == ""


async def test_csv_cells_from_strangers_cannot_be_formulas(
    app: MaskApp, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    link = await create_link(client, tenant, "csvinj")
    await record(app, [click(tenant, at("2026-03-01T10:00"), link_id=link, utm_source="=HYPERLINK(1)")])
    exported = await client.get(EXPORT, headers=tenant.headers, params=ALL)
    assert next(csv.DictReader(io.StringIO(exported.text)))["utm_source"] == "'=HYPERLINK(1)"


async def test_bad_requests_are_refused_in_the_error_shape(
    client: httpx.AsyncClient, tenant: Tenant, clicked: dict[str, Any]
) -> None:
    async def error(params: dict[str, Any]) -> tuple[int, dict[str, str]]:
        """The status and, per parameter, the code of what was wrong."""
        response = await client.get("/v1/analytics/events", headers=tenant.headers, params=params)
        body = response.json()["error"]
        assert body["code"] == "validation_error" and response.headers["x-request-id"]
        return response.status_code, {error["param"]: error["code"] for error in body.get("errors", [])}

    assert await error({"cursor": "not-a-cursor"}) == (422, {"cursor": "invalid_cursor"})
    first = await client.get("/v1/analytics/events", headers=tenant.headers, params={**ALL, "limit": 1})
    cursor = first.json()["next_cursor"]
    assert await error({**ALL, "cursor": cursor, "format": "csv"}) == (422, {"format": "unknown_parameter"})
    assert (await error({"limit": 0}))[0] == 422
    assert (await error({"limit": 1001}))[0] == 422
    assert (await error({"group_by": "countries"}))[0] == 422  # not a parameter of events
    export = await client.get(EXPORT, headers=tenant.headers, params={"format": "xml"})
    assert export.status_code == 422 and export.json()["error"]["code"] == "validation_error"
    export = await client.get(EXPORT, headers=tenant.headers, params={"cursor": cursor})
    assert export.status_code == 422  # an export has no pages
    assert await error({"country": "USA"}) == (422, {"country": "invalid_country"})
    assert (await error({"interval": "all", "start": "2026-01-01"}))[0] == 422


async def test_another_workspace_never_sees_these_events(
    client: httpx.AsyncClient, tenant: Tenant, make_tenant: TenantFactory, clicked: dict[str, Any]
) -> None:
    stranger = await make_tenant(plan="enterprise")
    assert await every_page(client, stranger, bots="include", **ALL) == []
    response = await client.get(
        "/v1/analytics/events", headers=stranger.headers, params={**ALL, "link_id": clicked["promo"]}
    )
    assert response.status_code == 404 and response.json()["error"]["code"] == "link_not_found"
    exported = await client.get(EXPORT, headers=stranger.headers, params={**ALL, "format": "ndjson"})
    assert exported.status_code == 200 and exported.text == ""


async def test_the_scope_is_analytics_read(client: httpx.AsyncClient, make_tenant: TenantFactory) -> None:
    links_only = await make_tenant(plan="enterprise", scopes=["links:read"])
    for path in ("/v1/analytics/events", EXPORT):
        response = await client.get(path, headers=links_only.headers)
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "insufficient_scope"
