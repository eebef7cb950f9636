"""Two-factor sign-in: TOTP codes (RFC 6238, `pyotp`) and ten single-use recovery codes.

Enrolment: a secret is proposed (kept as `totp_pending_secret`) and shown as a QR code; it becomes the user's
only once a code from their app proves the app has it, and then ten recovery codes are shown, once (only their
SHA-256 is kept). A code is good once: the last accepted time step is remembered, and a code from the same or an
earlier step is refused. A recovery code is used up by a conditional update, so it works once however many
requests race with it.

Sign-in: after the password, a user with two-factor sign-in gets no session yet but a short-lived challenge
(`challenge_token`: an HMAC under MASK_SECRET_KEY of the user, an expiry and the password's age, kept in a
cookie) that a code turns into a session. Code attempts are throttled per account and per account and network
(mask.account.throttle), so a stranger who has the password cannot guess the six digits.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta

import pyotp
from sqlalchemy.ext.asyncio import AsyncSession

from mask import audit
from mask.account import passwords, throttle
from mask.account.repository import RecoveryCodeRepository, SessionRepository, UserRepository
from mask.config import Settings
from mask.kit.errors import FieldError, Forbidden, NotFound, RateLimited, ValidationFailed
from mask.kit.ids import new_id
from mask.kit.net import network_prefix
from mask.kit.time import utcnow
from mask.models.account import RecoveryCode, User
from mask.workspace import members as workspace_members

RECOVERY_CODES = 10
STEP = 30  # seconds per TOTP code
DRIFT_STEPS = 1  # a code of the previous or next step is accepted too (clocks drift, people type slowly)
CHALLENGE_LIFETIME = 300  # seconds between the password and the code
ATTEMPTS_PER_ACCOUNT = 10
ATTEMPTS_PER_PLACE = 5
ATTEMPT_WINDOW = timedelta(minutes=15)


class TwoFactorFailed(ValidationFailed):
    code = "invalid_two_factor_code"


class TwoFactorThrottled(RateLimited):
    code = "two_factor_throttled"


class TwoFactorRequired(Forbidden):
    code = "two_factor_required"


@dataclass(frozen=True)
class Enrolment:
    secret: str
    uri: str  # otpauth://totp/…: what the QR code holds


def _failed(
    message: str = "That code is not right. Type the 6 digits your app shows now, or a recovery code.",
) -> TwoFactorFailed:
    return TwoFactorFailed([FieldError("code", "invalid_two_factor_code", message)], message)


def _hash_code(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def _normalise_recovery(code: str) -> str:
    return "".join(char for char in code.lower() if char.isalnum())


def _digits(code: str) -> str:
    return "".join(char for char in code if not char.isspace() and char != "-")


def _record(session: AsyncSession, user: User, action: str, workspace_ids: list[str], ip: str | None) -> None:
    actor = audit.Actor(kind="user", id=user.id, label=user.email, ip_prefix=network_prefix(ip), user_id=user.id)
    for workspace_id in workspace_ids:
        audit.record(
            session, workspace_id=workspace_id, action=action, target_type="user", target_id=user.id, actor=actor
        )


async def _workspace_ids(session: AsyncSession, user: User) -> list[str]:
    return [access.workspace.id for access in await workspace_members.workspaces_of(session, user=user)]


async def begin_enrolment(session: AsyncSession, *, user: User, issuer: str) -> Enrolment:
    """The secret being enrolled (a new one unless one is pending) and its otpauth URI."""
    if user.totp_pending_secret is None:
        user.totp_pending_secret = pyotp.random_base32()
        await session.flush()
    secret = user.totp_pending_secret
    return Enrolment(secret=secret, uri=pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=issuer))


def _matching_step(secret: str, code: str, *, after: int | None, now: float | None = None) -> int | None:
    """The time step whose code `code` is (within DRIFT_STEPS), if later than `after`."""
    digits = _digits(code)
    if len(digits) != 6 or not digits.isdigit():
        return None
    totp = pyotp.TOTP(secret, interval=STEP)
    current = int((time.time() if now is None else now) // STEP)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if (after is None or step > after) and hmac.compare_digest(totp.at(step * STEP), digits):
            return step
    return None


async def enable(session: AsyncSession, *, user: User, code: str, ip: str | None) -> list[str]:
    """Turn two-factor sign-in on with the pending secret, proved by `code`; the ten recovery codes (shown once)."""
    if user.totp_pending_secret is None:
        raise _failed("Start again: open the two-factor page for a new QR code.")
    step = _matching_step(user.totp_pending_secret, code, after=None)
    if step is None:
        raise _failed("That code does not match. Check that your phone's clock is right and type the current code.")
    user.totp_secret, user.totp_pending_secret = user.totp_pending_secret, None
    user.totp_enabled_at = utcnow()
    user.totp_last_step = step
    codes = await _new_recovery_codes(session, user)
    _record(session, user, "user.two_factor_enabled", await _workspace_ids(session, user), ip)
    return codes


async def _new_recovery_codes(session: AsyncSession, user: User) -> list[str]:
    repository = RecoveryCodeRepository(session)
    await repository.delete_for(user.id)
    codes = [f"{secrets.token_hex(5)[:5]}-{secrets.token_hex(5)[:5]}" for _ in range(RECOVERY_CODES)]
    now = utcnow()
    for code in codes:
        repository.add(
            RecoveryCode(
                id=new_id("rec"), user_id=user.id, code_hash=_hash_code(_normalise_recovery(code)), created_at=now
            )
        )
    await session.flush()
    return codes


async def regenerate_recovery_codes(session: AsyncSession, *, user: User, code: str, ip: str | None) -> list[str]:
    """Ten new recovery codes (the old ones stop working), for a user who proves it with a current code."""
    await _check_code(session, user=user, code=code, recovery=False)
    codes = await _new_recovery_codes(session, user)
    _record(session, user, "user.recovery_codes_regenerated", await _workspace_ids(session, user), ip)
    return codes


async def disable(session: AsyncSession, *, user: User, password: str, ip: str | None) -> None:
    """Turn two-factor sign-in off (the password again: a session left open must not do it)."""
    required = [
        access.workspace.name
        for access in await workspace_members.workspaces_of(session, user=user)
        if access.workspace.require_two_factor
    ]
    if required:
        raise TwoFactorRequired(
            f"{', '.join(required)} require{'s' if len(required) == 1 else ''} two-factor sign-in of every member."
        )
    if len(password) > passwords.MAX_LENGTH or not await passwords.verify(user.password_hash, password):
        raise ValidationFailed.single("password", "wrong_password", "That is not your password.")
    user.totp_secret = user.totp_pending_secret = user.totp_enabled_at = user.totp_last_step = None
    await RecoveryCodeRepository(session).delete_for(user.id)
    _record(session, user, "user.two_factor_disabled", await _workspace_ids(session, user), ip)


async def turn_off_by_operator(session: AsyncSession, *, email: str) -> User:
    """Turn a user's two-factor sign-in off without proof (`mask users disable-two-factor`: a lost phone and lost
    recovery codes); their sessions end. Workspaces that require it send them to enrol again."""
    user = await UserRepository(session).get_by_email(email.strip().lower())
    if user is None:
        raise NotFound(f"No user with the email `{email.strip().lower()}`.", param="email", code="user_not_found")
    user.totp_secret = user.totp_pending_secret = user.totp_enabled_at = user.totp_last_step = None
    await RecoveryCodeRepository(session).delete_for(user.id)
    await SessionRepository(session).delete_for_user(user.id)
    actor = audit.Actor(kind="system", id=None, label="operator")
    for workspace_id in await _workspace_ids(session, user):
        audit.record(
            session,
            workspace_id=workspace_id,
            action="user.two_factor_disabled",
            target_type="user",
            target_id=user.id,
            details={"by": "operator"},
            actor=actor,
        )
    return user


async def remaining_recovery_codes(session: AsyncSession, *, user: User) -> int:
    return await RecoveryCodeRepository(session).count_unused(user.id)


async def _check_code(session: AsyncSession, *, user: User, code: str, recovery: bool = True) -> str:
    """ "totp" or "recovery" when `code` is good (and now used up), else TwoFactorFailed."""
    if user.totp_secret is None:
        raise _failed("Two-factor sign-in is not on for this account.")
    step = _matching_step(user.totp_secret, code, after=user.totp_last_step)
    if step is not None:
        user.totp_last_step = step
        return "totp"
    normalised = _normalise_recovery(code)
    if recovery and len(normalised) == 10:
        if await RecoveryCodeRepository(session).use(user.id, _hash_code(normalised), utcnow()):
            return "recovery"
    raise _failed()


async def verify_sign_in(
    session: AsyncSession, *, user: User, code: str, ip: str | None, checkpoint: throttle.Checkpoint
) -> str:
    """The second step of a sign-in: "totp" or "recovery", or TwoFactorFailed / TwoFactorThrottled."""
    prefix = network_prefix(ip) or "unknown"
    limits = [
        throttle.Limit(f"2fa:account:{user.id}", ATTEMPTS_PER_ACCOUNT, ATTEMPT_WINDOW),
        throttle.Limit(f"2fa:pair:{user.id}:{prefix}", ATTEMPTS_PER_PLACE, ATTEMPT_WINDOW),
    ]
    reservation = await throttle.reserve(
        session, limits, refuse=throttle.refused(TwoFactorThrottled, "Too many wrong codes.")
    )
    await checkpoint()
    kind = await _check_code(session, user=user, code=code)
    await throttle.clear(session, list(reservation.keys))
    if kind == "recovery":
        _record(session, user, "user.recovery_code_used", await _workspace_ids(session, user), ip)
    return kind


# ---------------------------------------------------------------------------------------------------------------
# The challenge between the password and the code


def _challenge_mac(settings: Settings, user: User, expires: int) -> str:
    message = f"2fa:{user.id}:{expires}:{user.password_changed_at.timestamp():.6f}".encode()
    return hmac.new(settings.secret_key.encode(), message, hashlib.sha256).hexdigest()


def challenge_token(settings: Settings, user: User, *, now: float | None = None) -> str:
    """What the cookie between the two steps holds: the user, an expiry, and an HMAC over them."""
    expires = int((time.time() if now is None else now) + CHALLENGE_LIFETIME)
    return f"{user.id}.{expires}.{_challenge_mac(settings, user, expires)}"


async def read_challenge(
    session: AsyncSession, settings: Settings, token: str, *, now: float | None = None
) -> User | None:
    """The user a challenge is for, if it is genuine, unexpired, and their password has not changed since."""
    parts = token.split(".")
    if len(parts) != 3 or not parts[1].isdigit() or len(token) > 200:
        return None
    user_id, expires_text, mac = parts
    expires = int(expires_text)
    if expires < (time.time() if now is None else now):
        return None
    user = await UserRepository(session).get(user_id)
    if user is None or user.totp_secret is None:
        return None
    return user if hmac.compare_digest(_challenge_mac(settings, user, expires), mac) else None
