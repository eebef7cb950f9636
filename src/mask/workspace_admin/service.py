"""What `/v1/workspace`, `/v1/members` and `/v1/invitations` do: the rules are mask.workspace's, the ones the
dashboard applies; this module says who acts when a key calls.

A key acts for the member who made it, with that member's role as it is now (their keys lose the scopes a new
role may not give, and are revoked when they leave), so a key can do what its scope names and its member's role
allows, no more. A key the operator made with the CLI (no member) acts as an owner.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from mask.account.repository import UserRepository
from mask.auth.service import AuthSubject
from mask.config import Settings
from mask.domain import service as domain_service
from mask.kit.errors import Unauthenticated
from mask.mail import outbox as mail_outbox
from mask.models.account import Invite, Membership, Role, User
from mask.qr import service as qr_service
from mask.workspace import members as workspace_members
from mask.workspace import service as workspace_service
from mask.workspace.members import WorkspaceAccess
from mask.workspace.permissions import Permission
from mask.workspace.repository import MembershipRepository
from mask.workspace_admin.schemas import (
    Invitation,
    InvitationCreate,
    InvitationCreated,
    Member,
    MemberUpdate,
    WorkspaceSettings,
    WorkspaceUpdate,
)


async def access_of(session: AsyncSession, *, subject: AuthSubject) -> WorkspaceAccess:
    """The workspace as the key's member sees it, with their current role."""
    if subject.key.created_by is None:
        # Never added to the session: the operator's key stands in for an owner without being a member.
        operator = Membership(workspace_id=subject.workspace_id, user_id=None, role=Role.owner)
        return WorkspaceAccess(workspace=subject.workspace, membership=operator)
    membership = await MembershipRepository(session).get(subject.workspace_id, subject.key.created_by)
    if membership is None:  # its member left: their keys were revoked with them
        raise Unauthenticated("The API key is unknown or has been revoked.")
    return WorkspaceAccess(workspace=subject.workspace, membership=membership)


def _member(user: User, membership: Membership) -> Member:
    return Member(
        user_id=user.id, email=user.email, name=user.name, role=membership.role, joined_at=membership.created_at
    )


async def list_members(session: AsyncSession, *, subject: AuthSubject) -> list[Member]:
    """The workspace's members with their roles, in the order they joined."""
    rows = await workspace_members.members(session, workspace=subject.workspace)
    return [_member(user, membership) for user, membership in rows]


async def get_member(session: AsyncSession, *, subject: AuthSubject, user_id: str) -> Member:
    membership = await MembershipRepository(session).get(subject.workspace_id, user_id)
    user = await UserRepository(session).get(user_id) if membership is not None else None
    if membership is None or user is None:
        raise workspace_members.MemberNotFound("No such member in this workspace.")
    return _member(user, membership)


async def update_member(session: AsyncSession, *, subject: AuthSubject, user_id: str, data: MemberUpdate) -> Member:
    """Change a member's role: who manages members (admins, owners); only owners make or unmake owners (so no
    one promotes themself past their role); the last owner stays."""
    actor = await access_of(session, subject=subject)
    if data.role is not None:
        await workspace_members.set_role(session, actor=actor, user_id=user_id, role=data.role)
    return await get_member(session, subject=subject, user_id=user_id)


async def remove_member(session: AsyncSession, *, subject: AuthSubject, user_id: str) -> None:
    """Remove a member (or leave, for the key's own member); their keys in this workspace are revoked."""
    actor = await access_of(session, subject=subject)
    await workspace_members.remove_member(session, actor=actor, user_id=user_id)


def _invitation(invite: Invite) -> Invitation:
    return Invitation.model_validate(invite)


async def list_invitations(session: AsyncSession, *, subject: AuthSubject) -> list[Invitation]:
    """Open invitations, newest first (who manages members)."""
    actor = await access_of(session, subject=subject)
    return [_invitation(invite) for invite in await workspace_members.pending_invites(session, actor=actor)]


async def create_invitation(
    session: AsyncSession, *, subject: AuthSubject, settings: Settings, data: InvitationCreate
) -> InvitationCreated:
    """An invitation as the dashboard makes it: mailed when `email` is given, from the key's member."""
    actor = await access_of(session, subject=subject)
    inviter = await UserRepository(session).get(subject.key.created_by) if subject.key.created_by else None
    created = await workspace_members.create_invite(
        session,
        actor=actor,
        role=data.role,
        email=data.email,
        settings=settings,
        inviter=(inviter.name or inviter.email) if inviter is not None else None,
    )
    url = mail_outbox.app_url(settings, f"/app/invites/{created.token}")
    return InvitationCreated(**_invitation(created.invite).model_dump(), url=url)


async def revoke_invitation(session: AsyncSession, *, subject: AuthSubject, invitation_id: str) -> None:
    actor = await access_of(session, subject=subject)
    await workspace_members.revoke_invite(session, actor=actor, invite_id=invitation_id)


async def get_workspace(session: AsyncSession, *, subject: AuthSubject, settings: Settings) -> WorkspaceSettings:
    workspace = subject.workspace
    return WorkspaceSettings(
        id=workspace.id,
        slug=workspace.slug,
        name=workspace.name,
        plan=workspace.plan,
        created_at=workspace.created_at,
        default_domain=await domain_service.default_domain(session, settings=settings, workspace_id=workspace.id),
        qr_style=await qr_service.get_style(session, workspace_id=workspace.id),
        require_two_factor=workspace.require_two_factor,
    )


async def update_workspace(
    session: AsyncSession, *, subject: AuthSubject, settings: Settings, data: WorkspaceUpdate
) -> WorkspaceSettings:
    """Rename, choose the default domain, restyle: who may manage the workspace (admins, owners), as in
    Settings."""
    actor = await access_of(session, subject=subject)
    workspace_members.require(actor, Permission.workspace_manage)
    if data.name is not None:
        await workspace_service.rename(session, workspace=subject.workspace, name=data.name)
    if "default_domain" in data.model_fields_set:
        await domain_service.set_default_domain(
            session, settings=settings, workspace=subject.workspace, raw=data.default_domain
        )
    if data.qr_style is not None:
        await qr_service.update_style(session, workspace_id=subject.workspace_id, data=data.qr_style)
    if data.require_two_factor is not None:
        workspace_members.require(actor, Permission.workspace_security)
        member = await UserRepository(session).get(subject.key.created_by) if subject.key.created_by else None
        await workspace_service.set_require_two_factor(
            session,
            workspace=subject.workspace,
            require=data.require_two_factor,
            actor_enrolled=member is not None and member.totp_enabled_at is not None,
        )
    return await get_workspace(session, subject=subject, settings=settings)
