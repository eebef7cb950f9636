from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mask.models.mail import OutboxMail


class MailRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def claim_next(self, *, now: datetime, lease: timedelta) -> OutboxMail | None:
        """The oldest due mail, leased to this caller (its next attempt moved `lease` ahead); None when none is due.
        A conditional update: of two processes claiming one mail, one gets it."""
        while True:
            mail_id = await self.session.scalar(
                select(OutboxMail.id)
                .where(OutboxMail.sent_at.is_(None), OutboxMail.failed_at.is_(None), OutboxMail.next_attempt_at <= now)
                .order_by(OutboxMail.next_attempt_at)
                .limit(1)
            )
            if mail_id is None:
                return None
            result = await self.session.execute(
                update(OutboxMail)
                .where(OutboxMail.id == mail_id, OutboxMail.sent_at.is_(None), OutboxMail.next_attempt_at <= now)
                .values(next_attempt_at=now + lease)
                .execution_options(synchronize_session=False)
            )
            if result.rowcount == 1:  # type: ignore[attr-defined]
                return await self.session.get(OutboxMail, mail_id)

    async def mark_sent(self, mail_id: str, *, now: datetime) -> None:
        await self.session.execute(
            update(OutboxMail).where(OutboxMail.id == mail_id).values(sent_at=now, text="", html="", last_error=None)
        )

    async def mark_failed(self, mail_id: str, *, attempts: int, error: str, retry_at: datetime, give_up: bool) -> None:
        values: dict[str, object] = {"attempts": attempts, "last_error": error, "next_attempt_at": retry_at}
        if give_up:
            values.update(failed_at=retry_at, text="", html="")
        await self.session.execute(update(OutboxMail).where(OutboxMail.id == mail_id).values(**values))

    async def purge_before(self, when: datetime) -> None:
        await self.session.execute(
            delete(OutboxMail).where(or_(OutboxMail.sent_at < when, OutboxMail.failed_at < when))
        )

    async def recent_to(self, address: str, *, since: datetime) -> list[OutboxMail]:
        result = await self.session.execute(
            select(OutboxMail)
            .where(OutboxMail.to_address == address, OutboxMail.created_at >= since)
            .order_by(OutboxMail.created_at)
        )
        return list(result.scalars())
