"""E-mail addresses as MASK stores them."""

from __future__ import annotations

import re

from mask.kit.errors import FieldError

EMAIL_PATTERN = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
MAX_EMAIL_LENGTH = 254


def normalize_email(raw: str, errors: list[FieldError], param: str = "email") -> str:
    """Trimmed and lower-cased; one `@`, a dotted domain, at most 254 characters."""
    email = raw.strip().lower()
    if not email:
        errors.append(FieldError(param, "required", "Enter your email address."))
    elif len(email) > MAX_EMAIL_LENGTH or not EMAIL_PATTERN.match(email):
        errors.append(FieldError(param, "invalid_email", "Enter an email address like name@example.com."))
    return email
