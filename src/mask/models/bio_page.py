from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mask.db import Base, UTCDateTime
from mask.kit.time import utcnow


class BioPage(Base):
    """A public link-in-bio page at `https://<domain>/@<handle>`. `(domain, handle)` is unique.

    `views` and `clicks` count humans only; they are bumped once per click batch (see service.on_clicks).
    """

    __tablename__ = "bio_pages"
    __table_args__ = (
        UniqueConstraint("domain", "handle"),
        Index(None, "workspace_id", "created_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    domain: Mapped[str] = mapped_column(String(253))
    handle: Mapped[str] = mapped_column(String(30))
    title: Mapped[str | None] = mapped_column(String(100), default=None)
    description: Mapped[str | None] = mapped_column(Text, default=None)
    avatar_url: Mapped[str | None] = mapped_column(Text, default=None)
    # {"preset": "minimal", "background": "#rrggbb", …}: the preset and only the overrides that were set.
    theme: Mapped[dict[str, Any]] = mapped_column(JSON)
    published: Mapped[bool] = mapped_column(default=True)
    seo_title: Mapped[str | None] = mapped_column(String(100), default=None)
    seo_description: Mapped[str | None] = mapped_column(String(300), default=None)
    og_image_url: Mapped[str | None] = mapped_column(Text, default=None)
    views: Mapped[int] = mapped_column(BigInteger, default=0)
    clicks: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class BioBlock(Base):
    """One block of a page, in `position` order. Its id stays the same while a PATCH keeps it, so that
    clicks attributed to it stay meaningful. Which columns are used depends on `type`."""

    __tablename__ = "bio_blocks"
    __table_args__ = (Index(None, "bio_page_id", "position"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    bio_page_id: Mapped[str] = mapped_column(ForeignKey("bio_pages.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(16))  # link | header | text | social
    title: Mapped[str | None] = mapped_column(String(100), default=None)  # link
    text: Mapped[str | None] = mapped_column(Text, default=None)  # header, text
    url: Mapped[str | None] = mapped_column(Text, default=None)  # link, social
    platform: Mapped[str | None] = mapped_column(String(20), default=None)  # social
    enabled: Mapped[bool] = mapped_column(default=True)  # link
    clicks: Mapped[int] = mapped_column(BigInteger, default=0)  # link, social
