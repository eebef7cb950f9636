"""The analytics page's "Hits that found no link": the API's `kind=orphan` answers (total, by type, by path), each
row a filter on the orphan hits alone, never mixed with the clicks, and never another workspace's."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from sqlalchemy import select, update

from mask.analytics import service as analytics_service
from mask.app import MaskApp
from mask.auth import service as auth_service
from mask.click import service as click_service
from mask.click.schemas import EnrichedClick
from mask.db import session_scope
from mask.kit.ids import new_id
from mask.kit.time import utcnow
from mask.models.link import Link
from mask.workspace import service as workspace_service
from tests.dashboard.conftest import Person, make_person
from tests.dashboard.test_analytics import CHART, _chart_total

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
ORPHAN_CARD = re.compile(r'hx-get="([^"]*/analytics/breakdown\?[^"]*group_by=(orphan_types|paths)[^"]*)"')
LINK_ORPHANS = re.compile(r'<p class="muted link-orphans" data-link-orphans>([^<]*)<a href="([^"]*)">')
ORPHAN_TOTAL = re.compile(r'data-orphan-total><span class="stat-label">[^<]*</span><span class="big-number">([\d,]+)<')


def _row(card: str, label: str) -> tuple[str, int]:
    """A card row's filter link and count, by its label."""
    found = re.search(
        rf'<a class="bar-label" href="([^"]*)"[^>]*>{re.escape(label)}</a>\s*<span class="count"[^>]*>(\d+)<', card
    )
    assert found, f"no row {label!r} in {card}"
    return html.unescape(found.group(1)), int(found.group(2))


def _orphan_total(page: str) -> int:
    found = ORPHAN_TOTAL.search(page)
    assert found, "no orphan total on the page"
    return int(found.group(1).replace(",", ""))


async def _orphans_of(app: MaskApp, person: Person) -> None:
    """One link with a click limit of 1, visited three times through the redirect (one click, two hits after the
    limit), and hits on a custom domain's unknown slugs and root, stored as the click pipeline stores them."""
    created = await person.post(
        f"{person.base}/links", {"url": "https://example.com/", "slug": "once", "max_clicks": "1"}
    )
    assert created.status_code == 303, created.text
    visitor = {"User-Agent": BROWSER}
    assert [(await person.http.get("/once", headers=visitor)).status_code for _ in range(3)] == [302, 410, 410]
    assert await app.services.clicks.tracker.flush()
    async with session_scope(app.context.sessionmaker) as db:
        link = (await db.execute(select(Link))).scalar_one()
        at = utcnow() - timedelta(hours=1)
        hits = [
            ("unknown_slug", "/spring-sale", "human"),
            ("unknown_slug", "/spring-sale", "human"),
            ("unknown_slug", "/wp-login.php", "human"),
            ("unknown_slug", "/wp-admin", "bot"),
            ("domain_root", "/", "human"),
        ]
        orphans = [
            EnrichedClick(
                click_id=new_id("clk"),
                clicked_at=at + timedelta(minutes=n),
                workspace_id=link.workspace_id,
                domain="go.brand.test",
                visitor_hash=f"o{n}",
                orphan_type=kind,
                path=path,
                traffic_type=traffic,
            )
            for n, (kind, path, traffic) in enumerate(hits)
        ]
        await click_service.record_batch(db, orphans, [analytics_service.record_clicks])


async def test_the_analytics_page_shows_the_hits_that_found_no_link(app: MaskApp, client: httpx.AsyncClient) -> None:
    person = await make_person(app, "ada@example.com")
    await _orphans_of(app, person)
    page = await person.http.get(f"{person.base}/analytics")
    assert page.status_code == 200
    assert "Hits that found no link" in page.text and "never counted as clicks" in page.text
    assert _chart_total(page.text) == 1  # the one click the limit let through; orphans are not charted
    assert _orphan_total(page.text) == 6  # humans, as the page counts by default: 2 spent-limit hits and 4 others
    cards = {name: html.unescape(url) for url, name in ORPHAN_CARD.findall(page.text)}
    assert set(cards) == {"orphan_types", "paths"}

    types = await person.http.get(cards["orphan_types"], headers={"HX-Request": "true"})
    assert types.text.lstrip().startswith('<section class="card breakdown" id="bd-orphan_types"')
    unknown_url, unknown = _row(types.text, "Unknown slug")
    assert unknown == 3
    assert _row(types.text, "Click limit reached")[1] == 2
    assert _row(types.text, "Domain root (/)")[1] == 1
    paths = await person.http.get(cards["paths"], headers={"HX-Request": "true"})
    assert {label: _row(paths.text, label)[1] for label in ("/spring-sale", "/once", "/wp-login.php", "/")} == {
        "/spring-sale": 2,
        "/once": 2,
        "/wp-login.php": 1,
        "/": 1,
    }

    # A row filters the orphan hits alone (the clicks above stay as they were), and lands on their section.
    assert unknown_url.endswith("#orphan-hits") and "orphan_type=unknown_slug" in unknown_url
    filtered = await person.http.get(unknown_url)
    assert filtered.status_code == 200
    assert _orphan_total(filtered.text) == 3 and _chart_total(filtered.text) == 1
    assert "orphan type: Unknown slug" in filtered.text
    sale_url, _ = _row(paths.text, "/spring-sale")
    assert _orphan_total((await person.http.get(sale_url)).text) == 2
    with_bots = await person.http.get(f"{person.base}/analytics", params={"bots": "include"})
    assert _orphan_total(with_bots.text) == 7

    # The same numbers as the API's, CSV included.
    async with session_scope(app.context.sessionmaker) as db:
        workspace = await workspace_service.get_by_slug_or_id(db, ref=person.workspace)
        token = (await auth_service.create(db, workspace=workspace, name="test")).token
    mine = await person.http.get(f"{person.base}/analytics.csv", params={"group_by": "orphan_types"})
    api = await client.get(
        "/v1/analytics/clicks",
        headers={"Authorization": f"Bearer {token}"},
        params={"group_by": "orphan_types", "kind": "orphan", "interval": "30d", "format": "csv"},
    )
    assert mine.status_code == 200 and mine.text == api.text and "limit_reached,2," in mine.text


async def test_the_paths_card_shows_eight_and_expands_to_all(app: MaskApp) -> None:
    person = await make_person(app, "ada@example.com")
    await _orphans_of(app, person)  # four paths of human hits (a bot's is not counted by default)
    async with session_scope(app.context.sessionmaker) as db:
        link = (await db.execute(select(Link))).scalar_one()
        scans = [
            EnrichedClick(
                click_id=new_id("clk"),
                clicked_at=utcnow() - timedelta(minutes=5),
                workspace_id=link.workspace_id,
                domain="go.brand.test",
                visitor_hash=f"s{n}",
                orphan_type="unknown_slug",
                path=f"/old-campaign-{n}",
            )
            for n in range(6)
        ]
        await click_service.record_batch(db, scans, [analytics_service.record_clicks])
    page = await person.http.get(f"{person.base}/analytics")
    cards = {name: html.unescape(url) for url, name in ORPHAN_CARD.findall(page.text)}
    card = await person.http.get(cards["paths"], headers={"HX-Request": "true"})
    assert card.text.count('<span class="count"') == 8 and "Show all paths asked for" in card.text
    more = re.search(r'<a class="btn btn-small btn-ghost" href="([^"]*rows=all[^"]*)"', card.text)
    assert more
    expanded = await person.http.get(html.unescape(more.group(1)), headers={"HX-Request": "true"})
    assert expanded.text.count('<span class="count"') == 10 and 'data-focus-row="9"' in expanded.text


async def test_another_workspace_sees_none_of_the_hits(app: MaskApp) -> None:
    alice = await make_person(app, "alice@example.com", name="Alpha")
    bob = await make_person(app, "bob@example.com", name="Beta")
    await _orphans_of(app, alice)
    own = await bob.http.get(f"{bob.base}/analytics")
    assert own.status_code == 200 and _orphan_total(own.text) == 0 and "None in this range." in own.text
    assert not ORPHAN_CARD.search(own.text) and not CHART.search(own.text)
    paths = await bob.http.get(f"{bob.base}/analytics/breakdown", params={"group_by": "paths"})
    assert paths.status_code == 200 and "/spring-sale" not in paths.text and "Nothing in this range." in paths.text


async def test_a_links_page_says_how_many_hits_came_after_it_stopped_counting(
    app: MaskApp, client: httpx.AsyncClient
) -> None:
    """The link's own page (and the analytics page filtered to it) counts the link's orphan hits by type, as the
    API's `kind=orphan&link_id=…&group_by=orphan_types` does; a link without any says nothing."""
    person = await make_person(app, "ada@example.com")
    await _orphans_of(app, person)  # "once": one click, then two hits after its limit was reached
    for slug in ("old", "calm"):
        made = await person.post(f"{person.base}/links", {"url": "https://example.com/", "slug": slug})
        assert made.status_code == 303, made.text
    async with session_scope(app.context.sessionmaker) as db:
        await db.execute(update(Link).where(Link.slug == "old").values(expires_at=utcnow() - timedelta(minutes=1)))
        ids = {link.slug: link.id for link in (await db.execute(select(Link))).scalars()}
    visitor = {"User-Agent": BROWSER}
    assert [(await person.http.get("/old", headers=visitor)).status_code for _ in range(3)] == [410] * 3
    assert await app.services.clicks.tracker.flush()

    def said(page: str) -> tuple[str, str]:
        found = LINK_ORPHANS.search(page)
        assert found, "the page says nothing of the link's orphan hits"
        return html.unescape(found.group(1)).strip(), html.unescape(found.group(2))

    once = await person.http.get(f"{person.base}/links/{ids['once']}")
    assert once.status_code == 200
    text, url = said(once.text)
    assert text == "2 hits after its click limit was reached, not counted as clicks."
    assert url.endswith("#orphan-hits") and f"link_id={ids['once']}" in url
    assert _orphan_total((await person.http.get(url)).text) == 2  # the workspace page, filtered to the link
    old = await person.http.get(f"{person.base}/links/{ids['old']}")
    assert said(old.text)[0] == "3 hits after the link expired, not counted as clicks."
    calm = await person.http.get(f"{person.base}/links/{ids['calm']}")
    assert calm.status_code == 200 and not LINK_ORPHANS.search(calm.text)
    filtered = await person.http.get(f"{person.base}/analytics", params={"link_id": ids["once"]})
    assert said(filtered.text)[0] == "2 hits after its click limit was reached, not counted as clicks."
    workspace = await person.http.get(f"{person.base}/analytics")  # not about one link: nothing to say
    assert not LINK_ORPHANS.search(workspace.text)

    # The API's answer to the same question.
    async with session_scope(app.context.sessionmaker) as db:
        account = await workspace_service.get_by_slug_or_id(db, ref=person.workspace)
        token = (await auth_service.create(db, workspace=account, name="test")).token
    api = await client.get(
        "/v1/analytics/clicks",
        headers={"Authorization": f"Bearer {token}"},
        params={"kind": "orphan", "link_id": ids["old"], "group_by": "orphan_types", "interval": "30d"},
    )
    assert api.json()["data"] == [{"orphan_type": "expired_link", "clicks": 3, "unique_clicks": 1}]


CHIP = re.compile(r'<a class="chip" href="([^"]*)" aria-label="Remove filter [^"]*">([^<]*) <span')


def _chips(page: str) -> dict[str, str]:
    """The page's filter chips: what each reads, and the URL that removes it."""
    return {html.unescape(text): html.unescape(url) for url, text in CHIP.findall(page)}


async def test_a_row_whose_value_has_a_comma_filters_on_exactly_it_and_its_chip_undoes_it(app: MaskApp) -> None:
    r"""A breakdown row sends its value escaped (`/a,b` as `/a\,b`, `-early` as `\-early`, the text `(none)` as
    `\(none)`), the page counts exactly that value, its chip reads the value itself, and removing the chip
    removes the filter: for a click's campaign and an orphan hit's path."""
    person = await make_person(app, "ada@example.com")
    made = await person.post(f"{person.base}/links", {"url": "https://example.com/", "slug": "sale"})
    assert made.status_code == 303, made.text
    async with session_scope(app.context.sessionmaker) as db:
        link = (await db.execute(select(Link))).scalar_one()
        at = utcnow() - timedelta(hours=1)
        common: dict[str, Any] = {"workspace_id": link.workspace_id, "domain": "go.brand.test"}
        campaigns = ["spring,summer", "spring,summer", "spring", "(none)", "-early", None]
        paths = ["/a,b", "/a,b", "/a", "/b"]
        hits = [
            EnrichedClick(
                click_id=new_id("clk"),
                clicked_at=at,
                visitor_hash=f"c{n}",
                link_id=link.id,
                utm_campaign=campaign,
                **common,
            )
            for n, campaign in enumerate(campaigns)
        ] + [
            EnrichedClick(
                click_id=new_id("clk"),
                clicked_at=at,
                visitor_hash=f"o{n}",
                orphan_type="unknown_slug",
                path=path,
                **common,
            )
            for n, path in enumerate(paths)
        ]
        await click_service.record_batch(db, hits, [analytics_service.record_clicks])

    page = await person.http.get(f"{person.base}/analytics")
    assert _chart_total(page.text) == 6 and _orphan_total(page.text) == 4
    card_url = re.search(r'hx-get="([^"]*group_by=utm_campaigns[^"]*)"', page.text)
    assert card_url
    card = (await person.http.get(html.unescape(card_url.group(1)), headers={"HX-Request": "true"})).text
    expected = {  # row → the filter it sends, what the page then counts, what its chip reads
        "spring,summer": ("spring\\,summer", 2, "utm campaign: spring,summer"),
        "(none)": ("\\(none)", 1, "utm campaign: (none)"),
        "-early": ("\\-early", 1, "utm campaign: -early"),
        "Direct / none": ("(none)", 1, "utm campaign: none"),
    }
    for label, (sent, total, chip) in expected.items():
        url, _ = _row(card, label)
        assert parse_qs(urlsplit(url).query)["utm_campaign"] == [sent]
        filtered = await person.http.get(url)
        assert filtered.status_code == 200 and _chart_total(filtered.text) == total, label
        chips = _chips(filtered.text)
        assert chip in chips, chips
        unfiltered = await person.http.get(chips[chip])
        assert "utm_campaign" not in chips[chip] and _chart_total(unfiltered.text) == 6

    paths_card = re.search(r'hx-get="([^"]*group_by=paths[^"]*)"', page.text)
    assert paths_card
    card = (await person.http.get(html.unescape(paths_card.group(1)), headers={"HX-Request": "true"})).text
    url, count = _row(card, "/a,b")
    assert count == 2 and parse_qs(urlsplit(url).query)["path"] == ["/a\\,b"]
    filtered = await person.http.get(url)
    assert _orphan_total(filtered.text) == 2 and _chart_total(filtered.text) == 6  # clicks are not filtered
    chips = _chips(filtered.text)
    assert "path: /a,b" in chips
    assert _orphan_total((await person.http.get(chips["path: /a,b"])).text) == 4
