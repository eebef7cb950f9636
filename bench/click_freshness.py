"""Freshness: how long from a redirect until `GET /v1/analytics/clicks` counts it, under steady load.

    .venv/bin/python bench/click_freshness.py [--backend sqlite|postgres] [--levels 0.3,0.7] [--duration 30]
                                              [--links 1000] [--burst 10]

Needs Debian's `wrk` (`bash scripts/debian-packages.sh wrk`). Starts `mask serve --workers 2` (its background
process stores the clicks), seeds links and an API key, and measures the redirect capacity with wrk at 64
connections (HEAD requests: the redirect path without clicks to store). Then, for each load level (a share of
that capacity), wrk sends redirects at that steady rate (16 connections, each pausing between requests: a Lua
`delay()`) while a probe follows a link of its own: a redirect,
then `GET /v1/analytics/clicks?link_id=…&group_by=count` every 20 ms until the count includes it,
and again. It prints p50/p99 of redirect → visible per level. Last, a burst at 64 connections (saturating)
for `--burst` seconds, and the time after it until every redirect answered so far is stored (the drain).

Targets (issue 18): p99 < 2 s at 30 % of capacity, < 5 s at 70 %.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import httpx
from _common import percentile, throwaway_database
from sqlalchemy import select

from mask.auth import service as auth_service
from mask.config import Settings
from mask.context import AppContext
from mask.db import session_scope
from mask.models.link import Link
from mask.models.workspace import Workspace
from redirect import WRK_SCRIPT, count_clicks, parse_wrk, seed, serve_mask, wrk

STEADY_SCRIPT = """
local slugs = {{ {slugs} }}
math.randomseed(os.time() + tonumber(tostring({{}}):sub(8), 16) % 100000)
request = function()
  return wrk.format("GET", "/" .. slugs[math.random(#slugs)])
end
delay = function()
  return {delay_ms}
end
"""
STEADY_CONNECTIONS = 16
BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0 Safari/537.36"
TARGETS = {0.3: 2.0, 0.7: 5.0}


async def setup(url: str, domain: str, slugs: list[str]) -> tuple[str, str]:
    """The links (bench/redirect.py's seed), a probe link and an API key: (token, probe link id)."""
    await seed(url, domain, [*slugs, "probe"])
    context = AppContext.create(Settings(database_url=url, redis_url=None))
    try:
        async with session_scope(context.sessionmaker) as session:
            workspace = (await session.execute(select(Workspace).where(Workspace.slug == "bench"))).scalar_one()
            created = await auth_service.create(session, workspace=workspace, scopes=None, name="bench")
            probe = await session.scalar(select(Link.id).where(Link.slug == "probe"))
    finally:
        await context.engine.dispose()
    assert probe is not None
    return created.token, probe


def probe_until(base: str, token: str, link_id: str, stop: threading.Event, timeout: float) -> list[float]:
    """Redirect → visible, again and again until `stop`: the seconds each probe click took to be counted."""
    seconds: list[float] = []
    params = {"link_id": link_id, "group_by": "count", "interval": "all", "bots": "include"}
    with httpx.Client(base_url=base, timeout=10, headers={"User-Agent": BROWSER}) as client:
        api = {"Authorization": f"Bearer {token}"}
        seen = client.get("/v1/analytics/clicks", params=params, headers=api).json()["clicks"]
        while not stop.is_set():
            started = time.monotonic()
            assert client.get("/probe", follow_redirects=False).status_code in (301, 302, 307, 308)
            while time.monotonic() - started < timeout:
                answer = client.get("/v1/analytics/clicks", params=params, headers=api)
                assert answer.status_code == 200, answer.text
                count = answer.json()["clicks"]
                if count > seen:
                    seconds.append(time.monotonic() - started)
                    seen = count
                    break
                time.sleep(0.02)
            else:
                seconds.append(float("inf"))
            time.sleep(0.2)
    return seconds


def steady(base: str, directory: Path, slugs: list[str], rate: float, duration: float) -> tuple[int, float]:
    """wrk at about `rate` redirects/s for `duration` seconds: (answered, achieved rate)."""
    delay_ms = max(1, round(STEADY_CONNECTIONS * 1000 / rate))
    script = directory / f"steady-{delay_ms}.lua"
    script.write_text(STEADY_SCRIPT.format(slugs=", ".join(f'"{s}"' for s in slugs), delay_ms=delay_ms))
    result = parse_wrk("steady", wrk(base, script, duration=duration, connections=STEADY_CONNECTIONS))
    return result.requests - result.non_3xx, result.rps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", default="sqlite", choices=["sqlite", "postgres"])
    parser.add_argument("--levels", default="0.3,0.7", help="shares of the measured redirect capacity")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds per level")
    parser.add_argument("--links", type=int, default=1000)
    parser.add_argument("--burst", type=float, default=10.0, help="seconds of saturating load before the drain")
    parser.add_argument("--workers", type=int, default=2, help="HTTP workers of `mask serve`")
    parser.add_argument(
        "--yield-seconds", type=float, default=None, help="MASK_CLICK_STORE_YIELD_SECONDS (default: MASK's)"
    )
    parser.add_argument("--capacity", type=float, default=0.0, help="redirects/s; 0: measure it (8 s at 64 conn.)")
    args = parser.parse_args()
    slugs = [f"f{i}" for i in range(args.links)]
    with tempfile.TemporaryDirectory(prefix="mask-fresh-") as tmp, throwaway_database(args.backend) as url:
        directory = Path(tmp)
        full = directory / "full.lua"
        full.write_text(WRK_SCRIPT.format(slugs=", ".join(f'"{s}"' for s in slugs), method="GET"))
        answered = 0
        env = {"MASK_RATE_LIMIT_ENABLED": "false"}
        if args.yield_seconds is not None:
            env["MASK_CLICK_STORE_YIELD_SECONDS"] = str(args.yield_seconds)
        with serve_mask(url, workers=args.workers, extra_env=env) as base:
            domain = base.removeprefix("http://")
            token, probe = asyncio.run(setup(url, domain, slugs))
            capacity = args.capacity
            if not capacity:  # HEAD: the redirect path without a click to store (no backlog before the levels)
                head = directory / "head.lua"
                head.write_text(WRK_SCRIPT.format(slugs=", ".join(f'"{s}"' for s in slugs), method="HEAD"))
                measured = parse_wrk("capacity", wrk(base, head, duration=8, connections=64))
                capacity = measured.rps * (1 - measured.non_3xx / max(1, measured.requests))
            print(
                f"{args.backend}, {args.workers} worker(s), store yield "
                f"{'default' if args.yield_seconds is None else args.yield_seconds}: "
                f"redirect capacity {capacity:,.0f}/s (wrk, HEAD, 64 connections)"
            )
            settle_until(url, answered, patience=600)
            for level in (float(value) for value in args.levels.split(",")):
                stop = threading.Event()
                found: list[float] = []
                prober = threading.Thread(
                    target=lambda found=found, stop=stop: found.extend(probe_until(base, token, probe, stop, 60))
                )
                prober.start()
                sent, rate = steady(base, directory, slugs, capacity * level, args.duration)
                stop.set()
                prober.join()
                answered += sent + len(found)
                target = TARGETS.get(level)
                verdict = ""
                if target is not None:
                    verdict = f" (target p99 < {target:.0f} s: {'ok' if percentile(found, 99) < target else 'missed'})"
                print(
                    f"  {level:.0%} of capacity ({rate:,.0f} redirects/s for {args.duration:.0f} s): "
                    f"redirect → visible p50 {percentile(found, 50):.2f} s, p99 {percentile(found, 99):.2f} s, "
                    f"n={len(found)}{verdict}"
                )
                sys.stdout.flush()
                settle_until(url, answered, patience=600)
            burst = parse_wrk("burst", wrk(base, full, duration=args.burst, connections=64))
            answered += burst.requests - burst.non_3xx
            ended = time.monotonic()
            stored = settle_until(url, answered, patience=300)
            print(
                f"  burst {args.burst:.0f} s at {burst.rps:,.0f} redirects/s ({burst.requests:,} answered): "
                f"all {answered:,} stored {time.monotonic() - ended:.1f} s after it ended"
                + ("" if stored >= answered else f" — only {stored:,} stored")
            )


def settle_until(url: str, expected: int, *, patience: float) -> int:
    """Wait until `expected` clicks are stored, or `patience` seconds; the count stored."""
    deadline = time.monotonic() + patience
    stored = asyncio.run(count_clicks(url))
    while stored < expected and time.monotonic() < deadline:
        time.sleep(0.1)
        stored = asyncio.run(count_clicks(url))
    return stored


if __name__ == "__main__":
    main()
