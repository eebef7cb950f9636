from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from mask.db import Base, UTCDateTime
from mask.kit.time import utcnow


class Plan(StrEnum):
    hobby = "hobby"
    pro = "pro"
    enterprise = "enterprise"


class Workspace(Base):
    __tablename__ = "workspaces"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    plan: Mapped[str] = mapped_column(String(20), default=Plan.hobby.value)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Every member must sign in with a second factor to open it (set by an owner).
    require_two_factor: Mapped[bool] = mapped_column(Boolean, default=False)
    # Disabled by an operator (`mask abuse suspend`): its links answer 451, its API keys 403.
    suspended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    suspended_reason: Mapped[str | None] = mapped_column(String(200), default=None)
    # Where a link or bio page goes when none is named (mask.domain.service.check_domain): one of its verified
    # domains, or None for the server's short domain.
    default_domain: Mapped[str | None] = mapped_column(String(253), default=None)
