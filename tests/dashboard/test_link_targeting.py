"""The link's "Targeting & A/B tests" page: access, rules, an A/B test and the social preview, saved through the
API's service (same rules), editable without JavaScript (the row buttons redraw the form), errors next to their
field in people's words, times in the person's zone, readers read-only, other workspaces' links 404."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from mask.app import MaskApp
from mask.db import session_scope
from mask.models.link import Link
from tests.dashboard.conftest import Person, make_person
from tests.link.pages import PageServer, Route


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    # "Fetch from the page" reads a page served on 127.0.0.2, an exception made for these tests.
    return {"title_fetch_allowed_networks": ["127.0.0.2/32"]}


@pytest.fixture
async def pages() -> AsyncIterator[PageServer]:
    server = await PageServer().start()
    yield server
    await server.stop()


async def new_link(app: MaskApp, person: Person, slug: str = "spring", url: str = "https://example.com/a") -> str:
    created = await person.post(f"{person.base}/links", {"url": url, "slug": slug})
    assert created.status_code == 303, created.text
    return (await the_link(app, slug)).id


async def the_link(app: MaskApp, slug: str = "spring") -> Link:
    async with session_scope(app.context.sessionmaker) as db:
        return (await db.execute(select(Link).where(Link.slug == slug))).scalar_one()


def page_of(person: Person, link_id: str) -> str:
    return f"{person.base}/links/{link_id}/targeting"


TWO_CONDITIONS = {
    "rules-0-url": "https://example.com/es-mobile",
    "rules-0-c-0-type": "device",
    "rules-0-c-0-device": "mobile",
    "rules-0-c-1-type": "country",
    "rules-0-c-1-country": "ES",
    # an input of another type, left behind in the row: ignored
    "rules-0-c-1-language": "zz",
}


async def test_a_rule_with_two_conditions_is_saved_and_read_back_as_a_sentence(app: MaskApp) -> None:
    person = await make_person(app, "ada@example.com")
    link_id = await new_link(app, person)
    page = await person.http.get(page_of(person, link_id))
    assert page.status_code == 200 and "No rules:" in page.text

    saved = await person.post(f"{page_of(person, link_id)}/rules", TWO_CONDITIONS)
    assert saved.status_code == 303, saved.text
    assert (await the_link(app)).rules == [
        {
            "url": "https://example.com/es-mobile",
            "conditions": [{"type": "device", "value": "mobile"}, {"type": "country", "value": "ES"}],
        }
    ]
    shown = await person.http.get(saved.headers["location"])
    assert "Targeting rules saved." in shown.text
    assert "If device is mobile and country is Spain → https://example.com/es-mobile" in shown.text

    # Emptied: no rules at all (as `rules: []` in the API).
    cleared = await person.post(f"{page_of(person, link_id)}/rules", {"op": "save"})
    assert cleared.status_code == 303 and (await the_link(app)).rules is None


async def test_rows_are_added_moved_and_removed_without_script_and_nothing_is_saved(app: MaskApp) -> None:
    person = await make_person(app, "ada@example.com")
    link_id = await new_link(app, person)
    rules = f"{page_of(person, link_id)}/rules"

    added = await person.post(rules, {"op": "add-rule"})
    assert added.status_code == 200
    assert re.search(r'id="f-rules-0-url"[^>]*autofocus', added.text)

    two = {
        **TWO_CONDITIONS,
        "rules-1-url": "https://example.com/ios",
        "rules-1-c-0-type": "os",
        "rules-1-c-0-os": "ios",
    }
    moved = await person.post(rules, {**two, "op": "up-rule-1"})
    assert moved.status_code == 200
    first = moved.text.index('value="https://example.com/ios"')
    assert first < moved.text.index('value="https://example.com/es-mobile"')
    assert re.search(r'id="up-rule-0"[^>]*autofocus', moved.text)

    more = await person.post(rules, {**two, "op": "add-cond-1"})
    assert 'name="rules-1-c-1-type"' in more.text
    fewer = await person.post(rules, {**two, "op": "remove-cond-0-1"})
    assert 'name="rules-0-c-1-type"' not in fewer.text and 'name="rules-0-c-0-type"' in fewer.text
    gone = await person.post(rules, {**two, "op": "remove-rule-0"})
    assert "es-mobile" not in gone.text.split('id="tpl-rule"')[0]
    # The type menu changed without script: "Show the fields" redraws the row with the new type's inputs.
    changed = await person.post(rules, {**two, "rules-1-c-0-type": "language", "op": "refresh"})
    assert re.search(r'data-types="language">', changed.text)
    assert (await the_link(app)).rules is None  # editing buttons never save


async def test_bad_conditions_are_named_next_to_their_field_in_plain_words(app: MaskApp) -> None:
    person = await make_person(app, "ada@example.com")
    link_id = await new_link(app, person)
    bad = await person.post(
        f"{page_of(person, link_id)}/rules",
        {
            "rules-0-url": "notaurl",
            "rules-0-c-0-type": "language",
            "rules-0-c-0-language": "not a language!",
            "rules-0-c-1-type": "ip",
            "rules-0-c-1-ip": "300.1.1.1",
            "rules-0-c-2-type": "query_param",
            "rules-0-c-2-qname": "",
        },
    )
    assert bad.status_code == 422
    html = bad.text
    assert 'id="error-summary"' in html and "4 things to fix" in html
    assert re.search(r'id="e-rules-0-c-0-language">Type a language code such as es', html)
    assert re.search(r'id="e-rules-0-c-1-ip">Type an IP address such as 203.0.113.7', html)
    assert re.search(r'id="e-rules-0-c-2-qname">Type the parameter&#39;s name', html)
    assert re.search(r'id="e-rules-0-url">', html)
    assert '<a href="#f-rules-0-c-1-ip">Rule 1, condition 2:' in html
    assert 'aria-invalid="true" aria-describedby="e-rules-0-c-0-language' in html
    assert "`" not in html.split('id="error-summary"')[1].split("</div>")[0]
    # What was typed is kept, and nothing was saved.
    assert 'value="not a language!"' in html
    assert (await the_link(app)).rules is None


async def test_an_ab_test_needs_weights_summing_to_100_and_its_end_is_in_the_persons_zone(app: MaskApp) -> None:
    person = await make_person(app, "ada@example.com")
    link_id = await new_link(app, person)
    person.http.cookies.set("mask_tz", "Europe/Madrid", domain="localhost", path="/app")
    variants = {
        "variants-0-url": "https://example.com/a",
        "variants-0-weight": "50",
        "variants-1-url": "https://example.com/b",
        "variants-1-weight": "30",
        "variants-2-url": "https://example.com/c",
        "variants-2-weight": "10",
        "test_ends_at": "2030-06-01T12:00",
        "tz": "Europe/Madrid",
    }
    bad = await person.post(f"{page_of(person, link_id)}/variants", variants)
    assert bad.status_code == 422
    assert "The weights add up to 90 %: they must add up to exactly 100 %." in bad.text
    assert '<a href="#f-variants">A/B test weights:' in bad.text
    assert "Total: 90 % (must be 100 %)" in bad.text
    assert (await the_link(app)).variants is None

    good = await person.post(f"{page_of(person, link_id)}/variants", {**variants, "variants-2-weight": "20"})
    assert good.status_code == 303, good.text
    link = await the_link(app)
    assert [(item["url"], item["weight"]) for item in link.variants or []] == [
        ("https://example.com/a", 50),
        ("https://example.com/b", 30),
        ("https://example.com/c", 20),
    ]
    assert link.test_ends_at is not None
    assert link.test_ends_at.replace(tzinfo=UTC) == datetime(2030, 6, 1, 10, 0, tzinfo=UTC)  # summer time, +2
    shown = await person.http.get(page_of(person, link_id))
    assert 'value="2030-06-01T12:00"' in shown.text and "Total: 100 %" in shown.text
    tokyo = await person.http.get(page_of(person, link_id), params={"tz": "Asia/Tokyo"})  # the zone menu (GET)
    assert 'value="2030-06-01T19:00"' in tokyo.text and "In Asia/Tokyo." in tokyo.text

    weightless = await person.post(f"{page_of(person, link_id)}/variants", {**variants, "variants-1-weight": "lots"})
    assert weightless.status_code == 422
    assert re.search(r'id="e-variants-1-weight">A whole number of percent', weightless.text)
    # Out of range: the schema's limit (1–100), said the same way.
    heavy = await person.post(
        f"{page_of(person, link_id)}/variants",
        {**variants, "variants-0-weight": "0", "variants-1-weight": "80", "variants-2-weight": "20"},
    )
    assert heavy.status_code == 422
    assert re.search(r'id="e-variants-0-weight">A whole number of percent, 1 to 100.', heavy.text)


async def test_promoting_a_variant_asks_first_then_makes_it_the_destination(app: MaskApp) -> None:
    person = await make_person(app, "ada@example.com")
    link_id = await new_link(app, person)
    await person.post(
        f"{page_of(person, link_id)}/variants",
        {
            "variants-0-url": "https://example.com/a",
            "variants-0-weight": "60",
            "variants-1-url": "https://example.com/b",
            "variants-1-weight": "40",
        },
    )
    asked = await person.post(f"{page_of(person, link_id)}/variants/1/promote", {"confirmed": "0"})
    assert asked.status_code == 200 and "Promote variant B?" in asked.text
    assert (await the_link(app)).variants is not None

    done = await person.post(f"{page_of(person, link_id)}/variants/1/promote", {"confirmed": "1"})
    assert done.status_code == 303
    link = await the_link(app)
    assert (link.url, link.variants, link.test_ends_at) == ("https://example.com/b", None, None)
    shown = await person.http.get(done.headers["location"])
    assert "is now the link&#39;s destination for everyone" in shown.text

    missing = await person.post(f"{page_of(person, link_id)}/variants/1/promote", {"confirmed": "1"})
    assert missing.status_code == 404


async def test_access_settings_keep_the_password_secret_and_name_problems(app: MaskApp) -> None:
    person = await make_person(app, "ada@example.com")
    link_id = await new_link(app, person)
    access = f"{page_of(person, link_id)}/access"
    saved = await person.post(
        access,
        {
            "password": "open sesame",
            "starts_at": "2020-01-01T10:00",
            "max_clicks": "5",
            "redirect_status": "301",
            "tz": "America/New_York",
        },
    )
    assert saved.status_code == 303, saved.text
    assert (saved.cookies.get("mask_tz") or "").strip('"') == "America/New_York"
    link = await the_link(app)
    assert link.password_hash is not None and link.password_hash.startswith("$argon2id$")
    assert (link.max_clicks, link.redirect_status) == (5, 301)
    assert link.starts_at is not None and link.starts_at.replace(tzinfo=UTC) == datetime(2020, 1, 1, 15, tzinfo=UTC)

    shown = await person.http.get(page_of(person, link_id))
    assert "Protected" in shown.text and "open sesame" not in shown.text
    assert "5 of 5 clicks left." in shown.text
    assert 'value="2020-01-01T10:00"' in shown.text  # in the zone remembered from the save

    kept = {"starts_at": "2020-01-01T10:00", "redirect_status": "301"}
    bad = await person.post(access, {**kept, "max_clicks": "many", "expires_at": "2019-01-01T00"})
    assert bad.status_code == 422
    assert re.search(r'id="e-max_clicks">A whole number, 1 or more', bad.text)
    assert re.search(r'id="e-expires_at">Choose a date and a time.', bad.text)
    assert 'id="error-summary"' in bad.text and "2 things to fix" in bad.text

    zero = await person.post(access, {**kept, "max_clicks": "0"})
    assert zero.status_code == 422
    assert re.search(r'id="e-max_clicks">A whole number, 1 or more', zero.text)

    past = await person.post(access, {**kept, "max_clicks": "5", "expires_at": "2019-01-01T00:00"})
    assert past.status_code == 422
    assert re.search(r'id="e-expires_at">The expiry must be in the future.', past.text)
    assert (await the_link(app)).expires_at is None

    removed = await person.post(access, {"remove_password": "1", "redirect_status": "302", "max_clicks": ""})
    assert removed.status_code == 303
    link = await the_link(app)
    assert (link.password_hash, link.max_clicks, link.redirect_status) == (None, None, 302)


async def test_the_social_preview_is_saved_checked_and_fetched_from_the_page(app: MaskApp, pages: PageServer) -> None:
    pages.routes["/og"] = Route(
        body=b'<html><head><title>Fallback</title><meta property="og:title" content="Spring sale">'
        b'<meta property="og:description" content="20 % off"><meta property="og:image" '
        b'content="https://cdn.example.com/s.png"></head></html>'
    )
    person = await make_person(app, "ada@example.com")
    link_id = await new_link(app, person, url=pages.url("/og"))
    preview = f"{page_of(person, link_id)}/preview"

    fetched = await person.post(preview, {"op": "fetch"})
    assert fetched.status_code == 200, fetched.text
    assert 'value="Spring sale"' in fetched.text and 'value="https://cdn.example.com/s.png"' in fetched.text
    assert (await the_link(app)).preview is None  # filled in, not saved

    http_image = await person.post(
        preview, {"preview_title": "Spring sale", "preview_image_url": "http://cdn.example.com/s.png"}
    )
    assert http_image.status_code == 422
    assert re.search(r'id="e-preview_image_url">The image must be an https:// address.', http_image.text)

    saved = await person.post(
        preview,
        {
            "preview_title": "Spring sale",
            "preview_description": "20 % off",
            "preview_image_url": "https://cdn.example.com/s.png",
        },
    )
    assert saved.status_code == 303
    assert (await the_link(app)).preview == {
        "title": "Spring sale",
        "description": "20 % off",
        "image_url": "https://cdn.example.com/s.png",
    }
    removed = await person.post(preview, {"op": "remove"})
    assert removed.status_code == 303 and (await the_link(app)).preview is None

    # A page the guard will not read (a private address): said next to the title, nothing filled in or saved.
    guarded = await new_link(app, person, slug="guarded", url="http://127.0.0.3:9/")
    refused = await person.post(f"{page_of(person, guarded)}/preview", {"op": "fetch"})
    assert refused.status_code == 422
    assert re.search(r'id="e-preview_title">The page could not be read: ', refused.text)
    assert (await the_link(app, "guarded")).preview is None


async def test_another_workspaces_link_is_not_found_on_every_form(app: MaskApp) -> None:
    owner = await make_person(app, "ada@example.com")
    link_id = await new_link(app, owner)
    await owner.post(
        f"{page_of(owner, link_id)}/variants",
        {
            "variants-0-url": "https://example.com/a",
            "variants-0-weight": "50",
            "variants-1-url": "https://example.com/b",
            "variants-1-weight": "50",
        },
    )
    stranger = await make_person(app, "eve@example.com", ip="203.0.113.99")
    target = f"{stranger.base}/links/{link_id}/targeting"
    assert (await stranger.http.get(target)).status_code == 404
    for form in ("access", "rules", "variants", "preview", "variants/0/promote"):
        response = await stranger.post(f"{target}/{form}", {**TWO_CONDITIONS, "confirmed": "1", "password": "x"})
        assert response.status_code == 404, form
    link = await the_link(app)
    assert link.rules is None and link.password_hash is None and link.variants is not None


async def test_a_viewer_sees_the_settings_read_only(app: MaskApp) -> None:
    from tests.dashboard.test_roles import _person_with_role

    owner = await make_person(app, "owner@example.com", name="Team")
    link_id = await new_link(app, owner)
    await owner.post(f"{page_of(owner, link_id)}/rules", TWO_CONDITIONS)
    viewer = await _person_with_role(app, owner, "viewer")
    page = await viewer.http.get(page_of(viewer, link_id))
    assert page.status_code == 200
    assert "Your role in this workspace cannot change them." in page.text
    assert "If device is mobile and country is Spain" in page.text
    assert page.text.count('<fieldset class="plain" disabled>') == 4
    assert "Save rules" not in page.text
    refused = await viewer.post(f"{page_of(viewer, link_id)}/rules", {"op": "save"}, form_page=page_of(viewer, link_id))
    assert refused.status_code == 403
    assert (await the_link(app)).rules is not None


async def test_the_largest_rule_set_fits_in_one_form(app: MaskApp) -> None:
    """25 rules of 10 conditions each: every field of the form as the page sends it (the hidden types' inputs
    are disabled, so not sent), within the dashboard's limit on form fields."""
    person = await make_person(app, "ada@example.com")
    link_id = await new_link(app, person)
    form: dict[str, str] = {}
    for rule in range(25):
        form[f"rules-{rule}-url"] = f"https://example.com/{rule}"
        for number in range(10):
            form[f"rules-{rule}-c-{number}-type"] = "query_param"
            form[f"rules-{rule}-c-{number}-qname"] = f"p{number}"
            form[f"rules-{rule}-c-{number}-qvalue"] = str(rule)
    saved = await person.post(f"{page_of(person, link_id)}/rules", form)
    assert saved.status_code == 303, saved.text[:500]
    rules = (await the_link(app)).rules or []
    assert len(rules) == 25 and all(len(rule["conditions"]) == 10 for rule in rules)
    assert rules[24]["conditions"][9] == {"type": "query_param", "name": "p9", "value": "24"}

    page = await person.http.get(page_of(person, link_id))
    # Of a condition's inputs only its type's are enabled: a device condition sends no country, language, ….
    first = page.text.split("data-cond>", 2)[1]
    assert re.search(r'name="rules-0-c-0-qname"[^>]*>', first)
    assert re.search(r'name="rules-0-c-0-country"[^>]* disabled', first)
    assert not re.search(r'name="rules-0-c-0-qname"[^>]* disabled', first)
