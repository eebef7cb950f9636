"""Accounts: sign up, log in (throttled, enumeration-safe), sessions and passwords. Memberships and invites are
mask.workspace.members.

The dashboard and the CLI call these; neither implements a rule of its own.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from mask.account import passwords
from mask.account.repository import (
    LoginFailureRepository,
    SessionRepository,
    UserRepository,
)
from mask.kit.crypto import hash_token
from mask.kit.emails import MAX_EMAIL_LENGTH, normalize_email
from mask.kit.errors import (
    Conflict,
    FieldError,
    NotFound,
    RateLimited,
    Unauthenticated,
    ValidationFailed,
)
from mask.kit.ids import new_id
from mask.kit.time import utcnow
from mask.models.account import Role, User, UserSession
from mask.models.workspace import Workspace
from mask.workspace import members as workspace_members

SESSION_IDLE_TIMEOUT = timedelta(days=14)
SESSION_MAX_AGE = timedelta(days=30)
# Sliding expiry is refreshed at most this often, so a page view is not a write.
SESSION_TOUCH_INTERVAL = timedelta(minutes=5)
THROTTLE_WINDOW = timedelta(minutes=15)
ACCOUNT_FAILURE_LIMIT = 5
IP_FAILURE_LIMIT = 20
LOGIN_FAILED_MESSAGE = "The email or password is incorrect."


class EmailTaken(Conflict):
    code = "email_taken"


class LoginFailed(Unauthenticated):
    code = "invalid_credentials"


class LoginThrottled(RateLimited):
    code = "login_throttled"


@dataclass(frozen=True)
class StartedSession:
    row: UserSession
    token: str  # goes into the cookie; only its hash is stored


@dataclass(frozen=True)
class CurrentSession:
    row: UserSession
    user: User


def _session_id(token: str) -> str:
    return hash_token(token)


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
        await workspace_members.create_workspace_for(session, user=user, name=first_workspace)
    else:
        await workspace_members.add_to_workspace(session, user=user, workspace=workspace, role=role)
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


async def update_profile(session: AsyncSession, *, user: User, name: str) -> User:
    """Change the display name."""
    clean = name.strip()
    if len(clean) > 100:
        raise ValidationFailed.single("name", "too_long", "Use at most 100 characters.")
    user.name = clean or None
    await session.flush()
    return user
