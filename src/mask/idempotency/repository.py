from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mask.db_dialect import insert_ignore
from mask.models.idempotency import IdempotencyRecord


class IdempotencyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, owner: str, key: str) -> IdempotencyRecord | None:
        result = await self.session.execute(
            select(IdempotencyRecord).where(IdempotencyRecord.owner == owner, IdempotencyRecord.key == key)
        )
        return result.scalar_one_or_none()

    async def claim(self, owner: str, key: str, request_hash: str, now: datetime) -> bool:
        """Insert a pending record; False if one exists already (another request got there first)."""
        statement = insert_ignore(
            self.session,
            IdempotencyRecord.__table__,  # type: ignore[arg-type]
            [{"owner": owner, "key": key, "request_hash": request_hash, "created_at": now}],
            conflict=["owner", "key"],
        )
        result = await self.session.execute(statement)
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def take_over_abandoned(
        self, owner: str, key: str, request_hash: str, now: datetime, pending_since: datetime
    ) -> bool:
        """Claim a record still pending since before `pending_since`: its request died (a crash, a lost
        connection to the database) without completing or releasing it. True if this request now holds it."""
        result = await self.session.execute(
            update(IdempotencyRecord)
            .where(
                IdempotencyRecord.owner == owner,
                IdempotencyRecord.key == key,
                IdempotencyRecord.status_code.is_(None),
                IdempotencyRecord.created_at < pending_since,
            )
            .values(request_hash=request_hash, created_at=now)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def complete(self, owner: str, key: str, status_code: int, body: str) -> None:
        await self.session.execute(
            update(IdempotencyRecord)
            .where(IdempotencyRecord.owner == owner, IdempotencyRecord.key == key)
            .values(status_code=status_code, response_body=body)
        )

    async def release(self, owner: str, key: str) -> None:
        await self.session.execute(
            delete(IdempotencyRecord).where(IdempotencyRecord.owner == owner, IdempotencyRecord.key == key)
        )

    async def purge_older_than(self, cutoff: datetime) -> None:
        await self.session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.created_at < cutoff))
