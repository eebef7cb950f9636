"""CpuGate: background work waits while other processes keep every CPU busy, never longer than its bound.

The gate's decisions are tested against readings and a clock the test controls (a busy shared machine cannot
change them); one test reads the real /proc/stat and checks only that a share comes out of it.
"""

from __future__ import annotations

import pytest

from mask.kit.cpu import TICKS_PER_SECOND, CpuGate, Sample, parse_cpu_line
from tests.load import needs_proc_stat

CPUS = 2


class Machine:
    """A fake machine: a clock that moves only when the gate sleeps, and /proc/stat readings whose other
    processes use `others` of the CPU time this one leaves."""

    def __init__(self, others: float) -> None:
        self.others = others
        self.now = 0.0
        self.busy = 0.0
        self.total = 0.0
        self.sleeps = 0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps += 1
        self.now += seconds
        ticks = seconds * TICKS_PER_SECOND * CPUS
        self.total += ticks
        self.busy += ticks * self.others  # this process itself uses nothing here

    def sample(self) -> Sample:
        return int(self.busy), int(self.total), 0.0

    def gate(self, longest: float) -> CpuGate:
        return CpuGate(longest=longest, sample=self.sample, clock=self.clock, sleep=self.sleep)


def test_the_first_line_of_proc_stat_gives_busy_and_total_jiffies() -> None:
    # user nice system idle iowait irq softirq steal guest guest_nice: iowait is idle, guest is in user already
    assert parse_cpu_line("cpu  100 5 30 800 40 2 3 20 7 0\ncpu0 50 2 15 400 20 1 1 10 3 0\n") == (160, 1000)
    assert parse_cpu_line("cpu 1 0 1 8\n") == (2, 10)  # old kernels: four fields
    with pytest.raises(ValueError):
        parse_cpu_line("intr 1 2 3\n")


async def test_it_waits_while_other_processes_fill_every_cpu_but_not_past_its_bound() -> None:
    machine = Machine(others=1.0)
    gate = machine.gate(longest=3.0)
    waited = await gate.wait()
    assert 3.0 <= waited < 3.0 + 0.5  # the bound, give or take the one sample that crossed it
    assert gate.waited == waited


async def test_it_goes_ahead_at_once_when_the_cpus_have_room() -> None:
    machine = Machine(others=0.3)
    assert await machine.gate(longest=30.0).wait() <= 0.25  # one sample, then on its way
    assert machine.sleeps == 1


async def test_it_stops_waiting_when_told_to() -> None:
    machine = Machine(others=1.0)
    gate = machine.gate(longest=30.0)
    assert await gate.wait(give_up=lambda: machine.now >= 1.0) < 1.5


async def test_a_bound_of_zero_never_waits() -> None:
    machine = Machine(others=1.0)
    assert await machine.gate(longest=0).wait() == 0.0
    assert machine.sleeps == 0


@needs_proc_stat
async def test_this_machines_proc_stat_gives_a_share() -> None:
    share = await CpuGate(longest=1.0).others_share()
    assert share is not None and 0.0 <= share <= 1.0


async def test_after_pausing_its_bound_it_waits_no_more_until_the_waiter_has_caught_up() -> None:
    machine = Machine(others=1.0)
    gate = machine.gate(longest=3.0)
    assert await gate.wait() >= 3.0
    assert [await gate.wait() for _ in range(5)] == [0.0] * 5  # still behind: no pause at all
    gate.caught_up()
    assert await gate.wait() >= 3.0  # nothing was left to do: the next burst may hold it back again


async def test_under_load_that_never_lets_up_the_lag_of_storing_stays_bounded() -> None:
    """A click store that takes `batch` clicks per go at 10,000 clicks/s, fed 2,000 clicks/s, beside other
    processes that keep every CPU busy for ten minutes: the oldest click waiting is never older than the
    gate's bound plus the time to store what arrived during the pause (with a pause of up to the bound before
    every batch, it would store 500 clicks per 10 s and fall behind without end)."""
    machine = Machine(others=1.0)
    longest, arriving, storing, batch = 10.0, 2_000.0, 10_000.0, 500
    gate = machine.gate(longest=longest)
    backlog, worst = 0.0, 0.0

    async def elapse(seconds: float) -> None:
        nonlocal backlog
        backlog += seconds * arriving
        await machine.sleep(seconds)

    gate._sleep = elapse  # the gate's own pauses let clicks arrive too
    while machine.now < 600.0:
        await gate.wait()
        if backlog < 1:
            gate.caught_up()
            await elapse(0.1)  # the poll interval
            continue
        worst = max(worst, backlog / arriving)  # first in, first out: the age of the oldest click waiting
        taken = min(batch, backlog)
        await elapse(taken / storing)
        backlog -= taken
    bound = longest + longest * arriving / (storing - arriving)
    assert worst <= bound + 1.0  # plus a sample of the CPUs and a batch
    assert worst >= longest  # it did hold storing back for its bound
