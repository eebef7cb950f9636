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
from mask.dashboard.views.analytics import BREAKDOWNS
from mask.dashboard.world_map import shade
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
    assert re.search(r'>🇺🇸 United States</a>\s*<span class="count"[^>]*>3<', countries.text)
    assert re.search(r'>🇩🇪 Germany</a>\s*<span class="count"[^>]*>1<', countries.text)
    referrers = await person.http.get(cards["referrers"])  # without htmx: a page of its own
    assert "<html" in referrers.text and re.search(r'>news.example</a>\s*<span class="count"[^>]*>2<', referrers.text)
    filter_link = re.search(r'href="([^"]*country=DE[^"]*)"', countries.text)
    assert filter_link
    filtered = await person.http.get(html.unescape(filter_link.group(1)))
    assert _chart_total(filtered.text) == 1 and "country: 🇩🇪 Germany" in filtered.text
    assert _chart_total((await person.http.get(f"{person.base}/analytics", params={"bots": "include"})).text) == 6
    assert _chart_total((await person.http.get(f"{person.base}/analytics", params={"bots": "only"})).text) == 2
    germany = await person.http.get(f"{person.base}/analytics", params={"country": "DE"})
    assert _chart_total(germany.text) == 1 and "country: 🇩🇪 Germany" in germany.text
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


async def test_every_breakdown_is_a_card_and_rows_without_a_value_filter_too(app: MaskApp) -> None:
    person = await make_person(app, "ada@example.com")
    await _link_with_clicks(app, person)
    page = await person.http.get(f"{person.base}/analytics")
    cards = {name: html.unescape(url) for url, name in CARD.findall(page.text)}
    assert set(cards) == {group_by.value for group_by, _, _ in BREAKDOWNS}
    referrers = await person.http.get(cards["referrers"], headers={"HX-Request": "true"})
    direct = re.search(r'<a class="bar-label" href="([^"]*)"[^>]*>Direct / none</a>', referrers.text)
    assert direct, referrers.text
    assert "referrer=%28none%29" in direct.group(1)
    filtered = await person.http.get(html.unescape(direct.group(1)))
    assert _chart_total(filtered.text) == 2 and "referrer: none" in filtered.text  # clicks 3 and 4
    cities = await person.http.get(cards["cities"], headers={"HX-Request": "true"})
    assert re.search(r'>Unknown</a>\s*<span class="count"[^>]*>4<', cities.text)


async def test_a_card_shows_eight_rows_and_expands_to_all(app: MaskApp) -> None:
    person = await make_person(app, "ada@example.com")
    link_id = await _link_with_clicks(app, person)
    async with session_scope(app.context.sessionmaker) as db:
        link = await db.get(Link, link_id)
        assert link is not None
        await click_service.record_batch(
            db,
            [
                EnrichedClick(
                    click_id=new_id("clk"),
                    clicked_at=utcnow() - timedelta(minutes=30),
                    workspace_id=link.workspace_id,
                    domain=link.domain,
                    visitor_hash=f"campaign-{n}",
                    link_id=link.id,
                    utm_campaign=f"campaign-{n:02d}",
                )
                for n in range(12)
            ],
            [analytics_service.record_clicks],
        )
    page = await person.http.get(f"{person.base}/analytics")
    cards = {name: html.unescape(url) for url, name in CARD.findall(page.text)}
    card = await person.http.get(cards["utm_campaigns"], headers={"HX-Request": "true"})
    assert card.text.count('<span class="count"') == 8
    more = re.search(r'<a class="btn btn-small btn-ghost" href="([^"]*rows=all[^"]*)"', card.text)
    assert more and "Show all utm campaigns" in card.text
    expanded = await person.http.get(html.unescape(more.group(1)), headers={"HX-Request": "true"})
    assert expanded.text.count('<span class="count"') == 13  # 12 campaigns and the clicks without one
    assert "rows=all" not in expanded.text and 'data-focus-row="9"' in expanded.text


async def test_a_custom_range_in_a_timezone(app: MaskApp) -> None:
    person = await make_person(app, "ada@example.com")
    await _link_with_clicks(app, person)
    today = utcnow().date()
    page = await person.http.get(
        f"{person.base}/analytics",
        params={
            "start": (today - timedelta(days=1)).isoformat(),
            "until": (today + timedelta(days=1)).isoformat(),
            "timezone": "Asia/Tokyo",
        },
    )
    assert page.status_code == 200
    found = CHART.search(page.text)
    assert found and json.loads(found.group(1))["timezone"] == "Asia/Tokyo"
    assert _chart_total(page.text) == 4 and 'Clicks over time <span class="muted">(Asia/Tokyo)</span>' in page.text
    cards = {name: html.unescape(url) for url, name in CARD.findall(page.text)}
    assert "timezone=Asia%2FTokyo" in cards["countries"] and "start=" in cards["countries"]
    long_ago = await person.http.get(
        f"{person.base}/analytics", params={"start": "2020-01-01", "until": "2020-01-31", "timezone": "UTC"}
    )
    assert long_ago.status_code == 200 and not CHART.search(long_ago.text)
    bad = await person.http.get(f"{person.base}/analytics", params={"start": "2026-01-01", "timezone": "Mars/Olympus"})
    assert bad.status_code == 422 and "Reset the view" in bad.text


async def test_a_bio_page_has_its_analytics_views_and_block_clicks(app: MaskApp) -> None:
    person = await make_person(app, "ada@example.com")
    created = await person.post(
        f"{person.base}/bio", {"handle": "ada", "domain": "localhost:8000", "title": "Ada Lovelace"}
    )
    editor = created.headers["location"].split("?")[0]
    assert (
        await person.post(f"{editor}/blocks", {"type": "link", "title": "My blog", "url": "https://example.com/b"})
    ).status_code == 303
    editor_page = await person.http.get(editor)
    block_id = re.findall(r'data-id="(blk_\w+)"', editor_page.text)[0]
    analytics_link = re.search(r'href="([^"]*/analytics\?bio_page_id=(bio_\w+))"', editor_page.text)
    assert analytics_link, "the bio editor links to the page's analytics"
    page_id = analytics_link.group(2)
    async with session_scope(app.context.sessionmaker) as db:
        workspace = await workspace_service.get_by_slug_or_id(db, ref=person.workspace)
        base = utcnow() - timedelta(hours=1)
        rows = [
            EnrichedClick(
                click_id=new_id("clk"),
                clicked_at=base + timedelta(minutes=n),
                workspace_id=workspace.id,
                domain="localhost:8000",
                visitor_hash=f"reader-{n}",
                bio_page_id=page_id,
                bio_block_id=block_id if n < 2 else None,  # two block clicks, three page views
                trigger="bio",
            )
            for n in range(5)
        ]
        await click_service.record_batch(db, rows, [analytics_service.record_clicks])
    page = await person.http.get(html.unescape(analytics_link.group(1)))
    assert page.status_code == 200
    assert "Bio page <a" in page.text and "Ada Lovelace" in page.text
    assert re.search(r'Page views</span><span class="big-number">3<', page.text)
    found = CHART.search(page.text)
    assert found
    chart = json.loads(found.group(1))
    assert sum(chart["clicks"]) == 2 and sum(chart["views"]) == 3
    cards = {name: html.unescape(url) for url, name in CARD.findall(page.text)}
    blocks = await person.http.get(cards["bio_blocks"], headers={"HX-Request": "true"})
    assert re.search(r">Ada Lovelace: My blog</a>\s*<span class=\"count\"[^>]*>2<", blocks.text), blocks.text


async def test_the_world_map_shades_each_country_by_its_clicks(app: MaskApp) -> None:
    person = await make_person(app, "ada@example.com")
    await _link_with_clicks(app, person)
    page = await person.http.get(f"{person.base}/analytics")
    found = re.search(r'hx-get="([^"]*/analytics/map\?[^"]*)"', page.text)
    assert found
    card = await person.http.get(html.unescape(found.group(1)), headers={"HX-Request": "true"})
    assert card.status_code == 200
    assert '<svg class="world-map" role="img" aria-label="World map of clicks: 2 countries, 4 clicks"' in card.text
    assert re.search(r'<g data-country="us" class="map-5"><title>🇺🇸 United States: 3 clicks</title>', card.text)
    assert re.search(
        r'<path data-country="de" d="[^"]*" class="map-1"><title>🇩🇪 Germany: 1 click</title></path>', card.text
    )
    assert 'data-country="fr"' in card.text and 'id="us"' not in card.text  # no shading, no clashing ids
    germany = await person.http.get(
        f"{person.base}/analytics/map", params={"country": "DE"}, headers={"HX-Request": "true"}
    )
    assert 'class="map-5"><title>🇩🇪 Germany: 1 click' in germany.text and "United States" not in germany.text


def test_shades_are_logarithmic_and_bounded() -> None:
    assert [shade(clicks, 10_000) for clicks in (0, 1, 10, 100, 1_000, 10_000)] == [0, 1, 2, 3, 4, 5]
    assert shade(1, 1) == 5 and shade(5, 0) == 0


LEFT_OUT = re.compile(r"<span [^>]*data-left-out>(.*?)</span>", re.S)


async def test_next_to_the_total_the_page_says_what_was_not_counted_and_why(app: MaskApp) -> None:
    person = await make_person(app, "ada@example.com")
    link_id = await _link_with_clicks(app, person)  # 4 humans and 2 bots
    async with session_scope(app.context.sessionmaker) as db:
        link = await db.get(Link, link_id)
        assert link is not None
        at = utcnow() - timedelta(hours=1)
        extra = [
            EnrichedClick(
                click_id=new_id("clk"),
                clicked_at=at,
                workspace_id=link.workspace_id,
                domain=link.domain,
                visitor_hash=f"p{n}",
                link_id=link.id,
                traffic_type=kind,
                bot_name=name,
            )
            for n, (kind, name) in enumerate([("preview", "slackbot")] * 3 + [("prefetch", None)])
        ]
        await click_service.record_batch(db, extra, [analytics_service.record_clicks])
    expected = "4 clicks · 2 bots, 3 link previews and 1 prefetch not counted"
    for url in (f"{person.base}/analytics", f"{person.base}/links/{link_id}"):
        page = await person.http.get(url)
        assert page.status_code == 200
        found = LEFT_OUT.search(page.text)
        assert found and " ".join(html.unescape(found.group(1)).split()) == expected
    # Counting every type (or only the others) leaves nothing out: no line.
    for bots in ("include", "only"):
        page = await person.http.get(f"{person.base}/analytics", params={"bots": bots})
        assert not LEFT_OUT.search(page.text)


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
