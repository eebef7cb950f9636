"""The operator's side of abuse: the destination blocklist and the public's reports."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from mask.db import Base, UTCDateTime
from mask.kit.time import utcnow


class BlocklistEntry(Base):
    """A blocked destination from one source list (`mask blocklist update --source NAME`): a host name, which
    blocks it and its subdomains (`evil.example`), or a URL without its scheme, which blocks it and every path
    under it (`evil.example/phish/`). A host name never contains `/`, a URL always does (mask.kit.blocklist)."""

    __tablename__ = "blocklist_entries"

    value: Mapped[str] = mapped_column(String(400), primary_key=True)
    source: Mapped[str] = mapped_column(String(50), primary_key=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AbuseReport(Base):
    """What someone reported through `/report` on a short domain, for the operator (`mask abuse list`)."""

    __tablename__ = "abuse_reports"
    __table_args__ = (Index(None, "status", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    short_url: Mapped[str] = mapped_column(String(2100))
    reason: Mapped[str] = mapped_column(String(20))  # phishing, malware, spam, illegal, other
    details: Mapped[str] = mapped_column(String(2000), default="")
    link_id: Mapped[str | None] = mapped_column(String(32), default=None, index=True)  # no FK: a report outlives it
    workspace_id: Mapped[str | None] = mapped_column(String(32), default=None)
    reporter_ip_prefix: Mapped[str | None] = mapped_column(String(50), default=None)
    status: Mapped[str] = mapped_column(String(10), default="open")  # open, resolved
