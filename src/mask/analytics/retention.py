"""MASK_CLICK_RETENTION_DAYS: raw clicks older than N days are dropped, in bounded batches, by the background
process; the rollups stay, so totals, time series and the breakdowns the rollups answer keep those days.

What needs the raw clicks no longer has them for those days: the click events (`GET /v1/analytics/events` and
its exports), breakdowns answered from raw clicks only (two dimensions at once, e.g. `country=US` with
`group_by=devices`; a bio page's blocks filtered by a dimension), the sub-hour edges of a range (a range that
starts at 13:17 reads 13:17–14:00 from raw clicks), and rebuilding rollups (which would recompute unique visitors
from raw clicks and so wipe those days: `mask clicks rebuild-rollups` stops at the retention mark).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mask.analytics.planner import floor_grain
from mask.analytics.repository import SqlClickStore
from mask.db import session_scope
from mask.kit.periodic import PeriodicPass
from mask.kit.time import utcnow
from mask.models.analytics import Grain

logger = logging.getLogger("mask")

BATCH = 5000  # raw clicks per transaction: a pass never holds locks (or SQLite's write lock) for long
ORPHAN_SWEEP_EVERY = 24  # passes (hours) between two looks for clicks of deleted workspaces; the first pass looks


def cutoff(now: datetime, retention_days: int) -> datetime:
    """The start of the oldest UTC day kept whole: clicks before it go. Whole days, so that a day's rollups are
    either rebuildable from raw clicks or not, never half."""
    return floor_grain(now - timedelta(days=retention_days), Grain.day)


class ClickRetention(PeriodicPass):
    """A background service: every `interval` seconds, raw clicks older than MASK_CLICK_RETENTION_DAYS go."""

    name = "click retention"
    done = "clicks: %d raw clicks past MASK_CLICK_RETENTION_DAYS dropped"

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        retention_days: int,
        batch_size: int = BATCH,
        interval: float = 3600.0,
    ) -> None:
        super().__init__(interval=interval)
        self.sessionmaker = sessionmaker
        self.retention_days = retention_days
        self.batch_size = batch_size
        self._passes = 0

    async def run_once(self, now: datetime | None = None) -> int:
        """One pass: the mark first (in its own transaction, so that no rebuild touches a day once any of its
        clicks may be gone), then each workspace's old clicks a batch per transaction; how many went."""
        before = cutoff(now or utcnow(), self.retention_days)
        async with session_scope(self.sessionmaker) as session:
            store = SqlClickStore(session)
            await store.mark_dropped_before(before)
            workspaces = await store.workspace_ids()
            if self._passes % ORPHAN_SWEEP_EVERY == 0:
                # Deleted workspaces' clicks too (they stay in the clicks table): reading every workspace id of
                # the clicks costs a scan of an index, so once a day rather than every hour.
                workspaces = sorted(set(workspaces) | set(await store.click_workspaces()))
        self._passes += 1
        removed = 0
        for workspace_id in workspaces:
            while True:
                async with session_scope(self.sessionmaker) as session:
                    dropped = await SqlClickStore(session).drop_raw_before(workspace_id, before, limit=self.batch_size)
                removed += dropped
                if dropped < self.batch_size:
                    break
                await asyncio.sleep(0)  # click batches and webhooks get the database between batches
        return removed
