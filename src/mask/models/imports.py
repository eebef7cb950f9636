from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from mask.db import Base, UTCDateTime
from mask.kit.time import utcnow


class Import(Base):
    """An import job (`imp_…`): links brought in from a file or another shortener's account, in batches, by the
    background process. `done` moves forward in the same transaction as each batch's links, so a job that was
    interrupted resumes after its last whole batch: no row is imported twice, none half."""

    __tablename__ = "imports"
    __table_args__ = (Index(None, "workspace_id", "created_at"), Index(None, "status", "lease_until"))

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(12), default="queued")  # queued, running, completed, failed
    options: Mapped[dict[str, Any]] = mapped_column(JSON)
    # A source account's credential (a Bitly token): kept only while the job runs, then cleared.
    secret: Mapped[str | None] = mapped_column(Text, default=None)
    filename: Mapped[str | None] = mapped_column(String(255), default=None)
    total: Mapped[int | None] = mapped_column(Integer, default=None)
    done: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    cursor: Mapped[str | None] = mapped_column(Text, default=None)  # where an account import goes on from
    error: Mapped[str | None] = mapped_column(String(500), default=None)  # why the whole job failed
    created_by_user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), default=None)
    created_by_key_id: Mapped[str | None] = mapped_column(ForeignKey("api_keys.id", ondelete="SET NULL"), default=None)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class ImportFile(Base):
    """The uploaded file of an import, as sent; deleted when the job ends."""

    __tablename__ = "import_files"

    import_id: Mapped[str] = mapped_column(ForeignKey("imports.id", ondelete="CASCADE"), primary_key=True)
    content: Mapped[bytes] = mapped_column(LargeBinary)


class ImportIssue(Base):
    """A row of an import that was not imported as it was (refused, skipped, renamed): the per-row report."""

    __tablename__ = "import_issues"

    import_id: Mapped[str] = mapped_column(ForeignKey("imports.id", ondelete="CASCADE"), primary_key=True)
    row: Mapped[int] = mapped_column(Integer, primary_key=True)  # 1 = the first row after the header
    outcome: Mapped[str] = mapped_column(String(12))  # failed, skipped, renamed, overwritten
    code: Mapped[str] = mapped_column(String(64))
    param: Mapped[str | None] = mapped_column(String(100), default=None)
    message: Mapped[str] = mapped_column(Text)
    slug: Mapped[str | None] = mapped_column(String(255), default=None)
    url: Mapped[str | None] = mapped_column(Text, default=None)


class ImportedLinkStats(Base):
    """What another shortener counted for a link before it moved to MASK: kept apart, never added to the clicks
    MASK counts itself."""

    __tablename__ = "imported_link_stats"

    link_id: Mapped[str] = mapped_column(ForeignKey("links.id", ondelete="CASCADE"), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    import_id: Mapped[str | None] = mapped_column(ForeignKey("imports.id", ondelete="SET NULL"), default=None)
    source: Mapped[str] = mapped_column(String(20))
    clicks: Mapped[int] = mapped_column(BigInteger, default=0)
    original_short_url: Mapped[str | None] = mapped_column(Text, default=None)
