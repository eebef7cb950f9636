from __future__ import annotations

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from mask.db import Base


class PlanLimit(Base):
    """How many API requests a plan allows per window: a settings table, seeded by migration 0003.

    Read on every request (joined to the caller's key and workspace), so a change here or to a workspace's
    plan applies to the next request in every process.
    """

    __tablename__ = "plan_limits"

    plan: Mapped[str] = mapped_column(String(20), primary_key=True)
    requests: Mapped[int] = mapped_column(Integer)
    window_seconds: Mapped[int] = mapped_column(Integer, default=60)
