"""CPU a redirect costs in MASK's own code, against the bare ASGI callable, called in process (no server).

    .venv/bin/python bench/redirect_app.py [--requests 100000] [--links 10000] [--rounds 3]

bench/redirect.py measures the whole server with wrk, and this machine's speed drifts by ±15–20 % between its
runs. Here both apps answer the same random slugs from a warm cache on one event loop, alternately, with a
no-op `send`: what is left is the microseconds each spends per redirect, which is what a change to the hot path
moves. MASK runs on SQLite with recording off and on (on: the click is built and buffered; the buffer's append
to the inbox every 0.2 s is not in the loop, about 1.5 µs a click more). A served redirect costs some 20–25 µs
of CPU in uvicorn besides (bench/redirect.py), so 1 µs here is about 4 % of throughput there.

Each MASK app answers twice: on the default short domain, and on a verified custom domain (`go.bench.test`,
whose state, "verified, whose links, which headers", comes from the per-worker domain map).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from _common import throwaway_database
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import create_async_engine
from starlette.types import Message, Receive, Scope, Send

from mask.bootstrap import create_app
from mask.config import Settings
from mask.kit.ids import ALPHABET, new_id, random_string
from mask.models.domain import Domain
from mask.models.link import Link
from mask.models.workspace import Workspace
from redirect import seed

DOMAIN = "127.0.0.1:8000"
CUSTOM = "go.bench.test"
App = Callable[[Scope, Receive, Send], Awaitable[None]]


async def receive() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


async def send(_message: Message) -> None:
    return None


def scope(slug: str, host: str = DOMAIN) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": f"/{slug}",
        "raw_path": f"/{slug}".encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", host.encode()), (b"user-agent", b"wrk")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }


async def seed_custom_domain(url: str, slugs: list[str]) -> None:
    """A verified custom domain (as `mask domains add --verified` makes it) carrying the same slugs."""
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        workspace = new_id("ws")
        await connection.execute(insert(Workspace), [{"id": workspace, "slug": "bench-domain", "name": "bench"}])
        await connection.execute(
            insert(Domain),
            [
                {
                    "id": new_id("dom"),
                    "workspace_id": workspace,
                    "domain": CUSTOM,
                    "verified": True,
                    "verification_method": "operator",
                    "verification_status": "verified",
                    "verification_token": "bench",
                    "check_count": 0,
                    "robots": "deny",
                }
            ],
        )
        rows = [
            {
                "id": new_id("lnk"),
                "workspace_id": workspace,
                "domain": CUSTOM,
                "slug": slug,
                "clicks": 0,
                "url": f"https://example.com/page/{slug}?ref=bench",
                "utm_source": "bench",
            }
            for slug in slugs
        ]
        for start in range(0, len(rows), 1000):
            await connection.execute(insert(Link), rows[start : start + 1000])
    await engine.dispose()


async def per_redirect(app: App, scopes: list[dict[str, Any]]) -> float:
    """Microseconds of CPU per redirect."""
    started = time.process_time()
    for each in scopes:
        await app(dict(each), receive, send)
    return (time.process_time() - started) / len(scopes) * 1e6


def main(args: argparse.Namespace) -> None:
    slugs = sorted({random_string(7, ALPHABET) for _ in range(args.links)})
    with tempfile.TemporaryDirectory(prefix="mask-bench-app-") as temp, throwaway_database("sqlite") as url:
        slugs_file = Path(temp) / "slugs.txt"
        slugs_file.write_text("\n".join(slugs))
        os.environ["BENCH_SLUGS_FILE"] = str(slugs_file)
        os.environ["MASK_CLICK_JOURNAL_DIR"] = str(Path(temp) / "clicks")
        figures = asyncio.run(measure(url, slugs, args))
    bare = statistics.median(figures["bare ASGI callable"])
    print(
        f"{args.requests} redirects × {args.rounds} rounds, random slugs over {len(slugs)} links, warm caches; "
        "median µs of CPU per redirect"
    )
    for name, values in figures.items():
        median = statistics.median(values)
        print(
            f"{name:<32} {median:6.2f} µs  ({median - bare:+.2f} µs over bare)  rounds: "
            + " ".join(f"{value:.2f}" for value in values)
        )


async def measure(url: str, slugs: list[str], args: argparse.Namespace) -> dict[str, list[float]]:
    import _bare_redirect_app

    apps: dict[str, tuple[App, str]] = {"bare ASGI callable": (_bare_redirect_app.app, DOMAIN)}  # type: ignore[dict-item]
    contexts = []
    await seed(url, DOMAIN, slugs)
    await seed_custom_domain(url, slugs)
    for recording in (False, True):
        # Recording on: each click is built and written to this process's click journal, one write per loop turn
        # (nothing ships it: no background services here).
        settings = Settings(
            env="test",
            database_url=url,
            short_domain=DOMAIN,
            redis_url=None,
            record_clicks=recording,
            redirect_cache_ttl=3600,  # warm caches all along, however long filling them takes on a busy machine
        )
        app = create_app(settings)
        app.context.run_background = False
        await app.context.startup()
        contexts.append(app.context)
        for host in (DOMAIN, CUSTOM):  # fill its cache: misses of one loop turn are looked up together
            for start in range(0, len(slugs), 200):
                await asyncio.gather(*(app(scope(slug, host), receive, send) for slug in slugs[start : start + 200]))
        apps[f"MASK, SQLite, recording {'on' if recording else 'off'}"] = (app, DOMAIN)
        apps[f"  … on a custom domain, {'on' if recording else 'off'}"] = (app, CUSTOM)
    gc.freeze()  # as the serving processes do after startup
    picks = [random.choice(slugs) for _ in range(args.requests)]
    scopes = {host: [scope(slug, host) for slug in picks] for host in (DOMAIN, CUSTOM)}
    figures: dict[str, list[float]] = {name: [] for name in apps}
    try:
        for _ in range(args.rounds):  # alternately: drift touches every app alike
            for name, (measured, host) in apps.items():
                figures[name].append(await per_redirect(measured, scopes[host]))
    finally:
        for context in contexts:
            await context.shutdown()
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--links", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    main(parser.parse_args())
