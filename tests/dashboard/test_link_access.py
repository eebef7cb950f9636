"""The link editor's password, start, click limit and redirect status: the API's rules, field errors in place,
and a password that is never shown again (an empty box keeps it, a checkbox removes it)."""

from __future__ import annotations

import re

from sqlalchemy import select

from mask.app import MaskApp
from mask.db import session_scope
from mask.models.link import Link
from tests.dashboard.conftest import make_person

EDIT = {
    "url": "https://example.com/a",
    "slug": "vault",
    "domain": "localhost:8000",
    "tags": "",
    "starts_at": "",
    "max_clicks": "5",
    "redirect_status": "302",
}


async def the_link(app: MaskApp) -> Link:
    async with session_scope(app.context.sessionmaker) as db:
        return (await db.execute(select(Link))).scalar_one()


async def test_access_fields_are_set_kept_and_removed_from_the_editor(app: MaskApp) -> None:
    person = await make_person(app, "ada@example.com")
    created = await person.post(
        f"{person.base}/links",
        {
            "url": "https://example.com/a",
            "slug": "vault",
            "password": "open sesame",
            "starts_at": "2020-01-01T10:00",
            "max_clicks": "5",
            "redirect_status": "307",
        },
    )
    assert created.status_code == 303, created.text
    link = await the_link(app)
    assert link.password_hash is not None and link.password_hash.startswith("$argon2id$")
    assert (link.max_clicks, link.redirect_status, link.starts_at is not None) == (5, 307, True)

    detail = await person.http.get(f"{person.base}/links/{link.id}")
    assert "New password" in detail.text and "5 clicks left." in detail.text
    assert "open sesame" not in detail.text and link.password_hash not in detail.text
    assert re.search(r'<option value="307" selected>', detail.text)

    kept = await person.post(f"{person.base}/links/{link.id}", EDIT)  # the password box left empty
    assert kept.status_code == 303
    link = await the_link(app)
    assert link.password_hash is not None and link.redirect_status == 302 and link.starts_at is None

    removed = await person.post(f"{person.base}/links/{link.id}", {**EDIT, "remove_password": "1"})
    assert removed.status_code == 303
    assert (await the_link(app)).password_hash is None


async def test_a_bad_click_limit_is_shown_next_to_its_field(app: MaskApp) -> None:
    person = await make_person(app, "ada@example.com")
    bad = await person.post(f"{person.base}/links", {"url": "https://example.com/a", "max_clicks": "0"})
    assert bad.status_code == 422
    assert re.search(r'id="e-max_clicks">', bad.text)
