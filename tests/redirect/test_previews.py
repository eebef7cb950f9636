"""Social previews (mask.redirect.previews): link-preview bots get the link's Open Graph page, people and
search crawlers the redirect; the page never shows the destination."""

from __future__ import annotations

import httpx
import pytest

from mask.app import MaskApp
from tests.conftest import Tenant, TenantFactory
from tests.redirect.helpers import BROWSER, create_link, stored_clicks

PREVIEW = {
    "title": "Spring <sale>",
    "description": "Everything 20 % off",
    "image_url": "https://cdn.example.com/spring.png",
}
UNFURLERS = [
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "Twitterbot/1.0",
    "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
    "WhatsApp/2.23.20.0 A",
    "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
    "TelegramBot (like TwitterBot)",
]
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


@pytest.mark.parametrize("agent", UNFURLERS)
async def test_link_preview_bots_get_the_open_graph_page(client: httpx.AsyncClient, tenant: Tenant, agent: str) -> None:
    await create_link(client, tenant, slug="spring", url="https://shop.example.com/secret", preview=PREVIEW)
    response = await client.get("/spring", headers={"User-Agent": agent})
    assert response.status_code == 200
    assert '<meta property="og:title" content="Spring &lt;sale&gt;">' in response.text
    assert '<meta property="og:image" content="https://cdn.example.com/spring.png">' in response.text
    assert '<meta name="twitter:card" content="summary_large_image">' in response.text
    assert '<meta property="og:url" content="http://localhost:8000/spring">' in response.text
    assert "shop.example.com" not in response.text


async def test_people_and_search_crawlers_get_the_redirect(
    client: httpx.AsyncClient, tenant: Tenant, app: MaskApp
) -> None:
    await create_link(client, tenant, slug="spring", url="https://shop.example.com/", preview=PREVIEW)
    for agent in (BROWSER, GOOGLEBOT):
        response = await client.get("/spring", headers={"User-Agent": agent})
        assert (response.status_code, response.headers["location"]) == (302, "https://shop.example.com/")
    assert len(await stored_clicks(app)) == 2


async def test_a_preview_round_trips_and_bad_ones_are_422(client: httpx.AsyncClient, tenant: Tenant) -> None:
    link = await create_link(client, tenant, preview={"title": "Hello"})
    assert link["preview"] == {"title": "Hello", "description": None, "image_url": None}
    bad = await client.post(
        "/v1/links",
        json={"url": "https://example.com/", "preview": {"title": " ", "image_url": "http://cdn.example.com/a.png"}},
        headers=tenant.headers,
    )
    assert bad.status_code == 422
    codes = {error["param"]: error["code"] for error in bad.json()["error"]["errors"]}
    assert codes == {"preview.title": "blank", "preview.image_url": "https_required"}
    cleared = await client.patch(f"/v1/links/{link['id']}", json={"preview": None}, headers=tenant.headers)
    assert cleared.json()["preview"] is None


async def test_another_workspace_cannot_change_a_preview(client: httpx.AsyncClient, make_tenant: TenantFactory) -> None:
    owner, other = await make_tenant(), await make_tenant()
    link = await create_link(client, owner, preview={"title": "Mine"})
    response = await client.patch(f"/v1/links/{link['id']}", json={"preview": None}, headers=other.headers)
    assert response.status_code == 404
