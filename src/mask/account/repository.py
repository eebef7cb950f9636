from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import Table, bindparam, case, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mask.db import UTCDateTime
from mask.db_dialect import dialect_insert
from mask.models.account import EmailToken, KnownNetwork, RecoveryCode, ThrottleCounter, User, UserSession


class UserRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, user_id: str) -> User | None:
        return await self.session.get(User, user_id)

    async def get_by_email(self, email: str) -> User | None:
        result = await self.session.execute(select(User).where(User.email == email))
        return result.scalar_one_or_none()

    def add(self, user: User) -> None:
        self.session.add(user)


class SessionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, session_id: str) -> UserSession | None:
        return await self.session.get(UserSession, session_id)

    def add(self, user_session: UserSession) -> None:
        self.session.add(user_session)

    async def delete(self, session_id: str) -> None:
        await self.session.execute(delete(UserSession).where(UserSession.id == session_id))

    async def delete_for_user(self, user_id: str, *, keep: str | None = None) -> None:
        statement = delete(UserSession).where(UserSession.user_id == user_id)
        if keep is not None:
            statement = statement.where(UserSession.id != keep)
        await self.session.execute(statement)

    async def delete_expired(self, now: datetime) -> None:
        await self.session.execute(delete(UserSession).where(UserSession.expires_at < now))


class ThrottleRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def take(self, key: str, *, limit: int, cutoff: datetime, now: datetime) -> bool:
        """Count one attempt for `key` if it is under `limit` in its window (a window that started at or before
        `cutoff` is over: it restarts at `now`). One statement, atomic: concurrent callers are serialised by the
        row (PostgreSQL re-checks the condition on the row it waited for; SQLite has one writer)."""
        table = cast(Table, ThrottleCounter.__table__)
        expired = table.c.window_start <= bindparam(None, cutoff, type_=UTCDateTime())
        at = bindparam(None, now, type_=UTCDateTime())
        statement = (
            dialect_insert(self.session, table)
            .values(key=key, window_start=now, count=1)
            .on_conflict_do_update(
                index_elements=["key"],
                set_={
                    "count": case((expired, 1), else_=table.c.count + 1),
                    "window_start": case((expired, at), else_=table.c.window_start),
                },
                where=or_(expired, table.c.count < limit),
            )
            .returning(table.c.count)
        )
        return (await self.session.execute(statement)).first() is not None

    async def refund(self, key: str) -> None:
        await self.session.execute(
            update(ThrottleCounter)
            .where(ThrottleCounter.key == key, ThrottleCounter.count > 0)
            .values(count=ThrottleCounter.count - 1)
        )

    async def window_start(self, key: str) -> datetime | None:
        result = await self.session.execute(select(ThrottleCounter.window_start).where(ThrottleCounter.key == key))
        return result.scalar_one_or_none()

    async def delete(self, keys: list[str]) -> None:
        if keys:
            await self.session.execute(delete(ThrottleCounter).where(ThrottleCounter.key.in_(keys)))

    async def delete_prefix(self, prefix: str) -> None:
        await self.session.execute(
            delete(ThrottleCounter).where(ThrottleCounter.key.startswith(prefix, autoescape=True))
        )

    async def purge_before(self, when: datetime) -> None:
        await self.session.execute(delete(ThrottleCounter).where(ThrottleCounter.window_start < when))


class KnownNetworkRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, user_id: str, prefix: str) -> KnownNetwork | None:
        return await self.session.get(KnownNetwork, (user_id, prefix))

    def add(self, network: KnownNetwork) -> None:
        self.session.add(network)


class EmailTokenRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, token: EmailToken) -> None:
        self.session.add(token)

    async def get_by_hash(self, token_hash: str, purpose: str) -> EmailToken | None:
        result = await self.session.execute(
            select(EmailToken).where(EmailToken.token_hash == token_hash, EmailToken.purpose == purpose)
        )
        return result.scalar_one_or_none()

    async def consume(self, token_id: str, *, now: datetime) -> bool:
        """Use an unused, unexpired token; False when it no longer is (one winner among concurrent uses)."""
        result = await self.session.execute(
            update(EmailToken)
            .where(EmailToken.id == token_id, EmailToken.used_at.is_(None), EmailToken.expires_at > now)
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def retire(self, user_id: str, purpose: str, *, now: datetime) -> None:
        """Use up every open token of a kind (a newer link, or the password changed)."""
        await self.session.execute(
            update(EmailToken)
            .where(EmailToken.user_id == user_id, EmailToken.purpose == purpose, EmailToken.used_at.is_(None))
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )

    async def purge_before(self, when: datetime) -> None:
        await self.session.execute(delete(EmailToken).where(EmailToken.expires_at < when))


class RecoveryCodeRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, code: RecoveryCode) -> None:
        self.session.add(code)

    async def delete_for(self, user_id: str) -> None:
        await self.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))

    async def count_unused(self, user_id: str) -> int:
        statement = select(func.count()).where(RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None))
        return int(await self.session.scalar(statement) or 0)

    async def use(self, user_id: str, code_hash: str, now: datetime) -> bool:
        """Use the code up, if it is the user's and unused: one conditional update, so it works once."""
        result = await self.session.execute(
            update(RecoveryCode)
            .where(RecoveryCode.user_id == user_id, RecoveryCode.code_hash == code_hash, RecoveryCode.used_at.is_(None))
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )
        return cast(int, getattr(result, "rowcount", 0)) == 1
