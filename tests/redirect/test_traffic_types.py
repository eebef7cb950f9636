"""Counts anyone can explain (issue 26): every hit through the redirect is stored with what it was (`human`, `bot`
with the crawler's name, `preview`, `prefetch`); only humans are counted; `group_by=traffic_types|bots` and the
`traffic_type` filter give back exactly what was sent."""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx

from mask.app import MaskApp
from mask.click.schemas import EnrichedClick
from tests.conftest import Tenant, TenantFactory
from tests.redirect.helpers import BROWSER, create_link, stored_clicks

GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
CURL = "curl/8.5.0"
SLACKBOT = "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)"
TWITTERBOT = "Twitterbot/1.0"
WHATSAPP = "WhatsApp/2.23.20.0 A"
SAFARI = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Mobile/15E148 Safari/604.1"
)

# (headers, expected traffic type, expected bot name): what the test sends, in order.
HITS: list[tuple[dict[str, str], str, str | None]] = [
    ({"User-Agent": BROWSER}, "human", None),
    ({"User-Agent": BROWSER}, "human", None),  # the same visitor again: counted, not unique
    ({"User-Agent": SAFARI}, "human", None),
    ({"User-Agent": GOOGLEBOT}, "bot", "googlebot"),
    ({"User-Agent": CURL}, "bot", "curl"),
    ({"User-Agent": SLACKBOT}, "preview", "slackbot"),
    ({"User-Agent": TWITTERBOT}, "preview", "twitterbot"),
    ({"User-Agent": WHATSAPP}, "preview", "whatsapp"),
    ({"User-Agent": BROWSER, "Sec-Purpose": "prefetch"}, "prefetch", None),
    ({"User-Agent": SAFARI, "Purpose": "prefetch"}, "prefetch", None),
    ({"User-Agent": BROWSER, "X-Moz": "prefetch"}, "prefetch", None),
]


async def _analytics(client: httpx.AsyncClient, tenant: Tenant, **params: Any) -> Any:
    response = await client.get("/v1/analytics/clicks", params={"interval": "all", **params}, headers=tenant.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_every_hit_is_stored_as_what_it_was_and_only_humans_are_counted(
    client: httpx.AsyncClient, tenant: Tenant, app: MaskApp
) -> None:
    link = await create_link(client, tenant, slug="spring")
    for headers, _, _ in HITS:
        assert (await client.get("/spring", headers=headers)).status_code == 302
    assert (await client.head("/spring", headers={"User-Agent": BROWSER})).status_code == 302  # never recorded

    clicks = await stored_clicks(app)
    assert [(c.traffic_type, c.bot_name) for c in clicks] == [(kind, name) for _, kind, name in HITS]
    assert [c.is_bot for c in clicks] == [kind != "human" for _, kind, _ in HITS]
    assert sum(c.is_unique for c in clicks) == 2  # two human visitors; bots and the rest are never unique
    assert (await client.get(f"/v1/links/{link['id']}", headers=tenant.headers)).json()["clicks"] == 3

    sent = Counter(kind for _, kind, _ in HITS)
    for scope in ({}, {"link_id": link["id"]}):  # workspace rollups and per-link rollups
        types = await _analytics(client, tenant, group_by="traffic_types", **scope)
        assert {row["traffic_type"]: row["clicks"] for row in types["data"]} == sent
        bots = await _analytics(client, tenant, group_by="bots", **scope)
        names = Counter(name for _, kind, name in HITS if kind != "human")
        assert {row["bot_name"]: row["clicks"] for row in bots["data"]} == names
        assert (await _analytics(client, tenant, **scope))["clicks"] == 3  # the default: humans, as counted
        previews = await _analytics(client, tenant, traffic_type="preview,prefetch", **scope)
        assert previews["clicks"] == 6
        not_human = await _analytics(client, tenant, traffic_type="-human", group_by="devices", **scope)
        assert sum(row["clicks"] for row in not_human["data"]) == 8
    humans_only = await _analytics(client, tenant, group_by="traffic_types", bots="exclude")
    assert humans_only["data"] == [{"traffic_type": "human", "clicks": 3, "unique_clicks": 2}]

    events = await client.get(
        "/v1/analytics/events", params={"interval": "all", "traffic_type": "bot"}, headers=tenant.headers
    )
    assert events.status_code == 200, events.text
    assert sorted((e["traffic_type"], e["bot_name"], e["is_bot"]) for e in events.json()["data"]) == [
        ("bot", "curl", True),
        ("bot", "googlebot", True),
    ]
    default_events = await client.get("/v1/analytics/events", params={"interval": "all"}, headers=tenant.headers)
    assert {e["traffic_type"] for e in default_events.json()["data"]} == {"human"}


async def test_bad_traffic_types_are_422_naming_the_parameter(client: httpx.AsyncClient, tenant: Tenant) -> None:
    bad = await client.get("/v1/analytics/clicks", params={"traffic_type": "robot"}, headers=tenant.headers)
    assert bad.status_code == 422
    error = bad.json()["error"]["errors"][0]
    assert (error["param"], error["code"]) == ("traffic_type", "invalid_traffic_type")


async def test_a_preview_bot_given_the_preview_page_is_stored_as_a_preview_not_a_click(
    client: httpx.AsyncClient, tenant: Tenant, app: MaskApp
) -> None:
    link = await create_link(client, tenant, slug="launch", preview={"title": "Launch day"})
    page = await client.get("/launch", headers={"User-Agent": SLACKBOT})
    assert page.status_code == 200 and "Launch day" in page.text
    assert (await client.get("/launch", headers={"User-Agent": BROWSER})).status_code == 302
    clicks = await stored_clicks(app)
    assert [(c.traffic_type, c.bot_name, c.link_id) for c in clicks] == [
        ("preview", "slackbot", link["id"]),
        ("human", None, link["id"]),
    ]
    assert (await client.get(f"/v1/links/{link['id']}", headers=tenant.headers)).json()["clicks"] == 1


async def test_another_workspace_sees_none_of_the_traffic_types(
    client: httpx.AsyncClient, tenant: Tenant, make_tenant: TenantFactory, app: MaskApp
) -> None:
    link = await create_link(client, tenant, slug="mine")
    for headers, _, _ in HITS:
        await client.get("/mine", headers=headers)
    await stored_clicks(app)
    other = await make_tenant()
    assert (await _analytics(client, other, group_by="traffic_types"))["data"] == []
    assert (await _analytics(client, other, group_by="bots"))["data"] == []
    denied = await client.get(
        "/v1/analytics/clicks", params={"group_by": "traffic_types", "link_id": link["id"]}, headers=other.headers
    )
    assert denied.status_code == 404


def test_the_webhook_click_says_what_the_hit_was() -> None:
    from datetime import UTC, datetime

    click = EnrichedClick(
        click_id="clk_1",
        clicked_at=datetime(2026, 3, 1, tzinfo=UTC),
        workspace_id="ws_1",
        domain="mask.test",
        visitor_hash="v",
        link_id="lnk_1",
        traffic_type="preview",
        bot_name="slackbot",
    )
    data = click.public_dict()
    assert (data["traffic_type"], data["bot_name"], data["is_bot"]) == ("preview", "slackbot", True)
    assert "visitor_hash" not in data
