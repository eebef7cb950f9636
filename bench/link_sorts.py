"""Sorted link lists at scale: does the millionth link cost what the first does, for every sort?

    .venv/bin/python bench/link_sorts.py [--links 1000000] [--requests 200] [--limit 20] [--backends postgres]
                                         [--keep] [--url DATABASE_URL]

`--keep` leaves the loaded database in place (its URL is printed) and `--url` measures such a database again
without loading it (loading a million links takes minutes).

Loads `--links` links into one workspace (bulk INSERTs, not the service layer: this bench is about reading)
with realistic spreads: titles on 80 % (the rest fetch theirs later), clicks heavy-tailed, a last click on 60 %,
1 % archived, a tag on 30 %. Then, over HTTP against `mask serve`, for each `sort` and `order` it times the first
page and a page 99.9 % of the way down the list (its cursor made from the row there), `--requests` times each,
and prints p50/p99 of both and their ratio (about 1 means no OFFSET-style slowdown). Baseline measured in the
same run: the bare keyset SELECT behind the deep page, without HTTP, auth or serialisation.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import httpx
from _common import percentile, served, throwaway_database
from sqlalchemy import func, insert, not_, select, text

from mask.auth import service as auth_service
from mask.config import Settings
from mask.context import AppContext
from mask.db import session_scope
from mask.kit.ids import new_id
from mask.kit.pagination import encode_sort_cursor
from mask.link.repository import SORT_COLUMNS, Keyset, LinkFilters, LinkRepository, Order, Sort
from mask.models.link import Link
from mask.models.tag import Tag, link_tags
from mask.models.workspace import Workspace
from mask.workspace import service as workspace_service

BATCH = 5000
WORDS = "alpha beta gamma delta spring summer sale menu docs launch news report guide offer event".split()


async def load(url: str, count: int) -> tuple[str, str]:
    """A workspace with `count` links (and a key); returns (workspace id, token)."""
    context = AppContext.create(Settings(database_url=url, short_domain="bench.local"))
    async with session_scope(context.sessionmaker) as session:
        workspace = await workspace_service.create(session, slug="bench", plan="enterprise")
        token = (await auth_service.create(session, workspace=workspace)).token
        tag_ids = [new_id("tag") for _ in range(10)]
        await session.execute(
            insert(Tag),
            [{"id": tag_id, "workspace_id": workspace.id, "name": f"t{n}"} for n, tag_id in enumerate(tag_ids)],
        )
    rng = random.Random(20)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    began = time.perf_counter()
    for batch_start in range(0, count, BATCH):
        rows: list[dict[str, Any]] = []
        tagged: list[dict[str, str]] = []
        for index in range(batch_start, min(count, batch_start + BATCH)):
            link_id = new_id("lnk")
            created = start + timedelta(seconds=index * 60 + rng.randrange(60))
            clicked = rng.random() < 0.6
            rows.append(
                {
                    "id": link_id,
                    "workspace_id": workspace.id,
                    "domain": "bench.local",
                    "slug": f"s{index}",
                    "url": f"https://example.com/page/{index}",
                    "title": " ".join(rng.choices(WORDS, k=3)) + f" {index}" if rng.random() < 0.8 else None,
                    "title_source": "page",
                    "clicks": int(rng.paretovariate(1.2)) - 1 if clicked else 0,
                    "last_clicked_at": created + timedelta(days=rng.random() * 300) if clicked else None,
                    "archived": rng.random() < 0.01,
                    "created_at": created,
                    "updated_at": created,
                }
            )
            if rng.random() < 0.3:
                tagged.append({"link_id": link_id, "tag_id": rng.choice(tag_ids)})
        async with session_scope(context.sessionmaker) as session:
            await session.execute(insert(Link), rows)
            if tagged:
                await session.execute(link_tags.insert(), tagged)
    print(f"loaded {count:,} links in {time.perf_counter() - began:.0f} s")
    async with context.engine.connect() as connection:
        await connection.execute(text("COMMIT"))
        if context.settings.is_sqlite:
            await connection.execute(text("ANALYZE"))
        else:
            await connection.execute(text("VACUUM ANALYZE links"))
            await connection.execute(text("VACUUM ANALYZE link_tags"))
    await context.engine.dispose()
    return workspace.id, token


async def deep_keyset(url: str, workspace_id: str, sort: Sort, order: Order, fraction: float) -> Keyset:
    """Where the page `fraction` of the way down the (unarchived) list starts (found with OFFSET, untimed)."""
    context = AppContext.create(Settings(database_url=url))
    column = SORT_COLUMNS[sort]
    async with session_scope(context.sessionmaker) as session:
        visible = [Link.workspace_id == workspace_id, not_(Link.archived)]
        total = await session.scalar(select(func.count()).select_from(Link).where(*visible))
        assert total is not None
        position = int(total * fraction)
        ordering = (
            (column.desc().nulls_last(), Link.id.desc())
            if order is Order.desc
            else (column.asc().nulls_last(), Link.id)
        )
        row = (
            await session.execute(select(column, Link.id).where(*visible).order_by(*ordering).offset(position).limit(1))
        ).one()
    await context.engine.dispose()
    return Keyset(row[0], row[1])


def cursor_of(sort: Sort, order: Order, keyset: Keyset) -> str:
    value = keyset.value
    if isinstance(value, datetime):
        value = value.astimezone(UTC).isoformat()
    return encode_sort_cursor(sort.value, order.value, value, keyset.row_id)


async def time_requests(base: str, token: str, params: dict[str, Any], requests: int) -> list[float]:
    timings: list[float] = []
    async with httpx.AsyncClient(base_url=base, timeout=30, headers={"Authorization": f"Bearer {token}"}) as client:
        for _ in range(5):  # warm the connection and the caches
            (await client.get("/v1/links", params=params)).raise_for_status()
        for _ in range(requests):
            began = time.perf_counter()
            response = await client.get("/v1/links", params=params)
            timings.append(time.perf_counter() - began)
            response.raise_for_status()
    return timings


async def bare_query(
    url: str, workspace_id: str, sort: Sort, order: Order, after: Keyset, limit: int, n: int
) -> list[float]:
    """The repository's keyset statement alone (no HTTP, no auth, no JSON)."""
    context = AppContext.create(Settings(database_url=url))
    timings: list[float] = []
    async with session_scope(context.sessionmaker) as session:
        repository = LinkRepository(session)
        for _ in range(n + 5):
            began = time.perf_counter()
            await repository.list_page(
                workspace_id, limit=limit + 1, sort=sort, order=order, after=after, filters=LinkFilters()
            )
            timings.append(time.perf_counter() - began)
    await context.engine.dispose()
    return timings[5:]


async def explain(url: str, workspace_id: str, sort: Sort, order: Order, after: Keyset | None, limit: int) -> str:
    """PostgreSQL's own account of the page's statement (the repository's, compiled): the index it scans, the
    buffers it touches and its execution time. Unlike wall-clock latency, buffers do not depend on how busy the
    machine is: equal buffers for the first and the deep page is "no OFFSET" in one number."""
    context = AppContext.create(Settings(database_url=url))
    statements: list[Any] = []

    class Recorder(LinkRepository):
        async def _rows(self, statement: Any) -> list[Link]:
            statements.append(statement)
            return await super()._rows(statement)

    async with session_scope(context.sessionmaker) as session:
        await Recorder(session).list_page(
            workspace_id, limit=limit + 1, sort=sort, order=order, after=after, filters=LinkFilters()
        )
        parts = []
        for statement in statements:
            dialect = session.get_bind().dialect
            sql = str(statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
            plan = (await session.execute(text(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}"))).scalar_one()
            top = plan[0]
            node = top["Plan"]
            while node.get("Plans") and "Index" not in node.get("Node Type", ""):
                node = node["Plans"][0]
            buffers = top["Plan"].get("Shared Hit Blocks", 0) + top["Plan"].get("Shared Read Blocks", 0)
            parts.append(
                f"{node.get('Index Name', node['Node Type'])}: {buffers} buffers, {top['Execution Time']:.2f} ms"
            )
    await context.engine.dispose()
    return "; ".join(parts)


def ms(values: list[float], q: float) -> str:
    return f"{percentile(values, q) * 1000:6.2f}"


async def existing(url: str) -> tuple[str, str]:
    """The bench workspace of a database loaded earlier (`--keep`), with a new key."""
    context = AppContext.create(Settings(database_url=url))
    async with session_scope(context.sessionmaker) as session:
        workspace_id = await session.scalar(select(Workspace.id).where(Workspace.slug == "bench"))
        assert workspace_id is not None, "not a database this bench loaded"
        workspace = await session.get(Workspace, workspace_id)
        assert workspace is not None
        token = (await auth_service.create(session, workspace=workspace)).token
        count = await session.scalar(select(func.count()).select_from(Link).where(Link.workspace_id == workspace_id))
    await context.engine.dispose()
    print(f"reusing {url}: {count:,} links")
    return workspace_id, token


def measure(url: str, workspace_id: str, token: str, requests: int, limit: int) -> None:
    print(
        f"{'sort':<16}{'order':<6}{'first p50':>10}{'first p99':>10}{'deep p50':>10}{'deep p99':>10}"
        f"{'deep/first':>11}{'bare p50':>10}{'bare p99':>10}"
    )
    worst = 0.0
    with served(url, extra_env={"MASK_TITLE_FETCH_ENABLED": "false", "MASK_RATE_LIMIT_ENABLED": "false"}) as base:
        for sort in Sort:
            for order in Order:
                params: dict[str, Any] = {"sort": sort.value, "order": order.value, "limit": limit}
                first = asyncio.run(time_requests(base, token, params, requests))
                keyset = asyncio.run(deep_keyset(url, workspace_id, sort, order, 0.999))
                deep_params = params | {"cursor": cursor_of(sort, order, keyset)}
                deep = asyncio.run(time_requests(base, token, deep_params, requests))
                bare = asyncio.run(bare_query(url, workspace_id, sort, order, keyset, limit, requests))
                worst = max(worst, percentile(first, 99), percentile(deep, 99))
                print(
                    f"{sort.value:<16}{order.value:<6}{ms(first, 50):>10}{ms(first, 99):>10}{ms(deep, 50):>10}"
                    f"{ms(deep, 99):>10}{percentile(deep, 50) / percentile(first, 50):>11.2f}"
                    f"{ms(bare, 50):>10}{ms(bare, 99):>10}"
                )
        tagged = asyncio.run(time_requests(base, token, {"tags": "t3", "limit": limit}, requests))
        print(f"{'tags=t3 (3 %)':<22}{ms(tagged, 50):>10}{ms(tagged, 99):>10}  (newest first, first page)")
    print(f"worst p99 over every sort, order and depth: {worst * 1000:.2f} ms (target: < 20 ms)")


def explain_all(url: str, workspace_id: str, limit: int) -> None:
    for sort in Sort:
        for order in Order:
            first = asyncio.run(explain(url, workspace_id, sort, order, None, limit))
            print(f"{sort.value:<16}{order.value:<5} first:  {first}")
            for fraction in (0.5, 0.999):
                keyset = asyncio.run(deep_keyset(url, workspace_id, sort, order, fraction))
                deep = asyncio.run(explain(url, workspace_id, sort, order, keyset, limit))
                print(f"{'':<21} {fraction:>6.1%}: {deep}")


def run_backend(
    backend: str, links: int, requests: int, limit: int, *, keep: bool, url: str | None, explain_only: bool
) -> None:
    print(f"\n== {backend}: {links:,} links, pages of {limit}, {requests} requests per case ==")
    print(f"load average: {' '.join(f'{n:.1f}' for n in os.getloadavg())} on {os.cpu_count()} CPUs")
    if url is not None:
        workspace_id, token = asyncio.run(existing(url))
        if explain_only:
            explain_all(url, workspace_id, limit)
            return
        measure(url, workspace_id, token, requests, limit)
        return
    with throwaway_database(backend, keep=keep) as made:
        if keep:
            print(f"the database stays: measure it again with --url {made}")
        workspace_id, token = asyncio.run(load(made, links))
        measure(made, workspace_id, token, requests, limit)
    print(f"load average after: {' '.join(f'{n:.1f}' for n in os.getloadavg())}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--links", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--limit", type=int, default=20)
    parser.add_argument("--backends", default="postgres")
    parser.add_argument("--keep", action="store_true", help="leave the loaded database in place")
    parser.add_argument("--url", default=None, help="measure a database an earlier --keep run loaded")
    parser.add_argument("--explain", action="store_true", help="with --url: only EXPLAIN (ANALYZE, BUFFERS) each page")
    args = parser.parse_args()
    for backend in args.backends.split(","):
        run_backend(
            backend.strip(),
            args.links,
            args.requests,
            args.limit,
            keep=args.keep,
            url=args.url,
            explain_only=args.explain,
        )


if __name__ == "__main__":
    main()
