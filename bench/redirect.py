"""Redirect throughput and latency against nginx, measured in the same run with the same load.

    .venv/bin/python bench/redirect.py [--duration 10] [--connections 64] [--links 10000] [--warmup 6]
                                       [--configs bare,sqlite,sqlite-off,postgres-redis,…]

Needs Debian's `wrk` and `nginx-light` (`make bench-redirect` installs them). For each configuration it starts
`mask serve --workers 2` (which starts its background process beside the two HTTP workers), creates the
links, warms the caches with HEAD requests (not clicks) walking every slug `--warmup` times per wrk thread,
then loads random slugs with wrk and prints requests/s, p50, p99 and the ratio to nginx answering
`return 302` from a config this script writes to a temp dir. With recording on, it then waits for the
background process to store every click, checks that the clicks stored equal the redirects answered, and
says how long that took after the load ended. `-off` configurations run with MASK_RECORD_CLICKS=false: the
difference is what recording costs. `-worker` configurations run the background services in a `mask worker`
process at normal priority beside `mask serve` started with MASK_SERVE_BACKGROUND=false (the production
layout, here on the same two cores). `bare` is the reference the issue gives: a bare ASGI callable answering
from a dict under uvicorn (bench/_bare_redirect_app.py), the ceiling of a Python redirect path served this
way.

Targets (issue 3, this 2-core machine): ratio ≥ 0.35, p99 < 10 ms at 64 connections, recording ≤ 15 % cost.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from _common import delete_redis_keys, free_port, throwaway_database, wait_until_healthy
from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import create_async_engine

from mask.kit.ids import ALPHABET, new_id, random_string
from mask.models.click import Click
from mask.models.link import Link
from mask.models.workspace import Workspace

REDIS_URL = os.environ.get("MASK_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
TARGET_RATIO, TARGET_P99_MS, TARGET_COST = 0.35, 10.0, 0.15

# A browser's request headers (wrk sends no User-Agent of its own, and an empty one is a bot's: a bot's click
# skips the A/B hash, so a decision bench without these would measure a cheaper path than a person's click).
BROWSER_HEADERS = {
    "User-Agent": (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0.0.0 Safari/537.36"
    ),
    "Accept": "text/html,application/xhtml+xml",
    "Accept-Language": "en-US,en;q=0.9",
}
# Targeting rules no request of these benches matches (not a tablet, iOS or Edge, no Spanish, no `?ref=vip`) and
# A/B variants: every click evaluates all five rules, then gets a variant. The worst case short of a country rule.
RULES: list[dict[str, Any]] = [
    {"url": "https://example.com/tablet", "conditions": [{"type": "device", "value": "tablet"}]},
    {"url": "https://example.com/ios", "conditions": [{"type": "os", "value": "ios"}]},
    {"url": "https://example.com/edge", "conditions": [{"type": "browser", "value": "edge"}]},
    {"url": "https://example.com/es", "conditions": [{"type": "language", "value": "es"}]},
    {"url": "https://example.com/vip", "conditions": [{"type": "query_param", "name": "ref", "value": "vip"}]},
]
VARIANTS: list[dict[str, Any]] = [
    {"url": "https://example.com/a", "weight": 34},
    {"url": "https://example.com/b", "weight": 33},
    {"url": "https://example.com/c", "weight": 33},
]

NGINX_CONF = """
worker_processes 2;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body; proxy_temp_path {dir}/proxy; fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi; scgi_temp_path {dir}/scgi;
    server {{
        listen 127.0.0.1:{port};
        location / {{ return 302 https://example.com/destination; }}
    }}
}}
"""

WARM_SCRIPT = """
local slugs = {{ {slugs} }}
local index, answered, limit = 0, 0, #slugs * {passes}
init = function(args)
  math.randomseed(os.time() + tonumber(tostring({{}}):sub(8), 16) % 100000)
  index = math.random(#slugs)
end
request = function()
  index = index % #slugs + 1
  return wrk.format("HEAD", "/" .. slugs[index])
end
response = function(status, headers, body)
  answered = answered + 1
  if answered >= limit then wrk.thread:stop() end
end
"""

WRK_SCRIPT = """
local slugs = {{ {slugs} }}
local method = "{method}"
math.randomseed(os.time() + tonumber(tostring({{}}):sub(8), 16) % 100000)
request = function()
  return wrk.format(method, "/" .. slugs[math.random(#slugs)])
end
"""


@dataclass
class Result:
    name: str
    requests: int
    non_3xx: int
    rps: float
    p50_ms: float
    p99_ms: float
    errors: str


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def parse_wrk(name: str, output: str) -> Result:
    def grab(pattern: str) -> re.Match[str]:
        match = re.search(pattern, output)
        if match is None:
            raise RuntimeError(f"unexpected wrk output:\n{output}")
        return match

    p50 = grab(r"50%\s+([\d.]+)(us|ms|s|m)\b")
    p99 = grab(r"99%\s+([\d.]+)(us|ms|s|m)\b")
    non = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: (.*)", output)
    return Result(
        name=name,
        requests=int(grab(r"(\d+) requests in")[1]),
        non_3xx=int(non[1]) if non else 0,
        rps=float(grab(r"Requests/sec:\s+([\d.]+)")[1]),
        p50_ms=_ms(*p50.groups()),
        p99_ms=_ms(*p99.groups()),
        errors=errors[1] if errors else "",
    )


def wrk(base: str, script: Path, *, duration: float, connections: int, threads: int = 2) -> str:
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(duration))}s",
        "--latency",
        "-s",
        str(script),
        base,
    ]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{completed.stdout}{completed.stderr}")
    return completed.stdout


def lua_headers(headers: Mapping[str, str]) -> str:
    """Lua that makes every request of a wrk script carry `headers` (`wrk.format` without headers uses these)."""
    for part in (*headers, *headers.values()):
        if '"' in part or "\\" in part or "\n" in part:
            raise ValueError(f"not a plain header: {part!r}")
    return "".join(f'wrk.headers["{name}"] = "{value}"\n' for name, value in headers.items())


def write_script(directory: Path, slugs: list[str], method: str, headers: Mapping[str, str] | None = None) -> Path:
    path = directory / f"{method.lower()}.lua"
    script = WRK_SCRIPT.format(slugs=", ".join(f'"{slug}"' for slug in slugs), method=method)
    path.write_text(lua_headers(headers or {}) + script)
    return path


async def seed(url: str, domain: str, slugs: list[str], *, ruled: Collection[str] = ()) -> None:
    """One workspace with a link per slug; the slugs in `ruled` carry RULES and VARIANTS."""
    engine = create_async_engine(url)
    ruled_slugs = set(ruled)
    async with engine.begin() as connection:
        workspace = new_id("ws")
        await connection.execute(insert(Workspace), [{"id": workspace, "slug": "bench", "name": "bench"}])
        rows = [
            {
                "id": new_id("lnk"),
                "workspace_id": workspace,
                "domain": domain,
                "slug": slug,
                "url": f"https://example.com/page/{slug}?ref=bench",
                "utm_source": "bench",
                "clicks": 0,
                # every row names every column: one executemany, one statement
                "rules": RULES if slug in ruled_slugs else None,
                "variants": VARIANTS if slug in ruled_slugs else None,
            }
            for slug in slugs
        ]
        for start in range(0, len(rows), 1000):
            await connection.execute(insert(Link), rows[start : start + 1000])
    if engine.dialect.name == "postgresql":
        # A production table has planner statistics (autovacuum keeps them); a table filled a second ago has
        # none until autovacuum's next round, and without them PostgreSQL looks a batch of slugs up by domain
        # alone and filters the slugs: every cache miss read all 10,000 links (2–4 ms). The warm-up then
        # fell behind, and the first measured run paid for the slugs it left cold (p99 100–300 ms).
        async with engine.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.execute(text("ANALYZE links"))
    await engine.dispose()


async def count_clicks(url: str) -> int:
    engine = create_async_engine(url)
    async with engine.connect() as connection:
        value = await connection.scalar(select(func.count()).select_from(Click))
    await engine.dispose()
    return int(value or 0)


def settle(url: str, expected: int, patience: float = 15.0) -> tuple[int, float]:
    """Wait until the clicks stored reach `expected` or stop growing for `patience` seconds; return the count
    and how long the writers needed to catch up after the load ended."""
    started = last_change = time.monotonic()
    stored = asyncio.run(count_clicks(url))
    while stored < expected and time.monotonic() - last_change < patience:
        time.sleep(0.5)
        now = asyncio.run(count_clicks(url))
        if now != stored:
            stored, last_change = now, time.monotonic()
    caught_up = time.monotonic() - started
    time.sleep(1.0)  # clicks of requests still in flight when wrk stopped
    return asyncio.run(count_clicks(url)), caught_up


def run_nginx(directory: Path, get_script: Path, args: argparse.Namespace) -> Result:
    port = free_port()
    conf = directory / "nginx.conf"
    conf.write_text(NGINX_CONF.format(dir=directory, port=port))
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    process = subprocess.Popen([nginx, "-c", str(conf), "-p", str(directory)], stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.5)
        output = wrk(f"http://127.0.0.1:{port}", get_script, duration=args.duration, connections=args.connections)
    finally:
        process.terminate()
        process.wait(10)
    return parse_wrk("nginx return 302", output)


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=300)
    except subprocess.TimeoutExpired:
        print("a server took more than 300 s to stop; killed", flush=True)
        process.kill()
        process.wait()


@contextmanager
def serve_mask(
    database_url: str, *, workers: int, extra_env: dict[str, str], app: str = "mask", separate_worker: bool = False
) -> Iterator[str]:
    """`mask serve --workers N` on a free port; `app` "bare" is bench/_bare_redirect_app.py under uvicorn
    with `mask serve`'s options. `separate_worker`: background services in a `mask worker` process."""
    port = free_port()
    journal = tempfile.mkdtemp(prefix="mask-bench-clicks-")  # each server its own click journal
    env = (
        os.environ
        | {
            "MASK_DATABASE_URL": database_url,
            "MASK_CLICK_JOURNAL_DIR": journal,
            "MASK_LOG_LEVEL": "warning",
            "MASK_SHORT_DOMAIN": f"127.0.0.1:{port}",
            "PYTHONPATH": str(Path(__file__).parent),
        }
        | extra_env
    )
    if separate_worker:
        env["MASK_SERVE_BACKGROUND"] = "false"
    mask = str(Path(sys.executable).with_name("mask"))
    if app == "mask":
        command = [mask, "serve", "--port", str(port), "--workers", str(workers)]
    else:
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            "_bare_redirect_app:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--loop",
            "uvloop",
            "--http",
            "httptools",
            "--lifespan",
            "on",
            "--no-access-log",
            "--no-server-header",
            "--no-proxy-headers",
            "--timeout-graceful-shutdown",
            "20",
            "--timeout-worker-healthcheck",
            "30",
            "--log-level",
            "warning",
        ]
    processes = [subprocess.Popen(command, env=env)]
    if separate_worker:
        processes.append(subprocess.Popen([mask, "worker"], env=env))
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(base, processes[0], timeout=180)  # a busy machine starts slowly
        yield base
    finally:
        for process in processes:  # the server first: its last clicks are in the journal before the worker stops
            _stop(process)
        shutil.rmtree(journal, ignore_errors=True)


@contextmanager
def throwaway_redis_prefix(prefix: str | None) -> Iterator[None]:
    """Delete the run's Redis keys (its click stream) when it is over."""
    try:
        yield
    finally:
        if prefix:
            asyncio.run(delete_redis_keys(REDIS_URL, prefix))


def run_mask(config: str, directory: Path, slugs: list[str], args: argparse.Namespace) -> tuple[Result, str]:
    backend = "postgres" if config.startswith("postgres") else "sqlite"
    recording = not config.endswith("-off") and config != "bare"
    env = {"MASK_RECORD_CLICKS": "true" if recording else "false", "MASK_ENV": "test"}
    slugs_file = directory / "slugs.txt"
    slugs_file.write_text("\n".join(slugs))
    env["BENCH_SLUGS_FILE"] = str(slugs_file)
    if "redis" in config:
        env |= {"MASK_REDIS_URL": REDIS_URL, "MASK_REDIS_PREFIX": f"mask-bench-{secrets.token_hex(4)}:"}
    get_script = write_script(directory, slugs, "GET")
    head_script = directory / "warm.lua"
    head_script.write_text(WARM_SCRIPT.format(slugs=", ".join(f'"{slug}"' for slug in slugs), passes=args.warmup))
    with (
        throwaway_database(backend) as url,
        throwaway_redis_prefix(env.get("MASK_REDIS_PREFIX")),
        serve_mask(
            url,
            workers=2,
            extra_env=env,
            separate_worker=config.endswith("-worker"),
            app="bare" if config == "bare" else "mask",
        ) as base,
    ):
        asyncio.run(seed(url, base.removeprefix("http://"), slugs))
        # Warm both workers' caches: each wrk thread walks every slug `--warmup` times with HEAD (answered like
        # GET, not a click). Connections land on either worker, so a worker misses a slug with probability
        # 2^-(passes × threads): with 2 passes about 6 % of each worker's cache was cold, and its lookups showed
        # in the measured run's profile and p99. (wrk waits out its duration even when every thread has
        # stopped: give it what the walk needs at about 10,000 requests/s.)
        wrk(base, head_script, duration=5 + args.warmup * len(slugs) * 2 / 10_000, connections=args.connections)
        result = parse_wrk(
            f"mask {config}", wrk(base, get_script, duration=args.duration, connections=args.connections)
        )
        answered = result.requests - result.non_3xx
        check = "recording off" if config != "bare" else "no database, no click: the ceiling"
        if recording:
            stored, caught_up = settle(url, answered)
            extra = stored - answered
            ok = 0 <= extra <= args.connections  # requests in flight when wrk stopped were answered unseen
            check = (
                f"clicks stored {stored} vs redirects answered {answered} "
                f"({'OK' if ok else 'MISMATCH'}; {extra:+d}, ≤{args.connections} in flight at wrk's stop; "
                f"stored {caught_up:.1f} s after the load)"
            )
    return result, check


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--links", type=int, default=10_000)
    parser.add_argument("--warmup", type=int, default=6, help="passes over every slug per wrk thread, with HEAD")
    parser.add_argument(
        "--configs", default="bare,sqlite,sqlite-off,postgres-redis,postgres-redis-worker,postgres-redis-off"
    )
    args = parser.parse_args()
    for tool in ("wrk", "nginx"):
        if shutil.which(tool) is None and not Path(f"/usr/sbin/{tool}").exists():
            sys.exit(f"{tool} is missing: `bash scripts/debian-packages.sh wrk nginx-light` (make bench-redirect does)")

    slugs = sorted({random_string(7, ALPHABET) for _ in range(args.links)})
    print(
        f"{len(slugs)} links, wrk -t2 -c{args.connections} -d{args.duration:g}s, random slugs; "
        f"mask serve --workers 2; {os.cpu_count()} CPUs",
        flush=True,
    )
    results: list[tuple[Result, str]] = []
    with tempfile.TemporaryDirectory(prefix="mask-bench-redirect-") as temp:
        directory = Path(temp)
        # nginx before and after the rest: the machine's speed drifts, the mean is the baseline.
        before = run_nginx(directory, write_script(directory, slugs, "GET"), args)
        print(
            f"{before.name + ' (first)':<28} {before.rps:>9.0f} req/s  p50 {before.p50_ms:6.2f} ms  "
            f"p99 {before.p99_ms:6.2f} ms",
            flush=True,
        )
        for config in [c.strip() for c in args.configs.split(",") if c.strip()]:
            result, check = run_mask(config, directory, slugs, args)
            results.append((result, check))
            print(
                f"{result.name:<28} {result.rps:>9.0f} req/s  p50 {result.p50_ms:6.2f} ms  "
                f"p99 {result.p99_ms:6.2f} ms  {check}"
                + (f"  socket errors: {result.errors}" if result.errors else ""),
                flush=True,
            )
        after = run_nginx(directory, write_script(directory, slugs, "GET"), args)
        print(
            f"{after.name + ' (last)':<28} {after.rps:>9.0f} req/s  p50 {after.p50_ms:6.2f} ms  "
            f"p99 {after.p99_ms:6.2f} ms",
            flush=True,
        )
    baseline = Result(
        name="nginx return 302",
        requests=before.requests + after.requests,
        non_3xx=0,
        rps=(before.rps + after.rps) / 2,
        p50_ms=(before.p50_ms + after.p50_ms) / 2,
        p99_ms=(before.p99_ms + after.p99_ms) / 2,
        errors="",
    )
    bare = next((result for result, _ in results if result.name == "mask bare"), None)
    print(
        f"\nratios to nginx ({baseline.rps:.0f} req/s, the mean of both runs)"
        + (f" and to the bare ASGI callable ({bare.rps:.0f} req/s)" if bare else "")
    )
    for result, _ in results:
        print(
            f"{result.name:<28} nginx {result.rps / baseline.rps:.2f}"
            + (f"  bare {result.rps / bare.rps:.2f}" if bare else "")
        )

    print("\ntargets: ratio ≥ 0.35, p99 < 10 ms, recording cost ≤ 15 %")
    by_name = {result.name: result for result, _ in results}
    for result, _ in results:
        if result.name.endswith("-off") or result.name == "mask bare":
            continue
        ratio = result.rps / baseline.rps
        verdict = [f"ratio {ratio:.2f} {'ok' if ratio >= TARGET_RATIO else 'MISSED'}"]
        verdict.append(f"p99 {result.p99_ms:.2f} ms {'ok' if result.p99_ms < TARGET_P99_MS else 'MISSED'}")
        off = by_name.get(f"{result.name.removesuffix('-worker')}-off")
        if off is not None:
            cost = 1 - result.rps / off.rps
            verdict.append(f"recording cost {cost * 100:.1f} % {'ok' if cost <= TARGET_COST else 'MISSED'}")
        print(f"{result.name:<28} " + ", ".join(verdict))


if __name__ == "__main__":
    main()
