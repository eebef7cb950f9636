from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mask.db import Base, UTCDateTime
from mask.kit.time import utcnow


class Link(Base):
    """A short link. `(domain, slug)` is unique across all workspaces; slugs are case-sensitive."""

    __tablename__ = "links"
    __table_args__ = (
        UniqueConstraint("domain", "slug"),
        # Newest-first keyset pagination within a workspace, and the domain filter on it.
        Index(None, "workspace_id", "created_at", "id"),
        Index(None, "workspace_id", "domain", "created_at", "id"),
        Index(None, "workspace_id", "created_by_user_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    domain: Mapped[str] = mapped_column(String(253))
    slug: Mapped[str] = mapped_column(String(64))
    url: Mapped[str] = mapped_column(Text)
    utm_source: Mapped[str | None] = mapped_column(String(255), default=None)
    utm_medium: Mapped[str | None] = mapped_column(String(255), default=None)
    utm_campaign: Mapped[str | None] = mapped_column(String(255), default=None)
    utm_term: Mapped[str | None] = mapped_column(String(255), default=None)
    utm_content: Mapped[str | None] = mapped_column(String(255), default=None)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    expired_url: Mapped[str | None] = mapped_column(Text, default=None)
    clicks: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Who created it: a member in the dashboard, or an API key (and then the member who made the key, if any).
    created_by_user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), default=None)
    created_by_key_id: Mapped[str | None] = mapped_column(ForeignKey("api_keys.id", ondelete="SET NULL"), default=None)
    # Disabled by an operator (abuse) or by a blocklist refresh: answers 451 and counts no clicks.
    suspended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    suspended_reason: Mapped[str | None] = mapped_column(String(200), default=None)
