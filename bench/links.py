"""Links at scale: create through the service layer and over HTTP, then list every page with cursors.

    .venv/bin/python bench/links.py [--links 100000] [--http-links 2000] [--backends sqlite,postgres]

For each backend it prints throughput and p50/p99 per operation, and ratios against baselines measured in the
same run: a bare multi-row INSERT of the same rows (the floor for creation) and the bare keyset SELECT behind a
page (the floor for listing). It also compares the first and the last pages, which must cost the same (no OFFSET).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import httpx
from _common import percentile, served, summary, throwaway_database
from sqlalchemy import insert, select, tuple_

from mask.auth import service as auth_service
from mask.config import Settings
from mask.context import AppContext
from mask.db import keyset, session_scope
from mask.kit.ids import new_id
from mask.kit.time import utcnow
from mask.link import service as link_service
from mask.link.schemas import LinkCreate
from mask.models.link import Link
from mask.workspace import service as workspace_service

SERVICE_BATCH = 100  # service calls per transaction: what a bulk import would do


async def create_via_service(url: str, count: int) -> tuple[str, str, list[float], float]:
    context = AppContext.create(Settings(database_url=url, short_domain="bench.local", title_fetch_enabled=False))
    async with session_scope(context.sessionmaker) as session:
        workspace = await workspace_service.create(session, slug="bench", plan="enterprise")
        token = (await auth_service.create(session, workspace=workspace)).token
    timings: list[float] = []
    started = time.perf_counter()
    for batch_start in range(0, count, SERVICE_BATCH):
        async with session_scope(context.sessionmaker) as session:
            for index in range(batch_start, min(count, batch_start + SERVICE_BATCH)):
                data = LinkCreate(
                    url=f"https://example.com/page/{index}?ref=bench",
                    tags=["bench", f"t{index % 50}"] if index % 3 == 0 else None,
                )
                began = time.perf_counter()
                await link_service.create(session, settings=context.settings, workspace_id=workspace.id, data=data)
                timings.append(time.perf_counter() - began)
    wall = time.perf_counter() - started
    await context.engine.dispose()
    return workspace.id, token, timings, wall


async def baseline_insert(url: str, workspace_id: str, count: int) -> float:
    """The same number of rows in one multi-row INSERT per batch: no validation, no tags, no events."""
    context = AppContext.create(Settings(database_url=url, short_domain="base.local"))
    started = time.perf_counter()
    for batch_start in range(0, count, SERVICE_BATCH):
        now = utcnow()
        rows = [
            {
                "id": new_id("lnk"),
                "workspace_id": workspace_id,
                "domain": "base.local",
                "slug": f"b{index}",
                "url": f"https://example.com/page/{index}",
                "clicks": 0,
                "created_at": now,
                "updated_at": now,
            }
            for index in range(batch_start, min(count, batch_start + SERVICE_BATCH))
        ]
        async with session_scope(context.sessionmaker) as session:
            await session.execute(insert(Link), rows)
    wall = time.perf_counter() - started
    await context.engine.dispose()
    return wall


async def create_via_http(base: str, token: str, count: int, concurrency: int = 16) -> tuple[list[float], float]:
    headers = {"Authorization": f"Bearer {token}"}
    timings: list[float] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(count):
        queue.put_nowait(index)

    async def worker(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            index = queue.get_nowait()
            began = time.perf_counter()
            response = await client.post(
                "/v1/links", json={"url": f"https://example.org/http/{index}", "tags": ["http"]}, headers=headers
            )
            timings.append(time.perf_counter() - began)
            if response.status_code != 201:
                raise RuntimeError(f"create failed: {response.status_code} {response.text}")

    started = time.perf_counter()
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
    return timings, time.perf_counter() - started


async def list_via_http(base: str, token: str) -> tuple[list[float], float, int]:
    headers = {"Authorization": f"Bearer {token}"}
    timings: list[float] = []
    seen = 0
    cursor: str | None = None
    started = time.perf_counter()
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        while True:
            params: dict[str, str | int] = {"limit": 100} | ({"cursor": cursor} if cursor else {})
            began = time.perf_counter()
            response = await client.get("/v1/links", params=params, headers=headers)
            timings.append(time.perf_counter() - began)
            page = response.json()
            seen += len(page["data"])
            cursor = page["next_cursor"]
            if not page["has_more"]:
                break
    return timings, time.perf_counter() - started, seen


async def baseline_pages(url: str, workspace_id: str) -> list[float]:
    """The bare keyset query behind each page, without HTTP, auth or serialisation."""
    context = AppContext.create(Settings(database_url=url))
    timings: list[float] = []
    after = None
    async with session_scope(context.sessionmaker) as session:
        while True:
            statement = select(Link).where(Link.workspace_id == workspace_id)
            if after is not None:
                statement = statement.where(tuple_(Link.created_at, Link.id) < keyset(after))
            statement = statement.order_by(Link.created_at.desc(), Link.id.desc()).limit(101)
            began = time.perf_counter()
            rows = list((await session.execute(statement)).scalars())
            timings.append(time.perf_counter() - began)
            if len(rows) <= 100:
                break
            after = (rows[99].created_at, rows[99].id)
    await context.engine.dispose()
    return timings


def run_backend(backend: str, links: int, http_links: int) -> None:
    print(f"\n== {backend}: {links:,} links through the service layer, {http_links:,} over HTTP ==")
    with throwaway_database(backend) as url:
        workspace_id, token, service_times, service_wall = asyncio.run(create_via_service(url, links))
        print(summary("create (service layer)", service_times, service_wall))
        base_wall = asyncio.run(baseline_insert(url, workspace_id, links))
        print(f"{'baseline: bare INSERT of the same rows':<38} n={links:>7}  {links / base_wall:>9.0f}/s")
        print(f"  ratio service/baseline throughput: {(links / service_wall) / (links / base_wall):.2f}")
        asyncio.run(_drop_baseline_rows(url))
        with served(url, extra_env={"MASK_TITLE_FETCH_ENABLED": "false"}) as base:
            http_times, http_wall = asyncio.run(create_via_http(base, token, http_links))
            print(summary("create (HTTP, 16 concurrent)", http_times, http_wall))
            page_times, page_wall, seen = asyncio.run(list_via_http(base, token))
        assert seen == links + http_links, (seen, links + http_links)
        print(summary("list page of 100 (HTTP)", page_times, page_wall))
        first, last = page_times[:20], page_times[-20:]
        print(
            f"  first 20 pages p50={percentile(first, 50) * 1000:.2f} ms, last 20 pages "
            f"p50={percentile(last, 50) * 1000:.2f} ms (ratio {percentile(last, 50) / percentile(first, 50):.2f};"
            " ~1 means no OFFSET-style slowdown)"
        )
        bare = asyncio.run(baseline_pages(url, workspace_id))
        print(
            f"{'baseline: bare keyset SELECT per page':<38} n={len(bare):>7}  "
            f"p50={percentile(bare, 50) * 1000:7.2f} ms  p99={percentile(bare, 99) * 1000:7.2f} ms"
        )
        print(f"  ratio HTTP page/bare query p50: {percentile(page_times, 50) / percentile(bare, 50):.1f}")


async def _drop_baseline_rows(url: str) -> None:
    from sqlalchemy import delete

    context = AppContext.create(Settings(database_url=url))
    async with session_scope(context.sessionmaker) as session:
        await session.execute(delete(Link).where(Link.domain == "base.local"))
    await context.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--links", type=int, default=100_000)
    parser.add_argument("--http-links", type=int, default=2_000)
    parser.add_argument("--backends", default="sqlite,postgres")
    args = parser.parse_args()
    for backend in args.backends.split(","):
        run_backend(backend.strip(), args.links, args.http_links)


if __name__ == "__main__":
    main()
