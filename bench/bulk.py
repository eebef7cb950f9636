"""Bulk creation and imports at scale: `POST /v1/links/bulk` and a CSV import, against a served MASK.

    .venv/bin/python bench/bulk.py [--links 100000] [--import-rows 100000] [--backends sqlite,postgres]

For each backend: `--links` links created through `POST /v1/links/bulk` (1,000 a request, two requests at a time,
every link with two tags, half with a custom slug), then a bare multi-row INSERT of the same number of rows in
the same run (the floor: no validation, no tags, no HTTP) and the ratio; then a CSV of `--import-rows` Bitly-style
rows (tags, creation dates, click totals) through `POST /v1/imports`, timed from the upload to `completed`.
Page title fetching is off (it would fetch 100,000 made-up pages).
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
from sqlalchemy import insert

from mask.auth import service as auth_service
from mask.config import Settings
from mask.context import AppContext
from mask.db import session_scope
from mask.kit.ids import new_id
from mask.kit.time import utcnow
from mask.models.link import Link
from mask.workspace import service as workspace_service

BATCH = 1000
CONCURRENCY = 2


async def workspace(url: str) -> tuple[str, str]:
    context = AppContext.create(Settings(database_url=url, short_domain="bench.local"))
    async with session_scope(context.sessionmaker) as session:
        created = await workspace_service.create(session, slug="bench", plan="enterprise")
        token = (await auth_service.create(session, workspace=created)).token
    await context.engine.dispose()
    return created.id, token


async def create_bulk(base: str, token: str, count: int) -> tuple[list[float], float]:
    headers = {"Authorization": f"Bearer {token}"}
    batches = [list(range(start, min(count, start + BATCH))) for start in range(0, count, BATCH)]
    timings: list[float] = []

    async def worker(client: httpx.AsyncClient) -> None:
        while batches:
            batch = batches.pop()
            items = [
                {"url": f"https://example.com/page/{n}?ref=bench", "tags": ["bench", f"t{n % 50}"]}
                | ({"slug": f"s{n}"} if n % 2 else {})
                for n in batch
            ]
            began = time.perf_counter()
            response = await client.post("/v1/links/bulk", json={"links": items}, headers=headers)
            timings.append(time.perf_counter() - began)
            if response.status_code != 200 or response.json()["failed"]:
                raise RuntimeError(f"bulk create failed: {response.status_code} {response.text[:500]}")

    started = time.perf_counter()
    async with httpx.AsyncClient(base_url=base, timeout=120) as client:
        await asyncio.gather(*(worker(client) for _ in range(CONCURRENCY)))
    return timings, time.perf_counter() - started


async def baseline_insert(url: str, workspace_id: str, count: int) -> float:
    """The same number of rows, a bare multi-row INSERT per 1,000: no validation, no tags, no events."""
    context = AppContext.create(Settings(database_url=url, short_domain="base.local"))
    started = time.perf_counter()
    for start in range(0, count, BATCH):
        now = utcnow()
        rows = [
            {
                "id": new_id("lnk"),
                "workspace_id": workspace_id,
                "domain": "base.local",
                "slug": f"b{n}",
                "url": f"https://example.com/page/{n}?ref=bench",
                "clicks": 0,
                "created_at": now,
                "updated_at": now,
            }
            for n in range(start, min(count, start + BATCH))
        ]
        async with session_scope(context.sessionmaker) as session:
            await session.execute(insert(Link), rows)
    wall = time.perf_counter() - started
    await context.engine.dispose()
    return wall


def bitly_csv(rows: int) -> bytes:
    lines = ["Title,Long URL,Bitly link,Date Created,Tags,Clicks"]
    for n in range(rows):
        lines.append(
            f'Item {n},https://shop.example/item/{n},https://bit.ly/i{n},2021-06-01T10:00:00+0000,"a,t{n % 20}",{n}'
        )
    return ("\r\n".join(lines) + "\r\n").encode()


async def import_csv(base: str, token: str, rows: int) -> tuple[float, dict[str, object]]:
    headers = {"Authorization": f"Bearer {token}"}
    content = bitly_csv(rows)
    started = time.perf_counter()
    async with httpx.AsyncClient(base_url=base, timeout=120) as client:
        response = await client.post(
            "/v1/imports",
            files={"file": ("bitly.csv", content, "text/csv")},
            data={"options": '{"source": "bitly-csv"}'},
            headers=headers,
        )
        if response.status_code != 202:
            raise RuntimeError(f"import refused: {response.status_code} {response.text[:500]}")
        job_id = response.json()["id"]
        while True:
            job = (await client.get(f"/v1/imports/{job_id}", headers=headers)).json()
            if job["status"] in ("completed", "failed"):
                return time.perf_counter() - started, job
            await asyncio.sleep(0.25)


def run_backend(backend: str, links: int, import_rows: int) -> None:
    print(f"\n== {backend}: {links:,} links through POST /v1/links/bulk, a {import_rows:,}-row CSV import ==")
    with throwaway_database(backend) as url:
        workspace_id, token = asyncio.run(workspace(url))
        with served(url, extra_env={"MASK_TITLE_FETCH_ENABLED": "false"}) as base:
            times, wall = asyncio.run(create_bulk(base, token, links))
            rate = links / wall
            print(summary(f"bulk request of {BATCH:,} (x{CONCURRENCY})", times, wall))
            print(f"  links created: {rate:,.0f}/s (target >= 5,000/s)")
            base_wall = asyncio.run(baseline_insert(url, workspace_id, links))
            print(f"{'baseline: bare multi-row INSERT':<38} n={links:>7}  {links / base_wall:>9.0f}/s")
            print(f"  ratio bulk/baseline throughput: {rate / (links / base_wall):.2f}")
            if import_rows:
                seconds, job = asyncio.run(import_csv(base, token, import_rows))
                print(
                    f"{'CSV import (upload → completed)':<38} n={import_rows:>7}  {import_rows / seconds:>9.0f}/s  "
                    f"{seconds:.1f} s (target <= 60 s)  status={job['status']} counts={job['counts']}"
                )
        print(f"  p50 per bulk request {percentile(times, 50) * 1000:.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--links", type=int, default=100_000)
    parser.add_argument("--import-rows", type=int, default=100_000)
    parser.add_argument("--backends", default="sqlite,postgres")
    args = parser.parse_args()
    for backend in args.backends.split(","):
        run_backend(backend.strip(), args.links, args.import_rows)


if __name__ == "__main__":
    main()
