"""Reading the audit log (its entries are written by mask.audit, in the transactions of the changes)."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mask.audit_log.repository import AuditRepository
from mask.db import session_scope
from mask.kit.pagination import decode_cursor, encode_cursor
from mask.kit.periodic import PeriodicPass
from mask.kit.time import utcnow
from mask.models.audit import AuditEntry

logger = logging.getLogger("mask.audit")


async def list_page(
    session: AsyncSession,
    *,
    workspace_id: str,
    limit: int,
    cursor: str | None,
    action: str | None = None,
    actor_id: str | None = None,
) -> tuple[list[AuditEntry], str | None]:
    """A page of the workspace's entries, newest first, and the next page's cursor. `action`: one action
    (`link.created`) or, ending with a dot, a family (`member.`)."""
    after = decode_cursor(cursor) if cursor else None
    rows = await AuditRepository(session).list_page(
        workspace_id, limit=limit + 1, after=after, action=action, actor_id=actor_id
    )
    if len(rows) > limit:
        rows = rows[:limit]
        return rows, encode_cursor(rows[-1].at, rows[-1].id)
    return rows, None


async def purge(session: AsyncSession, *, retention_days: int) -> int:
    """Delete the entries older than the retention; how many."""
    return await AuditRepository(session).purge_before(utcnow() - timedelta(days=retention_days))


class AuditRetention(PeriodicPass):
    """A background service: every `interval` seconds, entries older than MASK_AUDIT_RETENTION_DAYS go."""

    name = "audit retention"
    done = "audit log: %d entries past retention removed"

    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession], *, retention_days: int, interval: float = 3600.0
    ) -> None:
        super().__init__(interval=interval)
        self.sessionmaker = sessionmaker
        self.retention_days = retention_days

    async def run_once(self) -> int:
        async with session_scope(self.sessionmaker) as session:
            return await purge(session, retention_days=self.retention_days)
