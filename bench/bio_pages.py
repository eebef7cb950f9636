"""Bio page serving against a short-link redirect of the same process, measured in the same run.

    .venv/bin/python bench/bio_pages.py [--backend sqlite|postgres] [--duration 5] [--connections 16]

Needs Debian's `wrk` (`bash scripts/debian-packages.sh wrk`). Starts `mask serve`, creates a bio page with 5
icons, 5 buttons, a heading and a text (like the page in the README's "Bio pages") and a short link. Then wrk loads, one
after the other with the same connections and a browser's user agent: the short link (baseline: resolve, 302,
click), the bio page (page and blocks from the database, render, view), a block's tracked redirect (resolve, 302,
click) and /health. It prints requests/s, p50 and p99 and the ratios to the short link, then checks that every
page load answered became a view and every block redirect a click.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import httpx
from _common import served, throwaway_database

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
PAGE = {
    "handle": "ada",
    "title": "Ada Lovelace",
    "description": "Mathematician, writer, first programmer.",
    "theme": {"preset": "sunset"},
    "blocks": [
        *(
            {"type": "social", "platform": p, "url": f"https://{p}.com/ada"}
            for p in ("instagram", "x", "youtube", "github")
        ),
        {"type": "social", "platform": "email", "url": "ada@example.com"},
        *({"type": "link", "title": f"Button number {n}", "url": f"https://example.com/{n}"} for n in range(4)),
        {"type": "header", "text": "Projects"},
        {"type": "link", "title": "Bernoulli numbers, step by step", "url": "https://example.com/bernoulli"},
        {"type": "text", "text": "Poetical science since 1843.\nBased in London."},
    ],
}


async def _key(database_url: str) -> str:
    from mask.auth import service as auth_service
    from mask.config import Settings
    from mask.context import AppContext
    from mask.db import session_scope
    from mask.workspace import service as workspace_service

    context = AppContext.create(Settings(database_url=database_url, redis_url=None))
    try:
        async with session_scope(context.sessionmaker) as session:
            workspace = await workspace_service.create(session, slug=f"bench{secrets.token_hex(3)}", plan="enterprise")
            created = await auth_service.create(session, workspace=workspace, scopes=None, name="bench")
    finally:
        await context.engine.dispose()
    return created.token


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def _wrk(url: str, duration: int, connections: int) -> tuple[int, float, float, float]:
    """(requests answered, requests/s, p50 ms, p99 ms) of one wrk run."""
    command = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", "-H", f"User-Agent: {BROWSER}", url]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s|m)\b", output)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s|m)\b", output)
    answered = re.search(r"(\d+) requests in", output)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if p50 is None or p99 is None or answered is None or rate is None or "Non-2xx" in output:
        raise RuntimeError(f"unexpected wrk output:\n{output}")
    return int(answered[1]), float(rate[1]), _ms(*p50.groups()), _ms(*p99.groups())


async def _settle(api: httpx.AsyncClient, link_id: str, page_id: str) -> None:
    """Wait until the click writer has stored everything (the counters stop moving)."""
    last = None
    while True:
        await asyncio.sleep(1.0)
        page = (await api.get(f"/v1/bio-pages/{page_id}")).json()
        now = (page["views"], page["clicks"], (await api.get(f"/v1/links/{link_id}")).json()["clicks"])
        if now == last:
            return
        last = now


def main(backend: str, duration: int, connections: int) -> None:
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: `bash scripts/debian-packages.sh wrk`")
    with throwaway_database(backend) as url, served(url) as base:  # migrations run outside the event loop
        asyncio.run(run(url, base, backend, duration, connections))


async def run(url: str, base: str, backend: str, duration: int, connections: int) -> None:
    token = await _key(url)
    async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30) as api:
        page = (await api.post("/v1/bio-pages", json=PAGE)).json()
        link = (await api.post("/v1/links", json={"url": "https://example.com/baseline", "slug": "base"})).json()
        block = next(b for b in page["blocks"] if b["type"] == "link")
        print(f"MASK bio pages, {backend}, mask serve (1 worker), wrk -t2 -c{connections} -d{duration}s")
        answered: dict[str, int] = {}
        results: dict[str, tuple[float, float]] = {}
        for name, path in (
            ("short link redirect (baseline)", "/base"),
            ("bio page", "/@ada"),
            ("bio block redirect", f"/@ada/b/{block['id']}"),
            ("health", "/health"),
        ):
            count, rate, p50, p99 = await asyncio.to_thread(_wrk, base + path, duration, connections)
            answered[name], results[name] = count, (rate, p50)
            print(f"{name:<32} {rate:>8.0f} req/s  p50 {p50:6.2f} ms  p99 {p99:6.2f} ms")
            await _settle(api, link["id"], page["id"])  # the next path is not measured against this one's writes
        base_rate, base_p50 = results["short link redirect (baseline)"]
        for name, (rate, p50) in results.items():
            print(f"{name:<32} throughput ratio {rate / base_rate:5.2f}   p50 ratio {p50 / base_p50:5.2f}")
        views, clicks = answered["bio page"], answered["bio block redirect"]
        deadline = time.monotonic() + 30
        while True:  # requests in flight when wrk stopped may be answered (and counted) unseen by wrk
            counted = (await api.get(f"/v1/bio-pages/{page['id']}")).json()
            if (counted["views"] >= views and counted["clicks"] >= clicks) or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
        link_clicks = (await api.get(f"/v1/links/{link['id']}")).json()["clicks"]
        print(
            f"answered → counted: page {views} → views {counted['views']}; block redirect {clicks} → clicks "
            f"{counted['clicks']}; short link {answered['short link redirect (baseline)']} → clicks {link_clicks}"
            f" (up to {connections} more each: requests in flight when wrk stopped)"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--duration", type=int, default=5, help="seconds of load per path")
    parser.add_argument("--connections", type=int, default=16)
    arguments = parser.parse_args()
    main(arguments.backend, arguments.duration, arguments.connections)
