"""Click analytics at scale: N clicks over 5,000 links and 90 days, then every group_by, timed.

    .venv/bin/python bench/analytics.py [--clicks 2000000] [--backends postgres,sqlite] [--repeat 15]

Generates a workspace whose traffic looks real: Zipf-skewed links (a few hot ones, a long tail), a country
mix, real user-agent strings parsed by MASK's own parser (bots included), referrers, UTM tags and daily
unique visitors. Rows are bulk loaded (COPY on PostgreSQL, executemany on SQLite) and the rollups built with
INSERT … SELECT … GROUP BY (the same `rebuild` a backfill uses) rather than through the click listener.

Then, per backend, it times every `group_by` through the analytics service for the whole workspace over
`all` and `30d` and for the hottest link over `all` and `30d`, then every question issue 26 added (`(none)`
filters, traffic types, orphan hits, the decision engine's fields, bio page views: see `questions`), printing
p50/p95, and in the same run the p50 of a plain GROUP BY over the raw clicks table answering the same question,
and the ratio between them (`--baseline-repeat 0` skips the GROUP BYs). Targets (PostgreSQL, 20M clicks): p95
< 150 ms for count and timeseries, < 500 ms for every breakdown.

Click events: p50/p99 of a page of 100 events (the first page, and the page after 10 pages of cursors), unfiltered
and with each filter a dashboard row sends (target p99 < 50 ms), and a whole export (every click of the
workspace, as NDJSON, through the streaming code the API uses) in events/s with the process's peak memory before
and after, against a plain `SELECT` of the same rows in the same run. `--export-limit` caps the clicks exported.

Loading 20M clicks takes most of an hour (generating and COPYing them, then `rebuild`): `--keep-database
--seed-only` loads a PostgreSQL database once and prints its URL, `--database URL` times it as often as needed
(drop it afterwards). Timing a kept database skips the click-writing cost (it would change the data).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import resource
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from _common import percentile, throwaway_database
from sqlalchemy import Select, and_, case, func, insert, literal_column, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from mask.analytics import events as events_service
from mask.analytics import service as analytics_service
from mask.analytics import views as views_service
from mask.analytics.schemas import DIMENSION_KEYS, INDEX_KEYS, ORPHAN_ONLY, AnalyticsParams, EventsParams, GroupBy
from mask.analytics.timerange import Interval
from mask.click import service as click_service
from mask.click.enrichment import parse_agent
from mask.click.schemas import EnrichedClick
from mask.config import Settings
from mask.context import AppContext
from mask.db import session_scope
from mask.kit.time import utcnow
from mask.models.analytics import DimensionRollup, TargetDimensionRollup, TargetRollup
from mask.models.bio_page import BioPage
from mask.models.click import Click
from mask.models.link import Link
from mask.models.tag import Tag, link_tags
from mask.models.workspace import Workspace
from mask.workspace import service as workspace_service

COLUMNS = (
    "click_id",
    "workspace_id",
    "link_id",
    "bio_page_id",
    "bio_block_id",
    "domain",
    "clicked_at",
    "country",
    "city",
    "device",
    "browser",
    "os",
    "referrer",
    "referrer_url",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "is_bot",
    "visitor_hash",
    "is_unique",
    "traffic_type",
    "bot_name",
    "orphan_type",
    "path",
    "trigger",
    "destination_url",
    "rule_index",
    "variant",
)
ORPHAN_SHARE = 0.01  # hits on unknown slugs and the root of the brand domain (issue 26)
PREFETCH_SHARE = 0.01  # browsers' speculative loads
BIO_VIEW_SHARE, BIO_CLICK_SHARE = 0.02, 0.01  # views of bio pages, clicks on their blocks
BIO_PAGES = 20
RULED_EVERY = 20  # every 20th link (from the second) has targeting rules; the hottest one runs an A/B test
DEFAULT_DOMAIN, BRAND_DOMAIN = "localhost:8000", "go.bench.test"

COUNTRIES = {
    "US": 30,
    "IN": 8,
    "GB": 6,
    "DE": 6,
    "BR": 5,
    "FR": 4,
    "CA": 4,
    "JP": 3,
    "ES": 3,
    "IT": 3,
    "NL": 2,
    "MX": 2,
    "AU": 2,
    "ID": 2,
    "PL": 1.5,
    "TR": 1.5,
    "KR": 1.2,
    "SE": 1,
    "CH": 1,
    "PH": 1,
    "NG": 1,
    "AR": 1,
    "ZA": 1,
    "VN": 1,
    "EG": 0.8,
    "PK": 0.8,
    "BD": 0.8,
    "UA": 0.7,
    "BE": 0.7,
    "AT": 0.6,
    "PT": 0.6,
    "CZ": 0.5,
    "RO": 0.5,
    "IE": 0.5,
    "DK": 0.4,
    "NO": 0.4,
    "FI": 0.4,
    "IL": 0.4,
    "NZ": 0.3,
    None: 2,
}
CITIES = {
    "US": [
        "New York",
        "Los Angeles",
        "Chicago",
        "Houston",
        "Seattle",
        "San Francisco",
        "Austin",
        "Boston",
        "Miami",
        "Denver",
        "Atlanta",
        "Portland",
    ],
    "IN": ["Mumbai", "Delhi", "Bengaluru", "Hyderabad", "Chennai", "Pune", "Kolkata"],
    "GB": ["London", "Manchester", "Birmingham", "Edinburgh", "Bristol"],
    "DE": ["Berlin", "Munich", "Hamburg", "Cologne", "Frankfurt am Main", "Stuttgart"],
    "BR": ["São Paulo", "Rio de Janeiro", "Belo Horizonte", "Brasília"],
    "FR": ["Paris", "Lyon", "Marseille", "Toulouse"],
    "CA": ["Toronto", "Vancouver", "Montreal", "Calgary"],
    "JP": ["Tokyo", "Osaka", "Yokohama"],
    "ES": ["Madrid", "Barcelona", "Valencia"],
    "IT": ["Rome", "Milan", "Naples", "Turin"],
}
# Real user agents with rough shares of link traffic (in-app browsers and crawlers included).
USER_AGENTS = {
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 "
    "Mobile/15E148 Safari/604.1": 22,
    "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.6422.53 Mobile "
    "Safari/537.36": 20,
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 "
    "Safari/537.36": 16,
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 "
    "Safari/605.1.15": 6,
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 "
    "Safari/537.36": 6,
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 "
    "Safari/537.36 Edg/125.0.0.0": 4,
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:126.0) Gecko/20100101 Firefox/126.0": 3,
    "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 "
    "Mobile/15E148 Safari/604.1": 3,
    "Mozilla/5.0 (Linux; Android 13; SAMSUNG SM-A536B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/25.0 "
    "Chrome/121.0.0.0 Mobile Safari/537.36": 3,
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 "
    "Instagram 334.0.4.32.98 (iPhone15,3; iOS 17_5; en_US; en; scale=3.00; 1290x2796; 604516285)": 4,
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 "
    "Chrome/125.0.6422.53 Mobile Safari/537.36 [FB_IAB/FB4A;FBAV/466.0.0.44.109;]": 3,
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36": 1.5,
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)": 2,
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)": 1,
    "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)": 1,
    "Twitterbot/1.0": 1,
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)": 1,
    "curl/8.5.0": 0.5,
    "python-requests/2.32.3": 0.5,
}
REFERRERS: dict[str | None, float] = {
    None: 40,
    "t.co": 12,
    "www.google.com": 10,
    "l.facebook.com": 6,
    "l.instagram.com": 5,
    "www.linkedin.com": 4,
    "www.reddit.com": 3,
    "news.ycombinator.com": 2,
    "www.youtube.com": 2,
    "www.bing.com": 1.5,
    "duckduckgo.com": 1,
    "mail.google.com": 1,
    "github.com": 1,
    "substack.com": 1,
    "medium.com": 1,
    "t.me": 1,
}
UTM_SOURCES = {"twitter": 4, "newsletter": 3, "facebook": 2, "linkedin": 2, "google": 1, "partner": 1}
UTM_MEDIUMS = {"social": 5, "email": 3, "cpc": 2, "referral": 1}
UTM_CAMPAIGNS = [f"campaign-{n}" for n in range(40)]


def _weighted(rng: random.Random, table: Mapping[Any, float], k: int) -> list[Any]:
    return rng.choices(list(table), weights=list(table.values()), k=k)


def generate(
    workspace_id: str,
    link_ids: list[str],
    link_domains: list[str],
    n: int,
    days: float,
    now: datetime,
    seed: int = 1,
    prefix: str = "clk_bench",
) -> Iterator[tuple[Any, ...]]:
    """Rows of the clicks table in time order, with `is_unique` decided as record_batch decides it."""
    rng = random.Random(seed)
    start = now - timedelta(days=days)
    span = days * 86400
    seconds = sorted(rng.random() * span for _ in range(n))
    links = rng.choices(range(len(link_ids)), weights=[1 / (rank + 1) ** 1.1 for rank in range(len(link_ids))], k=n)
    countries = _weighted(rng, COUNTRIES, n)
    agents = {ua: parse_agent(ua) for ua in USER_AGENTS}
    user_agents = _weighted(rng, USER_AGENTS, n)
    referrers = _weighted(rng, REFERRERS, n)
    utm_sources = _weighted(rng, UTM_SOURCES, n)
    utm_mediums = _weighted(rng, UTM_MEDIUMS, n)
    seen: set[tuple[int | str, int, int]] = set()
    last_visitor: dict[int, int] = {}
    next_visitor = 0
    for i in range(n):
        clicked_at = start + timedelta(seconds=seconds[i])
        link = links[i]
        country = countries[i]
        cities = CITIES.get(country or "")
        city = rng.choice(cities) if cities and rng.random() < 0.7 else None
        agent = agents[user_agents[i]]
        referrer = referrers[i]
        referrer_url = f"https://{referrer}/{rng.randrange(60)}" if referrer else None
        tagged = rng.random() < 0.3
        # A quarter of clicks repeat the link's previous visitor (a second tap, a reload, a return visit).
        if link in last_visitor and rng.random() < 0.25:
            visitor = last_visitor[link]
        else:
            visitor = next_visitor
            next_visitor += 1
            last_visitor[link] = visitor
        day = int(seconds[i] + start.timestamp()) // 86400
        traffic = "preview" if agent.preview else "bot" if agent.is_bot else "human"
        if traffic == "human" and rng.random() < PREFETCH_SHARE:
            traffic = "prefetch"
        orphan = path = page = block = None
        draw = rng.random()
        if draw < ORPHAN_SHARE:  # no link: an unknown slug or the brand domain's root
            orphan = "domain_root" if rng.random() < 0.2 else "unknown_slug"
            path = "/" if orphan == "domain_root" else f"/missing-{rng.randrange(300)}"
        elif draw < ORPHAN_SHARE + BIO_VIEW_SHARE + BIO_CLICK_SHARE:  # a bio page's view, or a click on a block
            page = f"bio_bench{link % BIO_PAGES:04d}"
            if draw >= ORPHAN_SHARE + BIO_VIEW_SHARE:
                block = f"blk_bench{link % BIO_PAGES:04d}{link % 5}"
        linked = orphan is None and page is None
        destination = rule = variant = None
        if linked and link == 0:  # the A/B test
            variant = int(rng.random() < 0.5)
            destination = f"https://example.com/0?variant={'ab'[variant]}"
        elif linked and link % RULED_EVERY == 1:  # targeting: US visitors, then phones, else the link's URL
            if country == "US":
                rule, destination = 0, f"https://example.com/{link}/us"
            elif agent.device == "mobile":
                rule, destination = 1, f"https://example.com/{link}/mobile"
            else:
                destination = f"https://example.com/{link}"
        unique = False
        target = page if block is None else block
        if traffic == "human" and orphan is None and (target or link, day, visitor) not in seen:
            seen.add((target or link, day, visitor))
            unique = True
        yield (
            f"{prefix}{i:012d}",
            workspace_id,
            link_ids[link] if linked else None,
            page,
            block,
            link_domains[link] if linked else BRAND_DOMAIN if orphan else DEFAULT_DOMAIN,
            clicked_at,
            country,
            city,
            agent.device,
            agent.browser,
            agent.os,
            referrer,
            referrer_url,
            utm_sources[i] if tagged else None,
            utm_mediums[i] if tagged else None,
            UTM_CAMPAIGNS[link % len(UTM_CAMPAIGNS)] if tagged else None,
            "shoes" if tagged and rng.random() < 0.1 else None,
            "hero" if tagged and rng.random() < 0.1 else None,
            traffic != "human",
            f"{visitor:032x}",
            unique,
            traffic,
            agent.bot_name,
            orphan,
            path,
            "link" if page is None else "bio",
            destination,
            rule,
            variant,
        )


async def setup_workspace(context: AppContext, links: int) -> tuple[str, list[str], list[str]]:
    """A workspace with `links` links (a tenth on a branded domain) and 20 tags over a third of them."""
    async with session_scope(context.sessionmaker) as session:
        workspace = await workspace_service.create(session, slug="bench", plan="enterprise")
        now = utcnow()
        link_ids = [f"lnk_bench{i:08d}" for i in range(links)]
        domains = [BRAND_DOMAIN if i % 10 == 9 else DEFAULT_DOMAIN for i in range(links)]
        await session.execute(
            insert(Link),
            [
                {
                    "id": link_id,
                    "workspace_id": workspace.id,
                    "domain": domain,
                    "slug": f"s{i}",
                    "url": f"https://example.com/{i}",
                    "clicks": 0,
                    "created_at": now,
                    "updated_at": now,
                }
                for i, (link_id, domain) in enumerate(zip(link_ids, domains, strict=True))
            ],
        )
        tags = [f"tag_bench{t:02d}" for t in range(20)]
        await session.execute(
            insert(Tag),
            [
                {"id": tag, "workspace_id": workspace.id, "name": f"topic-{t}", "created_at": now}
                for t, tag in enumerate(tags)
            ],
        )
        await session.execute(
            insert(link_tags),
            [{"link_id": link_id, "tag_id": tags[i % 20]} for i, link_id in enumerate(link_ids) if i % 3 == 0],
        )
        await session.execute(
            insert(BioPage),
            [
                {
                    "id": f"bio_bench{p:04d}",
                    "workspace_id": workspace.id,
                    "domain": DEFAULT_DOMAIN,
                    "handle": f"page{p}",
                    "theme": {},
                    "created_at": now,
                    "updated_at": now,
                }
                for p in range(BIO_PAGES)
            ],
        )
    return workspace.id, link_ids, domains


def _sqlite_row(row: tuple[Any, ...]) -> tuple[Any, ...]:
    values = list(row)
    values[6] = values[6].astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")  # SQLAlchemy's SQLite format
    values[19] = int(values[19])
    values[21] = int(values[21])
    return tuple(values)


async def load_clicks(url: str, rows: Iterator[tuple[Any, ...]]) -> int:
    """Bulk load: COPY on PostgreSQL, executemany in large transactions on SQLite."""
    count = 0
    chunk: list[tuple[Any, ...]] = []
    if url.startswith("postgresql"):
        import asyncpg

        connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            for row in rows:
                chunk.append(row)
                if len(chunk) == 100_000:
                    await connection.copy_records_to_table("clicks", records=chunk, columns=COLUMNS)
                    count += len(chunk)
                    chunk = []
            if chunk:
                await connection.copy_records_to_table("clicks", records=chunk, columns=COLUMNS)
                count += len(chunk)
        finally:
            await connection.close()
        return count
    database = sqlite3.connect(url.split("///", 1)[1])
    try:
        database.execute("PRAGMA synchronous=OFF")
        statement = f"INSERT INTO clicks ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
        for row in rows:
            chunk.append(_sqlite_row(row))
            if len(chunk) == 100_000:
                database.executemany(statement, chunk)
                database.commit()
                count += len(chunk)
                chunk = []
        if chunk:
            database.executemany(statement, chunk)
            database.commit()
            count += len(chunk)
    finally:
        database.close()
    return count


async def finish_load(context: AppContext, workspace_id: str) -> dict[str, float]:
    """links.clicks from the raw rows, the rollups by INSERT … SELECT … GROUP BY, then planner statistics."""
    timings: dict[str, float] = {}
    started = time.perf_counter()
    async with session_scope(context.sessionmaker) as session:
        human = select(Click.link_id, func.count().label("n")).where(~Click.is_bot).group_by(Click.link_id).subquery()
        await session.execute(update(Link).where(Link.id == human.c.link_id).values(clicks=human.c.n))
    timings["links.clicks"] = time.perf_counter() - started
    started = time.perf_counter()
    async with session_scope(context.sessionmaker) as session:
        await analytics_service.rebuild_rollups(session, workspace_id=workspace_id)
    timings["rollups"] = time.perf_counter() - started
    started = time.perf_counter()
    async with context.engine.connect() as connection:
        if context.settings.database_url.startswith("postgresql"):
            autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
            await autocommit.execute(text("VACUUM ANALYZE"))
        else:
            await connection.execute(text("ANALYZE"))
            await connection.commit()
    timings["analyze"] = time.perf_counter() - started
    return timings


# --- the baseline: the plain GROUP BY over raw clicks a system without rollups would run -------------------


def baseline_statement(
    dialect: str,
    workspace_id: str,
    group_by: GroupBy,
    start: datetime,
    end: datetime,
    question: Question,
) -> Select[*tuple[Any, ...]]:
    """The plain GROUP BY over the raw clicks that answers `question` (top 10 rows of a breakdown)."""
    clicks = func.count().label("clicks")
    unique = func.sum(case((Click.is_unique, 1), else_=0)).label("unique_clicks")
    where = [Click.workspace_id == workspace_id, Click.clicked_at >= start, Click.clicked_at < end]
    view = and_(Click.bio_page_id.is_not(None), Click.bio_block_id.is_(None))
    if group_by in ORPHAN_ONLY or question.params.get("kind") == "orphan":
        where.append(Click.orphan_type.is_not(None))
    elif question.views:
        where.append(view)
    else:
        where += [Click.orphan_type.is_(None), ~view]
    if group_by is GroupBy.bots:
        where.append(Click.is_bot.expression)
    elif group_by is not GroupBy.traffic_types and "traffic_type" not in question.params:
        where.append(~Click.is_bot)
    for name, value in question.params.items():
        if name in ("interval", "kind"):
            continue
        filtered = getattr(Click, name)
        value_: Any = int(value) if name in ("variant", "rule_index") else value
        where.append(filtered.is_(None) if value == "(none)" else filtered == value_)
    if group_by is GroupBy.count:
        return select(clicks, unique).where(*where)
    if group_by is GroupBy.timeseries:
        if dialect == "postgresql":
            key: Any = func.date_trunc(literal_column("'day'"), Click.clicked_at, literal_column("'UTC'"))
        else:
            key = func.strftime(literal_column("'%Y-%m-%d'"), Click.clicked_at)
        return select(key, clicks, unique).where(*where).group_by(key).order_by(key)
    if group_by is GroupBy.tags:
        return (
            select(Tag.name, clicks, unique)
            .select_from(
                Click.__table__.join(link_tags, link_tags.c.link_id == Click.link_id).join(
                    Tag, and_(Tag.id == link_tags.c.tag_id)
                )
            )
            .where(*where)
            .group_by(Tag.name)
            .order_by(clicks.desc())
            .limit(10)
        )
    keys = {GroupBy.links: "link_id", GroupBy.bio_pages: "bio_page_id", **{g: k for g, (k, _) in INDEX_KEYS.items()}}
    column: Any = getattr(Click, keys.get(group_by) or DIMENSION_KEYS[group_by][0])
    return select(column, clicks, unique).where(*where).group_by(column).order_by(clicks.desc()).limit(10)


async def timed(runs: int, call: Callable[[], Any]) -> list[float]:
    await call()  # warm the caches and the statement cache
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        await call()
        times.append(time.perf_counter() - began)
    return times


@dataclass(frozen=True)
class Question:
    """A scope of questions: the API parameters, and the group_bys asked with them."""

    scope: str
    params: dict[str, str]
    group_bys: tuple[GroupBy, ...]
    views: bool = False  # asked of GET /v1/analytics/views (bio page views) rather than clicks

    @property
    def new(self) -> bool:
        """A question issue 26 (or 21) added: filters on traffic, `(none)`, orphans, decisions or page views."""
        return self.scope not in ("workspace, all", "workspace, 30d", "hot link, all", "hot link, 30d")


# Every group_by except the orphan-only ones, bio blocks (asked of views), and the decisions (asked apart).
CLASSIC = tuple(
    g
    for g in GroupBy
    if g not in ORPHAN_ONLY and g not in INDEX_KEYS and g not in (GroupBy.bio_blocks, GroupBy.destinations)
)
DECIDED = (GroupBy.destinations, GroupBy.variants, GroupBy.rules)
ORPHANS = (GroupBy.count, GroupBy.timeseries, *sorted(ORPHAN_ONLY), GroupBy.domains)
TOTALS = (GroupBy.count, GroupBy.timeseries)


def questions(hot_link: str, ruled_link: str) -> list[Question]:
    """What the bench asks: the classic scopes, then every question issue 26 added (a `(none)` filter, traffic
    types, orphan hits, the decisions, bio page views). `referrer=(none)` with `group_by=countries` names two
    dimensions: no rollup holds that pair, so it is the one answered from the raw clicks (as `country=US` with
    `group_by=devices` always was)."""
    return [
        Question("workspace, all", {"interval": "all"}, CLASSIC),
        Question("workspace, 30d", {"interval": "30d"}, CLASSIC),
        Question("hot link, all", {"interval": "all", "link_id": hot_link}, CLASSIC),
        Question("hot link, 30d", {"interval": "30d", "link_id": hot_link}, CLASSIC),
        Question(
            "direct, 30d",
            {"interval": "30d", "referrer": "(none)"},
            (*TOTALS, GroupBy.referrers, GroupBy.links, GroupBy.tags, GroupBy.domains, GroupBy.countries),
        ),
        Question("direct, hot, 30d", {"interval": "30d", "referrer": "(none)", "link_id": hot_link}, TOTALS),
        Question("no country, all", {"interval": "all", "country": "(none)"}, (*TOTALS, GroupBy.links)),
        Question("traffic, 30d", {"interval": "30d"}, (GroupBy.traffic_types, GroupBy.bots)),
        Question("traffic, hot, all", {"interval": "all", "link_id": hot_link}, (GroupBy.traffic_types, GroupBy.bots)),
        Question("previews, 30d", {"interval": "30d", "traffic_type": "preview"}, (*TOTALS, GroupBy.links)),
        Question("orphans, all", {"interval": "all", "kind": "orphan"}, ORPHANS),
        Question("orphans, 30d", {"interval": "30d", "kind": "orphan"}, ORPHANS),
        Question("decisions, all", {"interval": "all"}, DECIDED),
        Question("decisions, hot, all", {"interval": "all", "link_id": hot_link}, DECIDED),
        Question("decisions, ruled, 30d", {"interval": "30d", "link_id": ruled_link}, DECIDED),
        Question("variant 1, hot, 30d", {"interval": "30d", "link_id": hot_link, "variant": "1"}, TOTALS),
        Question("views, all", {"interval": "all"}, (*TOTALS, GroupBy.bio_pages, GroupBy.countries), views=True),
        Question(
            "views, page, 30d",
            {"interval": "30d", "bio_page_id": "bio_bench0000"},
            (*TOTALS, GroupBy.referrers),
            views=True,
        ),
    ]


async def run_queries(
    context: AppContext, workspace_id: str, hot_link: str, ruled_link: str, repeat: int, baseline_repeat: int
) -> list[tuple[str, Question, list[float], list[float]]]:
    dialect = context.engine.dialect.name
    now = utcnow()
    results = []
    async with context.sessionmaker() as session:
        for question in questions(hot_link, ruled_link):
            interval = question.params["interval"]
            start = datetime(2000, 1, 1, tzinfo=UTC) if interval == "all" else now - timedelta(days=30)
            for group_by in question.group_bys:
                kind = {"kind": "orphan"} if group_by in ORPHAN_ONLY and "kind" not in question.params else {}
                params = AnalyticsParams.model_validate({**question.params, **kind, "group_by": group_by})

                async def ours(
                    session: AsyncSession = session, params: AnalyticsParams = params, q: Question = question
                ) -> Any:
                    if q.views:
                        return await views_service.views(session, workspace_id=workspace_id, params=params)
                    return await analytics_service.clicks(session, workspace_id=workspace_id, params=params)

                statement = baseline_statement(dialect, workspace_id, group_by, start, utcnow(), question)

                async def plain(session: AsyncSession = session, statement: Select[Any] = statement) -> Any:
                    return (await session.execute(statement)).all()

                mine = await timed(repeat, ours)
                base = await timed(baseline_repeat, plain) if baseline_repeat else [float("nan")]
                results.append((group_by.value, question, mine, base))
                print(
                    f"  {group_by.value:<14} {question.scope:<22} p50 {percentile(mine, 50) * 1000:8.1f} ms  "
                    f"p95 {percentile(mine, 95) * 1000:8.1f} ms   raw GROUP BY p50 "
                    f"{percentile(base, 50) * 1000:9.1f} ms   x{percentile(base, 50) / percentile(mine, 50):7.1f}",
                    flush=True,
                )
    return results


async def listener_cost(
    context: AppContext, workspace_id: str, link_ids: list[str], domains: list[str], batches: int = 10, size: int = 1000
) -> tuple[list[float], list[float]]:
    """record_batch of `size` fresh clicks with the rollup listener and without it, alternately."""
    with_rollups: list[float] = []
    without: list[float] = []
    for number in range(2 * batches):
        rows = generate(
            workspace_id, link_ids, domains, size, 1 / 24, utcnow(), seed=100 + number, prefix=f"clk_cost{number:03d}_"
        )
        clicks = [EnrichedClick(**dict(zip(COLUMNS, row, strict=True))) for row in rows]
        listeners = [analytics_service.record_clicks] if number % 2 else []
        began = time.perf_counter()
        async with session_scope(context.sessionmaker) as session:
            await click_service.record_batch(session, clicks, listeners)
        (with_rollups if listeners else without).append(time.perf_counter() - began)
    return with_rollups, without


async def table_sizes(context: AppContext) -> dict[str, int]:
    sizes = {}
    async with context.sessionmaker() as session:
        for model in (Click, TargetRollup, DimensionRollup, TargetDimensionRollup):
            sizes[model.__tablename__] = int(await session.scalar(select(func.count()).select_from(model)) or 0)
    return sizes


# Pages of events asked with each filter a dashboard row sends (issue 26): p99 per page, target < 50 ms.
EVENT_PAGES: tuple[tuple[str, dict[str, str]], ...] = (
    ("workspace", {}),
    ("hot link", {"link_id": "{hot}"}),
    ("direct", {"referrer": "(none)"}),
    ("no country", {"country": "(none)"}),
    ("previews", {"traffic_type": "preview"}),
    ("orphans", {"kind": "orphan"}),
    ("variant 1, hot link", {"link_id": "{hot}", "variant": "1"}),
    ("ruled link, rule 0", {"link_id": "{ruled}", "rule_index": "0"}),
    ("bio page", {"bio_page_id": "bio_bench0000"}),
    ("NZ, 30d", {"country": "NZ", "interval": "30d"}),
)


async def events_results(
    context: AppContext, workspace_id: str, hot_link: str, ruled_link: str, repeat: int, cap: int
) -> list[tuple[str, list[float]]]:
    """Pages of events (p50/p99, the first page and the 11th) and a whole export at constant memory, against a
    plain SELECT."""
    pages: list[tuple[str, list[float]]] = []
    for label, filters in EVENT_PAGES:
        named = {name: value.format(hot=hot_link, ruled=ruled_link) for name, value in filters.items()}
        async with context.sessionmaker() as session:
            page_of = partial(events_service.page, session, workspace_id=workspace_id)
            params = EventsParams.model_validate({"interval": "all", **named})
            first = await timed(repeat, partial(page_of, params=params))
            cursor_params = params
            for _ in range(10):
                page = await events_service.page(session, workspace_id=workspace_id, params=cursor_params)
                if page.next_cursor is None:
                    break
                cursor_params = params.model_copy(update={"cursor": page.next_cursor})
            deep = await timed(repeat, partial(page_of, params=cursor_params))
        pages += [(f"{label}, first", first), (f"{label}, 11th", deep)]
        print(
            f"  events page of 100 ({label}): first p50 {percentile(first, 50) * 1000:.1f} ms p99 "
            f"{percentile(first, 99) * 1000:.1f} ms; 11th p50 {percentile(deep, 50) * 1000:.1f} ms p99 "
            f"{percentile(deep, 99) * 1000:.1f} ms (target p99 < 50)",
            flush=True,
        )
    if cap <= 0:
        return pages
    async with context.sessionmaker() as session:
        query = await analytics_service.resolve_query(
            session, workspace_id=workspace_id, params=EventsParams(interval=Interval.all)
        )
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started, exported, size = time.perf_counter(), 0, 0
    async for chunk in events_service.export(context.sessionmaker, query, format="ndjson"):
        exported += chunk.count(b"\n")
        size += len(chunk)
        if exported >= cap:
            break
    ours = time.perf_counter() - started
    peak_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    async with context.sessionmaker() as session:
        plain = (
            await session.execute(
                select(Click)
                .where(Click.workspace_id == workspace_id)
                .order_by(Click.clicked_at.desc())
                .limit(exported)
            )
        ).all()
    baseline = time.perf_counter() - started
    print(
        f"  export of {exported:,} events ({size / 1e6:.0f} MB NDJSON): {exported / ours:,.0f} events/s, peak RSS "
        f"{peak_before / 1024:.0f} → {peak_after / 1024:.0f} MB; a plain SELECT of the same rows into memory: "
        f"{len(plain) / baseline:,.0f} rows/s (ratio x{baseline / ours:.2f})"
    )
    return pages


async def seed(context: AppContext, url: str, args: argparse.Namespace) -> str:
    """A workspace of `args.links` links and `args.clicks` clicks, its rollups built; its id."""
    workspace_id, link_ids, domains = await setup_workspace(context, args.links)
    started = time.perf_counter()
    loaded = await load_clicks(url, generate(workspace_id, link_ids, domains, args.clicks, args.days, utcnow()))
    print(f"  generated and loaded {loaded:,} clicks in {time.perf_counter() - started:.1f} s", flush=True)
    for step, seconds in (await finish_load(context, workspace_id)).items():
        print(f"  {step:<14} {seconds:8.1f} s", flush=True)
    return workspace_id


def _worst(results: list[tuple[str, Question, list[float], list[float]]], totals: bool, new: bool) -> str:
    chosen = [
        (percentile(m, 95), g, q.scope)
        for g, q, m, _ in results
        if (g in ("count", "timeseries")) == totals and q.new == new
    ]
    if not chosen:
        return "-"
    p95, group_by, scope = max(chosen)
    return f"{p95 * 1000:.1f} ms ({group_by}, {scope})"


async def bench(url: str, args: argparse.Namespace, *, seeded: bool) -> None:
    context = AppContext.create(Settings(database_url=url, short_domain=DEFAULT_DOMAIN))
    try:
        if seeded:  # --database: a database an earlier --keep-database run loaded
            async with context.sessionmaker() as session:
                workspace_id = str(await session.scalar(select(Workspace.id).where(Workspace.slug == "bench")))
        else:
            workspace_id = await seed(context, url, args)
        if args.seed_only:
            return
        link_ids = [f"lnk_bench{i:08d}" for i in range(args.links)]
        print("  rows: " + ", ".join(f"{name} {count:,}" for name, count in (await table_sizes(context)).items()))
        hot_link, ruled_link = link_ids[0], link_ids[1]
        async with context.sessionmaker() as session:
            link_clicks = await session.scalar(select(Link.clicks).where(Link.id == hot_link))
            counted = await analytics_service.clicks(
                session, workspace_id=workspace_id, params=AnalyticsParams(link_id=hot_link, interval="all")
            )
        print(f"  hot link {hot_link}: links.clicks {link_clicks:,}, group_by=count {counted.model_dump()}")
        assert counted.model_dump()["clicks"] == link_clicks, "the link's clicks and group_by=count disagree"
        results = await run_queries(context, workspace_id, hot_link, ruled_link, args.repeat, args.baseline_repeat)
        pages = await events_results(context, workspace_id, hot_link, ruled_link, args.repeat, args.export_limit)
        if not (seeded or args.keep_database):  # it writes clicks: a kept database stays as loaded
            domains = [BRAND_DOMAIN if i % 10 == 9 else DEFAULT_DOMAIN for i in range(args.links)]
            with_rollups, without = await listener_cost(context, workspace_id, link_ids, domains)
            listener_p50, plain_p50 = percentile(with_rollups, 50), percentile(without, 50)
            print(
                f"  record_batch of 1,000 clicks: p50 {listener_p50 * 1000:.0f} ms with the rollup listener, "
                f"{plain_p50 * 1000:.0f} ms without (x{listener_p50 / plain_p50:.1f})"
            )
        ratios = sorted(percentile(b, 50) / percentile(m, 50) for _, _, m, b in results) or [float("nan")]
        worst_page = max(pages, key=lambda page: percentile(page[1], 99))
        print(
            f"  worst p95, count/timeseries (target 150 ms): {_worst(results, True, False)}; new questions "
            f"{_worst(results, True, True)}\n"
            f"  worst p95, breakdowns (target 500 ms): {_worst(results, False, False)}; new questions "
            f"{_worst(results, False, True)}\n"
            f"  worst p99, events page (target 50 ms): {percentile(worst_page[1], 99) * 1000:.1f} ms "
            f"({worst_page[0]})\n"
            f"  speed-up over raw GROUP BY: median x{ratios[len(ratios) // 2]:.1f}, min x{ratios[0]:.1f}"
        )
    finally:
        await context.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clicks", type=int, default=2_000_000)
    parser.add_argument("--links", type=int, default=5000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--backends", default="postgres,sqlite")
    parser.add_argument("--repeat", type=int, default=15, help="timed runs per query (p50/p95)")
    parser.add_argument(
        "--baseline-repeat", type=int, default=3, help="timed runs of each raw GROUP BY (0: none, no ratios)"
    )
    parser.add_argument(
        "--export-limit", type=int, default=1_000_000, help="at most this many events exported (0: no export)"
    )
    parser.add_argument(
        "--keep-database", action="store_true", help="PostgreSQL: keep the loaded database (its URL is printed)"
    )
    parser.add_argument("--database", help="a database URL a --keep-database run loaded: time it, load nothing")
    parser.add_argument("--seed-only", action="store_true", help="load, then stop (with --keep-database)")
    args = parser.parse_args()
    print(f"bench/analytics.py: {args.clicks:,} clicks, {args.links:,} links, {args.days} days")
    if args.database:
        asyncio.run(bench(args.database, args, seeded=True))
        return
    for backend in args.backends.split(","):
        print(f"\n[{backend}]", flush=True)
        with throwaway_database(backend, keep=args.keep_database) as url:
            if args.keep_database:
                print(f"  database: {url} (kept: drop it when done)", flush=True)
            asyncio.run(bench(url, args, seeded=False))


if __name__ == "__main__":
    main()
