"""Whether other processes keep every CPU busy: background work waits for a burst of traffic to pass.

Linux only (/proc/stat); elsewhere nothing ever waits. The share counts every CPU of the machine (or of the
container, when /proc is virtualised for it): of the CPU time this process did not use, how much others did.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

PROC_STAT = Path("/proc/stat")
TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
SAMPLE_SECONDS = 0.25  # with 100 ticks a second, 50 ticks on 2 CPUs: one tick is 2 %
MAX_WINDOW_SECONDS = 2.0  # an older previous look says little about now: sample afresh


def parse_cpu_line(stat: str) -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs from /proc/stat's first line; iowait counts as idle, steal as busy."""
    fields = stat.split("\n", 1)[0].split()
    if not fields or fields[0] != "cpu":
        raise ValueError("not /proc/stat")
    user, nice, system, idle, iowait, irq, softirq, steal = (int(value) for value in (fields[1:9] + ["0"] * 8)[:8])
    total = user + nice + system + idle + iowait + irq + softirq + steal
    return total - idle - iowait, total


Sample = tuple[int, int, float]  # busy and total jiffies of all CPUs, this process's own CPU time in jiffies


def read_proc_stat() -> Sample | None:
    """This moment's Sample from /proc/stat, or None where there is none (not Linux)."""
    try:
        busy, total = parse_cpu_line(PROC_STAT.read_text())
    except (OSError, ValueError):
        return None
    return busy, total, time.process_time() * TICKS_PER_SECOND


class CpuGate:
    """Wait while other processes use more than `busy_share` of the CPU time this one leaves, up to a bound.

    The bound is on how far the waiter can fall behind, not on each wait: from its first pause after it last
    caught up (`caught_up()`: nothing left to do), it pauses `longest` seconds in all; after that every wait
    returns at once until it catches up again. So under a load that never lets up, background work
    (storing clicks) is held back once by at most `longest`, then runs flat out until it has caught up:
    its lag is at most `longest` plus the time to store what arrived meanwhile, instead of growing without
    end, as a pause of up to `longest` before every batch would let it.
    """

    def __init__(
        self,
        *,
        busy_share: float = 0.8,
        longest: float,
        sample: Callable[[], Sample | None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.busy_share = busy_share
        self.longest = longest
        self.waited = 0.0  # seconds spent waiting in all (health, tests)
        self._behind_since: float | None = None  # the first pause since the waiter last caught up
        self._last: Sample | None = None  # the previous sample: the share since then is known
        # Where readings and time come from: /proc/stat and the real clock, or a test's own.
        self._sample = sample or read_proc_stat
        self._clock = clock
        self._sleep = sleep

    @staticmethod
    def _seconds_between(before: Sample, after: Sample) -> float:
        return (after[1] - before[1]) / (TICKS_PER_SECOND * (os.cpu_count() or 1))

    async def others_share(self) -> float | None:
        """Share of the CPU time this process left that other processes used, since the previous look (if it
        was recent enough to say, else over the next SAMPLE_SECONDS); None where unknown. Near 1: no CPU idles
        while others have work, and what this process takes, they wait for."""
        before, after = self._last, self._sample()
        if after is None:
            return None
        if before is None or not SAMPLE_SECONDS / 2 <= self._seconds_between(before, after) <= MAX_WINDOW_SECONDS:
            await self._sleep(SAMPLE_SECONDS)
            before, after = after, self._sample()
            if after is None:
                return None
        self._last = after
        own = after[2] - before[2]
        left = (after[1] - before[1]) - own  # what this process did not use
        if left <= 0:
            return None
        return min(1.0, max(0.0, ((after[0] - before[0]) - own) / left))

    def caught_up(self) -> None:
        """The waiter has nothing left to do: its next wait may pause a full `longest` again."""
        self._behind_since = None

    async def wait(self, *, give_up: Callable[[], bool] = lambda: False) -> float:
        """Return once the CPUs have room, once the waiter has paused `longest` seconds since it last caught
        up, or when `give_up()`; the seconds waited."""
        if self.longest <= 0:
            return 0.0
        started = self._clock()
        while not give_up():
            if self._behind_since is not None and self._clock() >= self._behind_since + self.longest:
                break  # paused long enough since it last caught up: on its way until it catches up again
            share = await self.others_share()
            if share is None or share < self.busy_share:
                break
            if self._behind_since is None:
                self._behind_since = started
        waited = self._clock() - started
        self.waited += waited
        return waited
