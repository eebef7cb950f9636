from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from mask.db import keyset
from mask.models.audit import AuditEntry


class AuditRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def list_page(
        self,
        workspace_id: str,
        *,
        limit: int,
        after: tuple[datetime, str] | None,
        action: str | None,
        actor_id: str | None,
    ) -> list[AuditEntry]:
        statement = select(AuditEntry).where(AuditEntry.workspace_id == workspace_id)
        if action is not None:
            statement = (
                statement.where(AuditEntry.action.startswith(action, autoescape=True))
                if action.endswith(".")
                else statement.where(AuditEntry.action == action)
            )
        if actor_id is not None:
            statement = statement.where(AuditEntry.actor_id == actor_id)
        if after is not None:
            statement = statement.where(tuple_(AuditEntry.at, AuditEntry.id) < keyset(after))
        statement = statement.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)
        return list((await self.session.execute(statement)).scalars())

    async def purge_before(self, when: datetime) -> int:
        result = await self.session.execute(delete(AuditEntry).where(AuditEntry.at < when))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
