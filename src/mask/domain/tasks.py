"""The domain checker: a background service that re-checks domains when they are due.

Pending claims are checked with backoff (2 min, 4, 8, … 6 h) for MASK_DOMAIN_PENDING_WINDOW (7 days), then
marked failed; verified ones every MASK_DOMAIN_RECHECK_INTERVAL (a day), hourly while their record is missing,
and back to pending once it has been missing for MASK_DOMAIN_GRACE_PERIOD. Each pass reads the due claims, looks
them up (no database connection is held while the DNS answers), then applies each result in a transaction of its
own, only if nobody checked that claim meanwhile (several background processes may run).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mask.config import Settings
from mask.db import session_scope
from mask.domain import service as domain_service
from mask.domain import verification
from mask.domain.dns import Dns
from mask.domain.repository import DomainRepository
from mask.kit.time import as_utc, utcnow

logger = logging.getLogger("mask.domain")

BATCH = 50  # claims per pass
CONCURRENT_LOOKUPS = 8
POLL_INTERVAL = 30.0  # seconds between looks when nothing is due sooner (a new claim wakes the checker here)


@dataclass(frozen=True, slots=True)
class _Due:
    id: str
    domain: str
    token: str
    next_check_at: datetime | None


class DomainChecker:
    def __init__(
        self,
        *,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
        dns: Dns,
        poll_interval: float = POLL_INTERVAL,
    ) -> None:
        self.settings = settings
        self.sessionmaker = sessionmaker
        self.dns = dns
        self.poll_interval = poll_interval
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        """Look for due claims now (a claim was just added in this process)."""
        self._wake.set()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="mask-domain-checker")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _loop(self) -> None:
        while True:
            self._wake.clear()
            try:
                checked = await self.run_once()
            except Exception:
                logger.exception("domain checks failed; trying again later")
                checked = 0
            if checked >= BATCH:
                continue  # more are due
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(await self._pause()):
                    await self._wake.wait()

    async def _pause(self) -> float:
        try:
            async with session_scope(self.sessionmaker) as session:
                due = await DomainRepository(session).next_due_at()
        except Exception:
            return self.poll_interval
        if due is None:
            return self.poll_interval
        return min(max((as_utc(due) - utcnow()).total_seconds(), 0.0), self.poll_interval)

    async def run_once(self, now: datetime | None = None) -> int:
        """Check every claim due at `now` (up to BATCH); how many were checked."""
        now = now or utcnow()
        async with session_scope(self.sessionmaker) as session:
            repository = DomainRepository(session)
            due = []
            for domain_id in await repository.due(now, limit=BATCH):
                domain = await repository.get_by_id(domain_id)
                if domain is not None:
                    due.append(_Due(domain.id, domain.domain, domain.verification_token, domain.next_check_at))
        gate = asyncio.Semaphore(CONCURRENT_LOOKUPS)

        async def look(claim: _Due) -> verification.CheckResult:
            async with gate:
                return await verification.check(self.dns, self.settings, domain=claim.domain, token=claim.token)

        results = await asyncio.gather(*(look(claim) for claim in due))
        for claim, result in zip(due, results, strict=True):
            async with session_scope(self.sessionmaker) as session:
                domain = await DomainRepository(session).get_by_id(claim.id)
                if domain is None or domain.next_check_at != claim.next_check_at:
                    continue  # removed, or checked by someone else meanwhile
                await domain_service.apply_check(
                    session, settings=self.settings, domain=domain, result=result, now=now, manual=False
                )
        return len(due)
