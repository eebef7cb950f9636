"""Recording's cost (or any two redirect configurations) without the machine's drift: servers side by side,
loaded in turn.

    .venv/bin/python bench/redirect_ab.py [--configs sqlite-off,sqlite] [--rounds 4] [--duration 8]
                                          [--connections 64] [--links 10000] [--warmup 6]

bench/redirect.py runs its configurations one after another, minutes apart, and this machine's speed drifts by
±15–20 % over minutes: recording's cost came out anywhere between −13 % and 19 % there. Here every configuration
is started, seeded and warmed first; then wrk loads each in turn for --duration seconds, --rounds times, the order
reversed every other round, so each round compares servers measured seconds apart. It prints requests/s and p99
per round, the CPU each kind of process used during each load (from /proc, summed over all the servers: HTTP
workers, background processes, redis-server, postgres; the idle servers use next to none), and each
configuration's mean ratio to the first. Configurations are bench/redirect.py's (bare, sqlite, sqlite-off,
postgres-redis, postgres-redis-worker, postgres-redis-off), and any of MASK's with `-rules` added: the same
server whose links all carry 5 targeting rules and 3 A/B variants that no request matches (bench/redirect.py's
RULES and VARIANTS: every click evaluates the five rules, then gets a variant). What a click gets costs
(issue 21, target ≤ 10 %):

    .venv/bin/python bench/redirect_ab.py --configs sqlite,sqlite-rules --rounds 4

Every request carries a browser's User-Agent, Accept and Accept-Language (bench/redirect.py's BROWSER_HEADERS),
in every configuration: wrk sends no User-Agent, and a click without one is a bot's, which skips the A/B hash.

It does not check the clicks stored (bench/redirect.py does): storing a few million clicks takes minutes.
The redirect cache's TTL is raised for the run: entries warmed together would otherwise expire together after
60 s and their refill would land in whichever configuration's turn it is.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from _common import throwaway_database

from mask.kit.ids import ALPHABET, random_string
from redirect import (
    BROWSER_HEADERS,
    REDIS_URL,
    WARM_SCRIPT,
    Result,
    lua_headers,
    parse_wrk,
    seed,
    serve_mask,
    throwaway_redis_prefix,
    write_script,
    wrk,
)

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_by_kind() -> Counter[str]:
    """CPU seconds used so far by the processes this bench cares about, by kind."""
    used: Counter[str] = Counter()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as stat_file:
                stat = stat_file.read()
            with open(f"/proc/{pid}/cmdline", "rb") as cmdline_file:
                command = cmdline_file.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        name = stat.split("(", 1)[1].rsplit(")", 1)[0]
        fields = stat.rsplit(")", 1)[1].split()
        if "spawn_main" in command:
            kind = "http workers"  # uvicorn's worker processes
        elif "mask worker" in command:
            kind = "background"  # `mask serve`'s background process or a `mask worker`
        elif name in ("redis-server", "postgres", "nginx"):
            kind = name
        else:
            continue
        used[kind] += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # type: ignore[assignment]  # utime + stime
    return used


def start(config: str, stack: ExitStack, directory: Path, slugs: list[str], args: argparse.Namespace) -> str:
    """Start, seed and warm one configuration; return its base URL (it stops when `stack` closes)."""
    ruled = config.endswith("-rules")  # the same server, its links with rules and variants
    config = config.removesuffix("-rules")
    recording = not config.endswith("-off") and config != "bare"
    env = {
        "MASK_RECORD_CLICKS": "true" if recording else "false",
        "MASK_ENV": "test",
        "BENCH_SLUGS_FILE": str(directory / "slugs.txt"),
        "MASK_REDIRECT_CACHE_TTL": "86400",
    }
    if "redis" in config:
        env |= {"MASK_REDIS_URL": REDIS_URL, "MASK_REDIS_PREFIX": f"mask-bench-{secrets.token_hex(4)}:"}
        stack.enter_context(throwaway_redis_prefix(env["MASK_REDIS_PREFIX"]))
    url = stack.enter_context(throwaway_database("postgres" if config.startswith("postgres") else "sqlite"))
    base = stack.enter_context(
        serve_mask(
            url,
            workers=2,
            extra_env=env,
            separate_worker=config.endswith("-worker"),
            app="bare" if config == "bare" else "mask",
        )
    )
    asyncio.run(seed(url, base.removeprefix("http://"), slugs, ruled=slugs if ruled else ()))
    # Each wrk thread stops after its walk (--warmup passes over every slug); wrk still waits out the duration,
    # so the duration is sized for about 10,000 requests/s. A slower start (a loaded machine, links whose rules
    # are compiled at cache fill) would leave part of the cache cold for the first round: walk again then.
    walk = 2 * args.warmup * len(slugs)
    for _ in range(3):
        warm = parse_wrk(
            "warm-up", wrk(base, directory / "warm.lua", duration=5 + walk / 10_000, connections=args.connections)
        )
        if warm.requests >= walk:
            break
        print(f"{config}{'-rules' if ruled else ''}: warm-up walked {warm.requests} of {walk}; again", flush=True)
    return base


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--configs", default="sqlite-off,sqlite")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--duration", type=float, default=8.0)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--links", type=int, default=10_000)
    parser.add_argument("--warmup", type=int, default=6, help="passes over every slug per wrk thread, with HEAD")
    args = parser.parse_args()
    configs = [config.strip() for config in args.configs.split(",") if config.strip()]
    if "bare-rules" in configs:
        sys.exit("bare-rules: the bare callable has no links to give rules")
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: `bash scripts/debian-packages.sh wrk`")
    slugs = sorted({random_string(7, ALPHABET) for _ in range(args.links)})
    print(
        f"{len(slugs)} links, wrk -t2 -c{args.connections} -d{args.duration:g}s per turn, {args.rounds} rounds; "
        f"configurations side by side: {', '.join(configs)}",
        flush=True,
    )
    results: dict[str, list[Result]] = {config: [] for config in configs}
    worker_us: dict[str, list[float]] = {config: [] for config in configs}  # CPU per request, HTTP workers only
    with tempfile.TemporaryDirectory(prefix="mask-bench-ab-") as temp, ExitStack() as stack:
        directory = Path(temp)
        (directory / "slugs.txt").write_text("\n".join(slugs))
        (directory / "warm.lua").write_text(
            lua_headers(BROWSER_HEADERS)
            + WARM_SCRIPT.format(slugs=", ".join(f'"{slug}"' for slug in slugs), passes=args.warmup)
        )
        get_script = write_script(directory, slugs, "GET", BROWSER_HEADERS)
        bases = {config: start(config, stack, directory, slugs, args) for config in configs}
        time.sleep(3)
        for round_number in range(args.rounds):
            for config in configs if round_number % 2 == 0 else configs[::-1]:
                before = cpu_by_kind()
                result = parse_wrk(
                    config, wrk(bases[config], get_script, duration=args.duration, connections=args.connections)
                )
                used = cpu_by_kind() - before
                results[config].append(result)
                worker_us[config].append(used["http workers"] / max(1, result.requests) * 1e6)
                cores = "  ".join(
                    f"{kind} {seconds / args.duration:.2f}"
                    for kind, seconds in used.most_common()
                    if seconds / args.duration >= 0.01
                )
                print(
                    f"round {round_number + 1} {config:<24} {result.rps:>9.0f} req/s  p99 {result.p99_ms:6.2f} ms"
                    f"  {worker_us[config][-1]:5.1f} µs of HTTP workers' CPU per request  cores: {cores}",
                    flush=True,
                )
                time.sleep(2)  # let the background processes have their pause
    first = configs[0]
    print(f"\nmean req/s, and the ratio to {first} round by round")
    for config, runs in results.items():
        ratios = [run.rps / base.rps for run, base in zip(runs, results[first], strict=True)]
        print(
            f"{config:<24} {statistics.fmean(run.rps for run in runs):>9.0f} req/s  "
            f"ratio {statistics.fmean(ratios):.3f} (" + " ".join(f"{ratio:.3f}" for ratio in ratios) + ")"
            f"  p99 max {max(run.p99_ms for run in runs):.2f} ms"
        )
    # The HTTP workers' CPU per request is what a configuration costs the worker itself; on a shared machine it
    # moves less than req/s (other processes take wall time, not this CPU), so it is a check on the ratio above.
    print(f"\nmean µs of the HTTP workers' CPU per request, and the ratio to {first} round by round")
    for config, values in worker_us.items():
        ratios = [value / base for value, base in zip(values, worker_us[first], strict=True)]
        print(
            f"{config:<24} {statistics.fmean(values):>7.1f} µs  "
            f"ratio {statistics.fmean(ratios):.3f} (" + " ".join(f"{ratio:.3f}" for ratio in ratios) + ")"
        )


if __name__ == "__main__":
    main()
