"""The rollups answer exactly what a plain GROUP BY over the raw clicks answers, however they were built."""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import func, select

from mask.analytics import service as analytics_service
from mask.analytics.repository import SqlClickStore
from mask.analytics.schemas import ORPHAN_ONLY, AnalyticsParams, GroupBy
from mask.analytics.views import ViewStore
from mask.app import MaskApp
from mask.bootstrap import build_services
from mask.click import service as click_service
from mask.click.schemas import EnrichedClick
from mask.config import Settings
from mask.db import session_scope
from mask.models.analytics import DimensionRollup, TargetDimensionRollup, TargetRollup
from tests.analytics.helpers import at, click, create_link, record
from tests.conftest import Tenant

COUNTRIES = ["US", "DE", "IN", "FR", None]
DEVICES = ["mobile", "desktop", "tablet", None]
BROWSERS = ["Chrome", "Safari", "Firefox", None]
REFERRERS = [
    ("t.co", "https://t.co/a"),
    ("google.com", "https://google.com/"),
    (None, None),
    ("news.ycombinator.com", "https://news.ycombinator.com/item?id=1"),
]
UTM = ["twitter", "newsletter", None, None]
# What the decision engine decided (issue 21), rolled up like a dimension: index 0 is a known value, and a URL
# longer than a rollup value keeps (500 characters) is grouped by its first 500.
LONG_URL = "https://example.com/" + "x" * 600
DESTINATIONS = ["https://example.com/a", LONG_URL, LONG_URL + "y", None]


def _random_clicks(
    tenant: Tenant, links: list[str], rng: random.Random, n: int, bio_page_id: str = "bio_1"
) -> list[EnrichedClick]:
    start = at("2026-03-06T00:00")
    clicks = []
    for _ in range(n):
        when = start + timedelta(seconds=rng.randrange(5 * 86400))
        referrer, referrer_url = rng.choice(REFERRERS)
        target: dict[str, Any]
        roll = rng.random()
        kind: dict[str, Any] = {}
        if rng.random() < 0.15:  # not human: a bot, a link preview or a prefetch, by its own name
            traffic = rng.choice(["bot", "preview", "prefetch"])
            name = {"bot": rng.choice(["googlebot", "curl", None]), "preview": "slackbot"}.get(traffic)
            kind = {"traffic_type": traffic, "bot_name": name}
        if rng.random() < 0.08:  # an orphan hit: an unknown slug, the root, or an expired link
            orphan = rng.choice(["unknown_slug", "domain_root", "expired_link"])
            path = {"unknown_slug": rng.choice(["/wp-login.php", "/typo"]), "domain_root": "/"}.get(orphan)
            target = {"domain": "localhost:8000", "orphan_type": orphan, "path": path or "/gone"}
            if orphan == "expired_link":
                target["link_id"] = rng.choice(links)
        elif roll < 0.8:
            target = {"link_id": rng.choice(links), "domain": "localhost:8000"}
            if rng.random() < 0.5:
                target |= {
                    "destination_url": rng.choice(DESTINATIONS),
                    "variant": rng.choice([0, 1, None]),
                    "rule_index": rng.choice([0, 2, None]),
                }
        elif roll < 0.9:
            target = {"bio_page_id": bio_page_id, "bio_block_id": rng.choice(["blk_1", "blk_2"])}
        else:
            target = {"bio_page_id": bio_page_id}  # a page view
        clicks.append(
            click(
                tenant,
                when,
                visitor=f"v{rng.randrange(40)}",
                country=rng.choice(COUNTRIES),
                city=rng.choice(["Berlin", "Pune", None]),
                device=rng.choice(DEVICES),
                browser=rng.choice(BROWSERS),
                os=rng.choice(["iOS", "Windows", None]),
                referrer=referrer,
                referrer_url=referrer_url,
                utm_source=rng.choice(UTM),
                utm_campaign=rng.choice(["spring", None]),
                **kind,
                **target,
            )
        )
    return clicks


QUERIES: list[dict[str, Any]] = [
    {"start": "2026-03-06T13:17:00Z", "end": "2026-03-09T08:45:30Z"},
    {"start": "2026-03-07", "end": "2026-03-10", "timezone": "America/New_York"},
    {"start": "2026-03-06", "end": "2026-03-11", "timezone": "Asia/Kolkata"},
    {"start": "2026-03-06T00:00:00Z", "end": "2026-03-08T00:00:00Z"},
    {"interval": "all"},
]
FILTERS: list[dict[str, Any]] = [
    {},
    {"country": "US,DE"},
    {"country": "-US"},
    {"device": "mobile"},
    {"tag": "hot"},
    {"tag": "-hot", "referrer": "t.co,google.com"},
    {"bio_page_id": "{bio_page_id}"},  # the test's own page: another workspace's, or none, is 404
    {"domain": "localhost:8000", "bots": "include"},
    {"bots": "only"},
    {"utm_source": "-twitter", "unique": True},
    {"traffic_type": "bot,preview"},
    {"traffic_type": "-human", "bots": "include"},
    {"kind": "orphan"},
    {"kind": "orphan", "traffic_type": "human,prefetch"},
    # `(none)` (a dashboard's "Direct / none" row): from the rollups when it is the question's one dimension.
    {"referrer": "(none)"},
    {"country": "(none),US"},
    {"country": "-(none)"},
    {"referrer": "-(none),-t.co"},
    {"utm_source": "(none)", "tag": "hot"},
    {"city": "(none)", "bots": "only"},
    {"kind": "orphan", "referrer": "(none)"},
    {"variant": "0"},
    {"rule_index": "02,-0"},
    {"destination_url": "https://example.com/a"},
    {"destination_url": LONG_URL},  # longer than a rollup value: only the raw clicks tell it apart
]


def _cases() -> list[tuple[GroupBy | str, dict[str, Any], dict[str, Any]]]:
    """Every group_by over every window unfiltered, and under every filter over the window with odd edges."""
    cases: list[tuple[GroupBy | str, dict[str, Any], dict[str, Any]]] = []
    for group_by in [*GroupBy, "days"]:
        if group_by in ORPHAN_ONLY:  # orphan hits only: every window and filter that applies to them
            cases += [(group_by, window, {"kind": "orphan"}) for window in QUERIES]
            cases += [
                (group_by, QUERIES[0], {**filters, "kind": "orphan"})
                for filters in FILTERS[1:]
                if "bio_page_id" not in filters
            ]
            continue
        cases += [(group_by, window, {}) for window in QUERIES]
        cases += [(group_by, QUERIES[0], filters) for filters in FILTERS[1:]]
    return cases


async def _answers(app: MaskApp, tenant: Tenant, *, rollups: bool, bio_page_id: str) -> list[Any]:
    answers = []
    async with session_scope(app.context.sessionmaker) as session:
        store = SqlClickStore(session, use_rollups=rollups)
        for group_by, window, filters in _cases():
            extra: dict[str, Any] = {"limit": 1000}
            if group_by == "days":
                extra = {"group_by": GroupBy.timeseries, "granularity": "day"}
            else:
                extra["group_by"] = group_by
                if group_by is GroupBy.timeseries and "interval" not in window:
                    extra["granularity"] = "hour"
            named = {k: v.format(bio_page_id=bio_page_id) if isinstance(v, str) else v for k, v in filters.items()}
            params = AnalyticsParams(**window, **named, **extra)
            result = await analytics_service.clicks(
                session, workspace_id=tenant.workspace_id, params=params, store=store
            )
            answers.append((group_by, window, filters, result.model_dump()))
        views = ViewStore(store)  # bio page views: GET /v1/analytics/views
        for group_by in VIEW_QUESTIONS:
            for filters in ({}, {"referrer": "(none)"}, {"bio_page_id": bio_page_id, "country": "-(none)"}):
                params = AnalyticsParams(**QUERIES[1], **filters, group_by=group_by, limit=1000)
                result = await analytics_service.clicks(
                    session, workspace_id=tenant.workspace_id, params=params, store=views
                )
                answers.append((group_by, QUERIES[1], filters, result.model_dump()))
    return answers


VIEW_QUESTIONS = (GroupBy.count, GroupBy.timeseries, GroupBy.referrers, GroupBy.countries, GroupBy.bio_pages)


async def _rollup_rows(app: MaskApp) -> dict[str, dict[tuple[Any, ...], tuple[int, int, int]]]:
    """Every rollup table's counters summed over shards (writers spread a row over shards)."""
    tables: dict[str, dict[tuple[Any, ...], tuple[int, int, int]]] = {}
    async with session_scope(app.context.sessionmaker) as session:
        for model in (TargetRollup, DimensionRollup, TargetDimensionRollup):
            keys = [column for column in model.__table__.primary_key if column.name != "shard"]
            result = await session.execute(
                select(
                    *keys, func.sum(model.clicks), func.sum(model.unique_clicks), func.sum(model.bot_clicks)
                ).group_by(*keys)
            )
            tables[model.__tablename__] = {tuple(row[:-3]): (row[-3], row[-2], row[-1]) for row in result}
    return tables


async def test_rollups_answer_like_a_group_by_over_raw_clicks_for_every_group_by_filter_and_zone(
    app: MaskApp, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    rng = random.Random(4)
    links = [await create_link(client, tenant, f"l{i}", tags=["hot"] if i == 0 else []) for i in range(4)]
    page = await client.post("/v1/bio-pages", headers=tenant.headers, json={"handle": "rollups"})
    assert page.status_code == 201, page.text
    bio_page_id = page.json()["id"]
    clicks = _random_clicks(tenant, links, rng, 600, bio_page_id)
    for start in range(0, len(clicks), 150):  # several batches, as the click writer sends them
        await record(app, clicks[start : start + 150])

    from_rollups = await _answers(app, tenant, rollups=True, bio_page_id=bio_page_id)
    from_raw = await _answers(app, tenant, rollups=False, bio_page_id=bio_page_id)
    assert len(from_rollups) == len(from_raw)
    for rolled, raw in zip(from_rollups, from_raw, strict=True):
        assert rolled == raw
    assert any(answer[3].get("clicks", 0) > 0 or answer[3].get("data") for answer in from_raw)
    answered = {answer[0] for answer in from_raw if answer[3].get("data")}
    assert {GroupBy.traffic_types, GroupBy.bots, GroupBy.orphan_types, GroupBy.paths} <= answered
    assert {GroupBy.destinations, GroupBy.variants, GroupBy.rules} <= answered
    # The `(none)` and decision filters matched clicks (the comparison above is not between two empty answers).
    counted = {
        str(filters): answer["clicks"]
        for group_by, window, filters, answer in from_raw
        if group_by is GroupBy.count and window is QUERIES[0]
    }
    for filters in FILTERS[-11:]:
        assert counted[str(filters)] > 0, filters


async def test_rebuilding_from_raw_clicks_gives_the_rollups_the_listener_kept(
    app: MaskApp, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    rng = random.Random(7)
    links = [await create_link(client, tenant, f"r{i}") for i in range(3)]
    clicks = _random_clicks(tenant, links, rng, 300)
    for start in range(0, len(clicks), 100):
        await record(app, clicks[start : start + 100])
    kept = await _rollup_rows(app)
    assert all(kept.values())
    async with session_scope(app.context.sessionmaker) as session:
        await analytics_service.rebuild_rollups(session, workspace_id=tenant.workspace_id)
    assert await _rollup_rows(app) == kept


def test_the_rollup_listener_is_registered_in_every_process() -> None:
    for run_background in (True, False):
        _, services = build_services(
            Settings(env="test", database_url="sqlite+aiosqlite:///:memory:"), run_background=run_background
        )
        assert analytics_service.record_clicks in services.clicks.listeners


async def test_concurrent_click_batches_on_the_same_counters_lose_nothing(
    app: MaskApp, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    link = await create_link(client, tenant, "busy")
    t = at("2026-04-01T12:00")
    batches = [
        [
            click(
                tenant,
                t + timedelta(seconds=b * 100 + i),
                link_id=link,
                country=["US", "DE"][i % 2],
                visitor=f"b{b}v{i}",
            )
            for i in range(50)
        ]
        for b in range(6)
    ]

    async def write(batch: list[EnrichedClick]) -> None:
        async with session_scope(app.context.sessionmaker) as session:
            await click_service.record_batch(session, batch, [analytics_service.record_clicks])

    await asyncio.gather(*(write(batch) for batch in batches))  # every batch updates the same rollup rows
    async with session_scope(app.context.sessionmaker) as session:
        params = AnalyticsParams(group_by=GroupBy.countries, interval="all", link_id=link)
        result = await analytics_service.clicks(session, workspace_id=tenant.workspace_id, params=params)
    assert result.model_dump()["data"] == [
        {"country": "DE", "clicks": 150, "unique_clicks": 150},
        {"country": "US", "clicks": 150, "unique_clicks": 150},
    ]
