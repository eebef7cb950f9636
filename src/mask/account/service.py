"""Accounts: sign up, log in (throttled, enumeration-safe), sessions, passwords, memberships and invites.

The dashboard and the CLI call these; neither implements a rule of its own.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from mask.account import passwords
from mask.account.repository import (
    InviteRepository,
    LoginFailureRepository,
    MembershipRepository,
    SessionRepository,
    UserRepository,
)
from mask.kit.crypto import hash_token
from mask.kit.errors import (
    Conflict,
    FieldError,
    Forbidden,
    NotFound,
    RateLimited,
    Unauthenticated,
    ValidationFailed,
)
from mask.kit.ids import new_id, random_string
from mask.kit.time import utcnow
from mask.models.account import Invite, Membership, Role, User, UserSession
from mask.models.workspace import Plan, Workspace
from mask.workspace import service as workspace_service

EMAIL_PATTERN = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
MAX_EMAIL_LENGTH = 254
SESSION_IDLE_TIMEOUT = timedelta(days=14)
SESSION_MAX_AGE = timedelta(days=30)
# Sliding expiry is refreshed at most this often, so a page view is not a write.
SESSION_TOUCH_INTERVAL = timedelta(minutes=5)
INVITE_LIFETIME = timedelta(days=7)
THROTTLE_WINDOW = timedelta(minutes=15)
ACCOUNT_FAILURE_LIMIT = 5
IP_FAILURE_LIMIT = 20
WORKSPACE_SLUG_ATTEMPTS = 6
LOGIN_FAILED_MESSAGE = "The email or password is incorrect."


class EmailTaken(Conflict):
    code = "email_taken"


class LoginFailed(Unauthenticated):
    code = "invalid_credentials"


class LoginThrottled(RateLimited):
    code = "login_throttled"


class NotAnOwner(Forbidden):
    code = "owner_required"


class MembershipNotFound(NotFound):
    code = "workspace_not_found"


class MemberNotFound(NotFound):
    code = "member_not_found"


class InviteNotFound(NotFound):
    code = "invite_not_found"


class LastOwner(Conflict):
    code = "last_owner"


@dataclass(frozen=True)
class StartedSession:
    row: UserSession
    token: str  # goes into the cookie; only its hash is stored


@dataclass(frozen=True)
class CurrentSession:
    row: UserSession
    user: User


@dataclass(frozen=True)
class WorkspaceAccess:
    """A user's view of one workspace: the workspace and their role in it."""

    workspace: Workspace
    membership: Membership

    @property
    def is_owner(self) -> bool:
        return self.membership.role == Role.owner


@dataclass(frozen=True)
class CreatedInvite:
    invite: Invite
    token: str  # shown once, as a link to copy


def normalize_email(raw: str, errors: list[FieldError], param: str = "email") -> str:
    """Trimmed and lower-cased; one `@`, a dotted domain, at most 254 characters."""
    email = raw.strip().lower()
    if not email:
        errors.append(FieldError(param, "required", "Enter your email address."))
    elif len(email) > MAX_EMAIL_LENGTH or not EMAIL_PATTERN.match(email):
        errors.append(FieldError(param, "invalid_email", "Enter an email address like name@example.com."))
    return email


def _session_id(token: str) -> str:
    return hash_token(token)


def _slug_base(text: str) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40].strip("-")
    return base or "workspace"


async def _create_workspace_for(session: AsyncSession, *, user: User, name: str) -> Workspace:
    base = _slug_base(name)
    for attempt in range(WORKSPACE_SLUG_ATTEMPTS):
        slug = base if attempt == 0 else f"{base}-{random_string(4, 'abcdefghijklmnopqrstuvwxyz0123456789')}"
        try:
            workspace = await workspace_service.create(session, slug=slug, name=name, plan=Plan.hobby)
        except Conflict:
            continue
        MembershipRepository(session).add(Membership(workspace_id=workspace.id, user_id=user.id, role=Role.owner))
        await session.flush()
        return workspace
    raise Conflict("Could not find a free handle for the workspace; try another name.", param="name")


async def sign_up(
    session: AsyncSession, *, email: str, password: str, name: str | None = None, workspace_name: str | None = None
) -> User:
    """Create a user and their first workspace (Hobby plan, the user as owner). A taken email is 409."""
    return await create_user(session, email=email, password=password, name=name, workspace_name=workspace_name)


async def create_user(
    session: AsyncSession,
    *,
    email: str,
    password: str,
    name: str | None = None,
    workspace: Workspace | None = None,
    role: str = Role.owner,
    workspace_name: str | None = None,
) -> User:
    """A user in `workspace` with `role`, or, without one, in a new Hobby workspace they own."""
    errors: list[FieldError] = []
    email = normalize_email(email, errors)
    passwords.check(password, "password", errors)
    clean_name = (name or "").strip()[:100] or None
    if role not in Role.__members__:
        errors.append(FieldError("role", "invalid_role", "The role is `owner` or `member`."))
    first_workspace = (workspace_name or "").strip() or clean_name or email.split("@", 1)[0]
    if len(first_workspace) > 100:
        errors.append(FieldError("workspace_name", "too_long", "Use at most 100 characters."))
    if errors:
        raise ValidationFailed(errors)
    users = UserRepository(session)
    if await users.get_by_email(email) is not None:
        raise EmailTaken("An account with this email already exists; log in instead.", param="email")
    user = User(id=new_id("usr"), email=email, name=clean_name, password_hash=await passwords.hash_password(password))
    users.add(user)
    await session.flush()
    if workspace is None:
        await _create_workspace_for(session, user=user, name=first_workspace)
    else:
        await add_to_workspace(session, user=user, workspace=workspace, role=role)
    return user


def _throttle_keys(email: str, ip: str | None) -> tuple[str, str | None]:
    account_key = "account:" + hashlib.sha256(email.encode()).hexdigest()[:40]
    return account_key, (f"ip:{ip}" if ip else None)


async def _check_throttle(session: AsyncSession, account_key: str, ip_key: str | None) -> None:
    now = utcnow()
    keys = [account_key] + ([ip_key] if ip_key else [])
    counts = await LoginFailureRepository(session).count_since(keys, now - THROTTLE_WINDOW)
    limits = {account_key: ACCOUNT_FAILURE_LIMIT, **({ip_key: IP_FAILURE_LIMIT} if ip_key else {})}
    waits = []
    for key, (count, oldest) in counts.items():
        if count >= limits[key] and oldest is not None:
            waits.append(oldest + THROTTLE_WINDOW - now)
    if waits:
        seconds = max(1, int(max(waits).total_seconds()) + 1)
        minutes = -(-seconds // 60)
        raise LoginThrottled(
            f"Too many failed attempts. Try again in {minutes} minute{'s' if minutes != 1 else ''}.",
            headers={"Retry-After": str(seconds)},
        )


async def _record_failure(session: AsyncSession, account_key: str, ip_key: str | None) -> None:
    now = utcnow()
    repository = LoginFailureRepository(session)
    await repository.purge_before(now - THROTTLE_WINDOW)
    await repository.add([account_key] + ([ip_key] if ip_key else []), now)


async def log_in(session: AsyncSession, *, email: str, password: str, ip: str | None) -> User:
    """The user with these credentials, or LoginFailed (one answer for unknown email and wrong password).

    Failures are counted per account and per client IP; over the limit every attempt is LoginThrottled,
    whether or not the account exists and whether or not the password is right.
    """
    email = email.strip().lower()
    account_key, ip_key = _throttle_keys(email, ip)
    await _check_throttle(session, account_key, ip_key)
    user = await UserRepository(session).get_by_email(email) if 0 < len(email) <= MAX_EMAIL_LENGTH else None
    if len(password) > passwords.MAX_LENGTH:
        ok = False
    elif user is None:
        await passwords.spend_verification_time(password)
        ok = False
    else:
        ok = await passwords.verify(user.password_hash, password)
    if not ok or user is None:
        await _record_failure(session, account_key, ip_key)
        raise LoginFailed(LOGIN_FAILED_MESSAGE, param="email")
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = await passwords.hash_password(password)
    await LoginFailureRepository(session).clear(account_key)
    return user


async def start_session(session: AsyncSession, *, user: User, ip: str | None, user_agent: str | None) -> StartedSession:
    """A new session for a user who just proved who they are (a fresh id every time: no fixation)."""
    now = utcnow()
    token = secrets.token_urlsafe(32)  # 256 bits
    row = UserSession(
        id=_session_id(token),
        user_id=user.id,
        csrf_secret=secrets.token_urlsafe(32),
        created_at=now,
        last_seen_at=now,
        expires_at=now + SESSION_IDLE_TIMEOUT,
        ip=ip,
        user_agent=(user_agent or "")[:255] or None,
    )
    repository = SessionRepository(session)
    await repository.delete_expired(now)
    repository.add(row)
    await session.flush()
    return StartedSession(row=row, token=token)


async def resolve_session(session: AsyncSession, *, token: str) -> CurrentSession | None:
    """The live session behind a cookie token, refreshing its idle expiry; None when unknown or expired."""
    if not token or len(token) > 128:
        return None
    repository = SessionRepository(session)
    row = await repository.get(_session_id(token))
    now = utcnow()
    if row is None:
        return None
    if row.expires_at <= now or row.created_at + SESSION_MAX_AGE <= now:
        await repository.delete(row.id)
        return None
    user = await UserRepository(session).get(row.user_id)
    if user is None:
        return None
    if now - row.last_seen_at >= SESSION_TOUCH_INTERVAL:
        row.last_seen_at = now
        row.expires_at = min(now + SESSION_IDLE_TIMEOUT, row.created_at + SESSION_MAX_AGE)
    return CurrentSession(row=row, user=user)


async def end_session(session: AsyncSession, *, session_id: str) -> None:
    """Log out: the session row is deleted, so the cookie is worthless even if kept."""
    await SessionRepository(session).delete(session_id)


async def change_password(
    session: AsyncSession,
    *,
    user: User,
    current_password: str,
    new_password: str,
    keep_session_id: str | None,
    ip: str | None,
) -> None:
    """Change a password after checking the current one; every other session of the user is ended."""
    account_key, ip_key = _throttle_keys(user.email, ip)
    await _check_throttle(session, account_key, ip_key)
    errors: list[FieldError] = []
    passwords.check(new_password, "new_password", errors)
    if not await passwords.verify(user.password_hash, current_password[: passwords.MAX_LENGTH + 1]):
        await _record_failure(session, account_key, ip_key)
        errors.insert(0, FieldError("current_password", "wrong_password", "This is not your current password."))
    if errors:
        raise ValidationFailed(errors)
    await _set_password(session, user=user, password=new_password, keep_session_id=keep_session_id)


async def _set_password(session: AsyncSession, *, user: User, password: str, keep_session_id: str | None) -> None:
    user.password_hash = await passwords.hash_password(password)
    user.password_changed_at = utcnow()
    await SessionRepository(session).delete_for_user(user.id, keep=keep_session_id)
    await session.flush()


async def reset_password(session: AsyncSession, *, email: str, new_password: str) -> User:
    """Set a password without the old one (operators: `mask users reset-password`); ends all sessions."""
    errors: list[FieldError] = []
    email = normalize_email(email, errors)
    passwords.check(new_password, "password", errors)
    if errors:
        raise ValidationFailed(errors)
    user = await UserRepository(session).get_by_email(email)
    if user is None:
        raise NotFound(f"No user with the email `{email}`.", param="email", code="user_not_found")
    await _set_password(session, user=user, password=new_password, keep_session_id=None)
    await LoginFailureRepository(session).clear(_throttle_keys(email, None)[0])
    return user


async def add_to_workspace(session: AsyncSession, *, user: User, workspace: Workspace, role: str) -> Membership:
    """Make a user a member (or owner) of a workspace; an existing membership keeps the higher role."""
    if role not in Role.__members__:
        raise ValidationFailed.single("role", "invalid_role", "The role is `owner` or `member`.")
    repository = MembershipRepository(session)
    membership = await repository.get(workspace.id, user.id)
    if membership is None:
        membership = Membership(workspace_id=workspace.id, user_id=user.id, role=role, created_at=utcnow())
        repository.add(membership)
    elif role == Role.owner:
        membership.role = Role.owner
    await session.flush()
    return membership


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


def require_owner(workspace_access: WorkspaceAccess) -> None:
    """Only owners manage keys, domains, webhooks, members and plan."""
    if not workspace_access.is_owner:
        raise NotAnOwner("Only the workspace's owners can do this; ask one of them.")


async def create_workspace(session: AsyncSession, *, user: User, name: str) -> Workspace:
    """A new Hobby workspace with the user as owner; its handle comes from the name."""
    clean = name.strip()
    if not clean:
        raise ValidationFailed.single("name", "required", "Give the workspace a name.")
    if len(clean) > 100:
        raise ValidationFailed.single("name", "too_long", "Use at most 100 characters.")
    return await _create_workspace_for(session, user=user, name=clean)


async def members(session: AsyncSession, *, workspace: Workspace) -> list[tuple[User, Membership]]:
    """The workspace's members with their roles, in the order they joined."""
    return await MembershipRepository(session).members_of(workspace.id)


async def remove_member(session: AsyncSession, *, actor: WorkspaceAccess, user_id: str) -> None:
    """An owner removes someone (or anyone leaves); the last owner cannot go."""
    if user_id != actor.membership.user_id:
        require_owner(actor)
    repository = MembershipRepository(session)
    membership = await repository.get(actor.workspace.id, user_id)
    if membership is None:
        raise MemberNotFound("No such member in this workspace.")
    if membership.role == Role.owner and await repository.count_owners(actor.workspace.id) <= 1:
        raise LastOwner("A workspace needs an owner: make someone else owner first.")
    await repository.delete(membership)
    await session.flush()


async def set_role(session: AsyncSession, *, actor: WorkspaceAccess, user_id: str, role: str) -> Membership:
    """An owner changes a member's role; the last owner cannot step down."""
    require_owner(actor)
    if role not in Role.__members__:
        raise ValidationFailed.single("role", "invalid_role", "The role is `owner` or `member`.")
    repository = MembershipRepository(session)
    membership = await repository.get(actor.workspace.id, user_id)
    if membership is None:
        raise MemberNotFound("No such member in this workspace.")
    if membership.role == Role.owner and role != Role.owner and await repository.count_owners(actor.workspace.id) <= 1:
        raise LastOwner("A workspace needs an owner: make someone else owner first.")
    membership.role = role
    await session.flush()
    return membership


async def create_invite(
    session: AsyncSession, *, actor: WorkspaceAccess, role: str, email: str | None = None
) -> CreatedInvite:
    """An invite link to the workspace (owners only), valid for 7 days, usable once."""
    require_owner(actor)
    errors: list[FieldError] = []
    if role not in Role.__members__:
        errors.append(FieldError("role", "invalid_role", "The role is `owner` or `member`."))
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
    return CreatedInvite(invite=invite, token=token)


async def pending_invites(session: AsyncSession, *, actor: WorkspaceAccess) -> list[Invite]:
    """Open invites of the workspace, newest first (owners only)."""
    require_owner(actor)
    return await InviteRepository(session).pending_for(actor.workspace.id, utcnow())


async def revoke_invite(session: AsyncSession, *, actor: WorkspaceAccess, invite_id: str) -> None:
    """Withdraw an open invite (owners only)."""
    require_owner(actor)
    repository = InviteRepository(session)
    invite = await repository.get(actor.workspace.id, invite_id)
    if invite is None or invite.accepted_at is not None:
        raise InviteNotFound("No such open invite.")
    await repository.delete(invite)
    await session.flush()


async def find_invite(session: AsyncSession, *, token: str) -> tuple[Invite, Workspace]:
    """The open invite behind a link, with its workspace; InviteNotFound when unknown, used or expired."""
    invite = await InviteRepository(session).get_by_hash(hash_token(token)) if 0 < len(token) <= 128 else None
    if invite is None or invite.accepted_at is not None or invite.expires_at <= utcnow():
        raise InviteNotFound("This invite link is unknown, used or expired; ask for a new one.")
    workspace = await workspace_service.get_by_slug_or_id(session, ref=invite.workspace_id)
    return invite, workspace


async def accept_invite(session: AsyncSession, *, token: str, user: User) -> Workspace:
    """Join the invite's workspace with its role; the invite is then used up."""
    invite, workspace = await find_invite(session, token=token)
    await add_to_workspace(session, user=user, workspace=workspace, role=invite.role)
    invite.accepted_at = utcnow()
    invite.accepted_by = user.id
    await session.flush()
    return workspace


async def update_profile(session: AsyncSession, *, user: User, name: str) -> User:
    """Change the display name."""
    clean = name.strip()
    if len(clean) > 100:
        raise ValidationFailed.single("name", "too_long", "Use at most 100 characters.")
    user.name = clean or None
    await session.flush()
    return user
