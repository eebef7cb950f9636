"""CPU a redirect costs in MASK's own code, against the bare ASGI callable, called in process (no server).

    .venv/bin/python bench/redirect_app.py [--requests 100000] [--links 10000] [--rounds 3]

bench/redirect.py measures the whole server with wrk, and this machine's speed drifts by ±15–20 % between its
runs. Here both apps answer the same random slugs from a warm cache on one event loop, alternately, with a
no-op `send`: what is left is the microseconds each spends per redirect, which is what a change to the hot path
moves. MASK runs on SQLite with recording off and on (on: the click is built and buffered; the buffer's append
to the inbox every 0.2 s is not in the loop, about 1.5 µs a click more). A served redirect costs some 20–25 µs
of CPU in uvicorn besides (bench/redirect.py), so 1 µs here is about 4 % of throughput there.
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
from starlette.types import Message, Receive, Scope, Send

from mask.bootstrap import create_app
from mask.config import Settings
from mask.kit.ids import ALPHABET, random_string
from redirect import seed

DOMAIN = "127.0.0.1:8000"
App = Callable[[Scope, Receive, Send], Awaitable[None]]


async def receive() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


async def send(_message: Message) -> None:
    return None


def scope(slug: str) -> dict[str, Any]:
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
        "headers": [(b"host", DOMAIN.encode()), (b"user-agent", b"wrk")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }


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

    apps: dict[str, App] = {"bare ASGI callable": _bare_redirect_app.app}  # type: ignore[dict-item]
    contexts = []
    await seed(url, DOMAIN, slugs)
    for recording in (False, True):
        # Recording on: each click is built and buffered; the buffer's flush is not in the loop (an hour away).
        settings = Settings(
            env="test",
            database_url=url,
            short_domain=DOMAIN,
            redis_url=None,
            record_clicks=recording,
            click_flush_interval=3600,
            click_spill_dir="",
        )
        app = create_app(settings)
        app.context.run_background = False
        await app.context.startup()
        contexts.append(app.context)
        for slug in slugs:  # fill its cache
            await app(scope(slug), receive, send)
        apps[f"MASK, SQLite, recording {'on' if recording else 'off'}"] = app
    gc.freeze()  # as the serving processes do after startup
    scopes = [scope(random.choice(slugs)) for _ in range(args.requests)]
    figures: dict[str, list[float]] = {name: [] for name in apps}
    try:
        for _ in range(args.rounds):  # alternately: drift touches every app alike
            for name, measured in apps.items():
                figures[name].append(await per_redirect(measured, scopes))
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
