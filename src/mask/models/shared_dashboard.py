from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from mask.db import Base, UTCDateTime
from mask.kit.time import utcnow


class SharedDashboard(Base):
    """A public, read-only analytics page of one link, tag, domain or bio page at `/share/<token>`.

    Only the token's SHA-256 is stored (`token_hash`): a copy of the database does not open any page. Rotating
    replaces the hash, so the old URL stops at once; revoking deletes the row. `target_id` is the link's, tag's,
    domain's or bio page's id, in the same workspace; when that object is deleted, the page answers 404.
    """

    __tablename__ = "shared_dashboards"
    __table_args__ = (Index(None, "workspace_id", "created_at", "id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # link | tag | domain | bio_page
    target_id: Mapped[str] = mapped_column(String(32))
    title: Mapped[str | None] = mapped_column(String(100), default=None)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token_hint: Mapped[str] = mapped_column(String(8))  # the token's first characters, to tell URLs apart
    password_hash: Mapped[str | None] = mapped_column(Text, default=None)
    # Changes when the password does: the visitor cookie's HMAC covers it, so old cookies stop working.
    password_version: Mapped[int] = mapped_column(default=0)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
