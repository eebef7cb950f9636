"""Secrets: API keys are random tokens whose SHA-256 is stored; the token itself is shown once.

SHA-256 (not a slow password hash) is right for 256-bit random tokens: they cannot be brute-forced, and a fast
hash keeps the per-request lookup cheap.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets


def generate_token(prefix: str, nbytes: int = 32) -> str:
    return f"{prefix}{secrets.token_urlsafe(nbytes)}"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def constant_time_equals(left: str, right: str) -> bool:
    return hmac.compare_digest(left.encode(), right.encode())
