"""DELETE /v1/links/{id}/clicks and /v1/bio-pages/{id}/clicks: the clicks leave every place that counted them, at
once, and nothing else changes."""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import func, select

from mask.analytics import service as analytics_service
from mask.app import MaskApp
from mask.db import session_scope
from mask.models.click import Click, ClickVisitor
from mask.models.event import Event
from tests.analytics.helpers import analytics, at, click, create_link, record
from tests.analytics.test_rollups import _answers, _random_clicks, _rollup_rows
from tests.conftest import Tenant, TenantFactory


def _nonzero(tables: dict[str, dict[tuple[Any, ...], tuple[int, int, int]]]) -> dict[str, Any]:
    """Rollup rows whose counts (summed over shards) are not all zero: a subtraction may leave zero rows."""
    return {name: {key: counts for key, counts in rows.items() if any(counts)} for name, rows in tables.items()}


async def _bio_page(client: httpx.AsyncClient, tenant: Tenant, handle: str) -> str:
    response = await client.post("/v1/bio-pages", headers=tenant.headers, json={"handle": handle})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def _raw_count(app: MaskApp, **where: str) -> int:
    async with session_scope(app.context.sessionmaker) as session:
        conditions = [getattr(Click, name) == value for name, value in where.items()]
        return int(await session.scalar(select(func.count()).select_from(Click).where(*conditions)) or 0)


async def test_deleting_a_links_clicks_leaves_no_trace_in_any_answer_and_keeps_the_rest(
    app: MaskApp, client: httpx.AsyncClient, tenant: Tenant, make_tenant: TenantFactory
) -> None:
    rng = random.Random(11)
    links = [await create_link(client, tenant, f"c{i}", tags=["hot"] if i < 2 else []) for i in range(4)]
    page = await _bio_page(client, tenant, "clearing")
    clicks = _random_clicks(tenant, links, rng, 600, page)
    for start in range(0, len(clicks), 150):
        await record(app, clicks[start : start + 150])
    other = await make_tenant(plan="enterprise")
    other_link = await create_link(client, other, "elsewhere")
    await record(app, [click(other, at("2026-03-07T10:00"), link_id=other_link, country="US") for _ in range(5)])
    victim = links[1]
    humans = sum(1 for c in clicks if c.link_id == victim and not c.is_bot and c.orphan_type is None)
    assert humans > 0
    before = (await client.get(f"/v1/links/{victim}", headers=tenant.headers)).json()
    assert before["clicks"] == humans and before["last_clicked_at"] is not None
    other_before = await analytics(client, other, group_by="countries", interval="all")
    others_before = {
        link: (await client.get(f"/v1/links/{link}", headers=tenant.headers)).json()["clicks"]
        for link in links
        if link != victim
    }

    response = await client.delete(f"/v1/links/{victim}/clicks", headers=tenant.headers)
    assert response.status_code == 204, response.text

    # Every group_by, window and filter answers from the rollups exactly what the remaining raw clicks say …
    from_rollups = await _answers(app, tenant, rollups=True, bio_page_id=page)
    from_raw = await _answers(app, tenant, rollups=False, bio_page_id=page)
    for rolled, raw in zip(from_rollups, from_raw, strict=True):
        assert rolled == raw
    # … the rollup rows are those a rebuild from the remaining raw clicks makes …
    kept = _nonzero(await _rollup_rows(app))
    async with session_scope(app.context.sessionmaker) as session:
        await analytics_service.rebuild_rollups(session)
    assert _nonzero(await _rollup_rows(app)) == kept
    # … and the link's clicks are nowhere: raw, first sightings, counters, events, per-link answers.
    assert await _raw_count(app, link_id=victim) == 0
    async with session_scope(app.context.sessionmaker) as session:
        assert await session.scalar(select(func.count()).where(ClickVisitor.target_id == victim)) == 0
    after = (await client.get(f"/v1/links/{victim}", headers=tenant.headers)).json()
    assert after["clicks"] == 0 and after["last_clicked_at"] is None
    for group_by in ("count", "countries", "devices", "referrers", "triggers", "timeseries"):
        answer = await analytics(client, tenant, group_by=group_by, interval="all", link_id=victim, bots="include")
        assert answer.get("clicks", 0) == 0 and all(row["clicks"] == 0 for row in answer.get("data", []))
    top = await analytics(client, tenant, group_by="links", interval="all", bots="include", limit=100)
    assert victim not in {row["link_id"] for row in top["data"]}
    events = await client.get(
        "/v1/analytics/events", headers=tenant.headers, params={"link_id": victim, "interval": "all", "bots": "include"}
    )
    assert events.status_code == 200 and events.json()["data"] == []
    # The other links, the bio page and the other workspace are untouched.
    for link, count in others_before.items():
        assert (await client.get(f"/v1/links/{link}", headers=tenant.headers)).json()["clicks"] == count
        assert (await analytics(client, tenant, group_by="count", interval="all", link_id=link))["clicks"] == count
    assert await _raw_count(app, workspace_id=tenant.workspace_id) == sum(1 for c in clicks if c.link_id != victim)
    assert await analytics(client, other, group_by="countries", interval="all") == other_before
    assert await _raw_count(app, link_id=other_link) == 5
    # One event, for webhooks and the audit log.
    async with session_scope(app.context.sessionmaker) as session:
        rows = (await session.execute(select(Event).where(Event.type == "link.clicks_deleted"))).scalars().all()
    assert [(row.workspace_id, row.data["id"], row.data["clicks_deleted"]) for row in rows] == [
        (tenant.workspace_id, victim, humans)
    ]
    audit = await client.get("/v1/audit-log", headers=tenant.headers, params={"action": "link.clicks_deleted"})
    assert audit.status_code == 200 and [entry["target_id"] for entry in audit.json()["data"]] == [victim]


async def test_clicks_stored_after_the_deletion_count_again(
    app: MaskApp, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    link = await create_link(client, tenant, "again")
    await record(app, [click(tenant, at("2026-03-07T10:00"), link_id=link, visitor="v1", country="DE")])
    assert (await client.delete(f"/v1/links/{link}/clicks", headers=tenant.headers)).status_code == 204
    # The same visitor on the same day again: a new, unique click (its first sighting went with the old one).
    await record(app, [click(tenant, at("2026-03-07T11:00"), link_id=link, visitor="v1", country="DE")])
    assert (await client.get(f"/v1/links/{link}", headers=tenant.headers)).json()["clicks"] == 1
    answer = await analytics(client, tenant, group_by="countries", interval="all", link_id=link)
    assert answer["data"] == [{"country": "DE", "clicks": 1, "unique_clicks": 1}]
    workspace = await analytics(client, tenant, group_by="countries", interval="all")
    assert workspace["data"] == [{"country": "DE", "clicks": 1, "unique_clicks": 1}]


async def test_deleting_a_bio_pages_clicks_takes_its_views_and_block_clicks_and_nothing_else(
    app: MaskApp, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    rng = random.Random(5)
    links = [await create_link(client, tenant, f"b{i}") for i in range(2)]
    page = await _bio_page(client, tenant, "wiped")
    clicks = _random_clicks(tenant, links, rng, 400, page)
    await record(app, clicks)
    link_clicks = {
        link: (await client.get(f"/v1/links/{link}", headers=tenant.headers)).json()["clicks"] for link in links
    }

    response = await client.delete(f"/v1/bio-pages/{page}/clicks", headers=tenant.headers)
    assert response.status_code == 204, response.text

    assert await _raw_count(app, bio_page_id=page) == 0
    from_rollups = await _answers(app, tenant, rollups=True, bio_page_id=page)
    from_raw = await _answers(app, tenant, rollups=False, bio_page_id=page)
    for rolled, raw in zip(from_rollups, from_raw, strict=True):
        assert rolled == raw
    views = await client.get(
        "/v1/analytics/views",
        headers=tenant.headers,
        params={"group_by": "count", "interval": "all", "bots": "include"},
    )
    assert views.json()["views"] == 0
    blocks = await analytics(client, tenant, group_by="bio_blocks", interval="all", bio_page_id=page, bots="include")
    assert blocks["data"] == []
    body = (await client.get(f"/v1/bio-pages/{page}", headers=tenant.headers)).json()
    assert body["views"] == 0 and body["clicks"] == 0
    for link in links:
        assert (await client.get(f"/v1/links/{link}", headers=tenant.headers)).json()["clicks"] == link_clicks[link]
    assert await _raw_count(app, workspace_id=tenant.workspace_id) == sum(1 for c in clicks if c.bio_page_id != page)
    async with session_scope(app.context.sessionmaker) as session:
        types = (await session.execute(select(Event.type, Event.data).where(Event.type.like("%clicks_deleted")))).all()
    assert [(kind, data["id"]) for kind, data in types] == [("bio_page.clicks_deleted", page)]


async def test_another_workspaces_link_or_page_is_404_and_keeps_its_clicks(
    app: MaskApp, client: httpx.AsyncClient, tenant: Tenant, make_tenant: TenantFactory
) -> None:
    other = await make_tenant(plan="enterprise")
    link = await create_link(client, other, "theirs")
    page = await _bio_page(client, other, "theirs")
    await record(
        app,
        [
            click(other, at("2026-03-07T10:00"), link_id=link),
            click(other, at("2026-03-07T10:00"), bio_page_id=page),
        ],
    )
    for path in (f"/v1/links/{link}/clicks", f"/v1/bio-pages/{page}/clicks", "/v1/links/lnk_missing/clicks"):
        response = await client.delete(path, headers=tenant.headers)
        assert response.status_code == 404, response.text
        assert response.json()["error"]["code"] in ("link_not_found", "bio_page_not_found")
    assert await _raw_count(app, workspace_id=other.workspace_id) == 2
    assert (await client.get(f"/v1/links/{link}", headers=other.headers)).json()["clicks"] == 1


async def test_deleting_clicks_needs_the_write_scope(client: httpx.AsyncClient, make_tenant: TenantFactory) -> None:
    reader = await make_tenant(plan="enterprise", scopes=["links:read", "analytics:read", "bio_pages:read"])
    for path in ("/v1/links/lnk_any/clicks", "/v1/bio-pages/bio_any/clicks"):
        response = await client.delete(path, headers=reader.headers)
        assert response.status_code == 403, response.text


async def test_a_deletion_racing_click_batches_leaves_counters_rollups_and_raw_clicks_agreeing(
    app: MaskApp, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    """Batches for the link (and another) stored while its clicks are deleted: each batch lands wholly before the
    deletion (and is deleted) or after it (and counts); no deadlock, no half."""
    link, other = await create_link(client, tenant, "raced"), await create_link(client, tenant, "beside")
    t = at("2026-04-01T12:00")
    batches = [
        [
            click(
                tenant,
                t + timedelta(seconds=b * 60 + i),
                link_id=[link, other][i % 2],
                country="US",
                visitor=f"r{b}{i}",
            )
            for i in range(40)
        ]
        for b in range(6)
    ]
    await record(app, batches[0])

    async def delete() -> None:
        response = await client.delete(f"/v1/links/{link}/clicks", headers=tenant.headers)
        assert response.status_code == 204, response.text

    await asyncio.gather(
        *(record(app, batch) for batch in batches[1:4]), delete(), *(record(app, b) for b in batches[4:])
    )

    raw = await _raw_count(app, link_id=link)
    assert (await client.get(f"/v1/links/{link}", headers=tenant.headers)).json()["clicks"] == raw
    assert (await analytics(client, tenant, group_by="count", interval="all", link_id=link))["clicks"] == raw
    assert (await client.get(f"/v1/links/{other}", headers=tenant.headers)).json()["clicks"] == 120
    kept = _nonzero(await _rollup_rows(app))
    async with session_scope(app.context.sessionmaker) as session:
        await analytics_service.rebuild_rollups(session)
    assert _nonzero(await _rollup_rows(app)) == kept
