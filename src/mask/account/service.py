"""Accounts: sign up, log in (throttled, enumeration-safe), sessions and passwords. Memberships and invites are
mask.workspace.members.

The dashboard and the CLI call these; neither implements a rule of its own.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from mask import audit
from mask.account import passwords, throttle
from mask.account.repository import EmailTokenRepository, KnownNetworkRepository, SessionRepository, UserRepository
from mask.config import Settings
from mask.kit.crypto import hash_token
from mask.kit.emails import MAX_EMAIL_LENGTH, normalize_email, parse_email
from mask.kit.errors import (
    Conflict,
    FieldError,
    Forbidden,
    NotFound,
    RateLimited,
    Unauthenticated,
    ValidationFailed,
)
from mask.kit.ids import new_id
from mask.kit.net import network_prefix, source_of
from mask.kit.time import utcnow
from mask.mail import outbox as mail_outbox
from mask.models.account import EmailToken, KnownNetwork, Role, User, UserSession
from mask.models.workspace import Workspace
from mask.workspace import members as workspace_members

SESSION_IDLE_TIMEOUT = timedelta(days=14)
SESSION_MAX_AGE = timedelta(days=30)
# Sliding expiry is refreshed at most this often, so a page view is not a write.
SESSION_TOUCH_INTERVAL = timedelta(minutes=5)
THROTTLE_WINDOW = timedelta(minutes=15)
PAIR_FAILURE_LIMIT = 5  # one account, from one source
SOURCE_FAILURE_LIMIT = 20  # one source, whatever the accounts
ACCOUNT_FAILURE_LIMIT = 50  # one account, from every place it has never signed in from
SIGNUP_WINDOW = timedelta(hours=1)
VERIFY_LIFETIME = timedelta(hours=48)
RESET_LIFETIME = timedelta(hours=1)
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
    new_place: bool = False  # signed in from a network this user had never signed in from


@dataclass(frozen=True)
class CurrentSession:
    row: UserSession
    user: User


def _session_id(token: str) -> str:
    return hash_token(token)


class SignupThrottled(RateLimited):
    code = "signup_throttled"


class SignupClosed(Forbidden):
    code = "signup_closed"


class TokenNotFound(NotFound):
    code = "link_not_found"


class ResetThrottled(RateLimited):
    code = "reset_throttled"


def _mail_limit(kind: str, address: str, per_hour: int) -> throttle.Limit:
    """Mails of one kind to one address: a stranger cannot flood someone's inbox through MASK."""
    return throttle.Limit(f"mail:{kind}:{_account_hash(address)}", per_hour, timedelta(hours=1))


async def _mail_allowed(session: AsyncSession, kind: str, address: str, per_hour: int) -> bool:
    try:
        await throttle.reserve(
            session, [_mail_limit(kind, address, per_hour)], refuse=throttle.refused(RateLimited, "")
        )
    except RateLimited:
        return False
    return True


async def sign_up(
    session: AsyncSession,
    *,
    settings: Settings,
    email: str,
    password: str,
    ip: str | None,
    checkpoint: throttle.Checkpoint,
    name: str | None = None,
    workspace_name: str | None = None,
    invite_token: str | None = None,
) -> User | None:
    """Sign up: a new user, either in a new Hobby workspace they own or (with an invite link) in the invite's
    workspace, and a mail to confirm the address. None when the address already has an account: its owner gets
    a mail instead, and the caller answers exactly as for a new account, so accounts cannot be enumerated.

    MASK_SIGNUP=closed refuses every sign-up (the CLI still creates users); `invite` needs an open invite link.
    At most MASK_SIGNUP_RATE_PER_HOUR per source (mask.kit.net.source_of), reserved before the password is
    hashed (a sign-up costs an Argon2 hash: unthrottled, 40 parallel ones slowed the whole API down)."""
    if settings.signup == "closed":
        raise SignupClosed("Sign-up is closed on this server; ask its operator for an account.")
    if invite_token:
        await workspace_members.find_invite(session, token=invite_token)  # unknown, used or expired: 404
    elif settings.signup == "invite":
        raise SignupClosed("This server admits new accounts by invitation only; open the invite link you were sent.")
    errors: list[FieldError] = []
    email = normalize_email(email, errors)
    passwords.check(password, "password", errors)
    if errors:
        raise ValidationFailed(errors)
    await throttle.reserve(
        session,
        [throttle.Limit(f"signup:{source_of(ip) or 'unknown'}", settings.signup_rate_per_hour, SIGNUP_WINDOW)],
        refuse=throttle.refused(SignupThrottled, "Too many sign-ups from your network."),
    )
    await checkpoint()
    existing = await UserRepository(session).get_by_email(email)
    if existing is not None:
        await passwords.hash_password(password)  # the same work as a new account's: the timing tells nothing
        if await _mail_allowed(session, "signup", email, per_hour=3):
            await mail_outbox.queue(
                session,
                to=email,
                kind=mail_outbox.SIGNUP_EXISTING,
                user_id=existing.id,
                values={
                    "email": email,
                    "login_link": mail_outbox.app_url(settings, "/app/login"),
                    "reset_link": mail_outbox.app_url(settings, "/app/password-reset"),
                },
            )
        return None
    user = await create_user(
        session, email=email, password=password, name=name, workspace_name=workspace_name, join=invite_token
    )
    await send_verification(session, settings=settings, user=user)
    return user


def _new_token() -> tuple[str, str]:
    token = secrets.token_urlsafe(32)
    return token, hash_token(token)


async def _issue_token(session: AsyncSession, *, user: User, purpose: str, lifetime: timedelta) -> str:
    now = utcnow()
    repository = EmailTokenRepository(session)
    await repository.retire(user.id, purpose, now=now)  # only the newest link works
    token, digest = _new_token()
    repository.add(
        EmailToken(
            id=new_id("etk"),
            user_id=user.id,
            purpose=purpose,
            token_hash=digest,
            email=user.email,
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    await session.flush()
    return token


async def send_verification(session: AsyncSession, *, settings: Settings, user: User) -> None:
    """Mail a link that confirms the user's address (VERIFY_LIFETIME); a newer link replaces older ones."""
    token = await _issue_token(session, user=user, purpose="verify", lifetime=VERIFY_LIFETIME)
    await mail_outbox.queue(
        session,
        to=user.email,
        kind=mail_outbox.VERIFY_EMAIL,
        user_id=user.id,
        values={
            "name": user.name or "",
            "email": user.email,
            "link": mail_outbox.app_url(settings, f"/app/verify/{token}"),
            "hours": int(VERIFY_LIFETIME.total_seconds() // 3600),
        },
    )


async def resend_verification(session: AsyncSession, *, settings: Settings, user: User) -> None:
    """Another confirmation mail, at most 5 an hour."""
    if user.email_verified_at is not None:
        return
    if not await _mail_allowed(session, "verify", user.email, per_hour=5):
        raise RateLimited("A confirmation mail was sent several times in the last hour; check your inbox and spam.")
    await send_verification(session, settings=settings, user=user)


async def _token(session: AsyncSession, *, token: str, purpose: str) -> tuple[EmailToken, User]:
    found = (
        await EmailTokenRepository(session).get_by_hash(hash_token(token), purpose) if 0 < len(token) <= 128 else None
    )
    user = await UserRepository(session).get(found.user_id) if found is not None else None
    if found is None or user is None or found.used_at is not None or found.expires_at <= utcnow():
        raise TokenNotFound("This link is unknown, used or expired. Ask for a new one.")
    if found.email != user.email:  # the address changed since: the link proves nothing any more
        raise TokenNotFound("This link is unknown, used or expired. Ask for a new one.")
    return found, user


async def check_token(session: AsyncSession, *, token: str, purpose: str) -> User:
    """The user a mailed link is for, without using it up (the page that shows its form)."""
    return (await _token(session, token=token, purpose=purpose))[1]


async def verify_email(session: AsyncSession, *, token: str) -> User:
    """Use a confirmation link: the user's address is verified."""
    found, user = await _token(session, token=token, purpose="verify")
    now = utcnow()
    if not await EmailTokenRepository(session).consume(found.id, now=now):
        raise TokenNotFound("This link is unknown, used or expired. Ask for a new one.")
    if user.email_verified_at is None:
        user.email_verified_at = now
    await session.flush()
    return user


async def request_password_reset(session: AsyncSession, *, settings: Settings, email: str, ip: str | None) -> None:
    """Mail a reset link when the address has an account; the same answer whether or not it has (no error, no
    timing difference worth a mail). At most 10 requests an hour per source (429) and 3 mails an hour per
    address (silently: the answer must not say whether a mail went)."""
    await throttle.reserve(
        session,
        [throttle.Limit(f"reset:{source_of(ip) or 'unknown'}", 10, timedelta(hours=1))],
        refuse=throttle.refused(ResetThrottled, "Too many reset requests from your network."),
    )
    address = parse_email(email)
    user = await UserRepository(session).get_by_email(address) if address else None
    if user is None or address is None or not await _mail_allowed(session, "reset", address, per_hour=3):
        return
    token = await _issue_token(session, user=user, purpose="reset", lifetime=RESET_LIFETIME)
    await mail_outbox.queue(
        session,
        to=user.email,
        kind=mail_outbox.PASSWORD_RESET,
        user_id=user.id,
        values={
            "email": user.email,
            "link": mail_outbox.app_url(settings, f"/app/password-reset/{token}"),
            "minutes": int(RESET_LIFETIME.total_seconds() // 60),
        },
    )


async def reset_password_with_token(session: AsyncSession, *, token: str, new_password: str) -> User:
    """Use a reset link: a new password, every session ended, the log-in throttle of the account cleared (the
    owner has proved they hold the mailbox), and the address counts as verified."""
    errors: list[FieldError] = []
    passwords.check(new_password, "password", errors)
    found, user = await _token(session, token=token, purpose="reset")
    if errors:
        raise ValidationFailed(errors)
    now = utcnow()
    if not await EmailTokenRepository(session).consume(found.id, now=now):
        raise TokenNotFound("This link is unknown, used or expired. Ask for a new one.")
    await _set_password(session, user=user, password=new_password, keep_session_id=None)
    await throttle.clear_account(session, _account_hash(user.email))
    if user.email_verified_at is None:
        user.email_verified_at = now
    return user


async def create_user(
    session: AsyncSession,
    *,
    email: str,
    password: str,
    name: str | None = None,
    workspace: Workspace | None = None,
    role: str = Role.owner,
    workspace_name: str | None = None,
    join: str | None = None,
    verified: bool = False,
) -> User:
    """A user in `workspace` with `role`, in the workspace of the invite `join` (a token), or, without either, in
    a new Hobby workspace they own. `verified`: the address is known to be theirs (an operator vouches)."""
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
    if await users.get_by_email(email) is not None:  # the CLI says so; sign_up never gets here
        raise EmailTaken("An account with this email already exists; log in instead.", param="email")
    user = User(
        id=new_id("usr"),
        email=email,
        name=clean_name,
        password_hash=await passwords.hash_password(password),
        email_verified_at=utcnow() if verified else None,
    )
    users.add(user)
    await session.flush()
    if audit.actor_of(session).id is None:  # a visitor signing up (or the CLI): from now on, it is this user
        audit.set_actor(
            session,
            audit.Actor(
                kind="user", id=user.id, label=email, ip_prefix=audit.actor_of(session).ip_prefix, user_id=user.id
            ),
        )
    if join is not None:
        await workspace_members.accept_invite(session, token=join, user=user)
    elif workspace is None:
        await workspace_members.create_workspace_for(session, user=user, name=first_workspace)
    else:
        await workspace_members.add_to_workspace(session, user=user, workspace=workspace, role=role)
    return user


def _account_hash(email: str) -> str:
    return hashlib.sha256(email.encode()).hexdigest()[:40]


def _login_limits(email: str, ip: str | None, *, known_place: bool) -> list[throttle.Limit]:
    """What a log-in attempt counts against: the account from this source, the source, and (from a place the
    account has never signed in from) the account from anywhere."""
    account = _account_hash(email)
    source = source_of(ip) or "unknown"
    limits = [throttle.Limit(f"login:pair:{account}:{source}", PAIR_FAILURE_LIMIT, THROTTLE_WINDOW)]
    if ip:
        limits.append(throttle.Limit(f"login:source:{source}", SOURCE_FAILURE_LIMIT, THROTTLE_WINDOW))
    if not known_place:
        limits.append(throttle.Limit(f"login:account:{account}", ACCOUNT_FAILURE_LIMIT, THROTTLE_WINDOW))
    return limits


def _owner_keys(email: str, ip: str | None) -> list[str]:
    """The counts a proven owner clears: the account's, and the account's from this source."""
    account = _account_hash(email)
    return [f"login:pair:{account}:{source_of(ip) or 'unknown'}", f"login:account:{account}"]


async def _is_known_place(session: AsyncSession, user: User | None, ip: str | None) -> bool:
    prefix = network_prefix(ip)
    return (
        user is not None
        and prefix is not None
        and await KnownNetworkRepository(session).get(user.id, prefix) is not None
    )


async def log_in(
    session: AsyncSession, *, email: str, password: str, ip: str | None, checkpoint: throttle.Checkpoint
) -> User:
    """The user with these credentials, or LoginFailed (one answer for unknown email and wrong password).

    The attempt is reserved first (mask.account.throttle) and `checkpoint` commits the reservation before the
    password is checked: over a limit, LoginThrottled, whether or not the account exists or the password is right.
    A stranger's failures throttle that stranger's source and that account *from that source*; the account as a
    whole is throttled only for places it has never signed in from (and its owner can always reset the password
    by e-mail), so nobody can lock the owner out.
    """
    email = email.strip().lower()
    user = await UserRepository(session).get_by_email(email) if 0 < len(email) <= MAX_EMAIL_LENGTH else None
    limits = _login_limits(email, ip, known_place=await _is_known_place(session, user, ip))
    reservation = await throttle.reserve(
        session, limits, refuse=throttle.refused(LoginThrottled, "Too many failed attempts.")
    )
    await checkpoint()
    if len(password) > passwords.MAX_LENGTH:
        ok = False
    elif user is None:
        await passwords.spend_verification_time(password)
        ok = False
    else:
        ok = await passwords.verify(user.password_hash, password)
    if not ok or user is None:
        raise LoginFailed(LOGIN_FAILED_MESSAGE, param="email")  # the reservation stays: it is the failure's record
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = await passwords.hash_password(password)
    owner_keys = _owner_keys(email, ip)
    await throttle.clear(session, owner_keys)
    await throttle.refund(session, [key for key in reservation.keys if key not in owner_keys])
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
    new_place = await _remember_place(session, user=user, ip=ip, now=now)
    await session.flush()
    if new_place:  # every workspace of theirs sees it in its audit log
        actor = audit.Actor(kind="user", id=user.id, label=user.email, ip_prefix=network_prefix(ip), user_id=user.id)
        for access in await workspace_members.workspaces_of(session, user=user):
            audit.record(
                session,
                workspace_id=access.workspace.id,
                action="user.signed_in_new_place",
                target_type="user",
                target_id=user.id,
                details={"user_agent": (user_agent or "")[:120]},
                actor=actor,
            )
    return StartedSession(row=row, token=token, new_place=new_place)


async def _remember_place(session: AsyncSession, *, user: User, ip: str | None, now: datetime) -> bool:
    """Note the network a user signed in from; True when it is a place they had never signed in from."""
    prefix = network_prefix(ip)
    if prefix is None:
        return False
    networks = KnownNetworkRepository(session)
    known = await networks.get(user.id, prefix)
    if known is not None:
        known.last_seen_at = now
        return False
    networks.add(KnownNetwork(user_id=user.id, prefix=prefix, first_seen_at=now, last_seen_at=now))
    return True


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
    checkpoint: throttle.Checkpoint,
    settings: Settings,
) -> None:
    """Change a password after checking the current one (throttled like a log-in, reserved first); every other
    session of the user is ended, and the user gets a mail saying so (with a reset link, should it not be them)."""
    reservation = await throttle.reserve(
        session,
        _login_limits(user.email, ip, known_place=True),
        refuse=throttle.refused(LoginThrottled, "Too many failed attempts."),
    )
    await checkpoint()
    errors: list[FieldError] = []
    passwords.check(new_password, "new_password", errors)
    if not await passwords.verify(user.password_hash, current_password[: passwords.MAX_LENGTH + 1]):
        errors.insert(0, FieldError("current_password", "wrong_password", "This is not your current password."))
        raise ValidationFailed(errors)  # the reservation stays: a wrong password is a failure
    await throttle.refund(session, list(reservation.keys))
    if errors:
        raise ValidationFailed(errors)
    await _set_password(session, user=user, password=new_password, keep_session_id=keep_session_id)
    await mail_outbox.queue(
        session,
        to=user.email,
        kind=mail_outbox.PASSWORD_CHANGED,
        user_id=user.id,
        values={"email": user.email, "reset_link": mail_outbox.app_url(settings, "/app/password-reset")},
    )


async def _set_password(session: AsyncSession, *, user: User, password: str, keep_session_id: str | None) -> None:
    user.password_hash = await passwords.hash_password(password)
    user.password_changed_at = utcnow()
    await SessionRepository(session).delete_for_user(user.id, keep=keep_session_id)
    await EmailTokenRepository(session).retire(user.id, "reset", now=user.password_changed_at)
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
    await throttle.clear_account(session, _account_hash(email))
    return user


async def update_profile(session: AsyncSession, *, user: User, name: str) -> User:
    """Change the display name."""
    clean = name.strip()
    if len(clean) > 100:
        raise ValidationFailed.single("name", "too_long", "Use at most 100 characters.")
    user.name = clean or None
    await session.flush()
    return user
