"""How fast the background process stores clicks: N enriched clicks over L links, stored batch by batch.

    .venv/bin/python bench/click_store.py [--clicks 1000000] [--links 10000] [--batch 2000]
                                          [--backends postgres,sqlite] [--values realistic,empty]

The clicks look like bench/analytics.py's (Zipf-skewed links, real user agents parsed by MASK's parser,
countries and cities, referrers, UTM tags on 30 %, returning visitors), in time order over `--days` ending
now; `--values empty` stores what wrk sends instead (no user agent, referrer, country or UTM tags, one
visitor). Each batch goes through `mask.click.service.record_batch` with the listeners every MASK process
registers (webhook events, bio page counters, analytics rollups), in its own transaction, on the click
engine the background process uses (BEGIN IMMEDIATE on SQLite): exactly what happens to a batch taken from
the click transport. Generating the clicks is not timed; the figure is clicks stored per second of storing.

Targets (2 cores): >= 10,000 clicks/s on PostgreSQL, >= 6,000 on SQLite.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from _common import percentile, throwaway_database
from sqlalchemy import func, select

from analytics import DEFAULT_DOMAIN, generate, setup_workspace
from mask.bootstrap import build_services
from mask.click import service as click_service
from mask.click.enrichment import parse_agent
from mask.click.schemas import EnrichedClick
from mask.config import Settings
from mask.db import session_scope
from mask.kit.time import utcnow
from mask.models.analytics import DimensionRollup, TargetDimensionRollup, TargetRollup
from mask.models.click import Click

TARGETS = {"postgres": 10_000, "sqlite": 6_000}


def clicks(
    workspace_id: str, link_ids: list[str], domains: list[str], args: argparse.Namespace, values: str
) -> Iterator[EnrichedClick]:
    rows = generate(workspace_id, link_ids, domains, args.clicks, args.days, utcnow(), seed=3, prefix="clk_store")
    wrk = parse_agent("")
    for row in rows:
        click = EnrichedClick(
            click_id=row[0],
            workspace_id=row[1],
            link_id=row[2],
            domain=row[5],
            clicked_at=row[6],
            country=row[7],
            city=row[8],
            device=row[9],
            browser=row[10],
            os=row[11],
            referrer=row[12],
            referrer_url=row[13],
            utm_source=row[14],
            utm_medium=row[15],
            utm_campaign=row[16],
            utm_term=row[17],
            utm_content=row[18],
            is_bot=row[19],
            visitor_hash=row[20],
        )
        if values == "empty":  # wrk: one client, no user agent, no referrer, no query string, loopback address
            click.country = click.city = click.referrer = click.referrer_url = None
            click.utm_source = click.utm_medium = click.utm_campaign = click.utm_term = click.utm_content = None
            click.device, click.browser, click.os, click.is_bot = wrk.device, wrk.browser, wrk.os, wrk.is_bot
            click.visitor_hash = "0" * 32
        yield click


async def run(url: str, backend: str, values: str, args: argparse.Namespace) -> dict[str, Any]:
    settings = Settings(database_url=url, short_domain=DEFAULT_DOMAIN)
    context, services = build_services(settings, run_background=True)
    pipeline = services.clicks
    sessionmaker = pipeline.shipper.sessionmaker  # the click engine (BEGIN IMMEDIATE on SQLite)
    try:
        workspace_id, link_ids, domains = await setup_workspace(context, args.links)
        stream = clicks(workspace_id, link_ids, domains, args, values)
        seconds: list[float] = []
        stored = 0
        while True:
            batch = [click for _, click in zip(range(args.batch), stream, strict=False)]
            if not batch:
                break
            started = time.perf_counter()
            async with session_scope(sessionmaker) as session:
                new = await click_service.record_batch(session, batch, pipeline.listeners)
            seconds.append(time.perf_counter() - started)
            stored += len(new)
            if args.progress and len(seconds) % 50 == 0:
                print(f"  {stored:>9} stored, {stored / sum(seconds):8.0f}/s so far", file=sys.stderr)
        rows = {}
        async with session_scope(context.sessionmaker) as session:
            rows["clicks"] = await session.scalar(select(func.count()).select_from(Click))
            for model in (TargetRollup, DimensionRollup, TargetDimensionRollup):
                rows[model.__tablename__] = await session.scalar(select(func.count()).select_from(model))
        return {"stored": stored, "seconds": seconds, "rows": rows}
    finally:
        await context.engine.dispose()
        engine = sessionmaker.kw["bind"]
        if engine is not context.engine:
            await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clicks", type=int, default=1_000_000)
    parser.add_argument("--links", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=2000, help="clicks per transaction (MASK_CLICK_BATCH_SIZE)")
    parser.add_argument("--days", type=float, default=1.0, help="the clicks' time span, ending now")
    parser.add_argument("--backends", default="postgres,sqlite")
    parser.add_argument("--values", default="realistic,empty", help="realistic, empty (what wrk sends), or both")
    parser.add_argument("--progress", action="store_true")
    args = parser.parse_args()
    print(f"{args.clicks:,} clicks over {args.links:,} links, batches of {args.batch}, span {args.days} day(s)")
    for backend in args.backends.split(","):
        for values in args.values.split(","):
            with throwaway_database(backend) as url:
                result = asyncio.run(run(url, backend, values, args))
            seconds, stored = result["seconds"], result["stored"]
            rate = stored / sum(seconds)
            verdict = "ok" if rate >= TARGETS[backend] else "below target"
            print(
                f"{backend:<9} {values:<10} {stored:>9,} stored  {rate:>8,.0f} clicks/s "
                f"(target {TARGETS[backend]:,}: {verdict})  batch p50={percentile(seconds, 50) * 1000:.0f} ms "
                f"p99={percentile(seconds, 99) * 1000:.0f} ms"
            )
            print("          rows: " + ", ".join(f"{name} {count:,}" for name, count in result["rows"].items()))
            sys.stdout.flush()


if __name__ == "__main__":
    main()
