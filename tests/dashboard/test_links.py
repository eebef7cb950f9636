"""Links in the dashboard: the same rules as the API (through mask.link.service), field errors, search, pages, QR."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import select

from mask.app import MaskApp
from mask.db import session_scope
from mask.models.link import Link
from tests.dashboard.conftest import make_person

NEXT_PAGE = re.compile(r'href="([^"]*cursor=[^"]+)"')


async def test_a_link_made_in_the_dashboard_is_the_apis_link(app: MaskApp, client: httpx.AsyncClient) -> None:
    person = await make_person(app, "ada@example.com")
    response = await person.post(
        f"{person.base}/links",
        {
            "url": "https://example.com/page",
            "slug": "launch",
            "tags": "q1, news , q1",
            "utm_source": "twitter",
            "expires_at": "2099-01-01T10:00",
        },
    )
    assert response.status_code == 303 and response.headers["location"].endswith("done=link-created")
    listing = await person.http.get(response.headers["location"])
    assert "Link created." in listing.text and "localhost:8000/launch" in listing.text
    async with session_scope(app.context.sessionmaker) as db:
        link = (await db.execute(select(Link))).scalar_one()
    assert link.expires_at is not None
    assert (link.slug, link.utm_source, link.expires_at.year) == ("launch", "twitter", 2099)
    detail = await person.http.get(f"{person.base}/links/{link.id}")
    assert detail.status_code == 200
    assert 'value="news, q1"' in detail.text and 'value="2099-01-01T10:00"' in detail.text
    assert 'data-copy="http://localhost:8000/launch"' in detail.text


async def test_domain_errors_appear_next_to_their_fields(app: MaskApp) -> None:
    person = await make_person(app, "ada@example.com")
    bad = await person.post(f"{person.base}/links", {"url": "javascript:alert(1)", "slug": "app"})
    assert bad.status_code == 422
    assert re.search(r'id="e-url">Only http or https URLs are allowed', bad.text)
    assert re.search(r'id="e-slug">“app” is reserved by MASK', bad.text)  # plain words
    too_long = await person.post(f"{person.base}/links", {"url": "https://example.com", "utm_source": "x" * 300})
    assert too_long.status_code == 422 and re.search(r'id="e-utm_source">[^<]*255', too_long.text)
    assert 'value="javascript:alert(1)"' in bad.text  # what was typed is kept, escaped
    assert (await person.post(f"{person.base}/links", {"url": "https://a.example", "slug": "taken"})).status_code == 303
    taken = await person.post(f"{person.base}/links", {"url": "https://b.example", "slug": "taken"})
    assert taken.status_code == 409 and re.search(r'id="e-slug">The slug “taken” is already taken', taken.text)
    loop = await person.post(f"{person.base}/links", {"url": "http://localhost:8000/taken"})
    assert loop.status_code == 422 and 'id="e-url">The URL points at one of MASK' in loop.text


async def test_editing_clears_emptied_fields_and_keeps_the_rest(app: MaskApp) -> None:
    person = await make_person(app, "ada@example.com")
    await person.post(
        f"{person.base}/links", {"url": "https://example.com/a", "slug": "a", "tags": "x", "utm_source": "mail"}
    )
    async with session_scope(app.context.sessionmaker) as db:
        link_id = (await db.execute(select(Link.id))).scalar_one()
    form = {
        "url": "https://example.com/b",
        "slug": "b",
        "domain": "localhost:8000",
        "tags": "",
        "utm_source": "",
        "utm_medium": "",
        "utm_campaign": "",
        "utm_term": "",
        "utm_content": "",
        "expires_at": "",
        "expired_url": "",
    }
    saved = await person.post(f"{person.base}/links/{link_id}", form)
    assert saved.status_code == 303
    async with session_scope(app.context.sessionmaker) as db:
        link = (await db.execute(select(Link))).scalar_one()
    assert (link.url, link.slug, link.utm_source) == ("https://example.com/b", "b", None)
    emptied = await person.post(f"{person.base}/links/{link_id}", {**form, "url": ""})
    assert emptied.status_code == 422 and 'id="e-url"' in emptied.text
    deleted = await person.post(f"{person.base}/links/{link_id}/delete")
    assert deleted.status_code == 303
    assert (await person.http.get(f"{person.base}/links/{link_id}")).status_code == 404


async def test_search_filters_and_cursor_pages(app: MaskApp) -> None:
    person = await make_person(app, "ada@example.com")
    for number in range(30):
        tags = "even" if number % 2 == 0 else ""
        response = await person.post(
            f"{person.base}/links",
            {"url": f"https://example.com/item-{number}", "slug": f"item-{number}", "tags": tags},
        )
        assert response.status_code == 303
    first = await person.http.get(f"{person.base}/links")
    assert first.text.count("<tr>") == 25 + 1  # header row + a page of 25
    assert "/item-29<" in first.text and "/item-4<" not in first.text
    older = NEXT_PAGE.search(first.text)
    assert older
    second = await person.http.get(older.group(1).replace("&amp;", "&"))
    assert second.text.count("<tr>") == 5 + 1 and "/item-0<" in second.text and "/item-29<" not in second.text
    assert not NEXT_PAGE.search(second.text)
    search = await person.http.get(f"{person.base}/links", params={"q": "item-1"})
    slugs = set(re.findall(r"/(item-\d+)</a>", search.text))
    assert slugs == {"item-1", *(f"item-{n}" for n in range(10, 20))}
    tagged = await person.http.get(f"{person.base}/links", params={"tag": "even"})
    assert set(re.findall(r"/(item-\d+)</a>", tagged.text)) == {f"item-{n}" for n in range(0, 30, 2)}
    nothing = await person.http.get(f"{person.base}/links", params={"q": "zzz"})
    assert "No links match" in nothing.text
    partial = await person.http.get(
        f"{person.base}/links", params={"q": "item-2"}, headers={"HX-Request": "true", "HX-Target": "div#link-results"}
    )
    assert partial.text.lstrip().startswith('<div id="link-results"') and "<html" not in partial.text
    bad_cursor = await person.http.get(f"{person.base}/links", params={"cursor": "garbage"})
    assert bad_cursor.status_code == 422 and "cursor" in bad_cursor.text


async def test_qr_codes_come_as_svg_and_png(app: MaskApp) -> None:
    person = await make_person(app, "ada@example.com")
    await person.post(f"{person.base}/links", {"url": "https://example.com/", "slug": "scan"})
    async with session_scope(app.context.sessionmaker) as db:
        link_id = (await db.execute(select(Link.id))).scalar_one()
    svg = await person.http.get(f"{person.base}/links/{link_id}/qr.svg")
    assert svg.headers["content-type"].startswith("image/svg+xml") and svg.text.startswith("<svg")
    png = await person.http.get(f"{person.base}/links/{link_id}/qr.png", params={"download": "1"})
    assert png.headers["content-type"] == "image/png" and png.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert png.headers["content-disposition"] == 'attachment; filename="qr-scan.png"'


async def test_domains_are_added_and_removed_through_the_domain_rules(app: MaskApp) -> None:
    person = await make_person(app, "ada@example.com")
    bad = await person.post(f"{person.base}/domains", {"domain": "http://not a domain/"})
    assert bad.status_code == 422 and 'id="e-domain"' in bad.text
    default = await person.post(f"{person.base}/domains", {"domain": "localhost"})
    assert default.status_code in (409, 422) and 'id="e-domain"' in default.text
    added = await person.post(f"{person.base}/domains", {"domain": "Go.Example.COM"})
    assert added.status_code == 303
    page = await person.http.get(f"{person.base}/domains")
    assert "go.example.com" in page.text
    link = await person.post(
        f"{person.base}/links", {"url": "https://example.com/", "slug": "x", "domain": "go.example.com"}
    )
    assert link.status_code == 303
    domain_id = re.search(r"/domains/(dom_\w+)/delete", page.text)
    assert domain_id
    in_use = await person.post(f"{person.base}/domains/{domain_id.group(1)}/delete")
    assert in_use.status_code == 409 and "still use" in in_use.text
