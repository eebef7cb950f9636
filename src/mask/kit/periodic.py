"""A background pass run every `interval` seconds (the retention services): start, stop, and a failed pass
logged without stopping the next."""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod

logger = logging.getLogger("mask")


class PeriodicPass(ABC):
    """Runs `run_once` now and then every `interval` seconds until stopped. `name` names the task and the log
    lines; `done` is the log line of a pass that did something (`%d`: what `run_once` returned)."""

    name: str
    done: str

    def __init__(self, *, interval: float) -> None:
        self.interval = interval
        self._task: asyncio.Task[None] | None = None

    @abstractmethod
    async def run_once(self) -> int:
        """One pass; how many things it did."""

    async def _run(self) -> None:
        while True:
            try:
                count = await self.run_once()
                if count:
                    logger.info(self.done, count)
            except Exception:
                logger.exception("%s pass failed", self.name)
            await asyncio.sleep(self.interval)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
