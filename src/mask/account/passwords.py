"""Password hashing with Argon2id (argon2-cffi). Hashing runs in a thread: it is slow on purpose.

No silent truncation: Argon2 hashes the whole password (bcrypt would cut it at 72 bytes); a password longer
than MAX_LENGTH is refused with a clear error, never shortened.
"""

from __future__ import annotations

import asyncio
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from mask.kit.errors import FieldError

MIN_LENGTH = 8
MAX_LENGTH = 1024  # characters; bounds the work an anonymous request can ask for

# argon2-cffi's defaults are RFC 9106's second recommended profile (Argon2id, t=3, m=64 MiB, p=4).
hasher = PasswordHasher()
_dummy_hash: dict[int, str] = {}


def check(password: str, param: str, errors: list[FieldError]) -> None:
    """Length rules (NIST SP 800-63B: at least 8, accept long passphrases, no composition rules)."""
    if len(password) < MIN_LENGTH:
        errors.append(FieldError(param, "password_too_short", f"Use at least {MIN_LENGTH} characters."))
    elif len(password) > MAX_LENGTH:
        errors.append(
            FieldError(
                param,
                "password_too_long",
                f"Use at most {MAX_LENGTH} characters; longer passwords are refused, not cut.",
            )
        )


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(hasher.hash, password)


async def verify(password_hash: str, password: str) -> bool:
    """Whether the password matches; a broken or foreign hash counts as no match."""
    try:
        return await asyncio.to_thread(hasher.verify, password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


async def spend_verification_time(password: str) -> None:
    """Do a verification's work for an unknown account: its answer takes as long as a wrong password's."""
    key = id(hasher)
    if key not in _dummy_hash:
        _dummy_hash[key] = await hash_password(secrets.token_urlsafe(16))
    await verify(_dummy_hash[key], password)


def needs_rehash(password_hash: str) -> bool:
    return hasher.check_needs_rehash(password_hash)
