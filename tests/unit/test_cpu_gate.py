"""CpuGate: background work waits while other processes keep every CPU busy, never longer than its bound."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from mask.kit.cpu import CpuGate, parse_cpu_line
from tests.load import every_cpu_busy, needs_proc_stat


def test_the_first_line_of_proc_stat_gives_busy_and_total_jiffies() -> None:
    # user nice system idle iowait irq softirq steal guest guest_nice: iowait is idle, guest is in user already
    assert parse_cpu_line("cpu  100 5 30 800 40 2 3 20 7 0\ncpu0 50 2 15 400 20 1 1 10 3 0\n") == (160, 1000)
    assert parse_cpu_line("cpu 1 0 1 8\n") == (2, 10)  # old kernels: four fields
    with pytest.raises(ValueError):
        parse_cpu_line("intr 1 2 3\n")


@pytest.fixture
def busy() -> Iterator[None]:
    with every_cpu_busy():
        yield


@needs_proc_stat
async def test_it_waits_while_other_processes_fill_every_cpu_but_not_past_its_bound(busy: None) -> None:
    gate = CpuGate(longest=1.0)
    started = time.monotonic()
    waited = await gate.wait()
    assert 0.9 <= waited <= time.monotonic() - started < 2.0
    share = await gate.others_share()
    assert share is not None and share >= gate.busy_share


@needs_proc_stat
async def test_it_stops_waiting_when_told_to(busy: None) -> None:
    gate = CpuGate(longest=30.0)
    deadline = time.monotonic() + 0.5
    assert await gate.wait(give_up=lambda: time.monotonic() >= deadline) < 1.5


async def test_a_bound_of_zero_never_waits() -> None:
    assert await CpuGate(longest=0).wait() == 0.0
