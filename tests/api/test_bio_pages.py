"""The bio pages API: fields and their validation, block ids across PATCH, tenant isolation, events."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select

from mask.app import MaskApp
from mask.db import session_scope
from mask.models.event import Event
from tests.conftest import Tenant, TenantFactory

FULL_PAGE: dict[str, Any] = {
    "handle": "ada",
    "title": "Ada Lovelace",
    "description": "Mathematician.\nFirst programmer.",
    "avatar_url": "https://images.example.com/ada.png",
    "theme": {"preset": "sunset", "button_shape": "square", "font": "serif"},
    "blocks": [
        {"type": "header", "text": "Work"},
        {"type": "link", "title": "Notes on the Analytical Engine", "url": "https://example.com/notes"},
        {"type": "text", "text": "Available for talks."},
        {"type": "link", "title": "Old draft", "url": "https://example.com/draft", "enabled": False},
        {"type": "social", "platform": "github", "url": "https://github.com/ada"},
        {"type": "social", "platform": "email", "url": "ada@example.com"},
    ],
    "seo_title": "Ada's links",
    "seo_description": "Everything Ada.",
    "og_image_url": "https://images.example.com/ada-card.png",
}


def errors_of(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 422, response.text
    return {error["param"]: error["code"] for error in response.json()["error"]["errors"]}


async def create(client: httpx.AsyncClient, tenant: Tenant, **fields: Any) -> dict[str, Any]:
    response = await client.post("/v1/bio-pages", json={"handle": "ada", **fields}, headers=tenant.headers)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_create_returns_the_documented_shape(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await client.post("/v1/bio-pages", json=FULL_PAGE, headers=tenant.headers)
    assert response.status_code == 201, response.text
    page = response.json()
    assert page["id"].startswith("bio_")
    assert page["url"] == "http://localhost:8000/@ada"
    assert page["domain"] == "localhost:8000"
    assert page["published"] is True
    assert (page["views"], page["clicks"]) == (0, 0)
    assert page["theme"] == {
        "preset": "sunset",
        "background": None,
        "text_color": None,
        "button_color": None,
        "button_text_color": None,
        "button_shape": "square",
        "font": "serif",
    }
    assert [block["type"] for block in page["blocks"]] == ["header", "link", "text", "link", "social", "social"]
    assert all(block["id"].startswith("blk_") for block in page["blocks"])
    assert page["blocks"][1] == {
        "id": page["blocks"][1]["id"],
        "type": "link",
        "title": "Notes on the Analytical Engine",
        "url": "https://example.com/notes",
        "enabled": True,
        "clicks": 0,
    }
    assert page["blocks"][3]["enabled"] is False
    assert page["blocks"][5]["url"] == "mailto:ada@example.com"
    assert page["created_at"].endswith("Z")
    fetched = await client.get(f"/v1/bio-pages/{page['id']}", headers=tenant.headers)
    assert fetched.json() == page


async def test_handle_rules(client: httpx.AsyncClient, tenant: Tenant) -> None:
    for bad in ("ab", "has space", "émile", "a/b", "@ada", "UPPER!", "a\nb", ""):
        response = await client.post("/v1/bio-pages", json={"handle": bad}, headers=tenant.headers)
        assert errors_of(response) == {"handle": "invalid_handle"}, bad
    response = await client.post("/v1/bio-pages", json={"handle": "a" * 31}, headers=tenant.headers)
    assert errors_of(response) == {"handle": "string_too_long"}
    for reserved in ("api", "admin", "static", "Docs"):
        response = await client.post("/v1/bio-pages", json={"handle": reserved}, headers=tenant.headers)
        assert errors_of(response) == {"handle": "reserved_handle"}, reserved
    page = await create(client, tenant, handle="Ada.L-ove_1")
    assert page["handle"] == "ada.l-ove_1"  # folded to lower case: /@Ada.L-ove_1 and /@ada.l-ove_1 are one page


async def test_taken_handle_is_409_across_workspaces_but_free_on_another_domain(
    client: httpx.AsyncClient, tenant: Tenant, make_tenant: TenantFactory
) -> None:
    await create(client, tenant)
    other = await make_tenant()
    response = await client.post("/v1/bio-pages", json={"handle": "ADA"}, headers=other.headers)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "handle_taken"
    domain = await client.post("/v1/domains", json={"domain": "links.other.example"}, headers=other.headers)
    assert domain.status_code == 201, domain.text
    moved = await create(client, other, domain="links.other.example")
    assert moved["url"] == "https://links.other.example/@ada"


async def test_unknown_domain_is_refused(client: httpx.AsyncClient, tenant: Tenant, make_tenant: TenantFactory) -> None:
    other = await make_tenant()
    await client.post("/v1/domains", json={"domain": "theirs.example"}, headers=other.headers)
    response = await client.post(
        "/v1/bio-pages", json={"handle": "ada", "domain": "theirs.example"}, headers=tenant.headers
    )
    assert errors_of(response) == {"domain": "unknown_domain"}


@pytest.mark.parametrize(
    ("block", "param", "code"),
    [
        ({"type": "link", "title": "x", "url": "javascript:alert(1)"}, "blocks.0.url", "unsupported_scheme"),
        (
            {"type": "link", "title": "x", "url": "data:text/html,<script>alert(1)</script>"},
            "blocks.0.url",
            "unsupported_scheme",
        ),
        ({"type": "link", "title": "x", "url": "mailto:ada@example.com"}, "blocks.0.url", "unsupported_scheme"),
        ({"type": "link", "title": "x", "url": "ftp://example.com/file"}, "blocks.0.url", "unsupported_scheme"),
        ({"type": "link", "title": "x", "url": "https://user:pw@example.com/"}, "blocks.0.url", "credentials_in_url"),
        ({"type": "link", "title": "x", "url": "not a url"}, "blocks.0.url", "invalid_url"),
        ({"type": "link", "title": "x", "url": "http://localhost:8000/abc"}, "blocks.0.url", "redirect_loop"),
        ({"type": "link", "title": "   ", "url": "https://example.com/"}, "blocks.0.title", "blank"),
        ({"type": "link", "title": "a\x07b", "url": "https://example.com/"}, "blocks.0.title", "invalid_characters"),
        ({"type": "link", "title": "x" * 101, "url": "https://example.com/"}, "blocks.0.title", "string_too_long"),
        ({"type": "header", "text": ""}, "blocks.0.text", "blank"),
        ({"type": "text", "text": "x" * 501}, "blocks.0.text", "string_too_long"),
        (
            {"type": "social", "platform": "myspace", "url": "https://myspace.com/ada"},
            "blocks.0.social.platform",
            "literal_error",
        ),
        ({"type": "social", "platform": "x", "url": "mailto:ada@example.com"}, "blocks.0.url", "unsupported_scheme"),
        (
            {"type": "social", "platform": "email", "url": "javascript:alert(1)//@example.com"},
            "blocks.0.url",
            "invalid_email",
        ),
        (
            {"type": "social", "platform": "email", "url": "mailto:a@b.com?bcc=everyone@example.com"},
            "blocks.0.url",
            "invalid_email",
        ),
        ({"type": "social", "platform": "email", "url": "https://example.com"}, "blocks.0.url", "invalid_email"),
        ({"type": "video", "url": "https://example.com"}, "blocks.0", "union_tag_invalid"),
        (
            {"type": "link", "title": "x", "url": "https://example.com/", "color": "red"},
            "blocks.0.link.color",
            "unknown_field",
        ),
    ],
)
async def test_block_validation(
    client: httpx.AsyncClient, tenant: Tenant, block: dict[str, Any], param: str, code: str
) -> None:
    response = await client.post("/v1/bio-pages", json={"handle": "ada", "blocks": [block]}, headers=tenant.headers)
    assert errors_of(response) == {param: code}


async def test_page_field_validation_reports_every_field(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await client.post(
        "/v1/bio-pages",
        headers=tenant.headers,
        json={
            "handle": "ok-handle",
            "title": "t" * 101,
            "avatar_url": "http://images.example.com/a.png",
            "og_image_url": "javascript:alert(1)",
            "theme": {"preset": "vaporwave"},
        },
    )
    assert errors_of(response) == {"title": "string_too_long"}  # pydantic answers before the service runs
    response = await client.post(
        "/v1/bio-pages",
        headers=tenant.headers,
        json={
            "handle": "ok-handle",
            "avatar_url": "http://images.example.com/a.png",
            "og_image_url": "javascript:alert(1)",
            "description": "bell\x07",
            "theme": {"preset": "vaporwave"},
        },
    )
    assert errors_of(response) == {
        "avatar_url": "unsupported_scheme",
        "og_image_url": "unsupported_scheme",
        "description": "invalid_characters",
        "theme.preset": "unknown_theme",
    }


async def test_too_many_blocks(client: httpx.AsyncClient, tenant: Tenant) -> None:
    blocks = [{"type": "header", "text": f"h{index}"} for index in range(101)]
    response = await client.post("/v1/bio-pages", json={"handle": "ada", "blocks": blocks}, headers=tenant.headers)
    assert errors_of(response) == {"blocks": "too_many_blocks"}
    page = await create(client, tenant, blocks=blocks[:100])
    assert len(page["blocks"]) == 100


async def test_theme_overrides_and_contrast(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await client.post(
        "/v1/bio-pages",
        headers=tenant.headers,
        json={"handle": "ada", "theme": {"preset": "minimal", "background": "#ffffff", "text_color": "#eeeeee"}},
    )
    assert errors_of(response) == {"theme.text_color": "low_contrast"}
    response = await client.post(
        "/v1/bio-pages",
        headers=tenant.headers,
        json={"handle": "ada", "theme": {"button_color": "#123", "button_text_color": "#112233"}},
    )
    assert errors_of(response) == {"theme.button_text_color": "low_contrast"}
    response = await client.post(
        "/v1/bio-pages",
        headers=tenant.headers,
        json={"handle": "ada", "theme": {"button_shape": "circle", "font": "comic"}},
    )
    assert errors_of(response) == {"theme.button_shape": "literal_error", "theme.font": "literal_error"}
    response = await client.post(
        "/v1/bio-pages",
        headers=tenant.headers,
        json={"handle": "ada", "theme": {"background": "red", "text_color": "#12345g"}},
    )
    assert errors_of(response) == {"theme.background": "invalid_color", "theme.text_color": "invalid_color"}
    page = await create(client, tenant, theme={"preset": "midnight", "background": "#FFF", "button_shape": "pill"})
    assert page["theme"]["background"] == "#ffffff"


async def test_patch_keeps_block_ids_and_replaces_the_list(client: httpx.AsyncClient, tenant: Tenant) -> None:
    page = await create(client, tenant, blocks=FULL_PAGE["blocks"])
    header, link, text, draft, github, email = page["blocks"]
    response = await client.patch(
        f"/v1/bio-pages/{page['id']}",
        headers=tenant.headers,
        json={
            "title": "Countess",
            "blocks": [
                {"id": link["id"], "type": "link", "title": "Notes (2nd ed.)", "url": "https://example.com/notes2"},
                {"type": "link", "title": "New", "url": "https://example.com/new"},
                {"id": header["id"], "type": "header", "text": "Elsewhere"},
                {"id": github["id"], "type": "social", "platform": "github", "url": "https://github.com/ada"},
            ],
        },
    )
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["title"] == "Countess"
    ids = [block["id"] for block in updated["blocks"]]
    assert ids[0] == link["id"] and ids[2] == header["id"] and ids[3] == github["id"]
    assert ids[1] not in {block["id"] for block in page["blocks"]}
    assert updated["blocks"][0]["title"] == "Notes (2nd ed.)"
    assert updated["blocks"][2]["text"] == "Elsewhere"
    fetched = (await client.get(f"/v1/bio-pages/{page['id']}", headers=tenant.headers)).json()
    assert fetched["blocks"] == updated["blocks"]
    assert {text["id"], draft["id"], email["id"]}.isdisjoint(ids)
    # Fields not sent stay as they were; blocks not sent stay too.
    response = await client.patch(f"/v1/bio-pages/{page['id']}", json={"published": False}, headers=tenant.headers)
    assert response.json()["blocks"] == updated["blocks"]
    assert response.json()["title"] == "Countess"


async def test_patch_refuses_foreign_block_ids_and_type_changes(client: httpx.AsyncClient, tenant: Tenant) -> None:
    first = await create(client, tenant, blocks=[{"type": "header", "text": "one"}])
    second = await create(client, tenant, handle="bob", blocks=[{"type": "header", "text": "two"}])
    foreign = second["blocks"][0]["id"]
    response = await client.patch(
        f"/v1/bio-pages/{first['id']}",
        headers=tenant.headers,
        json={"blocks": [{"id": foreign, "type": "header", "text": "stolen"}]},
    )
    assert errors_of(response) == {"blocks.0.id": "unknown_block"}
    own = first["blocks"][0]["id"]
    response = await client.patch(
        f"/v1/bio-pages/{first['id']}",
        headers=tenant.headers,
        json={"blocks": [{"id": own, "type": "text", "text": "now text"}]},
    )
    assert errors_of(response) == {"blocks.0.type": "block_type_changed"}
    response = await client.patch(
        f"/v1/bio-pages/{first['id']}",
        headers=tenant.headers,
        json={"blocks": [{"id": own, "type": "header", "text": "a"}, {"id": own, "type": "header", "text": "b"}]},
    )
    assert errors_of(response) == {"blocks.1.id": "duplicate_block_id"}
    # Nothing changed by the refused requests.
    assert (await client.get(f"/v1/bio-pages/{second['id']}", headers=tenant.headers)).json() == second
    assert (await client.get(f"/v1/bio-pages/{first['id']}", headers=tenant.headers)).json() == first


async def test_patch_handle_conflict_and_clearing(client: httpx.AsyncClient, tenant: Tenant) -> None:
    page = await create(client, tenant, title="T", description="D")
    await create(client, tenant, handle="bob")
    response = await client.patch(f"/v1/bio-pages/{page['id']}", json={"handle": "bob"}, headers=tenant.headers)
    assert response.status_code == 409
    response = await client.patch(f"/v1/bio-pages/{page['id']}", json={"handle": None}, headers=tenant.headers)
    assert errors_of(response) == {"handle": "required"}
    response = await client.patch(
        f"/v1/bio-pages/{page['id']}",
        headers=tenant.headers,
        json={"title": None, "description": "", "theme": None, "handle": "ada2"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["title"], body["description"], body["theme"]["preset"], body["handle"]) == (
        None,
        None,
        "minimal",
        "ada2",
    )
    assert body["url"].endswith("/@ada2")


async def test_list_is_paginated_newest_first(client: httpx.AsyncClient, tenant: Tenant) -> None:
    for index in range(5):
        await create(client, tenant, handle=f"page{index}", blocks=[{"type": "header", "text": f"h{index}"}])
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        response = await client.get("/v1/bio-pages", params=params, headers=tenant.headers)
        assert response.status_code == 200
        body = response.json()
        seen += [page["handle"] for page in body["data"]]
        assert all(len(page["blocks"]) == 1 for page in body["data"])
        cursor = body["next_cursor"]
        if not body["has_more"]:
            break
    assert seen == [f"page{index}" for index in reversed(range(5))]
    response = await client.get("/v1/bio-pages", params={"cursor": "garbage"}, headers=tenant.headers)
    assert errors_of(response) == {"cursor": "invalid_cursor"}


async def test_workspaces_never_see_each_others_pages(
    client: httpx.AsyncClient, tenant: Tenant, make_tenant: TenantFactory
) -> None:
    page = await create(client, tenant)
    other = await make_tenant()
    path = f"/v1/bio-pages/{page['id']}"
    assert (await client.get(path, headers=other.headers)).status_code == 404
    assert (await client.patch(path, json={"title": "x"}, headers=other.headers)).status_code == 404
    assert (await client.delete(path, headers=other.headers)).status_code == 404
    listed = await client.get("/v1/bio-pages", headers=other.headers)
    assert listed.json()["data"] == []
    assert (await client.get(path, headers=tenant.headers)).json() == page


async def test_scopes_are_enforced(client: httpx.AsyncClient, make_tenant: TenantFactory) -> None:
    reader = await make_tenant(scopes=["bio_pages:read"])
    response = await client.post("/v1/bio-pages", json={"handle": "ada"}, headers=reader.headers)
    assert response.status_code == 403
    assert response.json()["error"]["required_scope"] == "bio_pages:write"
    links_only = await make_tenant(scopes=["links:read"])
    response = await client.get("/v1/bio-pages", headers=links_only.headers)
    assert response.status_code == 403
    assert (await client.get("/v1/bio-pages")).status_code == 401


async def test_delete_then_404(client: httpx.AsyncClient, tenant: Tenant) -> None:
    page = await create(client, tenant, blocks=[{"type": "header", "text": "x"}])
    assert (await client.delete(f"/v1/bio-pages/{page['id']}", headers=tenant.headers)).status_code == 204
    assert (await client.get(f"/v1/bio-pages/{page['id']}", headers=tenant.headers)).status_code == 404
    assert (await client.delete(f"/v1/bio-pages/{page['id']}", headers=tenant.headers)).status_code == 404
    await create(client, tenant)  # the handle is free again


async def test_changes_record_webhook_events(client: httpx.AsyncClient, tenant: Tenant, app: MaskApp) -> None:
    page = await create(client, tenant)
    await client.patch(f"/v1/bio-pages/{page['id']}", json={"title": "New"}, headers=tenant.headers)
    await client.delete(f"/v1/bio-pages/{page['id']}", headers=tenant.headers)
    await client.post("/v1/bio-pages", json={"handle": "x"}, headers=tenant.headers)  # refused: no event
    async with session_scope(app.context.sessionmaker) as session:
        events = list(
            (
                await session.execute(
                    select(Event).where(Event.workspace_id == tenant.workspace_id).order_by(Event.created_at)
                )
            ).scalars()
        )
    bio_events = [event for event in events if event.type.startswith("bio_page.")]
    assert [event.type for event in bio_events] == ["bio_page.created", "bio_page.updated", "bio_page.deleted"]
    assert bio_events[0].data["id"] == page["id"]
    assert bio_events[1].data["title"] == "New"


async def test_a_domain_with_bio_pages_cannot_be_deleted(client: httpx.AsyncClient, tenant: Tenant) -> None:
    domain = (await client.post("/v1/domains", json={"domain": "go.brand.example"}, headers=tenant.headers)).json()
    page = await create(client, tenant, domain="go.brand.example")
    refused = await client.delete(f"/v1/domains/{domain['id']}", headers=tenant.headers)
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "domain_in_use"
    assert "1 bio page(s)" in refused.json()["error"]["message"]
    await client.delete(f"/v1/bio-pages/{page['id']}", headers=tenant.headers)
    assert (await client.delete(f"/v1/domains/{domain['id']}", headers=tenant.headers)).status_code == 204
