"""E-mail addresses as MASK stores them.

Syntax is checked by `email-validator` (RFC 5321/5322 and the rules mail servers really apply: dotted domain,
no `..`, IDNA domains, length limits), offline: no DNS lookup, so a sign-up never waits on a resolver and a
test never needs one. Addresses are stored lower-cased, so that `Ada@Example.com` and `ada@example.com` are one
account.
"""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email

from mask.kit.errors import FieldError

MAX_EMAIL_LENGTH = 254


def parse_email(raw: str) -> str | None:
    """The stored form of an address (trimmed, lower-cased, normalised), or None when it is not one."""
    email = raw.strip()
    if not email or len(email) > MAX_EMAIL_LENGTH:
        return None
    try:
        valid = validate_email(email, check_deliverability=False)
    except EmailNotValidError:
        return None
    normalized = valid.normalized.lower()
    return normalized if len(normalized) <= MAX_EMAIL_LENGTH else None


def normalize_email(raw: str, errors: list[FieldError], param: str = "email") -> str:
    """Trimmed, lower-cased and valid; otherwise an error for `param` is added (and the trimmed text returned)."""
    email = raw.strip().lower()
    if not email:
        errors.append(FieldError(param, "required", "Enter your email address."))
        return email
    parsed = parse_email(email)
    if parsed is None:
        errors.append(FieldError(param, "invalid_email", "Enter an email address like name@example.com."))
        return email
    return parsed
