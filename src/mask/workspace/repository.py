from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mask.kit.time import utcnow
from mask.models.account import Invite, Membership, User
from mask.models.auth import ApiKey
from mask.models.workspace import Workspace


class WorkspaceRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, workspace_id: str) -> Workspace | None:
        return await self.session.get(Workspace, workspace_id)

    async def get_by_slug(self, slug: str) -> Workspace | None:
        result = await self.session.execute(select(Workspace).where(Workspace.slug == slug))
        return result.scalar_one_or_none()

    async def list(self) -> list[Workspace]:
        result = await self.session.execute(select(Workspace).order_by(Workspace.created_at))
        return list(result.scalars())

    def add(self, workspace: Workspace) -> None:
        self.session.add(workspace)


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
        """The workspace's owners, their rows locked until the transaction ends (in one order, so two callers
        never deadlock): of two owners demoting each other at once, the second counts after the first commits
        and finds the last owner. (SQLite has no row locks; its one writer at a time does the same.)"""
        result = await self.session.execute(
            select(Membership.user_id)
            .where(Membership.workspace_id == workspace_id, Membership.role == "owner")
            .order_by(Membership.user_id)
            .with_for_update()
        )
        return len(result.all())

    async def verified_or_unowned(self, workspace_id: str) -> bool:
        any_member = await self.session.scalar(
            select(Membership.user_id).where(Membership.workspace_id == workspace_id).limit(1)
        )
        if any_member is None:
            return True
        verified = await self.session.scalar(
            select(Membership.user_id)
            .join(User, User.id == Membership.user_id)
            .where(
                Membership.workspace_id == workspace_id,
                Membership.role == "owner",
                User.email_verified_at.is_not(None),
            )
            .limit(1)
        )
        return verified is not None

    async def revoke_keys_of(self, workspace_id: str, user_id: str, *, now: datetime) -> None:
        await self.session.execute(
            update(ApiKey)
            .where(ApiKey.workspace_id == workspace_id, ApiKey.created_by == user_id, ApiKey.revoked_at.is_(None))
            .values(revoked_at=now)
            .execution_options(synchronize_session=False)
        )

    async def narrow_keys_of(self, workspace_id: str, user_id: str, *, allowed: list[str]) -> None:
        """Drop from the member's keys every scope not in `allowed` (a key left with none is revoked)."""
        result = await self.session.execute(
            select(ApiKey).where(
                ApiKey.workspace_id == workspace_id, ApiKey.created_by == user_id, ApiKey.revoked_at.is_(None)
            )
        )
        for key in result.scalars():
            kept = [scope for scope in key.scopes if scope in allowed]
            if kept != key.scopes:
                key.scopes = kept
            if not kept:
                key.revoked_at = utcnow()

    def add(self, membership: Membership) -> None:
        self.session.add(membership)

    async def delete(self, membership: Membership) -> None:
        await self.session.delete(membership)


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

    async def consume(self, invite_id: str, *, user_id: str, now: datetime) -> bool:
        """Mark an open, unexpired invite accepted by `user_id`; False when it no longer is open (one winner)."""
        result = await self.session.execute(
            update(Invite)
            .where(Invite.id == invite_id, Invite.accepted_at.is_(None), Invite.expires_at > now)
            .values(accepted_at=now, accepted_by=user_id)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    def add(self, invite: Invite) -> None:
        self.session.add(invite)

    async def delete(self, invite: Invite) -> None:
        await self.session.delete(invite)
