"""Bio pages in the dashboard: created and edited through mask.bio_page.service, previewed by its renderer."""

from __future__ import annotations

import re

import httpx

from mask.app import MaskApp
from tests.dashboard.conftest import Person, make_person

BLOCK_IDS = re.compile(r'data-id="(blk_\w+)"')


async def _new_page(person: Person, handle: str = "ada") -> str:
    created = await person.post(
        f"{person.base}/bio", {"handle": handle, "domain": "localhost:8000", "title": "Ada Lovelace"}
    )
    assert created.status_code == 303, created.text
    return created.headers["location"].split("?")[0]


async def test_a_bio_page_is_built_block_by_block_and_served_in_public(app: MaskApp, client: httpx.AsyncClient) -> None:
    person = await make_person(app, "ada@example.com")
    editor = await _new_page(person)
    for form in (
        {"type": "link", "title": "My blog", "url": "https://example.com/blog"},
        {"type": "header", "text": "Elsewhere"},
        {"type": "social", "platform": "github", "url": "https://github.com/ada"},
    ):
        assert (await person.post(f"{editor}/blocks", form)).status_code == 303
    page = await person.http.get(editor)
    blog, heading, github = BLOCK_IDS.findall(page.text)
    # Keyboard reordering: move the heading to the top; then drag-and-drop's whole order.
    assert (await person.post(f"{editor}/blocks/{heading}/move", {"direction": "up"})).status_code == 303
    assert (await person.post(f"{editor}/blocks/{heading}/move", {"direction": "up"})).status_code == 303
    assert BLOCK_IDS.findall((await person.http.get(editor)).text) == [heading, blog, github]
    assert (await person.post(f"{editor}/order", {"order": f"{github},{blog},{heading}"})).status_code == 303
    assert BLOCK_IDS.findall((await person.http.get(editor)).text) == [github, blog, heading]
    partial = await person.post(f"{editor}/order", {"order": f"{github},{blog}"})
    assert partial.status_code == 422
    renamed = await person.post(
        f"{editor}/blocks/{blog}", {"title": "Writing", "url": "https://example.com/w", "enabled": "on"}
    )
    assert renamed.status_code == 303
    assert (await person.post(f"{editor}/blocks/{heading}/delete")).status_code == 303
    public = await client.get("/@ada")
    assert public.status_code == 200
    assert "Writing" in public.text and "Elsewhere" not in public.text and "Ada Lovelace" in public.text
    assert public.text.index("GitHub") < public.text.index("Writing")


async def test_the_preview_is_the_public_renderer_with_links_disarmed(app: MaskApp) -> None:
    person = await make_person(app, "ada@example.com")
    editor = await _new_page(person)
    await person.post(f"{editor}/blocks", {"type": "link", "title": "Blog", "url": "https://example.com/blog"})
    unpublished = await person.post(
        editor, {"handle": "ada", "domain": "localhost:8000", "title": "Draft", "theme_preset": "midnight"}
    )
    assert unpublished.status_code == 303
    preview = await person.http.get(f"{editor}/preview")
    assert preview.status_code == 200 and "Draft" in preview.text and "Blog" in preview.text
    assert "/b/blk_" not in preview.text and 'href="#preview"' in preview.text
    assert "frame-ancestors 'self'" in preview.headers["content-security-policy"]
    assert "script" not in preview.headers["content-security-policy"]
    assert preview.headers["x-frame-options"] == "SAMEORIGIN"
    assert (await person.http.get("/@ada")).status_code == 404  # a draft is not public
    editor_page = await person.http.get(editor)
    assert 'value="midnight" checked' in editor_page.text and "draft: visitors get 404" in editor_page.text


async def test_refused_changes_are_explained_next_to_their_fields(app: MaskApp) -> None:
    person = await make_person(app, "ada@example.com")
    taken_by = await make_person(app, "bob@example.com")
    await _new_page(taken_by, "taken")
    bad_handle = await person.post(f"{person.base}/bio", {"handle": "taken", "domain": "localhost:8000"})
    assert bad_handle.status_code == 409 and re.search(r'id="e-handle">The handle “taken” is already', bad_handle.text)
    editor = await _new_page(person)
    bad_block = await person.post(f"{editor}/blocks", {"type": "link", "title": " ", "url": "ftp://x.example"})
    assert bad_block.status_code == 422
    assert 'id="e-n-link-title"' in bad_block.text and 'id="e-n-link-url"' in bad_block.text
    assert 'value="ftp://x.example"' in bad_block.text  # what was typed is shown again
    unreadable = await person.post(
        editor,
        {
            "handle": "ada",
            "domain": "localhost:8000",
            "theme_preset": "minimal",
            "theme_text_color": "#ffffff",
            "published": "on",
        },
    )
    assert unreadable.status_code == 422 and re.search(
        r'id="e-theme_text_color">The text colour is too close to the background', unreadable.text
    )


async def test_bio_pages_stay_inside_their_workspace(app: MaskApp) -> None:
    alice = await make_person(app, "alice@example.com", name="Alpha")
    bob = await make_person(app, "bob@example.com", name="Beta")
    editor = await _new_page(alice)
    bio_id = editor.rsplit("/", 1)[1]
    assert (await bob.http.get(f"{bob.base}/bio/{bio_id}")).status_code == 404
    assert (await bob.http.get(f"{bob.base}/bio/{bio_id}/preview")).status_code == 404
    assert (await bob.post(f"{bob.base}/bio/{bio_id}/delete")).status_code == 404
    assert (await alice.http.get(editor)).status_code == 200
