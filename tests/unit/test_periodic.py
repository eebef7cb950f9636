"""mask.kit.periodic: a pass runs at once and every interval; a failed pass is logged and the next runs."""

from __future__ import annotations

import asyncio
import logging

import pytest

from mask.kit.periodic import PeriodicPass


class Counting(PeriodicPass):
    name = "counting"
    done = "counting: %d done"

    def __init__(self) -> None:
        super().__init__(interval=0.01)
        self.calls = 0

    async def run_once(self) -> int:
        self.calls += 1
        if self.calls == 1:
            raise RuntimeError("the first pass fails")
        return self.calls


async def test_a_failed_pass_is_logged_and_the_next_runs_until_stopped(caplog: pytest.LogCaptureFixture) -> None:
    service = Counting()
    with caplog.at_level(logging.INFO, logger="mask"):
        await service.start()
        for _ in range(500):
            if service.calls >= 3:
                break
            await asyncio.sleep(0.01)
        await service.stop()
    assert service.calls >= 3
    assert "counting pass failed" in caplog.text and "counting: 2 done" in caplog.text
    stopped_at = service.calls
    await asyncio.sleep(0.05)
    assert service.calls == stopped_at  # stopped: no pass after stop()
    await service.stop()  # stopping twice is harmless
