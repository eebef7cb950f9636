"""What the API rate limiter adds to a request: in process memory and with Redis, against limiting off.

    .venv/bin/python bench/ratelimit.py [--requests 400] [--rounds 7] [--backend sqlite|postgres]
                                        [--redis redis://127.0.0.1:6379/0]

One run builds three copies of the API stack on one throwaway database: limiting off (the baseline),
counted in memory, and counted in Redis. Each serves the same authenticated endpoint (GET /v1/tags) called
straight through ASGI, one request at a time, interleaved request by request so that noise from elsewhere on
the machine hits all three alike; every round uses fresh Enterprise workspaces, so nothing is ever refused.
It prints each mode's median time per request and its difference to the baseline: the limiter's added
latency per request, end to end (key + plan lookup at the edge, count, headers). It also times the limiter
call alone. Targets (issue 5): under 0.3 ms in memory, under 1 ms with a local Redis.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from _common import delete_redis_keys, throwaway_database
from redis.asyncio import Redis
from redis.exceptions import RedisError
from starlette.types import Message

from mask.app import MaskApp
from mask.auth import service as auth_service
from mask.bootstrap import create_app
from mask.config import Settings
from mask.db import session_scope
from mask.rate_limit.limiter import Limiter, Quota
from mask.workspace import service as workspace_service

PATH = b"/v1/tags"


async def call(app: MaskApp, token: str) -> int:
    """One GET through the whole ASGI stack; returns the status."""
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": PATH.decode(),
        "raw_path": PATH,
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"localhost:8000"), (b"authorization", f"Bearer {token}".encode())],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    status = 0

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def new_token(app: MaskApp) -> str:
    async with session_scope(app.context.sessionmaker) as session:
        workspace = await workspace_service.create(session, slug=f"b{secrets.token_hex(6)}", plan="enterprise")
        return (await auth_service.create(session, workspace=workspace)).token


async def one_round(apps: dict[str, MaskApp], requests: int, samples: dict[str, list[float]]) -> None:
    """`requests` sequential requests per mode, each from a fresh workspace, interleaved request by request so
    that load from elsewhere on the machine falls on every mode alike; appends each request's seconds."""
    tokens = {name: await new_token(app) for name, app in apps.items()}
    for name, app in apps.items():
        assert await call(app, tokens[name]) == 200  # warm: a key's first use also writes last_used_at
    for _ in range(requests):
        for name, app in apps.items():
            started = time.perf_counter()
            status = await call(app, tokens[name])
            samples[name].append(time.perf_counter() - started)
            if status != 200:
                raise RuntimeError(f"{name}: unexpected {status}")


async def limiter_alone(settings: Settings, calls: int) -> float:
    limiter = Limiter(settings)
    quota = Quota(6000, 60)
    bucket = f"ws:bench{secrets.token_hex(4)}"
    try:
        await limiter.hit(bucket, quota)
        started = time.perf_counter()
        for index in range(calls):
            await limiter.hit(f"{bucket}{index // 5000}", quota)  # stay under the quota
        return (time.perf_counter() - started) / calls
    finally:
        await limiter.close()


async def redis_reachable(url: str) -> bool:
    client = Redis.from_url(url, socket_connect_timeout=1)
    try:
        return bool(await client.ping())
    except (OSError, RedisError):
        return False
    finally:
        await client.aclose()


async def run(args: argparse.Namespace, url: str) -> None:
    prefix = f"maskbench:{secrets.token_hex(4)}:"
    base: dict[str, Any] = {
        "env": "test",
        "database_url": url,
        "redis_url": None,
        "redis_prefix": prefix,
        "log_level": "warning",
        "serve_background": False,
    }
    modes: dict[str, Settings] = {
        "off": Settings(**base, rate_limit_enabled=False),
        "memory": Settings(**base),
    }
    if await redis_reachable(args.redis):
        modes["redis"] = Settings(**{**base, "redis_url": args.redis})
    else:
        print(f"Redis not reachable at {args.redis}: skipping the Redis mode")
    apps = {name: create_app(settings) for name, settings in modes.items()}
    for app in apps.values():
        await app.context.startup()
    try:
        samples: dict[str, list[float]] = {name: [] for name in apps}
        for _ in range(args.rounds):
            await one_round(apps, args.requests, samples)
        medians = {name: statistics.median(values) for name, values in samples.items()}
        alone = {name: await limiter_alone(modes[name], args.requests * 3) for name in apps if name != "off"}
    finally:
        for app in apps.values():
            await app.context.shutdown()
        await delete_keys(args.redis, prefix)

    baseline = medians["off"]
    print(
        f"GET /v1/tags through the ASGI stack, {args.backend}, {args.rounds} rounds x {args.requests} requests"
        " per mode, interleaved (median per request; on a shared machine read differences, not absolutes)"
    )
    print(f"  {'limiting off (baseline)':<28} {baseline * 1000:8.3f} ms/request")
    for name in ("memory", "redis"):
        if name not in medians:
            continue
        added = medians[name] - baseline
        target = 0.3 if name == "memory" else 1.0
        ratio = medians[name] / baseline
        print(
            f"  {'limited, ' + name:<28} {medians[name] * 1000:8.3f} ms/request   ratio {ratio:5.2f}"
            f"   added {added * 1000:+7.3f} ms (target < {target} ms)   limiter call alone "
            f"{alone[name] * 1000:6.3f} ms"
        )


async def delete_keys(url: str, prefix: str) -> None:
    if await redis_reachable(url):
        await delete_redis_keys(url, prefix)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400, help="requests per round and mode")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    arguments = parser.parse_args()
    with throwaway_database(arguments.backend) as database_url:  # migrates outside the event loop
        asyncio.run(run(arguments, database_url))
