"""A link's decision settings as the redirect cache holds them (mask.redirect.decision reads them)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


@dataclass(slots=True)
class Policy:
    """A link's decision settings, built once per cache fill (mask.redirect.resolver). Only `exhausted` changes:
    set when a reservation finds the limit spent, so later clicks on this worker answer at once (a changed link
    is a new entry, so raising the limit starts afresh)."""

    password_hash: str | None = None
    password_version: str = ""  # changes with the password: older cookies stop matching
    starts_at: float | None = None  # Unix time
    max_clicks: int | None = None
    status: int = 302
    exhausted: bool = False

    @classmethod
    def build(
        cls,
        *,
        password_hash: str | None,
        starts_at: float | None,
        max_clicks: int | None,
        clicks_reserved: int,
        status: int,
    ) -> Policy | None:
        """The policy of a link, or None for a link that uses none of it (the fast path)."""
        if password_hash is None and starts_at is None and max_clicks is None and status == 302:
            return None
        version = hashlib.sha256(password_hash.encode()).hexdigest()[:32] if password_hash else ""
        return cls(
            password_hash=password_hash,
            password_version=version,
            starts_at=starts_at,
            max_clicks=max_clicks,
            status=status,
            exhausted=max_clicks is not None and clicks_reserved >= max_clicks,
        )
