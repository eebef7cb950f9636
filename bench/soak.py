"""A soak: mixed API and redirect load on `mask serve` while attackers send slow and oversized bodies and a burst
of idempotent POSTs arrives; the server must keep answering, in the error shape, without losing a click.

    .venv/bin/python bench/soak.py [--duration 600] [--backend sqlite|postgres] [--workers 2]
                                   [--api-clients 6] [--redirect-clients 6] [--slow-bodies 24]
                                   [--oversized 2] [--burst 40] [--database-url URL] [--json]

It starts `mask serve --workers N` (with its background process, which stores the clicks) on a throwaway
database, seeds a workspace with 20 links, and for `--duration` seconds runs:

- API clients: create, list and read links, list tags (an Enterprise key whose limit is raised out of the way);
- redirect clients: GET /<slug> of the seeded links (each 302 is a click the background process must store);
- slow-body attackers: POSTs that announce 1,000 bytes, send one and wait (each should end with 408);
- oversized-body attackers: chunked POSTs of 64 KB chunks that never end, with a key (413) and without (401);
- a burst of `--burst` concurrent POSTs with Idempotency-Key every minute (and once at the start), each then
  replayed: the replay must return the first answer;
- a /health probe ten times a second.

It prints /health latency (p50, p99, max), every status counted per kind of client, the 5xx count (expected 0),
each process's memory peak (VmHWM: the HTTP workers and the background process), and clicks stored vs
redirects answered once the background process has caught up. Exit status 1 when a check fails (a 5xx, a
/health that failed, an attacker answered otherwise than expected, a replay that differs, clicks lost).
Figures depend on the machine; the checks do not. `--json` prints the result as one JSON object instead.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import httpx
from _common import free_port, percentile, throwaway_database, wait_until_healthy
from sqlalchemy import func, select

from mask.auth import service as auth_service
from mask.config import Settings
from mask.context import AppContext
from mask.db import session_scope
from mask.models.click import Click
from mask.rate_limit import service as rate_limit_service
from mask.workspace import service as workspace_service

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"
# What each attacker may be answered. Without a key, the anonymous rate limit (per IP) refuses them first.
EXPECTED = {"slow": {408}, "oversized": {413}, "oversized_anonymous": {401, 429}}


class Tally:
    def __init__(self) -> None:
        self.statuses: dict[str, Counter[int]] = {}
        self.errors: Counter[str] = Counter()  # connection-level failures, by kind of client (an attacker
        # that goes on sending after its answer may see the connection reset before it reads the answer)
        self.health: list[float] = []
        self.redirects = 0
        self.replay_mismatches = 0
        self.server_errors: Counter[str] = Counter()  # 5xx answers by status and error code

    def count(self, kind: str, status: int) -> None:
        self.statuses.setdefault(kind, Counter())[status] += 1

    def answered(self, kind: str, response: httpx.Response) -> None:
        """Count an answer; a 5xx also by its error code (the error shape's), or `not_error_shape`."""
        self.count(kind, response.status_code)
        if response.status_code >= 500:
            try:
                code = str(response.json()["error"]["code"])
            except (ValueError, KeyError, TypeError):
                code = "not_error_shape"
            self.server_errors[f"{response.status_code} {code}"] += 1

    def five_hundreds(self) -> int:
        return sum(n for counter in self.statuses.values() for status, n in counter.items() if status >= 500)


async def seed(database_url: str) -> tuple[str, str]:
    """A workspace on Enterprise (its limit raised out of the way); its id and key."""
    context = AppContext.create(Settings(database_url=database_url, env="test"), run_background=False)
    try:
        async with session_scope(context.sessionmaker) as session:
            await rate_limit_service.set_plan_limit(session, plan="enterprise", requests=10_000_000)
            workspace = await workspace_service.create(session, slug=f"soak{secrets.token_hex(3)}", plan="enterprise")
            token = (await auth_service.create(session, workspace=workspace, name="soak")).token
            workspace_id = workspace.id
    finally:
        await context.engine.dispose()
    return workspace_id, token


async def count_clicks(database_url: str, workspace_id: str) -> int:
    """The soak workspace's clicks only: the database may be shared (the test suite's), and another workspace's
    rows are none of this run's business."""
    context = AppContext.create(Settings(database_url=database_url, env="test"), run_background=False)
    try:
        async with session_scope(context.sessionmaker) as session:
            mine = select(func.count()).select_from(Click).where(Click.workspace_id == workspace_id)
            return int(await session.scalar(mine) or 0)
    finally:
        await context.engine.dispose()


def raw_head(port: int, method: str, path: str, headers: dict[str, str]) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def read_status(reader: asyncio.StreamReader) -> int:
    line = await reader.readline()
    if not line:
        raise ConnectionError("closed without an answer")
    return int(line.split(b" ")[1])


async def slow_body(port: int, token: str, tally: Tally, stop: asyncio.Event) -> None:
    while not stop.is_set():
        writer = None
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json", "Content-Length": "1000"}
            writer.write(raw_head(port, "POST", "/v1/links", headers) + b"{")
            await writer.drain()
            tally.count("slow", await read_status(reader))
        except (OSError, ValueError, IndexError) as error:
            tally.errors[f"slow {type(error).__name__}"] += 1
            await asyncio.sleep(0.5)
        finally:
            if writer is not None:
                writer.close()


async def oversized(port: int, token: str | None, tally: Tally, stop: asyncio.Event) -> None:
    kind = "oversized" if token else "oversized_anonymous"
    chunk = b"10000\r\n" + b"a" * 65536 + b"\r\n"
    while not stop.is_set():
        writer = None
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            headers = {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}
            if token:
                headers["Authorization"] = f"Bearer {token}"
            writer.write(raw_head(port, "POST", "/v1/links", headers))
            answer = asyncio.create_task(read_status(reader))
            for _ in range(200):  # up to 13 MB; the server answers long before
                if answer.done():
                    break
                writer.write(chunk)
                try:
                    await writer.drain()
                except OSError:
                    break
            tally.count(kind, await answer)
        except (OSError, ValueError, IndexError) as error:
            tally.errors[f"{kind} {type(error).__name__}"] += 1
            await asyncio.sleep(0.5)
        finally:
            if writer is not None:
                writer.close()
        await asyncio.sleep(0.2)


async def api_client(http: httpx.AsyncClient, headers: dict[str, str], tally: Tally, stop: asyncio.Event) -> None:
    ids: list[str] = []
    while not stop.is_set():
        roll = random.random()
        try:
            if roll < 0.3:
                response = await http.post(
                    "/v1/links", json={"url": f"https://example.com/{secrets.token_hex(4)}"}, headers=headers
                )
                if response.status_code == 201:
                    ids.append(response.json()["id"])
            elif roll < 0.6:
                response = await http.get("/v1/links", params={"limit": 20}, headers=headers)
            elif roll < 0.8:
                response = await http.get("/v1/tags", headers=headers)
            elif ids:
                response = await http.get(f"/v1/links/{random.choice(ids)}", headers=headers)
            else:
                continue
            tally.answered("api", response)
        except httpx.HTTPError as error:
            tally.errors[f"api {type(error).__name__}"] += 1


async def redirect_client(http: httpx.AsyncClient, slugs: list[str], tally: Tally, stop: asyncio.Event) -> None:
    headers = {"User-Agent": BROWSER}
    while not stop.is_set():
        try:
            response = await http.get(f"/{random.choice(slugs)}", headers=headers)
            tally.answered("redirect", response)
            if response.status_code == 302:
                tally.redirects += 1
        except httpx.HTTPError as error:
            tally.errors[f"redirect {type(error).__name__}"] += 1


async def health_probe(http: httpx.AsyncClient, tally: Tally, stop: asyncio.Event) -> None:
    while not stop.is_set():
        started = time.perf_counter()
        try:
            response = await http.get("/health")
            tally.answered("health", response)
            if response.status_code == 200:
                tally.health.append(time.perf_counter() - started)
        except httpx.HTTPError as error:
            tally.errors[f"health {type(error).__name__}"] += 1
        await asyncio.sleep(0.1)


async def burst(http: httpx.AsyncClient, headers: dict[str, str], size: int, tally: Tally) -> None:
    """`size` concurrent idempotent POSTs, then each replayed: the replay returns the first answer."""
    keys = [f"soak-{secrets.token_hex(8)}" for _ in range(size)]

    async def post(key: str) -> httpx.Response:
        return await http.post(
            "/v1/links", json={"url": f"https://example.com/burst/{key}"}, headers={**headers, "Idempotency-Key": key}
        )

    try:
        first = await asyncio.gather(*(post(key) for key in keys))
        again = await asyncio.gather(*(post(key) for key in keys))
    except httpx.HTTPError as error:
        tally.errors[f"burst {type(error).__name__}"] += 1
        return
    for one, two in zip(first, again, strict=True):
        tally.answered("burst", one)
        tally.answered("burst_replay", two)
        if one.status_code == 201 and (two.headers.get("idempotent-replayed") != "true" or two.json() != one.json()):
            tally.replay_mismatches += 1


async def bursts(
    http: httpx.AsyncClient, headers: dict[str, str], size: int, tally: Tally, stop: asyncio.Event
) -> None:
    while not stop.is_set():
        await burst(http, headers, size, tally)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=60)


def memory_peaks(root_pid: int) -> dict[str, int]:
    """VmHWM (peak resident memory, kB) of `mask serve` and its descendants, by pid and role."""
    peaks: dict[str, int] = {}
    pids = [root_pid]
    while pids:
        pid = pids.pop()
        try:
            status = Path(f"/proc/{pid}/status").read_text()
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            continue
        pids.extend(int(child) for child in children)
        hwm = next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:")), 0)
        if "spawn_main" in command:
            role = "http worker"
        elif "--parent-pid" in command:
            role = "background process"
        elif " serve " in command:
            role = "mask serve (the http worker)" if "--workers 1" in command else "mask serve (supervisor)"
        else:
            role = "helper"
        peaks[f"{pid} ({role})"] = hwm
    return peaks


@contextlib.contextmanager
def serve(database_url: str, port: int, workers: int, extra: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    journal = tempfile.mkdtemp(prefix="mask-soak-journal-")  # never ./var/clicks, which other servers share
    env = os.environ | {
        "MASK_DATABASE_URL": database_url,
        "MASK_LOG_LEVEL": "warning",
        "MASK_SHORT_DOMAIN": f"127.0.0.1:{port}",
        "MASK_CLICK_JOURNAL_DIR": journal,
        "MASK_TITLE_FETCH_ENABLED": "false",
        # Storing clicks yields to busy CPUs (up to 10 s a batch); on a machine busy with other work that only
        # delays the final count, which this run waits for.
        "MASK_CLICK_STORE_YIELD_SECONDS": "0",
        **extra,
    }
    mask = str(Path(sys.executable).with_name("mask"))
    process = subprocess.Popen([mask, "serve", "--port", str(port), "--workers", str(workers)], env=env)
    try:
        wait_until_healthy(f"http://127.0.0.1:{port}", process, timeout=300)  # a busy machine starts slowly
        yield process
    finally:
        process.terminate()
        process.wait(timeout=120)
        shutil.rmtree(journal, ignore_errors=True)


async def soak(
    args: argparse.Namespace, database_url: str, port: int, process: subprocess.Popen[bytes]
) -> dict[str, Any]:
    workspace_id, token = await seed(database_url)
    headers = {"Authorization": f"Bearer {token}"}
    tally = Tally()
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60, limits=limits) as http:
        slugs: list[str] = []
        for n in range(20):
            response = await http.post("/v1/links", json={"url": f"https://example.com/seed/{n}"}, headers=headers)
            response.raise_for_status()
            slugs.append(response.json()["slug"])
        stop = asyncio.Event()
        tasks = [
            *(asyncio.create_task(api_client(http, headers, tally, stop)) for _ in range(args.api_clients)),
            *(asyncio.create_task(redirect_client(http, slugs, tally, stop)) for _ in range(args.redirect_clients)),
            *(asyncio.create_task(slow_body(port, token, tally, stop)) for _ in range(args.slow_bodies)),
            *(asyncio.create_task(oversized(port, token, tally, stop)) for _ in range(args.oversized)),
            *(asyncio.create_task(oversized(port, None, tally, stop)) for _ in range(args.oversized)),
            asyncio.create_task(health_probe(http, tally, stop)),
            asyncio.create_task(bursts(http, headers, args.burst, tally, stop)),
        ]
        await asyncio.sleep(args.duration)
        stop.set()
        await asyncio.gather(*tasks)
    peaks = memory_peaks(process.pid)
    # The background process stores the last clicks within seconds; give it time, then compare.
    deadline = time.monotonic() + args.settle
    stored = await count_clicks(database_url, workspace_id)
    while stored < tally.redirects and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        stored = await count_clicks(database_url, workspace_id)
    return {
        "duration_seconds": args.duration,
        "health": {
            "answered": len(tally.health),
            "p50_ms": round(percentile(tally.health, 50) * 1000, 2),
            "p99_ms": round(percentile(tally.health, 99) * 1000, 2),
            "max_ms": round(max(tally.health, default=float("nan")) * 1000, 2),
        },
        "statuses": {kind: dict(sorted(counter.items())) for kind, counter in sorted(tally.statuses.items())},
        "connection_errors": dict(tally.errors),
        "five_hundreds": tally.five_hundreds(),
        "five_hundreds_by_code": dict(tally.server_errors),
        "replay_mismatches": tally.replay_mismatches,
        "memory_peak_kb": peaks,
        "redirects_answered": tally.redirects,
        "clicks_stored": stored,
    }


def problems(result: dict[str, Any]) -> list[str]:
    found = []
    if result["five_hundreds"]:
        found.append(f"{result['five_hundreds']} answers were 5xx")
    health = result["statuses"].get("health", {})
    health_failures = {kind: n for kind, n in result["connection_errors"].items() if kind.startswith("health ")}
    if not result["health"]["answered"] or set(health) != {200} or health_failures:
        found.append(f"/health did not always answer 200: {health} {health_failures}")
    for kind, expected in EXPECTED.items():
        seen = set(result["statuses"].get(kind, {}))
        if not seen or not seen <= expected:
            found.append(f"{kind} attackers got {result['statuses'].get(kind)}, expected only {sorted(expected)}")
    if result["replay_mismatches"]:
        found.append(f"{result['replay_mismatches']} idempotent replays differed from the first answer")
    if not set(result["statuses"].get("burst", {})) <= {201}:
        found.append(f"the idempotent burst got {result['statuses'].get('burst')}")
    if result["clicks_stored"] != result["redirects_answered"]:
        found.append(f"clicks stored {result['clicks_stored']} != redirects answered {result['redirects_answered']}")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=600.0, help="seconds of load (default 600)")
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--database-url", help="a migrated database to use instead of a throwaway one")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--api-clients", type=int, default=6)
    parser.add_argument("--redirect-clients", type=int, default=6)
    parser.add_argument("--slow-bodies", type=int, default=24)
    parser.add_argument("--oversized", type=int, default=2, help="attackers with a key, and as many without")
    parser.add_argument("--burst", type=int, default=40, help="concurrent idempotent POSTs per burst")
    parser.add_argument("--body-timeout", type=float, default=10.0, help="MASK_BODY_READ_TIMEOUT for the server")
    parser.add_argument("--settle", type=float, default=120.0, help="seconds to wait for the last clicks")
    parser.add_argument("--json", action="store_true", help="print the result as one JSON object")
    args = parser.parse_args()

    port = free_port()
    extra = {"MASK_BODY_READ_TIMEOUT": str(args.body_timeout)}
    with contextlib.ExitStack() as stack:
        database_url = args.database_url or stack.enter_context(throwaway_database(args.backend))
        process = stack.enter_context(serve(database_url, port, args.workers, extra))
        result = asyncio.run(soak(args, database_url, port, process))
    found = problems(result)
    result["problems"] = found
    if args.json:
        print(json.dumps(result))
    else:
        print(f"soak: {args.duration:g} s, mask serve --workers {args.workers}, {args.backend}, {os.cpu_count()} CPUs")
        health = result["health"]
        print(
            f"/health: {health['answered']} answered, p50 {health['p50_ms']} ms, p99 {health['p99_ms']} ms, "
            f"max {health['max_ms']} ms"
        )
        for kind, counts in result["statuses"].items():
            print(f"  {kind:<20} {counts}")
        print(f"connection errors: {result['connection_errors'] or 'none'}")
        print(f"5xx answers: {result['five_hundreds']} {result['five_hundreds_by_code'] or ''}")
        for name, peak in result["memory_peak_kb"].items():
            print(f"memory peak {name}: {peak / 1024:.0f} MB")
        print(f"clicks stored {result['clicks_stored']} == redirects answered {result['redirects_answered']}")
        print("OK" if not found else "PROBLEMS:\n  " + "\n  ".join(found))
    sys.exit(1 if found else 0)


if __name__ == "__main__":
    main()
