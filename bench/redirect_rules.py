"""What the decision engine costs: a link with 5 targeting rules and 3 A/B variants against a plain link, in the
same app and the same run (µs of CPU per redirect, in process, no server; see bench/redirect_app.py).

    .venv/bin/python bench/redirect_rules.py [--requests 50000] [--links 2000] [--rounds 5]

The rules are ones no request here matches (a tablet, iOS, Edge, Spanish, `?ref=vip`), so every click evaluates
all five and then picks a variant: the worst case short of a country rule. Recording is on, as in production.
A served redirect costs some 20–25 µs of CPU in uvicorn besides, so the throughput ratio is taken against that.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import random
import statistics
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from _common import throwaway_database
from redirect_app import DOMAIN, per_redirect, receive, scope, send
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import create_async_engine

from mask.bootstrap import create_app
from mask.config import Settings
from mask.kit.ids import ALPHABET, new_id, random_string
from mask.models.link import Link
from mask.models.workspace import Workspace

SERVER_US = 22.0  # µs of CPU uvicorn spends per served redirect besides MASK's own code (bench/redirect.py)
CHROME = (
    b"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
)
RULES = [
    {"url": "https://example.com/tablet", "conditions": [{"type": "device", "value": "tablet"}]},
    {"url": "https://example.com/ios", "conditions": [{"type": "os", "value": "ios"}]},
    {"url": "https://example.com/edge", "conditions": [{"type": "browser", "value": "edge"}]},
    {"url": "https://example.com/es", "conditions": [{"type": "language", "value": "es"}]},
    {"url": "https://example.com/vip", "conditions": [{"type": "query_param", "name": "ref", "value": "vip"}]},
]
VARIANTS = [
    {"url": "https://example.com/a", "weight": 34},
    {"url": "https://example.com/b", "weight": 33},
    {"url": "https://example.com/c", "weight": 33},
]


async def seed(url: str, plain: list[str], ruled: list[str]) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        workspace = new_id("ws")
        await connection.execute(insert(Workspace), [{"id": workspace, "slug": "bench", "name": "bench"}])
        rows: list[dict[str, Any]] = []
        ruled_names = set(ruled)
        for slug in plain + ruled:
            row: dict[str, Any] = {
                "id": new_id("lnk"),
                "workspace_id": workspace,
                "domain": DOMAIN,
                "slug": slug,
                "url": f"https://example.com/page/{slug}?ref=bench",
                "utm_source": "bench",
                "clicks": 0,
            }
            ruled_link = slug in ruled_names  # every row names every column: one executemany, one statement
            row.update(rules=RULES if ruled_link else None, variants=VARIANTS if ruled_link else None)
            rows.append(row)
        for start in range(0, len(rows), 1000):
            await connection.execute(insert(Link), rows[start : start + 1000])
    await engine.dispose()


def browser_scope(slug: str) -> dict[str, Any]:
    each = scope(slug)
    each["headers"] = [
        (b"host", DOMAIN.encode()),
        (b"user-agent", CHROME),
        (b"accept", b"text/html,application/xhtml+xml"),
        (b"accept-language", b"en-US,en;q=0.9"),
    ]
    each["client"] = (f"198.51.100.{random.randrange(1, 255)}", 50000)
    return each


async def measure(url: str, args: argparse.Namespace) -> dict[str, list[float]]:
    slugs = sorted({random_string(8, ALPHABET) for _ in range(args.links * 2)})
    plain, ruled = slugs[: len(slugs) // 2], slugs[len(slugs) // 2 :]
    await seed(url, plain, ruled)
    settings = Settings(
        env="test",
        database_url=url,
        short_domain=DOMAIN,
        redis_url=None,
        record_clicks=True,
        click_flush_interval=3600,
        click_spill_dir="",
        redirect_cache_ttl=3600,
    )
    app = create_app(settings)
    app.context.run_background = False
    await app.context.startup()
    try:
        for start in range(0, len(slugs), 200):  # warm the cache
            await asyncio.gather(*(app(scope(slug), receive, send) for slug in slugs[start : start + 200]))
        gc.freeze()
        sets = {
            "plain link": [browser_scope(random.choice(plain)) for _ in range(args.requests)],
            "5 rules + 3 variants": [browser_scope(random.choice(ruled)) for _ in range(args.requests)],
        }
        figures: dict[str, list[float]] = {name: [] for name in sets}
        for _ in range(args.rounds):
            for name, scopes in sets.items():
                figures[name].append(await per_redirect(app, scopes))
        return figures
    finally:
        await app.context.shutdown()


def main(args: argparse.Namespace) -> None:
    with throwaway_database("sqlite") as url:
        figures = asyncio.run(measure(url, args))
    plain = statistics.median(figures["plain link"])
    print(f"{args.requests} redirects × {args.rounds} rounds, recording on; median µs of CPU per redirect")
    for name, values in figures.items():
        median = statistics.median(values)
        print(f"{name:<22} {median:6.2f} µs  rounds: " + " ".join(f"{value:.2f}" for value in values))
    ruled = statistics.median(figures["5 rules + 3 variants"])
    cost = (ruled + SERVER_US) / (plain + SERVER_US) - 1
    print(f"throughput cost of the rules and variants with a served redirect (~{SERVER_US:.0f} µs): {cost:.1%}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=50_000)
    parser.add_argument("--links", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    main(parser.parse_args())
