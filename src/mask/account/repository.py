from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mask.models.account import Invite, LoginFailure, Membership, User, UserSession
from mask.models.workspace import Workspace


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


class MembershipRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, workspace_id: str, user_id: str) -> Membership | None:
        return await self.session.get(Membership, (workspace_id, user_id))

    async def workspace_for(self, user_id: str, workspace_slug: str) -> tuple[Workspace, Membership] | None:
        result = await self.session.execute(
            select(Workspace, Membership)
            .join(Membership, Membership.workspace_id == Workspace.id)
            .where(Workspace.slug == workspace_slug, Membership.user_id == user_id)
        )
        row = result.first()
        return None if row is None else (row[0], row[1])

    async def workspaces_of(self, user_id: str) -> list[tuple[Workspace, Membership]]:
        result = await self.session.execute(
            select(Workspace, Membership)
            .join(Membership, Membership.workspace_id == Workspace.id)
            .where(Membership.user_id == user_id)
            .order_by(Membership.created_at, Workspace.slug)
        )
        return [(workspace, membership) for workspace, membership in result.all()]

    async def members_of(self, workspace_id: str) -> list[tuple[User, Membership]]:
        result = await self.session.execute(
            select(User, Membership)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.workspace_id == workspace_id)
            .order_by(Membership.created_at, User.email)
        )
        return [(user, membership) for user, membership in result.all()]

    async def count_owners(self, workspace_id: str) -> int:
        result = await self.session.execute(
            select(func.count())
            .select_from(Membership)
            .where(Membership.workspace_id == workspace_id, Membership.role == "owner")
        )
        return int(result.scalar_one())

    def add(self, membership: Membership) -> None:
        self.session.add(membership)

    async def delete(self, membership: Membership) -> None:
        await self.session.delete(membership)


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


class InviteRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get_by_hash(self, token_hash: str) -> Invite | None:
        result = await self.session.execute(select(Invite).where(Invite.token_hash == token_hash))
        return result.scalar_one_or_none()

    async def get(self, workspace_id: str, invite_id: str) -> Invite | None:
        result = await self.session.execute(
            select(Invite).where(Invite.id == invite_id, Invite.workspace_id == workspace_id)
        )
        return result.scalar_one_or_none()

    async def pending_for(self, workspace_id: str, now: datetime) -> list[Invite]:
        result = await self.session.execute(
            select(Invite)
            .where(Invite.workspace_id == workspace_id, Invite.accepted_at.is_(None), Invite.expires_at > now)
            .order_by(Invite.created_at.desc())
        )
        return list(result.scalars())

    def add(self, invite: Invite) -> None:
        self.session.add(invite)

    async def delete(self, invite: Invite) -> None:
        await self.session.delete(invite)


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
