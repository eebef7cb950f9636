from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mask.models.account import LoginFailure, User, UserSession


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


class LoginFailureRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def count_since(self, keys: list[str], since: datetime) -> dict[str, tuple[int, datetime | None]]:
        """Per key: failures since `since` and the oldest of them (when the window starts to free up)."""
        result = await self.session.execute(
            select(LoginFailure.key, func.count(), func.min(LoginFailure.failed_at))
            .where(LoginFailure.key.in_(keys), LoginFailure.failed_at >= since)
            .group_by(LoginFailure.key)
        )
        return {key: (int(count), oldest) for key, count, oldest in result.all()}

    async def add(self, keys: list[str], when: datetime) -> None:
        self.session.add_all([LoginFailure(key=key, failed_at=when) for key in keys])
        await self.session.flush()

    async def clear(self, key: str) -> None:
        await self.session.execute(delete(LoginFailure).where(LoginFailure.key == key))

    async def purge_before(self, when: datetime) -> None:
        await self.session.execute(delete(LoginFailure).where(LoginFailure.failed_at < when))
