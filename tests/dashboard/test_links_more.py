"""The dashboard's side of issue 20: titles first, sorting, several tags, archive/disable, tag management, QR
styling with preview and download, and QR images cached by what they show (not by link id)."""

from __future__ import annotations

import io
import re

from PIL import Image
from sqlalchemy import select, update

from mask.app import MaskApp
from mask.db import session_scope
from mask.models.link import Link
from mask.models.tag import Tag
from tests.dashboard.conftest import Person, make_person


async def _link(app: MaskApp, person: Person, slug: str, **fields: str) -> str:
    response = await person.post(f"{person.base}/links", {"url": f"https://example.com/{slug}", "slug": slug, **fields})
    assert response.status_code == 303, response.text
    async with session_scope(app.context.sessionmaker) as db:
        return str((await db.execute(select(Link.id).where(Link.slug == slug))).scalar_one())


async def test_the_list_shows_titles_first_sorts_and_filters_by_several_tags(app: MaskApp) -> None:
    person = await make_person(app, "ada@example.com")
    quiet = await _link(app, person, "quiet", title="Quiet page", tags="red")
    busy = await _link(app, person, "busy", tags="red, blue")
    await _link(app, person, "other", tags="blue")
    async with session_scope(app.context.sessionmaker) as db:
        await db.execute(update(Link).where(Link.id == busy).values(clicks=42))
    listing = await person.http.get(f"{person.base}/links", params={"sort": "most-clicks"})
    names = re.findall(r'class="strong link-name"[^>]*>([^<]+)</a>', listing.text)
    assert names[0] == "localhost:8000/busy"
    assert "Quiet page" in names and 'class="short-line muted">localhost:8000/quiet<' in listing.text
    both = await person.http.get(
        f"{person.base}/links", params=[("tags", "red"), ("tags", "blue"), ("tag_match", "all")]
    )
    assert re.findall(r'class="strong link-name"[^>]*>([^<]+)</a>', both.text) == ["localhost:8000/busy"]
    any_of = await person.http.get(f"{person.base}/links", params=[("tags", "red"), ("tags", "blue")])
    assert len(re.findall(r'class="strong link-name"', any_of.text)) == 3
    assert quiet  # created with its title: nothing was fetched for it


async def test_archive_and_disable_from_the_link_page(app: MaskApp) -> None:
    person = await make_person(app, "ada@example.com")
    link_id = await _link(app, person, "shelf")
    page = f"{person.base}/links/{link_id}"
    archived = await person.post(f"{page}/state", {"action": "archive"}, form_page=page)
    assert archived.status_code == 303 and archived.headers["location"].endswith("done=link-archived")
    assert "localhost:8000/shelf" not in (await person.http.get(f"{person.base}/links")).text
    assert "localhost:8000/shelf" in (await person.http.get(f"{person.base}/links", params={"archived": "true"})).text
    assert (await person.http.get("/shelf")).status_code == 302
    await person.post(f"{page}/state", {"action": "disable"}, form_page=page)
    assert (await person.http.get("/shelf")).status_code == 404
    detail = await person.http.get(page)
    assert "Disabled</span>" in detail.text and 'value="enable"' in detail.text
    await person.post(f"{page}/state", {"action": "enable"}, form_page=page)
    assert (await person.http.get("/shelf")).status_code == 302


async def test_tags_are_managed_and_their_colours_shown(app: MaskApp) -> None:
    person = await make_person(app, "ada@example.com")
    link_id = await _link(app, person, "tagged", tags="old-name, keep")
    tags_page = f"{person.base}/tags"
    created = await person.post(tags_page, {"name": "fresh", "color": "green"}, form_page=tags_page)
    assert created.status_code == 303
    async with session_scope(app.context.sessionmaker) as db:
        ids = dict((await db.execute(select(Tag.name, Tag.id))).all())
    renamed = await person.post(
        f"{tags_page}/{ids['old-name']}", {"name": "renamed", "color": "purple"}, form_page=tags_page
    )
    assert renamed.status_code == 303
    clash = await person.post(f"{tags_page}/{ids['old-name']}", {"name": "keep"}, form_page=tags_page)
    assert clash.status_code == 409 and "merge" in clash.text
    merged = await person.post(f"{tags_page}/{ids['old-name']}", {"name": "keep", "merge": "1"}, form_page=tags_page)
    assert merged.status_code == 303
    detail = await person.http.get(f"{person.base}/links/{link_id}")
    assert re.search(r'class="tag tag-gray"[^>]*>keep<', detail.text)
    listing = await person.http.get(tags_page)
    assert re.search(r'class="tag tag-green"[^>]*>fresh<', listing.text)
    bad = await person.post(tags_page, {"name": "x" * 60}, form_page=tags_page)
    assert bad.status_code == 422
    deleted = await person.post(f"{tags_page}/{ids['fresh']}/delete", {}, form_page=tags_page)
    assert deleted.status_code == 303


async def test_a_qr_code_changes_as_soon_as_the_slug_does(app: MaskApp) -> None:
    person = await make_person(app, "ada@example.com")
    link_id = await _link(app, person, "first")
    page = f"{person.base}/links/{link_id}"
    before = await person.http.get(page)
    src = re.search(r'<img src="([^"]+qr\.svg[^"]+)"', before.text)
    assert src
    image = await person.http.get(src.group(1).replace("&amp;", "&"))
    assert image.headers["cache-control"] == "private, no-cache" and image.headers["etag"]
    assert (
        await person.http.get(f"{page}/qr.svg", headers={"If-None-Match": image.headers["etag"]})
    ).status_code == 304
    saved = await person.post(page, {"url": "https://example.com/first", "slug": "second"}, form_page=page)
    assert saved.status_code == 303, saved.text
    after = await person.http.get(page)
    new_src = re.search(r'<img src="([^"]+qr\.svg[^"]+)"', after.text)
    assert new_src and new_src.group(1) != src.group(1)  # a new URL: no cache can show the old code
    again = await person.http.get(f"{page}/qr.svg", headers={"If-None-Match": image.headers["etag"]})
    assert again.status_code == 200 and again.headers["etag"] != image.headers["etag"]
    preview = await person.http.get(f"{page}/qr", params={"fg": "#1e3a8a", "margin": "2"})
    assert "fg=%231e3a8a" in preview.text and "Download PNG" in preview.text
    unreadable = await person.http.get(f"{page}/qr", params={"fg": "#eeeeee"})
    assert "contrast" in unreadable.text
    png = await person.http.get(f"{page}/qr.png", params={"download": "1", "fg": "#1e3a8a"})
    assert png.headers["content-disposition"] == 'attachment; filename="qr-second.png"'


async def test_the_workspace_qr_style_is_saved_with_a_logo(app: MaskApp) -> None:
    person = await make_person(app, "ada@example.com")
    style_page = f"{person.base}/qr"
    low = await person.post(
        style_page, {"fg": "#dddddd", "bg": "#ffffff", "margin": "4", "ecc": "M"}, form_page=style_page
    )
    assert low.status_code == 422 and "contrast" in low.text
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (220, 38, 38)).save(buffer, format="PNG")
    saved = await person.http.post(
        style_page,
        data={"fg": "#111827", "bg": "#ffffff", "margin": "4", "ecc": "Q", "csrf_token": await person.csrf(style_page)},
        files={"logo": ("logo.png", buffer.getvalue(), "image/png")},
    )
    assert saved.status_code == 303, saved.text
    shown = await person.http.get(style_page)
    assert "Remove the current logo" in shown.text
    preview = await person.http.get(f"{style_page}/preview.svg", params={"fg": "#111827", "bg": "#ffffff"})
    assert preview.headers["content-type"].startswith("image/svg+xml") and b"data:image/png" in preview.content
