"""Who belongs to a workspace: memberships with their roles, and invitations. The dashboard and the CLI call
these; neither implements a rule of its own."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from mask import audit
from mask.config import Settings
from mask.kit.crypto import hash_token
from mask.kit.emails import normalize_email
from mask.kit.errors import Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from mask.kit.ids import new_id, random_string
from mask.kit.time import utcnow
from mask.mail import outbox as mail_outbox
from mask.models.account import Invite, Membership, Role, User
from mask.models.workspace import Plan, Workspace
from mask.workspace import permissions
from mask.workspace import service as workspace_service
from mask.workspace.permissions import Permission
from mask.workspace.repository import InviteRepository, MembershipRepository

INVITE_LIFETIME = timedelta(days=7)
WORKSPACE_SLUG_ATTEMPTS = 6


class NotAnOwner(Forbidden):
    code = "owner_required"


class NotAllowed(Forbidden):
    code = "permission_denied"


class MembershipNotFound(NotFound):
    code = "workspace_not_found"


class MemberNotFound(NotFound):
    code = "member_not_found"


class InviteNotFound(NotFound):
    code = "invite_not_found"


class LastOwner(Conflict):
    code = "last_owner"


@dataclass(frozen=True)
class WorkspaceAccess:
    """A user's view of one workspace: the workspace and their role in it."""

    workspace: Workspace
    membership: Membership

    @property
    def is_owner(self) -> bool:
        return self.membership.role == Role.owner

    @property
    def role(self) -> str:
        return self.membership.role

    def can(self, permission: Permission | str) -> bool:
        return permissions.allows(self.membership.role, Permission(permission))


@dataclass(frozen=True)
class CreatedInvite:
    invite: Invite
    token: str  # shown once, as a link to copy


def _slug_base(text: str) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40].strip("-")
    return base or "workspace"


async def create_workspace_for(session: AsyncSession, *, user: User, name: str) -> Workspace:
    base = _slug_base(name)
    for attempt in range(WORKSPACE_SLUG_ATTEMPTS):
        slug = base if attempt == 0 else f"{base}-{random_string(4, 'abcdefghijklmnopqrstuvwxyz0123456789')}"
        try:
            workspace = await workspace_service.create(session, slug=slug, name=name, plan=Plan.hobby)
        except Conflict:
            continue
        MembershipRepository(session).add(Membership(workspace_id=workspace.id, user_id=user.id, role=Role.owner))
        await session.flush()
        audit.record(
            session,
            workspace_id=workspace.id,
            action="workspace.created",
            target_type="workspace",
            target_id=workspace.id,
            details={"name": workspace.name},
        )
        return workspace
    raise Conflict("Could not find a free handle for the workspace; try another name.", param="name")


async def add_to_workspace(session: AsyncSession, *, user: User, workspace: Workspace, role: str) -> Membership:
    """Make a user a member of a workspace with `role`; an existing membership keeps the higher role."""
    if role not in Role.__members__:
        raise ValidationFailed.single("role", "invalid_role", f"The role is one of {ROLE_NAMES}.")
    repository = MembershipRepository(session)
    membership = await repository.get(workspace.id, user.id)
    if membership is None:
        membership = Membership(workspace_id=workspace.id, user_id=user.id, role=role, created_at=utcnow())
        repository.add(membership)
    elif permissions.outranks(role, membership.role):
        membership.role = role
    await session.flush()
    return membership


async def is_verified(session: AsyncSession, *, workspace_id: str) -> bool:
    """Whether a workspace may be trusted with links: one of its owners has verified their e-mail address, or it
    has no members at all (an operator made it with the CLI)."""
    return await MembershipRepository(session).verified_or_unowned(workspace_id)


async def workspaces_of(session: AsyncSession, *, user: User) -> list[WorkspaceAccess]:
    """The workspaces a user belongs to, in the order they joined."""
    rows = await MembershipRepository(session).workspaces_of(user.id)
    return [WorkspaceAccess(workspace=workspace, membership=membership) for workspace, membership in rows]


async def access(session: AsyncSession, *, user: User, workspace_slug: str) -> WorkspaceAccess:
    """The user's access to a workspace, or MembershipNotFound (also when it exists but is not theirs)."""
    found = await MembershipRepository(session).workspace_for(user.id, workspace_slug.lower())
    if found is None:
        raise MembershipNotFound(f"No workspace `{workspace_slug}` among yours.")
    return WorkspaceAccess(workspace=found[0], membership=found[1])


ROLE_NAMES = ", ".join(f"`{role}`" for role in Role)


def require_owner(workspace_access: WorkspaceAccess) -> None:
    """Only owners make or unmake owners, and require two-factor sign-in."""
    if not workspace_access.is_owner:
        raise NotAnOwner("Only the workspace's owners can do this; ask one of them.")


def require(workspace_access: WorkspaceAccess, permission: Permission) -> None:
    """The role's permission (mask.workspace.permissions), or NotAllowed (403)."""
    if not workspace_access.can(permission):
        raise NotAllowed(
            f"Your role ({workspace_access.role}) does not allow this in {workspace_access.workspace.name}; "
            "ask an owner or admin."
        )


async def create_workspace(session: AsyncSession, *, user: User, name: str) -> Workspace:
    """A new Hobby workspace with the user as owner; its handle comes from the name."""
    clean = name.strip()
    if not clean:
        raise ValidationFailed.single("name", "required", "Give the workspace a name.")
    if len(clean) > 100:
        raise ValidationFailed.single("name", "too_long", "Use at most 100 characters.")
    return await create_workspace_for(session, user=user, name=clean)


async def members(session: AsyncSession, *, workspace: Workspace) -> list[tuple[User, Membership]]:
    """The workspace's members with their roles, in the order they joined."""
    return await MembershipRepository(session).members_of(workspace.id)


async def remove_member(session: AsyncSession, *, actor: WorkspaceAccess, user_id: str) -> None:
    """An owner or admin removes someone (only owners remove owners), or anyone leaves; the last owner cannot go.
    The API keys the member made in this workspace are revoked with them."""
    if user_id != actor.membership.user_id:
        require(actor, Permission.members_manage)
    repository = MembershipRepository(session)
    membership = await repository.get(actor.workspace.id, user_id)
    if membership is None:
        raise MemberNotFound("No such member in this workspace.")
    if membership.role == Role.owner and user_id != actor.membership.user_id:
        require_owner(actor)
    if membership.role == Role.owner and await repository.count_owners(actor.workspace.id) <= 1:
        raise LastOwner("A workspace needs an owner: make someone else owner first.")
    await repository.delete(membership)
    await repository.revoke_keys_of(actor.workspace.id, user_id, now=utcnow())
    await session.flush()
    leaving = user_id == actor.membership.user_id
    audit.record(
        session,
        workspace_id=actor.workspace.id,
        action="member.left" if leaving else "member.removed",
        target_type="user",
        target_id=user_id,
        details={"role": membership.role},
    )


async def set_role(session: AsyncSession, *, actor: WorkspaceAccess, user_id: str, role: str) -> Membership:
    """An owner or admin changes a member's role (only owners make or unmake owners); the last owner cannot
    step down. The member's API keys lose the scopes the new role may not grant."""
    require(actor, Permission.members_manage)
    if role not in Role.__members__:
        raise ValidationFailed.single("role", "invalid_role", f"The role is one of {ROLE_NAMES}.")
    repository = MembershipRepository(session)
    membership = await repository.get(actor.workspace.id, user_id)
    if membership is None:
        raise MemberNotFound("No such member in this workspace.")
    if Role.owner in (membership.role, role):
        require_owner(actor)
    if membership.role == Role.owner and role != Role.owner and await repository.count_owners(actor.workspace.id) <= 1:
        raise LastOwner("A workspace needs an owner: make someone else owner first.")
    previous, membership.role = membership.role, role
    await repository.narrow_keys_of(actor.workspace.id, user_id, allowed=permissions.grantable_scopes(role))
    await session.flush()
    audit.record(
        session,
        workspace_id=actor.workspace.id,
        action="member.role_changed",
        target_type="user",
        target_id=user_id,
        details={"from": previous, "to": role},
    )
    return membership


async def create_invite(
    session: AsyncSession,
    *,
    actor: WorkspaceAccess,
    role: str,
    email: str | None = None,
    settings: Settings | None = None,
    inviter: str | None = None,
) -> CreatedInvite:
    """An invite link to the workspace (owners and admins; only owners invite owners), valid for 7 days, usable
    once; mailed to `email` when given (with `settings` to build the link)."""
    require(actor, Permission.members_manage)
    errors: list[FieldError] = []
    if role not in Role.__members__:
        errors.append(FieldError("role", "invalid_role", f"The role is one of {ROLE_NAMES}."))
    elif role == Role.owner:
        require_owner(actor)
    clean_email = normalize_email(email, errors) if email and email.strip() else None
    if errors:
        raise ValidationFailed(errors)
    token = secrets.token_urlsafe(24)
    now = utcnow()
    invite = Invite(
        id=new_id("inv"),
        workspace_id=actor.workspace.id,
        token_hash=hash_token(token),
        role=role,
        email=clean_email,
        created_by=actor.membership.user_id,
        created_at=now,
        expires_at=now + INVITE_LIFETIME,
    )
    InviteRepository(session).add(invite)
    await session.flush()
    audit.record(
        session,
        workspace_id=actor.workspace.id,
        action="invite.created",
        target_type="invite",
        target_id=invite.id,
        details={"role": role, "email": clean_email},
    )
    if clean_email is not None and settings is not None:
        await mail_outbox.queue(
            session,
            to=clean_email,
            kind=mail_outbox.INVITE,
            values={
                "inviter": inviter or "A member",
                "workspace": actor.workspace.name,
                "role": role,
                "link": mail_outbox.app_url(settings, f"/app/invites/{token}"),
                "days": INVITE_LIFETIME.days,
            },
        )
    return CreatedInvite(invite=invite, token=token)


async def pending_invites(session: AsyncSession, *, actor: WorkspaceAccess) -> list[Invite]:
    """Open invites of the workspace, newest first (who manages members)."""
    require(actor, Permission.members_manage)
    return await InviteRepository(session).pending_for(actor.workspace.id, utcnow())


async def revoke_invite(session: AsyncSession, *, actor: WorkspaceAccess, invite_id: str) -> None:
    """Withdraw an open invite (who manages members)."""
    require(actor, Permission.members_manage)
    repository = InviteRepository(session)
    invite = await repository.get(actor.workspace.id, invite_id)
    if invite is None or invite.accepted_at is not None:
        raise InviteNotFound("No such open invite.")
    await repository.delete(invite)
    await session.flush()
    audit.record(
        session, workspace_id=actor.workspace.id, action="invite.revoked", target_type="invite", target_id=invite_id
    )


async def find_invite(session: AsyncSession, *, token: str) -> tuple[Invite, Workspace]:
    """The open invite behind a link, with its workspace; InviteNotFound when unknown, used or expired."""
    invite = await InviteRepository(session).get_by_hash(hash_token(token)) if 0 < len(token) <= 128 else None
    if invite is None or invite.accepted_at is not None or invite.expires_at <= utcnow():
        raise InviteNotFound("This invite link is unknown, used or expired; ask for a new one.")
    workspace = await workspace_service.get_by_slug_or_id(session, ref=invite.workspace_id)
    return invite, workspace


async def accept_invite(session: AsyncSession, *, token: str, user: User) -> Workspace:
    """Join the invite's workspace with its role; the invite is then used up.

    The invite is consumed by one conditional update (still open → accepted by this user) before anything else
    is written: of concurrent acceptances exactly one changes the row, the others find it used (404)."""
    invite, workspace = await find_invite(session, token=token)
    if not await InviteRepository(session).consume(invite.id, user_id=user.id, now=utcnow()):
        raise InviteNotFound("This invite link is unknown, used or expired; ask for a new one.")
    await add_to_workspace(session, user=user, workspace=workspace, role=invite.role)
    await session.flush()
    audit.record(
        session,
        workspace_id=workspace.id,
        action="member.joined",
        target_type="user",
        target_id=user.id,
        details={"role": invite.role, "invite": invite.id, "email": user.email},
        actor=audit.Actor(
            kind="user", id=user.id, label=user.email, ip_prefix=audit.actor_of(session).ip_prefix, user_id=user.id
        ),
    )
    return workspace
