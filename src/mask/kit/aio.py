"""Small asyncio helpers shared by the background loops."""

from __future__ import annotations

import asyncio
import contextlib


async def wait_for_wake(wake: asyncio.Event, seconds: float) -> None:
    """Sleep until `wake` is set or `seconds` have passed, whichever comes first; leave `wake` cleared."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await wake.wait()
    wake.clear()
