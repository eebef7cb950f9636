from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from mask.db import Base, UTCDateTime
from mask.kit.time import utcnow


class AuditEntry(Base):
    """Who did what in a workspace, when, and from which network: written in the same transaction as the change
    (mask.audit.record), kept MASK_AUDIT_RETENTION_DAYS."""

    __tablename__ = "audit_entries"
    __table_args__ = (Index(None, "workspace_id", "at", "id"), Index(None, "at"))

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor_type: Mapped[str] = mapped_column(String(10))  # user, api_key, system
    actor_id: Mapped[str | None] = mapped_column(String(32), default=None)
    actor_label: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(50))  # link.created, member.role_changed, user.signed_in, …
    target_type: Mapped[str | None] = mapped_column(String(30), default=None)
    target_id: Mapped[str | None] = mapped_column(String(64), default=None)
    ip_prefix: Mapped[str | None] = mapped_column(String(50), default=None)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
