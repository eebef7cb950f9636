"""Waiting for something to happen, without asserting how fast a shared machine happens to be.

The deadline only ends a test that would otherwise hang; it is generous on purpose. A test that must show that
something happened *because of* a mechanism (a Redis message, a wake-up) makes every other explanation impossible
within the deadline (a cache TTL or poll interval far longer than it), never a short deadline.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import pytest

DEADLINE = 60.0


async def eventually(
    check: Callable[[], Awaitable[bool]] | Callable[[], bool], *, message: str, within: float = DEADLINE
) -> None:
    """Poll `check` (sync or async) until it holds; fail the test after `within` seconds."""
    deadline = time.monotonic() + within
    while True:
        result = check()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            pytest.fail(f"{message} did not happen within {within} s")
        await asyncio.sleep(0.02)
