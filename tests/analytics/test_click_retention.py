"""MASK_CLICK_RETENTION_DAYS: raw clicks older than N days go, in batches; the rollups stay, so every answer the
rollups give is the same before and after, and rebuilding rollups never wipes the days whose raw clicks went."""

from __future__ import annotations

import random
from typing import Any

import httpx
from sqlalchemy import func, select

from mask.analytics import service as analytics_service
from mask.analytics.retention import ClickRetention
from mask.analytics.schemas import AnalyticsParams, GroupBy
from mask.app import MaskApp
from mask.bootstrap import build_services
from mask.click.schemas import EnrichedClick
from mask.config import Settings
from mask.db import session_scope
from mask.models.click import Click
from tests.analytics.helpers import analytics, at, create_link, record
from tests.analytics.test_rebuild_rollups_cli import mask
from tests.analytics.test_rollups import _random_clicks, _rollup_rows
from tests.conftest import Tenant, TenantFactory

NOW = at("2026-03-14T05:00")  # with 5 days: raw clicks before 2026-03-09T00:00 go
WINDOWS: list[dict[str, Any]] = [
    {"start": "2026-03-06T00:00:00Z", "end": "2026-03-12T00:00:00Z"},
    {"start": "2026-03-06", "end": "2026-03-12", "timezone": "America/New_York"},
    {"interval": "all"},
]
# Filters the rollups answer with every group_by (one dimension at most between filter and group_by).
FILTERS: list[dict[str, Any]] = [
    {},
    {"link_id": "{link}"},
    {"tag": "hot"},
    {"bio_page_id": "{page}"},
    {"bots": "include"},
]
WITH_COUNTRY = (GroupBy.count, GroupBy.timeseries, GroupBy.countries, GroupBy.links, GroupBy.domains, GroupBy.tags)
# `(none)` (direct visits, an unknown country) is the total minus the known values: the rollups answer it too.
WITH_NONE = (GroupBy.count, GroupBy.timeseries, GroupBy.referrers, GroupBy.links, GroupBy.domains, GroupBy.tags)


TARGETS = {GroupBy.links, GroupBy.tags, GroupBy.bio_pages, GroupBy.bio_blocks}
NOT_DIMENSIONS = {GroupBy.count, GroupBy.timeseries, GroupBy.domains, *TARGETS}


def _windows(group_by: GroupBy, filters: dict[str, Any]) -> list[dict[str, Any]]:
    """A target's breakdown by a dimension is kept per UTC day only: a range cut elsewhere (a New York day) reads
    its partial days from the raw clicks, so only whole UTC days answer the same after retention."""
    target = group_by in TARGETS or bool({"link_id", "tag", "bio_page_id"} & set(filters))
    dimension = group_by not in NOT_DIMENSIONS or bool({"country", "referrer", "variant", "rule_index"} & set(filters))
    return [WINDOWS[0], WINDOWS[2]] if target and dimension else WINDOWS


async def _setup(app: MaskApp, client: httpx.AsyncClient, tenant: Tenant) -> tuple[list[str], str, int]:
    links = [await create_link(client, tenant, f"k{i}", tags=["hot"] if i == 0 else []) for i in range(3)]
    page = await client.post("/v1/bio-pages", headers=tenant.headers, json={"handle": "kept"})
    assert page.status_code == 201, page.text
    clicks = _random_clicks(tenant, links, random.Random(3), 500, page.json()["id"])
    for start in range(0, len(clicks), 125):
        await record(app, clicks[start : start + 125])
    old = sum(1 for c in clicks if c.clicked_at < at("2026-03-09T00:00"))
    assert 0 < old < len(clicks)
    return links, page.json()["id"], old


async def _answers(app: MaskApp, tenant: Tenant, link: str, page: str) -> list[Any]:
    answers = []
    async with session_scope(app.context.sessionmaker) as session:
        for group_by in GroupBy:
            filters = (
                [*FILTERS, {"country": "US,DE"}, {"country": "(none),US"}] if group_by in WITH_COUNTRY else FILTERS
            )
            if group_by in WITH_NONE:
                filters = [*filters, {"referrer": "(none)"}]
            if group_by in WITH_NONE and group_by is not GroupBy.referrers:  # the decision is the one dimension
                filters = [*filters, {"variant": "0"}, {"rule_index": "-0"}]
            for raw_filters in filters:
                for window in _windows(group_by, raw_filters):
                    named = {k: v.format(link=link, page=page) for k, v in raw_filters.items()}
                    orphans = {"kind": "orphan"} if group_by in (GroupBy.orphan_types, GroupBy.paths) else {}
                    if orphans and "bio_page_id" in raw_filters:
                        continue  # orphan hits never belong to a bio page (422)
                    params = AnalyticsParams(**window, **named, **orphans, group_by=group_by, limit=1000)
                    result = await analytics_service.clicks(session, workspace_id=tenant.workspace_id, params=params)
                    answers.append((group_by, window, raw_filters, result.model_dump()))
    return answers


async def _raw(app: MaskApp, workspace_id: str) -> tuple[int, int]:
    """(raw clicks before the cutoff, raw clicks in all) of a workspace."""
    async with session_scope(app.context.sessionmaker) as session:
        old = await session.scalar(
            select(func.count()).where(Click.workspace_id == workspace_id, Click.clicked_at < at("2026-03-09T00:00"))
        )
        every = await session.scalar(select(func.count()).where(Click.workspace_id == workspace_id))
    return int(old or 0), int(every or 0)


async def test_dropping_old_raw_clicks_keeps_every_rollup_answer(
    app: MaskApp, client: httpx.AsyncClient, tenant: Tenant, make_tenant: TenantFactory
) -> None:
    links, page, old = await _setup(app, client, tenant)
    other = await make_tenant(plan="enterprise")
    other_links = [await create_link(client, other, "o1")]
    await record(app, _random_clicks(other, other_links, random.Random(9), 100))
    other_old, other_all = await _raw(app, other.workspace_id)
    # A deleted workspace's clicks stay in the clicks table: retention drops them too.
    await record(
        app,
        [
            EnrichedClick(
                click_id="clk_gone1",
                clicked_at=at("2026-03-07T10:00"),
                workspace_id="ws_gone",
                domain="localhost:8000",
                visitor_hash="g",
                link_id="lnk_gone",
            )
        ],
    )
    before = await _answers(app, tenant, links[0], page)
    rows = await _rollup_rows(app)
    total = (await _raw(app, tenant.workspace_id))[1]

    retention = ClickRetention(app.context.sessionmaker, retention_days=5, batch_size=37)  # many batches
    removed = await retention.run_once(now=NOW)

    assert removed == old + other_old + 1
    assert await _raw(app, "ws_gone") == (0, 0)
    assert await _raw(app, tenant.workspace_id) == (0, total - old)
    assert await _raw(app, other.workspace_id) == (0, other_all - other_old)
    assert await _rollup_rows(app) == rows
    after = await _answers(app, tenant, links[0], page)
    for was, now in zip(before, after, strict=True):
        assert was == now, (was[:3], was[3], now[3])
    assert any(answer[3].get("clicks", 0) > 0 for answer in after)
    # What needs the raw clicks no longer has those days: the click events.
    events = await client.get(
        "/v1/analytics/events",
        headers=tenant.headers,
        params={"start": "2026-03-06T00:00:00Z", "end": "2026-03-09T00:00:00Z", "bots": "include"},
    )
    assert events.status_code == 200 and events.json()["data"] == []
    # A second pass finds nothing more to drop.
    assert await retention.run_once(now=NOW) == 0


async def test_rebuilding_rollups_after_retention_keeps_the_dropped_days(
    database_url: str, app: MaskApp, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    await _setup(app, client, tenant)
    rows = await _rollup_rows(app)
    total = await analytics(client, tenant, group_by="count", interval="all", bots="include")
    await ClickRetention(app.context.sessionmaker, retention_days=5).run_once(now=NOW)
    async with session_scope(app.context.sessionmaker) as session:
        assert await analytics_service.retained_since(session) == at("2026-03-09T00:00")
        await analytics_service.rebuild_rollups(session)  # all time: only the retained days are rebuilt
    assert await _rollup_rows(app) == rows
    async with session_scope(app.context.sessionmaker) as session:
        await analytics_service.rebuild_rollups(
            session, workspace_id=tenant.workspace_id, start=at("2026-03-01T00:00"), end=at("2026-03-10T00:00")
        )
        steps = await analytics_service.rebuild_days(session, since=at("2026-03-01T00:00").date())
    assert await _rollup_rows(app) == rows
    assert steps and min(day for _, day in steps) >= at("2026-03-09T00:00")

    done = await mask(database_url, "clicks", "rebuild-rollups", "--since", "2026-03-01")
    assert done.returncode == 0, done.stderr
    assert "days before 2026-03-09 are left as they are" in done.stderr
    assert await _rollup_rows(app) == rows
    assert await analytics(client, tenant, group_by="count", interval="all", bots="include") == total


async def test_deleting_a_links_clicks_after_retention_takes_them_out_of_its_totals(
    app: MaskApp, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    links, _, _ = await _setup(app, client, tenant)
    await ClickRetention(app.context.sessionmaker, retention_days=5).run_once(now=NOW)
    window = {"start": "2026-03-06T00:00:00Z", "end": "2026-03-12T00:00:00Z"}
    workspace = await analytics(client, tenant, group_by="count", **window)
    link = await analytics(client, tenant, group_by="count", link_id=links[1], **window)
    assert link["clicks"] > 0
    assert (await client.delete(f"/v1/links/{links[1]}/clicks", headers=tenant.headers)).status_code == 204
    assert (await analytics(client, tenant, group_by="count", link_id=links[1], **window))["clicks"] == 0
    after = await analytics(client, tenant, group_by="count", **window)
    assert after["clicks"] == workspace["clicks"] - link["clicks"]
    countries = await analytics(client, tenant, group_by="countries", limit=1000, **window)
    assert sum(row["clicks"] for row in countries["data"]) == after["clicks"]


def test_the_retention_task_runs_only_when_the_setting_is_set() -> None:
    for days, expected in ((None, False), (30, True)):
        settings = Settings(env="test", database_url="sqlite+aiosqlite:///:memory:", click_retention_days=days)
        context, _ = build_services(settings, run_background=True)
        assert ("click retention" in [service.name for service in context.background]) is expected
