"""Analytics in the dashboard: the API's own numbers (mask.analytics.service), chart data, filters, CSV."""

from __future__ import annotations

import html
import json
import re
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select

from mask.analytics import service as analytics_service
from mask.app import MaskApp
from mask.auth import service as auth_service
from mask.click import service as click_service
from mask.click.schemas import EnrichedClick
from mask.db import session_scope
from mask.kit.ids import new_id
from mask.kit.time import utcnow
from mask.link import service as link_service
from mask.link.schemas import LinkUpdate
from mask.models.link import Link
from mask.workspace import service as workspace_service
from tests.dashboard.conftest import Person, make_person

CARD = re.compile(r'hx-get="([^"]*/analytics/breakdown\?[^"]*group_by=(\w+)[^"]*)"')
CHART = re.compile(r'<script type="application/json" id="chart-data">(.*?)</script>', re.S)


async def _link_with_clicks(app: MaskApp, person: Person) -> str:
    created = await person.post(f"{person.base}/links", {"url": "https://example.com/", "slug": "counted"})
    assert created.status_code == 303
    async with session_scope(app.context.sessionmaker) as db:
        link = (await db.execute(select(Link))).scalar_one()
    now = utcnow() - timedelta(hours=2)

    def click(n: int, **fields: Any) -> EnrichedClick:
        return EnrichedClick(
            click_id=new_id("clk"),
            clicked_at=now + timedelta(minutes=n),
            workspace_id=link.workspace_id,
            domain=link.domain,
            visitor_hash=f"v{n}",
            link_id=link.id,
            **fields,
        )

    clicks = [
        click(1, country="US", device="desktop", browser="Chrome", referrer="news.example"),
        click(2, country="US", device="desktop", browser="Chrome", referrer="news.example"),
        click(3, country="US", device="desktop", browser="Firefox"),
        click(4, country="DE", device="mobile", browser="Safari", utm_source="=cmd|calc"),
        click(5, device="bot", is_bot=True),
        click(6, device="bot", is_bot=True),
    ]
    async with session_scope(app.context.sessionmaker) as db:
        await click_service.record_batch(db, clicks, [analytics_service.record_clicks])
    return link.id


def _chart_total(html: str) -> int:
    found = CHART.search(html)
    assert found, "no chart data on the page"
    return sum(json.loads(found.group(1))["clicks"])


async def test_the_analytics_page_counts_what_the_api_counts(app: MaskApp) -> None:
    person = await make_person(app, "ada@example.com")
    await _link_with_clicks(app, person)
    page = await person.http.get(f"{person.base}/analytics")
    assert page.status_code == 200
    assert _chart_total(page.text) == 4  # humans only, by default
    cards = {name: html.unescape(url) for url, name in CARD.findall(page.text)}
    assert set(cards) >= {"links", "countries", "referrers", "devices", "browsers", "os", "tags"}
    countries = await person.http.get(cards["countries"], headers={"HX-Request": "true"})
    assert countries.text.lstrip().startswith('<section class="card breakdown" id="bd-countries"')
    assert re.search(r'>US</a>\s*<span class="count"[^>]*>3<', countries.text)
    assert re.search(r'>DE</a>\s*<span class="count"[^>]*>1<', countries.text)
    referrers = await person.http.get(cards["referrers"])  # without htmx: a page of its own
    assert "<html" in referrers.text and re.search(r'>news.example</a>\s*<span class="count"[^>]*>2<', referrers.text)
    filter_link = re.search(r'href="([^"]*country=DE[^"]*)"', countries.text)
    assert filter_link
    filtered = await person.http.get(html.unescape(filter_link.group(1)))
    assert _chart_total(filtered.text) == 1 and "country: DE" in filtered.text
    assert _chart_total((await person.http.get(f"{person.base}/analytics", params={"bots": "include"})).text) == 6
    assert _chart_total((await person.http.get(f"{person.base}/analytics", params={"bots": "only"})).text) == 2
    germany = await person.http.get(f"{person.base}/analytics", params={"country": "DE"})
    assert _chart_total(germany.text) == 1 and "country: DE" in germany.text
    for interval in ("24h", "7d", "90d", "1y", "all"):
        assert (
            _chart_total((await person.http.get(f"{person.base}/analytics", params={"interval": interval})).text) == 4
        )
    bad = await person.http.get(f"{person.base}/analytics", params={"interval": "forever"})
    assert bad.status_code == 422 and "Reset the view" in bad.text


async def test_the_link_page_charts_the_links_clicks(app: MaskApp) -> None:
    person = await make_person(app, "ada@example.com")
    link_id = await _link_with_clicks(app, person)
    detail = await person.http.get(f"{person.base}/links/{link_id}")
    assert detail.status_code == 200 and _chart_total(detail.text) == 4
    assert 'data-chart="chart-data"' in detail.text and "uPlot-1.6.32.iife.min.js" in detail.text


async def test_csv_downloads_are_the_apis_csv(app: MaskApp, client: httpx.AsyncClient) -> None:
    person = await make_person(app, "ada@example.com")
    await _link_with_clicks(app, person)
    async with session_scope(app.context.sessionmaker) as db:
        workspace = await workspace_service.get_by_slug_or_id(db, ref=person.workspace)
        token = (await auth_service.create(db, workspace=workspace, name="test")).token
    for group_by in ("countries", "utm_sources", "timeseries"):
        mine = await person.http.get(f"{person.base}/analytics.csv", params={"group_by": group_by, "interval": "7d"})
        api = await client.get(
            "/v1/analytics/clicks",
            headers={"Authorization": f"Bearer {token}"},
            params={"group_by": group_by, "interval": "7d", "format": "csv"},
        )
        assert mine.status_code == api.status_code == 200
        assert mine.headers["content-type"].startswith("text/csv")
        assert "attachment" in mine.headers["content-disposition"]
        if group_by != "timeseries":  # a time series ends "now": two calls may straddle a bucket boundary
            assert mine.text == api.text
    utm = await person.http.get(f"{person.base}/analytics.csv", params={"group_by": "utm_sources"})
    assert "'=cmd|calc" in utm.text  # spreadsheet formulas from strangers are defused


async def test_another_workspaces_link_cannot_be_analysed(app: MaskApp) -> None:
    alice = await make_person(app, "alice@example.com", name="Alpha")
    bob = await make_person(app, "bob@example.com", name="Beta")
    link_id = await _link_with_clicks(app, alice)
    refused = await bob.http.get(f"{bob.base}/analytics", params={"link_id": link_id})
    assert refused.status_code == 404 and "counted" not in refused.text
    assert (await bob.http.get(f"{bob.base}/analytics.csv", params={"link_id": link_id})).status_code == 404
    own = await bob.http.get(f"{bob.base}/analytics")
    assert own.status_code == 200 and "No clicks in this range yet" in own.text and not CHART.search(own.text)


async def test_a_links_page_compares_its_ab_variants(app: MaskApp) -> None:
    person = await make_person(app, "ada@example.com")
    link_id = await _link_with_clicks(app, person)  # clicks from before the test: no variant
    urls = ["https://example.com/a", "https://example.com/b", "https://example.com/c"]
    async with session_scope(app.context.sessionmaker) as db:
        link = (await db.execute(select(Link))).scalar_one()
        await link_service.update(
            db,
            settings=app.context.settings,
            workspace_id=link.workspace_id,
            link_id=link_id,
            data=LinkUpdate(
                variants=[{"url": url, "weight": weight} for url, weight in zip(urls, (50, 30, 20), strict=True)]
            ),
        )
    now = utcnow() - timedelta(hours=1)
    decided = [(0, "ab1"), (0, "ab1"), (0, "ab2"), (1, "ab3"), (0, "ab4"), (1, "ab5")]  # (variant, visitor); none on C
    clicks = [
        EnrichedClick(
            click_id=new_id("clk"),
            clicked_at=now + timedelta(seconds=n),
            workspace_id=link.workspace_id,
            domain=link.domain,
            visitor_hash=visitor,
            link_id=link_id,
            destination_url=urls[variant],
            variant=variant,
        )
        for n, (variant, visitor) in enumerate(decided)
    ]
    async with session_scope(app.context.sessionmaker) as db:
        await click_service.record_batch(db, clicks, [analytics_service.record_clicks])

    page = await person.http.get(f"{person.base}/links/{link_id}")
    assert page.status_code == 200
    card = re.search(r'<section class="card" id="variants".*?</section>', page.text, re.S)
    assert card, "no variant comparison on the link's page"
    cells = [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
        for row in re.findall(r"<tr><th scope=\"row\">(.*?)</tr>", card.group(0), re.S)
    ]
    # Variant, destination, weight, clicks, share of the test's 6 clicks, unique (first click of the day per visitor).
    assert [[html.unescape(cell) for cell in row] for row in cells] == [
        [urls[0], "50 %", "4", "66.7 %", "3"],
        [urls[1], "30 %", "2", "33.3 %", "2"],
        [urls[2], "20 %", "0", "0.0 %", "0"],
    ]
    assert [html.unescape(a) for a in re.findall(r'<th scope="row"><a href="([^"]+)"', card.group(0))] == [
        f"{person.base}/analytics?interval=30d&link_id={link_id}&variant={n}" for n in range(3)
    ]
    filtered = await person.http.get(f"{person.base}/analytics?interval=30d&link_id={link_id}&variant=1")
    assert filtered.status_code == 200 and _chart_total(filtered.text) == 2

    plain = await person.post(f"{person.base}/links", {"url": "https://example.com/", "slug": "plain"})
    assert plain.status_code == 303
    plain_page = await person.http.get(plain.headers["location"])
    assert plain_page.status_code == 200 and 'id="variants"' not in plain_page.text
