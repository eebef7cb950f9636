"""The public bio page: rendering, escaping, security headers, the tracked block redirect, views and clicks."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from mask.app import MaskApp
from mask.bio_page import themes
from mask.public.bio_pages import CONTENT_SECURITY_POLICY
from tests.bio_page.conftest import GOOGLEBOT, create_page, flush_clicks, parse, stored_clicks
from tests.conftest import Tenant, TenantFactory
from tests.domains import verify_domain


async def test_page_renders_blocks_in_order_with_security_headers(
    client: httpx.AsyncClient, public: httpx.AsyncClient, tenant: Tenant
) -> None:
    page = await create_page(client, tenant)
    response = await public.get("/@ada")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "script-src" not in CONTENT_SECURITY_POLICY and "'unsafe-inline'" not in CONTENT_SECURITY_POLICY
    assert response.headers["x-content-type-options"] == "nosniff"
    html = response.text
    link, header, text, hidden, github, email = page["blocks"]
    # Order as given; the disabled link is not shown; icons in one row.
    order = [html.index(f'data-block="{block["id"]}"') for block in (link, header, text, github, email)]
    assert order == sorted(order)
    assert hidden["id"] not in html
    assert f'href="/@ada/b/{link["id"]}"' in html  # buttons go through the tracked redirect
    assert f'href="/@ada/b/{github["id"]}"' in html
    assert 'href="mailto:ada@example.com"' in html  # e-mail links directly
    assert "https://example.com/notes" not in html  # the destination itself is never in the markup
    assert '<link rel="canonical" href="http://localhost:8000/@ada">' in html
    assert '<meta property="og:title" content="Ada">' in html
    assert '<meta name="twitter:card" content="summary">' in html
    assert "<script" not in html and "style=" not in html and "<style" not in html
    assert len(response.content) < 50_000


async def test_stylesheets_and_icons_are_served_by_us(
    client: httpx.AsyncClient, public: httpx.AsyncClient, tenant: Tenant
) -> None:
    await create_page(client, tenant, theme={"preset": "neon"})
    html = (await public.get("/@ada")).text
    hrefs = re.findall(r'<link rel="(?:stylesheet|icon)" href="([^"]+)"', html)
    assert len(hrefs) == 3 and all(href.startswith("/@/") for href in hrefs)
    for href in hrefs:
        asset = await public.get(href)
        assert asset.status_code == 200, href
        assert asset.headers["x-content-type-options"] == "nosniff"
        assert "immutable" in asset.headers["cache-control"]
    theme_css = (await public.get(hrefs[2])).text
    assert theme_css == themes.stylesheet(themes.PRESETS["neon"])
    assert (
        await public.get("/@/theme/ffffff.none.111827.111827.ffffff.111827;x.rounded.system.css")
    ).status_code == 404
    assert (await public.get("/@/static/../models.py")).status_code == 404
    assert (await public.get("/@/static/nothing.css")).status_code == 404
    # Every request the page makes stays on our origin (https images aside): no third-party fetch.
    elements = parse(html)
    fetched = [attrs["href"] for tag, attrs in elements if tag == "link" and attrs.get("rel") != "canonical"]
    fetched += [attrs["src"] for _, attrs in elements if "src" in attrs]
    assert fetched and all(url.startswith("/@/") for url in fetched)


async def test_user_text_is_escaped_everywhere(
    client: httpx.AsyncClient, public: httpx.AsyncClient, tenant: Tenant
) -> None:
    evil = "\"><script>alert(1)</script><img src=x onerror=alert(2)>'&"
    await create_page(
        client,
        tenant,
        title=evil,
        description=evil,
        seo_title=evil,
        seo_description=evil,
        avatar_url='https://img.example.com/a.png?"onerror="alert(3)',
        blocks=[
            {"type": "link", "title": evil, "url": "https://example.com/"},
            {"type": "header", "text": evil},
            {"type": "text", "text": evil},
        ],
    )
    html = (await public.get("/@ada")).text
    elements = parse(html)
    assert "script" not in {tag for tag, _ in elements}
    assert [(tag, attrs) for tag, attrs in elements if any(name.startswith("on") for name in attrs)] == []
    assert [attrs["src"] for tag, attrs in elements if tag == "img"] == [
        "https://img.example.com/a.png?%22onerror=%22alert(3)"
    ]
    escaped = "&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;&#39;&amp;"
    # <title>, meta description, og:/twitter: titles and descriptions, the avatar's alt text, h1, description,
    # and the three blocks.
    assert html.count(escaped) == 12


async def test_missing_unpublished_and_deleted_pages_are_404(
    client: httpx.AsyncClient, public: httpx.AsyncClient, tenant: Tenant
) -> None:
    page = await create_page(client, tenant)
    for path in ("/@nobody", "/@a", "/@" + "x" * 40, "/@ada/extra", "/@ada/b/blk_nope", "/@ADA/b/"):
        response = await public.get(path)
        assert response.status_code == 404, path
        assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert (await public.get("/@ADA")).status_code == 200  # handles are case-insensitive
    await client.patch(f"/v1/bio-pages/{page['id']}", json={"published": False}, headers=tenant.headers)
    assert (await public.get("/@ada")).status_code == 404
    assert (await public.get(f"/@ada/b/{page['blocks'][0]['id']}")).status_code == 404
    await client.patch(f"/v1/bio-pages/{page['id']}", json={"published": True}, headers=tenant.headers)
    assert (await public.get("/@ada")).status_code == 200
    await client.delete(f"/v1/bio-pages/{page['id']}", headers=tenant.headers)
    assert (await public.get("/@ada")).status_code == 404
    assert (await public.get(f"/@ada/b/{page['blocks'][0]['id']}")).status_code == 404


async def test_pages_live_on_their_own_verified_domain_only(
    client: httpx.AsyncClient, public: httpx.AsyncClient, tenant: Tenant, make_tenant: TenantFactory, app: MaskApp
) -> None:
    await client.post("/v1/domains", json={"domain": "go.brand.example"}, headers=tenant.headers)
    page = await create_page(client, tenant, domain="go.brand.example")
    assert page["url"] == "https://go.brand.example/@ada"
    assert (await public.get("/@ada")).status_code == 404  # not on the default short domain
    pending = await public.get("/@ada", headers={"Host": "go.brand.example"})
    assert pending.status_code == 404 and "Ada" not in pending.text  # the domain is not verified yet
    await verify_domain(app, tenant, "go.brand.example")
    response = await public.get("/@ada", headers={"Host": "go.brand.example"})
    assert response.status_code == 200
    assert '<link rel="canonical" href="https://go.brand.example/@ada">' in response.text
    redirect = await public.get(f"/@ada/b/{page['blocks'][0]['id']}", headers={"Host": "go.brand.example"})
    assert redirect.status_code == 302
    other = await make_tenant()
    await create_page(client, other)  # the same handle on the default domain is another page
    assert "Ada" in (await public.get("/@ada")).text


async def test_block_redirect_counts_a_click_on_the_page_and_block(
    client: httpx.AsyncClient, public: httpx.AsyncClient, tenant: Tenant, app: MaskApp
) -> None:
    page = await create_page(client, tenant)
    link, _, _, hidden, github, email = page["blocks"]
    await public.get("/@ada")
    response = await public.get(f"/@ada/b/{link['id']}", headers={"Referer": "http://localhost:8000/@ada"})
    assert response.status_code == 302
    assert response.headers["location"] == "https://example.com/notes?x=1"
    assert response.headers["cache-control"] == "private, no-store, max-age=0"
    assert (await public.get(f"/@ada/b/{github['id']}")).headers["location"] == "https://github.com/ada"
    for refused in (hidden, email, page["blocks"][1]):  # disabled, direct mailto:, header
        assert (await public.get(f"/@ada/b/{refused['id']}")).status_code == 404
    await flush_clicks(app)
    clicks = await stored_clicks(app)
    assert [(c.bio_page_id, c.bio_block_id, c.is_bot) for c in clicks] == [
        (page["id"], None, False),
        (page["id"], link["id"], False),
        (page["id"], github["id"], False),
    ]
    assert all(c.workspace_id == tenant.workspace_id and c.link_id is None for c in clicks)
    assert clicks[1].referrer == "localhost" and clicks[1].device == "mobile"
    body = (await client.get(f"/v1/bio-pages/{page['id']}", headers=tenant.headers)).json()
    assert (body["views"], body["clicks"]) == (1, 2)
    assert [block.get("clicks") for block in body["blocks"]] == [1, None, None, 0, 1, 0]


async def test_the_redirect_sends_the_stored_url_unchanged(
    client: httpx.AsyncClient, public: httpx.AsyncClient, tenant: Tenant
) -> None:
    page = await create_page(
        client, tenant, blocks=[{"type": "link", "title": "Odd", "url": "https://example.com/a|b?q=x|y^{1}`~&r=é"}]
    )
    stored = page["blocks"][0]
    assert stored["url"] == "https://example.com/a|b?q=x|y^{1}`~&r=%C3%A9"  # WHATWG-normalised, as for links
    assert (await public.get(f"/@ada/b/{stored['id']}")).headers["location"] == stored["url"]


async def test_bots_heads_and_prefetches_are_not_counted(
    client: httpx.AsyncClient, public: httpx.AsyncClient, tenant: Tenant, app: MaskApp
) -> None:
    page = await create_page(client, tenant)
    block = page["blocks"][0]["id"]
    assert (await public.get("/@ada", headers=GOOGLEBOT)).status_code == 200
    assert (await public.get(f"/@ada/b/{block}", headers=GOOGLEBOT)).status_code == 302
    assert (await public.head("/@ada")).status_code == 200
    assert (await public.head(f"/@ada/b/{block}")).status_code == 302
    assert (await public.get("/@ada", headers={"Sec-Purpose": "prefetch"})).status_code == 200
    await flush_clicks(app)
    clicks = await stored_clicks(app)
    assert [(c.bio_block_id, c.is_bot, c.traffic_type) for c in clicks] == [  # stored as what they were, flagged
        (None, True, "bot"),
        (block, True, "bot"),
        (None, True, "prefetch"),
    ]
    body = (await client.get(f"/v1/bio-pages/{page['id']}", headers=tenant.headers)).json()
    assert (body["views"], body["clicks"], body["blocks"][0]["clicks"]) == (0, 0, 0)


async def test_a_view_and_a_click_are_each_unique_for_the_visitor(
    client: httpx.AsyncClient, public: httpx.AsyncClient, tenant: Tenant, app: MaskApp
) -> None:
    page = await create_page(client, tenant)
    first, github = page["blocks"][0]["id"], page["blocks"][4]["id"]
    for _ in range(2):
        await public.get("/@ada")
        await public.get(f"/@ada/b/{first}")
    await public.get(f"/@ada/b/{github}")
    await flush_clicks(app)
    clicks = await stored_clicks(app)
    assert [(c.bio_block_id, c.is_unique) for c in clicks] == [
        (None, True),
        (first, True),
        (None, False),
        (first, False),
        (github, True),
    ]


@pytest.mark.parametrize("preset", sorted(themes.PRESETS))
async def test_every_preset_renders(
    client: httpx.AsyncClient, public: httpx.AsyncClient, tenant: Tenant, preset: str
) -> None:
    await create_page(client, tenant, theme={"preset": preset})
    html = (await public.get("/@ada")).text
    assert f'href="/@/theme/{themes.PRESETS[preset].key}.css"' in html


async def test_a_full_page_stays_under_50_kb(
    client: httpx.AsyncClient, public: httpx.AsyncClient, tenant: Tenant
) -> None:
    platforms = [
        "x",
        "instagram",
        "tiktok",
        "youtube",
        "linkedin",
        "github",
        "facebook",
        "threads",
        "mastodon",
        "bluesky",
        "website",
    ]
    blocks: list[dict[str, Any]] = [
        {"type": "social", "platform": p, "url": f"https://{p}.example/ada"} for p in platforms
    ]
    blocks.append({"type": "social", "platform": "email", "url": "ada@example.com"})
    for index in range(40):
        blocks.append(
            {
                "type": "link",
                "title": f"Link number {index}: a fairly long title of a real page",
                "url": f"https://example.com/{index}",
            }
        )
    for index in range(8):
        blocks.append({"type": "header", "text": f"Section {index}"})
        blocks.append({"type": "text", "text": "Some words about this section. " * 8})
    await create_page(
        client,
        tenant,
        avatar_url="https://img.example.com/ada.png",
        blocks=blocks,
        description="Mathematician and writer. " * 10,
    )
    html = (await public.get("/@ada")).content
    total = len(html)
    for href in re.findall(r'rel="(?:stylesheet|icon)" href="([^"]+)"', html.decode()):
        total += len((await public.get(href)).content)
    assert total < 50_000, total


@pytest.mark.parametrize("host", ["127.0.0.1:8000", "[::1]:8000", "LOCALHOST:8000", "localhost.:8000"])
async def test_bio_pages_and_short_links_agree_on_what_the_app_host_is(
    app: MaskApp, client: httpx.AsyncClient, tenant: Tenant, host: str
) -> None:
    """One rule decides host → domain for both: on the app host's IP address (as `make run` serves it), a page
    of the default domain answers like a short link of it (the two once disagreed: /@handle was 404)."""
    await create_page(client, tenant)
    link = await client.post(
        "/v1/links", headers=tenant.headers, json={"url": "https://example.com/", "slug": "launch"}
    )
    assert link.status_code == 201
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as visitor:
        assert (await visitor.get("/launch", headers={"host": host})).status_code == 302
        assert (await visitor.get("/@ada", headers={"host": host})).status_code == 200
