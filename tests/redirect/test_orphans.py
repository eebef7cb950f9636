"""Orphan hits (issue 26): unknown slugs and the root of a workspace's own domain, and expired links, are stored as
their own kind, never in a link's counts, and asked about with `kind=orphan`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import update

from mask.app import MaskApp
from mask.click.schemas import ORPHAN_TYPES, EnrichedClick
from mask.db import session_scope
from mask.models.link import Link
from mask.webhook.clicks import record_link_clicks
from tests.conftest import Tenant, TenantFactory
from tests.redirect.helpers import BROWSER, add_domain, create_link, stored_clicks
from tests.redirect.test_traffic_types import GOOGLEBOT

CUSTOM = "go.brand.test"
HUMAN = {"User-Agent": BROWSER}
ON_CUSTOM = {**HUMAN, "Host": CUSTOM}


async def _expire(app: MaskApp, slug: str) -> None:
    async with session_scope(app.context.sessionmaker) as session:
        await session.execute(
            update(Link).where(Link.slug == slug).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )


async def _analytics(client: httpx.AsyncClient, tenant: Tenant, **params: Any) -> Any:
    response = await client.get("/v1/analytics/clicks", params={"interval": "all", **params}, headers=tenant.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_orphan_hits_are_recorded_apart_and_never_counted_as_clicks(
    client: httpx.AsyncClient, tenant: Tenant, app: MaskApp
) -> None:
    await add_domain(client, app, tenant, CUSTOM)
    soon = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    live = await create_link(client, tenant, slug="live", domain=CUSTOM)
    gone = await create_link(client, tenant, slug="gone", domain=CUSTOM, expires_at=soon)
    moved = await create_link(client, tenant, slug="moved", expires_at=soon, expired_url="https://example.com/over")
    await _expire(app, "gone")
    await _expire(app, "moved")

    assert (await client.get("/live", headers=ON_CUSTOM)).status_code == 302  # a click
    assert (await client.get("/", headers=ON_CUSTOM)).status_code == 404  # the root: domain_root
    assert (await client.get("/nope", headers=ON_CUSTOM)).status_code == 404  # unknown_slug
    assert (await client.get("/nope", headers=ON_CUSTOM)).status_code == 404  # the same visitor again
    assert (await client.get("/wp-login.php", headers={"User-Agent": GOOGLEBOT, "Host": CUSTOM})).status_code == 404
    assert (await client.get("/gone", headers=ON_CUSTOM)).status_code == 410  # expired_link (custom domain)
    moved_hit = await client.get("/moved", headers=HUMAN)  # expired_link with its expired_url, shared domain
    assert (moved_hit.status_code, moved_hit.headers["location"]) == (302, "https://example.com/over")
    # Not recorded: files clients fetch by themselves, HEAD, and the shared domain's unknown slugs (nobody's).
    assert (await client.get("/robots.txt", headers=ON_CUSTOM)).status_code == 200
    assert (await client.get("/favicon.ico", headers=ON_CUSTOM)).status_code == 404
    assert (await client.head("/other", headers=ON_CUSTOM)).status_code == 404
    assert (await client.get("/nothing-here", headers=HUMAN)).status_code == 404

    stored = await stored_clicks(app)
    assert [(c.orphan_type, c.path, c.link_id, c.traffic_type) for c in stored] == [
        (None, None, live["id"], "human"),
        ("domain_root", "/", None, "human"),
        ("unknown_slug", "/nope", None, "human"),
        ("unknown_slug", "/nope", None, "human"),
        ("unknown_slug", "/wp-login.php", None, "bot"),
        ("expired_link", "/gone", gone["id"], "human"),
        ("expired_link", "/moved", moved["id"], "human"),
    ]
    assert all(c.workspace_id == tenant.workspace_id for c in stored)
    assert [c.is_unique for c in stored if c.path == "/nope"] == [True, False]

    # Never in a link's counts, totals or breakdowns of clicks.
    for link in (gone, moved):
        body = (await client.get(f"/v1/links/{link['id']}", headers=tenant.headers)).json()
        assert body["clicks"] == 0 and body["last_clicked_at"] is None
    assert (await _analytics(client, tenant))["clicks"] == 1
    assert (await _analytics(client, tenant, bots="include"))["clicks"] == 1
    links = await _analytics(client, tenant, group_by="links")
    assert [row["link_id"] for row in links["data"]] == [live["id"]]
    assert (await _analytics(client, tenant, link_id=gone["id"]))["clicks"] == 0
    domains = await _analytics(client, tenant, group_by="domains")
    assert domains["data"] == [{"domain": CUSTOM, "clicks": 1, "unique_clicks": 1}]
    events = await client.get("/v1/analytics/events", params={"interval": "all"}, headers=tenant.headers)
    assert [e["link_id"] for e in events.json()["data"]] == [live["id"]]

    # kind=orphan: only them.
    assert await _analytics(client, tenant, kind="orphan") == {"clicks": 5, "unique_clicks": 4}
    types = await _analytics(client, tenant, kind="orphan", group_by="orphan_types", bots="include")
    assert {row["orphan_type"]: row["clicks"] for row in types["data"]} == {
        "domain_root": 1,
        "unknown_slug": 3,
        "expired_link": 2,
    }
    paths = await _analytics(client, tenant, kind="orphan", group_by="paths")
    assert {row["path"]: row["clicks"] for row in paths["data"]} == {"/": 1, "/nope": 2, "/gone": 1, "/moved": 1}
    # Filtered on what only orphans have: their type and path (any of, or excluded).
    unknown = await _analytics(
        client, tenant, kind="orphan", orphan_type="unknown_slug", group_by="paths", bots="include"
    )
    assert {row["path"]: row["clicks"] for row in unknown["data"]} == {"/nope": 2, "/wp-login.php": 1}
    assert (await _analytics(client, tenant, kind="orphan", path="/nope,/"))["clicks"] == 3
    assert (await _analytics(client, tenant, kind="orphan", path="-/nope", orphan_type="-domain_root"))["clicks"] == 2
    expired = await _analytics(client, tenant, kind="orphan", group_by="links")
    assert {row["link_id"] for row in expired["data"]} == {gone["id"], moved["id"]}
    bots = await _analytics(client, tenant, kind="orphan", group_by="bots")
    assert bots["data"] == [{"bot_name": "googlebot", "clicks": 1, "unique_clicks": 0}]
    orphan_events = await client.get(
        "/v1/analytics/events", params={"interval": "all", "kind": "orphan", "bots": "include"}, headers=tenant.headers
    )
    assert sorted(e["path"] for e in orphan_events.json()["data"]) == [
        "/",
        "/gone",
        "/moved",
        "/nope",
        "/nope",
        "/wp-login.php",
    ]


async def test_orphan_breakdowns_need_kind_orphan_and_views_refuse_it(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    for group_by in ("orphan_types", "paths"):
        response = await client.get("/v1/analytics/clicks", params={"group_by": group_by}, headers=tenant.headers)
        assert response.status_code == 422
        error = response.json()["error"]["errors"][0]
        assert (error["param"], error["code"]) == ("group_by", "orphan_only")
    for name, value in (("orphan_type", "unknown_slug"), ("path", "/nope")):
        response = await client.get("/v1/analytics/clicks", params={name: value}, headers=tenant.headers)
        assert response.status_code == 422
        error = response.json()["error"]["errors"][0]
        assert (error["param"], error["code"]) == (name, "orphan_only")
    wrong = await client.get(
        "/v1/analytics/clicks", params={"kind": "orphan", "orphan_type": "lost"}, headers=tenant.headers
    )
    assert wrong.status_code == 422 and wrong.json()["error"]["errors"][0]["code"] == "invalid_orphan_type"
    bad_kind = await client.get("/v1/analytics/clicks", params={"kind": "lost"}, headers=tenant.headers)
    assert bad_kind.status_code == 422 and bad_kind.json()["error"]["errors"][0]["param"] == "kind"
    views = await client.get("/v1/analytics/views", params={"kind": "orphan"}, headers=tenant.headers)
    assert views.status_code == 422 and views.json()["error"]["errors"][0]["param"] == "kind"


async def test_orphan_hits_belong_to_the_domain_owner_alone(
    client: httpx.AsyncClient, tenant: Tenant, make_tenant: TenantFactory, app: MaskApp
) -> None:
    await add_domain(client, app, tenant, CUSTOM)
    other = await make_tenant()
    await add_domain(client, app, other, "links.other.test")
    assert (await client.get("/typo", headers=ON_CUSTOM)).status_code == 404
    assert (await client.get("/", headers={**HUMAN, "Host": "links.other.test"})).status_code == 404
    stored = await stored_clicks(app)
    assert {(c.workspace_id, c.orphan_type) for c in stored} == {
        (tenant.workspace_id, "unknown_slug"),
        (other.workspace_id, "domain_root"),
    }
    mine = await _analytics(client, tenant, kind="orphan", group_by="paths")
    theirs = await _analytics(client, other, kind="orphan", group_by="paths")
    assert [row["path"] for row in mine["data"]] == ["/typo"]
    assert [row["path"] for row in theirs["data"]] == ["/"]


async def test_an_expired_links_hit_never_fires_link_clicked(
    client: httpx.AsyncClient, tenant: Tenant, app: MaskApp
) -> None:
    link = await create_link(client, tenant, slug="old")
    common: dict[str, Any] = {
        "clicked_at": datetime.now(UTC),
        "workspace_id": tenant.workspace_id,
        "domain": "localhost:8000",
        "visitor_hash": "v",
        "link_id": link["id"],
    }
    orphan = EnrichedClick(click_id="clk_orphan", orphan_type="expired_link", path="/old", **common)
    click = EnrichedClick(click_id="clk_click", **common)
    async with session_scope(app.context.sessionmaker) as session:
        assert await record_link_clicks(session, clicks=[orphan]) == 0
        assert await record_link_clicks(session, clicks=[click]) == 1


async def test_hits_after_a_spent_click_limit_are_limit_reached_orphans_never_clicks(
    client: httpx.AsyncClient, tenant: Tenant, make_tenant: TenantFactory, app: MaskApp
) -> None:
    few = await create_link(client, tenant, slug="few", max_clicks=2)
    then = await create_link(client, tenant, slug="then", max_clicks=1, expired_url="https://example.com/sold-out")

    assert [(await client.get("/few", headers=HUMAN)).status_code for _ in range(4)] == [302, 302, 410, 410]
    assert (await client.head("/few", headers=HUMAN)).status_code == 410  # HEAD: answered, not recorded
    assert (await client.get("/few", headers={"User-Agent": GOOGLEBOT})).status_code == 410  # a bot, once spent
    answers = [await client.get("/then?utm_source=mail", headers=HUMAN) for _ in range(3)]
    assert [(a.status_code, a.headers["location"]) for a in answers] == [
        (302, "https://example.com/page?utm_source=mail"),
        (302, "https://example.com/sold-out"),  # the link's expired_url, as before, but no longer a click
        (302, "https://example.com/sold-out"),
    ]

    stored = await stored_clicks(app)
    assert [(c.link_id, c.orphan_type, c.path, c.traffic_type) for c in stored] == [
        (few["id"], None, None, "human"),
        (few["id"], None, None, "human"),
        (few["id"], "limit_reached", "/few", "human"),
        (few["id"], "limit_reached", "/few", "human"),
        (few["id"], "limit_reached", "/few", "bot"),
        (then["id"], None, None, "human"),
        (then["id"], "limit_reached", "/then", "human"),
        (then["id"], "limit_reached", "/then", "human"),
    ]
    assert {c.destination_url for c in stored if c.orphan_type is not None} == {None}

    # Nowhere a click is counted: the link's counter, totals, breakdowns, event lists, the limit itself.
    for link, limit in ((few, 2), (then, 1)):
        body = (await client.get(f"/v1/links/{link['id']}", headers=tenant.headers)).json()
        assert (body["clicks"], body["clicks_remaining"]) == (limit, 0)
        assert (await _analytics(client, tenant, link_id=link["id"], bots="include"))["clicks"] == limit
    assert (await _analytics(client, tenant, bots="include"))["clicks"] == 3
    links = await _analytics(client, tenant, group_by="links", bots="include")
    assert {row["link_id"]: row["clicks"] for row in links["data"]} == {few["id"]: 2, then["id"]: 1}
    destinations = await _analytics(client, tenant, group_by="destinations", link_id=few["id"], bots="include")
    assert sum(row["clicks"] for row in destinations["data"]) == 2
    events = await client.get(
        "/v1/analytics/events", params={"interval": "all", "bots": "include"}, headers=tenant.headers
    )
    assert len(events.json()["data"]) == 3

    # kind=orphan: their own type, naming the link.
    types = await _analytics(client, tenant, kind="orphan", group_by="orphan_types", bots="include")
    assert types["data"] == [{"orphan_type": "limit_reached", "clicks": 5, "unique_clicks": 2}]
    spent = await _analytics(client, tenant, kind="orphan", group_by="links")
    assert {row["link_id"]: row["clicks"] for row in spent["data"]} == {few["id"]: 2, then["id"]: 2}
    assert (await _analytics(client, tenant, kind="orphan", link_id=few["id"]))["clicks"] == 2

    # Another workspace sees none of it, and cannot ask about the link.
    other = await make_tenant()
    assert (await _analytics(client, other, kind="orphan", bots="include"))["clicks"] == 0
    assert (await _analytics(client, other, kind="orphan", group_by="orphan_types", bots="include"))["data"] == []
    foreign = await client.get(
        "/v1/analytics/clicks", params={"kind": "orphan", "link_id": few["id"]}, headers=other.headers
    )
    assert foreign.status_code == 404


async def test_the_openapi_names_and_explains_every_orphan_type(client: httpx.AsyncClient) -> None:
    schemas = (await client.get("/v1/openapi.json")).json()["components"]["schemas"]
    rows = json.dumps(schemas["OrphanTypeClicks"])
    assert all(f'"{name}"' in rows for name in ORPHAN_TYPES)
    assert all(f"`{name}`" in rows for name in ORPHAN_TYPES)  # each one explained in the description


async def test_views_refuse_every_orphan_question_and_say_where_to_ask_it(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    """A page view is never an orphan hit: `/views` cannot take `kind=orphan`, so its refusals of what only orphan
    hits have point to `/clicks?kind=orphan` instead of telling the caller to add `kind=orphan`."""
    questions = [
        ({"orphan_type": "unknown_slug"}, "orphan_type"),
        ({"path": "/nope"}, "path"),
        ({"group_by": "orphan_types"}, "group_by"),
        ({"group_by": "paths"}, "group_by"),
        ({"kind": "orphan"}, "kind"),
    ]
    for params, param in questions:
        response = await client.get("/v1/analytics/views", params=params, headers=tenant.headers)
        assert response.status_code == 422, response.text
        [error] = response.json()["error"]["errors"]
        assert (error["param"], error["code"]) == (param, "invalid_for_views")
        assert "/v1/analytics/clicks?kind=orphan" in error["message"] and "add `kind=orphan`" not in error["message"]
    # Together, each one named; `kind=orphan` does not make the others acceptable here.
    both = await client.get("/v1/analytics/views", params={"kind": "orphan", "path": "/nope"}, headers=tenant.headers)
    assert both.status_code == 422
    assert {e["param"] for e in both.json()["error"]["errors"]} == {"kind", "path"}
    # The clicks endpoint still asks for `kind=orphan`, and answers with it.
    clicks = await client.get("/v1/analytics/clicks", params={"path": "/nope"}, headers=tenant.headers)
    assert "add `kind=orphan`" in clicks.json()["error"]["errors"][0]["message"]
    assert (await _analytics(client, tenant, kind="orphan", path="/nope"))["clicks"] == 0


async def test_a_links_own_orphan_hits_by_type_are_the_link_filters_answer(
    client: httpx.AsyncClient, tenant: Tenant, app: MaskApp
) -> None:
    """What the dashboard's link page says ("3 hits after its click limit was reached, not counted as clicks") is
    the API's `kind=orphan&link_id=…&group_by=orphan_types`: that link's hits after it stopped counting, by type,
    and nothing of another link or of the domain's unknown slugs."""
    await add_domain(client, app, tenant, CUSTOM)
    spent = await create_link(client, tenant, slug="spent", max_clicks=1)
    soon = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    gone = await create_link(client, tenant, slug="gone", expires_at=soon)
    quiet = await create_link(client, tenant, slug="quiet")
    await _expire(app, "gone")
    assert [(await client.get("/spent", headers=HUMAN)).status_code for _ in range(4)] == [302, 410, 410, 410]
    assert [(await client.get("/gone", headers=HUMAN)).status_code for _ in range(2)] == [410, 410]
    assert (await client.get("/spent-typo", headers=ON_CUSTOM)).status_code == 404  # the domain's, nobody's link
    await stored_clicks(app)  # every hit stored

    async def by_type(link_id: str, **params: Any) -> list[dict[str, Any]]:
        answer = await _analytics(client, tenant, kind="orphan", link_id=link_id, group_by="orphan_types", **params)
        return list(answer["data"])

    assert await by_type(spent["id"]) == [{"orphan_type": "limit_reached", "clicks": 3, "unique_clicks": 1}]
    assert await by_type(gone["id"]) == [{"orphan_type": "expired_link", "clicks": 2, "unique_clicks": 1}]
    assert await by_type(quiet["id"]) == []
    both = await by_type(f"{spent['id']},{gone['id']}")
    assert {row["orphan_type"]: row["clicks"] for row in both} == {"limit_reached": 3, "expired_link": 2}
    assert {row["orphan_type"] for row in await by_type(f"-{spent['id']}", bots="include")} == {
        "expired_link",
        "unknown_slug",
    }
    paths = await _analytics(client, tenant, kind="orphan", link_id=spent["id"], group_by="paths")
    assert paths["data"] == [{"path": "/spent", "clicks": 3, "unique_clicks": 1}]
    # Its clicks are still the one the limit let through.
    assert (await _analytics(client, tenant, link_id=spent["id"]))["clicks"] == 1


async def test_a_value_with_a_comma_is_filtered_exactly_when_escaped(
    client: httpx.AsyncClient, tenant: Tenant, app: MaskApp
) -> None:
    r"""`\,` is a comma within a value: a stored path `/a,b` (an orphan's) or campaign `spring,summer` (a click's) is
    one value, from the rollups (a count) as from the raw clicks (a breakdown by another attribute); unescaped, the
    comma still separates two values."""
    await add_domain(client, app, tenant, CUSTOM)
    await create_link(client, tenant, slug="live", domain=CUSTOM)
    for path in ("/a,b", "/a,b", "/a", "/b", "/-a"):
        assert (await client.get(path, headers=ON_CUSTOM)).status_code == 404
    for campaign in ("spring,summer", "spring", "summer", "-early"):
        assert (await client.get("/live", params={"utm_campaign": campaign}, headers=ON_CUSTOM)).status_code == 302
    stored = await stored_clicks(app)
    assert sorted(c.path for c in stored if c.path) == ["/-a", "/a", "/a,b", "/a,b", "/b"]

    async def hits(**params: Any) -> int:
        return int((await _analytics(client, tenant, kind="orphan", **params))["clicks"])

    assert await hits(path="/a\\,b") == 2
    assert await hits(path="/a,b") == 1  # `/a` or `b` (no such path): the syntax as before
    assert await hits(path="/a,/b") == 2
    assert await hits(path="-/a\\,b") == 3
    assert await hits(path="/a\\,b,/b") == 3
    assert await hits(path="/\\-a") == 1 and await hits(path="/-a") == 1  # a minus after the first character
    by_path = await _analytics(client, tenant, kind="orphan", group_by="paths", path="/a\\,b,/a")
    assert {row["path"]: row["clicks"] for row in by_path["data"]} == {"/a,b": 2, "/a": 1}
    by_device = await _analytics(client, tenant, kind="orphan", group_by="devices", path="/a\\,b")  # raw clicks
    assert sum(row["clicks"] for row in by_device["data"]) == 2

    async def clicks(**params: Any) -> int:
        return int((await _analytics(client, tenant, **params))["clicks"])

    assert await clicks(utm_campaign="spring\\,summer") == 1
    assert await clicks(utm_campaign="spring,summer") == 2
    assert await clicks(utm_campaign="\\-early") == 1
    assert await clicks(utm_campaign="-\\-early") == 3  # every other campaign (a click without one: none here)
    assert await clicks(utm_campaign="-early") == 4  # an exclusion of `early`, as before
    devices = await _analytics(client, tenant, group_by="devices", utm_campaign="spring\\,summer")
    assert sum(row["clicks"] for row in devices["data"]) == 1
    events = await client.get(
        "/v1/analytics/events",
        params={"interval": "all", "utm_campaign": "spring\\,summer"},
        headers=tenant.headers,
    )
    assert [e["utm_campaign"] for e in events.json()["data"]] == ["spring,summer"]
