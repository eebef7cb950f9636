"""What the decision engine costs in CPU: a link with 5 targeting rules and 3 A/B variants against a plain link,
in the same app and the same run (µs of CPU per redirect, in process, no server; see bench/redirect_app.py).

    .venv/bin/python bench/redirect_rules.py [--requests 50000] [--links 2000] [--rounds 5]

The rules and variants are bench/redirect.py's RULES and VARIANTS, which no request here matches (a tablet,
iOS, Edge, Spanish, `?ref=vip`), so every click evaluates all five and then gets a variant: the worst case short
of a country rule. Requests carry a browser's headers and random client IPs; recording is on, as in production.

These are MASK's own microseconds, for profiling the engine. What they cost a served redirect depends on
uvicorn's share, which this cannot see: the throughput figure (issue 21's target) is bench/redirect_ab.py's,
`--configs sqlite,sqlite-rules`, both servers measured in the same run.
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

from mask.bootstrap import create_app
from mask.config import Settings
from mask.kit.ids import ALPHABET, random_string
from redirect import BROWSER_HEADERS, seed

HEADERS = [(name.lower().encode(), value.encode()) for name, value in BROWSER_HEADERS.items()]


def browser_scope(slug: str) -> dict[str, Any]:
    each = scope(slug)
    each["headers"] = [(b"host", DOMAIN.encode()), *HEADERS]
    each["client"] = (f"198.51.100.{random.randrange(1, 255)}", 50000)
    return each


async def measure(url: str, args: argparse.Namespace) -> dict[str, list[float]]:
    slugs = sorted({random_string(8, ALPHABET) for _ in range(args.links * 2)})
    plain, ruled = slugs[: len(slugs) // 2], slugs[len(slugs) // 2 :]
    await seed(url, DOMAIN, slugs, ruled=ruled)
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
    print(
        f"the rules and variants: {ruled - plain:+.2f} µs per redirect; their cost to a served redirect's "
        "throughput: bench/redirect_ab.py --configs sqlite,sqlite-rules"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=50_000)
    parser.add_argument("--links", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    main(parser.parse_args())
