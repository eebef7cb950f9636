from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from mask.db import Base, UTCDateTime
from mask.kit.time import utcnow


class Domain(Base):
    """A workspace's claim of a custom short domain (`go.yourbrand.com`).

    Several workspaces may claim one host name while none has proved it owns it (so a squatter cannot block the
    owner); at most one claim per host name is verified (the partial unique index), and only a verified claim
    serves links. `verification_status`: `pending` (checked with backoff), `verified` (re-checked daily unless an
    operator verified it), `failed` (gave up after a week, or another workspace verified the host name).
    """

    __tablename__ = "domains"
    __table_args__ = (
        Index(None, "workspace_id", "created_at"),
        UniqueConstraint("workspace_id", "domain"),
        Index(
            "uq_domains_domain_verified",
            "domain",
            unique=True,
            sqlite_where=text("verified"),
            postgresql_where=text("verified"),
        ),
        Index(None, "next_check_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    domain: Mapped[str] = mapped_column(String(253))
    verified: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Ownership: a TXT record `_mask-challenge.<domain>` = `mask-verify=<token>` (method `dns_txt`), or an
    # operator's word (`mask domains add --verified`, method `operator`, never checked).
    verification_method: Mapped[str] = mapped_column(String(16), default="dns_txt")
    verification_status: Mapped[str] = mapped_column(String(16), default="pending")
    verification_token: Mapped[str] = mapped_column(String(64))
    pending_since: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    last_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    next_check_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    check_count: Mapped[int] = mapped_column(Integer, default=0)  # checks since pending_since (backoff)
    # What the last check found when it was not the record: a code (`record_not_found`, `dns_timeout`, …).
    last_error: Mapped[str | None] = mapped_column(String(64), default=None)
    last_error_message: Mapped[str | None] = mapped_column(String(500), default=None)
    # A verified domain whose record is gone: since when (it goes back to pending after the grace period).
    record_missing_since: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # What the routing record (CNAME / A / AAAA) looked like at the last check: `ok`, `missing`, `unknown`.
    routing_status: Mapped[str | None] = mapped_column(String(16), default=None)
    # Per-domain answers besides links.
    root_url: Mapped[str | None] = mapped_column(Text, default=None)
    not_found_url: Mapped[str | None] = mapped_column(Text, default=None)
    expired_url: Mapped[str | None] = mapped_column(Text, default=None)
    robots: Mapped[str] = mapped_column(String(8), default="deny")
    apple_app_site_association: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    asset_links: Mapped[list[Any] | None] = mapped_column(JSON, default=None)
