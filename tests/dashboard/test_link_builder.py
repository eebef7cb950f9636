"""The link builder and the links list (issue 25), server side: `example.com/page` gets https://, times are read
and shown in the browser's zone and stored in UTC, a failed save opens with an error summary linking to each
field, only changed fields are sent (an expired link can be edited), the QR and page-metadata previews, and the
list's row actions and bulk selection through mask.bulk. tests/browser/test_link_builder.py drives them in
chromium."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any

import pytest
from sqlalchemy import select, update

from mask.app import MaskApp
from mask.db import session_scope
from mask.models.link import Link
from tests.dashboard.conftest import Person, make_person
from tests.link.pages import PageServer, Route


class _FormReader(HTMLParser):
    """The fields of the form `#link-form` as a browser would send them (without script)."""

    def __init__(self) -> None:
        super().__init__()
        self.inside = False
        self.fields: dict[str, str] = {}
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {key: value or "" for key, value in attrs}
        if tag == "form" and found.get("id") == "link-form":
            self.inside = True
        if not self.inside:
            return
        name = found.get("name")
        if tag == "input" and name and found.get("type") not in ("checkbox", "submit", "password"):
            self.fields[name] = found.get("value", "")
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and "selected" in found:
            self.fields[self._select] = found.get("value", "")
        elif tag == "textarea" and name:
            self._textarea = name
            self.fields[name] = ""

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.fields[self._textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def as_form(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    """Repeated names (the checked `ids`) as httpx sends them: one list per name."""
    form: dict[str, list[str]] = {}
    for name, value in pairs:
        form.setdefault(name, []).append(value)
    return form


def form_fields(html: str) -> dict[str, str]:
    reader = _FormReader()
    reader.feed(html)
    return reader.fields


async def _stored(app: MaskApp, slug: str) -> Link:
    async with session_scope(app.context.sessionmaker) as db:
        return (await db.execute(select(Link).where(Link.slug == slug))).scalar_one()


async def test_a_destination_without_a_scheme_gets_https_and_the_builder_says_so(app: MaskApp) -> None:
    person = await make_person(app, "ada@example.com")
    builder = await person.http.get(f"{person.base}/links/new")
    assert "example.com/page becomes https://example.com/page" in builder.text
    made = await person.post(
        f"{person.base}/links", {"url": "example.com/page?x=1", "slug": "bare", "expired_url": "example.org/gone"}
    )
    assert made.status_code == 303, made.text
    link = await _stored(app, "bare")
    assert (link.url, link.expired_url) == ("https://example.com/page?x=1", "https://example.org/gone")
    # Not a host name: left as typed, and refused with the API's message.
    refused = await person.post(f"{person.base}/links", {"url": "just words", "slug": "words"})
    assert refused.status_code == 422


async def test_expiry_is_typed_in_the_browsers_zone_stored_in_utc_and_shown_back_in_it(app: MaskApp) -> None:
    person = await make_person(app, "ada@example.com")
    made = await person.post(
        f"{person.base}/links",
        {"url": "https://example.com/tz", "slug": "tz", "expires_at": "2030-01-15T09:00", "tz": "America/New_York"},
    )
    assert made.status_code == 303, made.text
    link = await _stored(app, "tz")
    assert link.expires_at is not None
    assert link.expires_at.replace(tzinfo=UTC) == datetime(2030, 1, 15, 14, 0, tzinfo=UTC)
    # The browser's zone comes back in a cookie (links.js): the editor shows New York time, and the UTC instant.
    person.http.cookies.set("mask_tz", "America/New_York")
    page = await person.http.get(f"{person.base}/links/{link.id}")
    fields = form_fields(page.text)
    assert fields["expires_at"] == "2030-01-15T09:00" and fields["tz"] == "America/New_York"
    assert 'data-utc="2030-01-15T14:00:00+00:00"' in page.text
    # Without a zone (no script, no cookie) the form is in UTC, and says so.
    person.http.cookies.set("mask_tz", "Not/AZone")
    plain = await person.http.get(f"{person.base}/links/{link.id}")
    assert form_fields(plain.text)["expires_at"] == "2030-01-15T14:00" and "In your time zone: UTC." in plain.text


async def test_a_failed_save_opens_on_an_error_summary_linking_to_each_field(app: MaskApp) -> None:
    person = await make_person(app, "ada@example.com")
    bad = await person.post(f"{person.base}/links", {"url": "ftp://example.com/x", "slug": "app"})
    assert bad.status_code == 422
    summary = re.search(r'<div class="[^"]*error-summary" id="error-summary"([^>]*)>(.*?)</div>', bad.text, re.S)
    assert summary is not None
    assert 'role="alert"' in summary.group(1) and 'tabindex="-1"' in summary.group(1)
    assert "autofocus" in summary.group(1) and "2 things to fix" in summary.group(2)
    links = re.findall(r'<a href="#(f-[a-z_]+)" data-field="\1">([^<]+)</a>', summary.group(2))
    assert {field for field, _ in links} == {"f-url", "f-slug"}
    assert 'id="f-url"' in bad.text and 'id="f-slug"' in bad.text
    # Focus goes to the summary, so the destination field does not take it as well.
    assert not re.search(r'id="f-url"[^>]*autofocus', bad.text)
    # What was typed is kept.
    assert form_fields(bad.text)["url"] == "ftp://example.com/x"


async def test_an_expired_link_is_edited_sending_only_what_changed(app: MaskApp) -> None:
    person = await make_person(app, "ada@example.com")
    made = await person.post(
        f"{person.base}/links",
        {"url": "https://example.com/old", "slug": "old", "expires_at": "2099-01-01T10:00", "tags": "a, b"},
    )
    assert made.status_code == 303
    link = await _stored(app, "old")
    past = datetime.now(UTC) - timedelta(days=2)
    async with session_scope(app.context.sessionmaker) as db:
        await db.execute(update(Link).where(Link.id == link.id).values(expires_at=past))
    page = f"{person.base}/links/{link.id}"
    fields = form_fields((await person.http.get(page)).text)
    assert fields["expires_at"] == past.strftime("%Y-%m-%dT%H:%M")  # the past expiry, re-sent as it was
    saved = await person.post(page, {**fields, "title": "Renamed", "tags": "b, c"}, form_page=page)
    assert saved.status_code == 303, saved.text
    after = await _stored(app, "old")
    assert after.title == "Renamed" and after.expires_at is not None
    assert after.expires_at.replace(tzinfo=UTC) == past.replace(tzinfo=UTC)  # untouched
    detail = await person.http.get(page)
    assert "b, c" in form_fields(detail.text)["tags"]
    # A new expiry in the past is still refused, with the API's message in the summary.
    again = form_fields(detail.text)
    refused = await person.post(page, {**again, "expires_at": "2001-01-01T00:00"}, form_page=page)
    assert refused.status_code == 422 and 'href="#f-expires_at"' in refused.text
    # Emptying it clears it.
    cleared = await person.post(page, {**again, "expires_at": ""}, form_page=page)
    assert cleared.status_code == 303 and (await _stored(app, "old")).expires_at is None


async def test_the_social_preview_is_saved_with_the_link_and_cleared_when_emptied(app: MaskApp) -> None:
    person = await make_person(app, "ada@example.com")
    made = await person.post(
        f"{person.base}/links",
        {
            "url": "https://example.com/p",
            "slug": "p",
            "preview_title": "Spring sale",
            "preview_description": "All 20 % off",
            "preview_image_url": "https://cdn.example.com/s.png",
        },
    )
    assert made.status_code == 303, made.text
    link = await _stored(app, "p")
    assert link.preview is not None and link.preview["title"] == "Spring sale"
    page = f"{person.base}/links/{link.id}"
    fields = form_fields((await person.http.get(page)).text)
    assert fields["preview_description"] == "All 20 % off"
    emptied = {**fields, "preview_title": "", "preview_description": "", "preview_image_url": ""}
    assert (await person.post(page, emptied, form_page=page)).status_code == 303
    assert (await _stored(app, "p")).preview is None
    http_image = await person.post(
        page, {**fields, "preview_image_url": "http://cdn.example.com/s.png"}, form_page=page
    )
    assert http_image.status_code == 422 and 'href="#f-preview_title"' in http_image.text


async def test_the_builder_draws_the_qr_code_of_the_short_url_to_be(app: MaskApp) -> None:
    person = await make_person(app, "ada@example.com")
    svg = await person.http.get(
        f"{person.base}/links/qr-preview.svg", params={"domain": "localhost:8000", "slug": "spring"}
    )
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    assert svg.text.lstrip().startswith("<?xml") or "<svg" in svg.text[:200]
    other = await person.http.get(
        f"{person.base}/links/qr-preview.svg", params={"domain": "localhost:8000", "slug": "autumn"}
    )
    assert other.text != svg.text  # it encodes the slug
    for params in ({"domain": "evil.example", "slug": "x"}, {"domain": "localhost:8000", "slug": "no spaces"}):
        assert (await person.http.get(f"{person.base}/links/qr-preview.svg", params=params)).status_code == 422
    stranger = await make_person(app, "eve@example.com", ip="203.0.113.11")
    foreign = await stranger.http.get(
        f"/app/{person.workspace}/links/qr-preview.svg", params={"domain": "localhost:8000", "slug": "x"}
    )
    assert foreign.status_code == 404


class TestFetchFromPage:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"title_fetch_allowed_networks": ["127.0.0.2/32"]}

    @pytest.fixture
    async def pages(self) -> AsyncIterator[PageServer]:
        server = await PageServer().start()
        yield server
        await server.stop()

    async def test_the_preview_is_fetched_from_the_page_with_and_without_script(
        self, app: MaskApp, pages: PageServer
    ) -> None:
        pages.routes["/og"] = Route(
            body=b'<html><head><title>T</title><meta property="og:title" content="Launch day">'
            b'<meta property="og:description" content="It is here">'
            b'<meta property="og:image" content="https://cdn.example.com/l.png"></head></html>'
        )
        person = await make_person(app, "ada@example.com")
        answer = await person.http.get(f"{person.base}/links/metadata", params={"url": pages.url("/og")})
        assert answer.status_code == 200, answer.text
        assert (answer.json()["title"], answer.json()["image_url"]) == ("Launch day", "https://cdn.example.com/l.png")
        refused = await person.http.get(f"{person.base}/links/metadata", params={"url": "http://127.0.0.3:9/"})
        assert refused.status_code == 422 and refused.json()["error"]["code"] == "metadata_unavailable"
        # Without script the button submits the form: the fields are filled, nothing is saved.
        filled = await person.post(
            f"{person.base}/links", {"url": pages.url("/og"), "slug": "og", "intent": "fetch-preview"}
        )
        assert filled.status_code == 200
        fields = form_fields(filled.text)
        assert (fields["preview_title"], fields["preview_description"]) == ("Launch day", "It is here")
        assert fields["slug"] == "og"
        async with session_scope(app.context.sessionmaker) as db:
            assert (await db.execute(select(Link))).first() is None
        stranger = await make_person(app, "eve@example.com", ip="203.0.113.11")
        foreign = await stranger.http.get(f"/app/{person.workspace}/links/metadata", params={"url": pages.url("/og")})
        assert foreign.status_code == 404


async def _links(app: MaskApp, person: Person, *slugs: str) -> dict[str, str]:
    ids = {}
    for slug in slugs:
        made = await person.post(f"{person.base}/links", {"url": f"https://example.com/{slug}", "slug": slug})
        assert made.status_code == 303
        ids[slug] = (await _stored(app, slug)).id
    return ids


async def test_bulk_selection_archives_tags_and_deletes_after_confirmation(app: MaskApp) -> None:
    person = await make_person(app, "ada@example.com")
    ids = await _links(app, person, "one", "two", "three")
    listing = await person.http.get(f"{person.base}/links")
    assert listing.text.count('name="ids"') == 3 and "data-select-all" in listing.text
    bulk = f"{person.base}/links/bulk"
    pick = [("ids", ids["one"]), ("ids", ids["two"])]

    async def send(pairs: list[tuple[str, str]]) -> Any:
        token = await person.csrf(f"{person.base}/links")
        return await person.http.post(bulk, data=as_form([*pairs, ("csrf_token", token)]))

    tagged = await send([*pick, ("action", "tag-add"), ("tag", "spring"), ("back", "sort=oldest")])
    assert tagged.status_code == 303 and tagged.headers["location"].startswith(f"{person.base}/links?sort=oldest&")
    archived = await send([*pick, ("action", "archive")])
    assert archived.headers["location"].endswith("done=links-archived")
    assert [(await _stored(app, slug)).archived for slug in ("one", "two", "three")] == [
        True,
        True,
        False,
    ]
    untagged = await send([("ids", ids["one"]), ("action", "tag-remove"), ("tag", "spring")])
    assert untagged.status_code == 303
    two_tags = await person.http.get(f"{person.base}/links", params={"tags": "spring", "archived": "all"})
    assert re.findall(r'class="strong link-name"[^>]*>([^<]+)</a>', two_tags.text) == ["localhost:8000/two"]
    # Delete asks first: a confirmation page, nothing deleted until its button is pressed.
    asked = await send([*pick, ("action", "delete")])
    assert asked.status_code == 200 and "Delete 2 links" in asked.text and "localhost:8000/one" in asked.text
    assert (await _stored(app, "one")).id == ids["one"]
    confirmed = await send([*pick, ("action", "delete"), ("confirm", "1")])
    assert confirmed.headers["location"].endswith("done=links-deleted")
    async with session_scope(app.context.sessionmaker) as db:
        assert set((await db.execute(select(Link.slug))).scalars()) == {"three"}
    nothing = await send([("action", "archive")])
    assert nothing.headers["location"].endswith("done=links-none-selected")


async def test_row_actions_act_on_their_own_row_only(app: MaskApp) -> None:
    person = await make_person(app, "ada@example.com")
    ids = await _links(app, person, "left", "right")
    token = await person.csrf(f"{person.base}/links")
    archived = await person.http.post(
        f"{person.base}/links/bulk",
        data=as_form([("ids", ids["right"]), ("row", f"archive:{ids['left']}"), ("csrf_token", token)]),
    )
    assert archived.status_code == 303
    assert (await _stored(app, "left")).archived and not (await _stored(app, "right")).archived
    listing = await person.http.get(f"{person.base}/links", params={"archived": "all"})
    assert f'value="unarchive:{ids["left"]}"' in listing.text and f'value="delete:{ids["right"]}"' in listing.text
    asked = await person.post(
        f"{person.base}/links/bulk", {"row": f"delete:{ids['right']}"}, form_page=f"{person.base}/links"
    )
    assert asked.status_code == 200 and "Delete 1 link?" in asked.text


async def test_another_workspaces_links_are_not_found_in_bulk(app: MaskApp) -> None:
    owner = await make_person(app, "ada@example.com")
    ids = await _links(app, owner, "mine")
    stranger = await make_person(app, "eve@example.com", ip="203.0.113.11")
    token = await stranger.csrf(f"{stranger.base}/links")
    for action in ("archive", "delete"):
        response = await stranger.http.post(
            f"{stranger.base}/links/bulk",
            data=as_form([("ids", ids["mine"]), ("action", action), ("confirm", "1"), ("csrf_token", token)]),
        )
        assert response.status_code == 404
    foreign = await stranger.http.post(
        f"/app/{owner.workspace}/links/bulk",
        data=as_form([("ids", ids["mine"]), ("action", "delete"), ("confirm", "1"), ("csrf_token", token)]),
    )
    assert foreign.status_code == 404
    assert not (await _stored(app, "mine")).archived


async def test_the_editor_links_to_the_targeting_page(app: MaskApp) -> None:
    person = await make_person(app, "ada@example.com")
    link_id = (await _links(app, person, "ab"))["ab"]
    page = f"{person.base}/links/{link_id}"
    shown = await person.http.get(page)
    assert f'href="{page}/targeting">Targeting &amp; A/B tests</a>' in shown.text
    assert (await person.http.get(f"{page}/targeting")).status_code == 200
