from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from mask.db import Base, UTCDateTime
from mask.kit.time import utcnow


class Link(Base):
    """A short link. `(domain, slug)` is unique across all workspaces; slugs are case-sensitive."""

    __tablename__ = "links"
    __table_args__ = (
        UniqueConstraint("domain", "slug"),
        UniqueConstraint("workspace_id", "external_id"),
        # Keyset pagination within a workspace, one index per sort key (mask.link.sorting): page N costs what
        # page 1 does. The domain filter has its own for the default (newest first) order.
        Index(None, "workspace_id", "created_at", "id"),
        Index(None, "workspace_id", "domain", "created_at", "id"),
        Index(None, "workspace_id", "created_by_user_id", "created_at"),
        Index(None, "workspace_id", "clicks", "id"),
        Index(None, "workspace_id", "last_clicked_at", "id"),
        Index(None, "workspace_id", "title", "id"),
        # Find-or-create (`if_exists: "return"`) looks links up by destination.
        Index(None, "workspace_id", "url"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    domain: Mapped[str] = mapped_column(String(253))
    slug: Mapped[str] = mapped_column(String(64))
    url: Mapped[str] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(String(255), default=None)
    # Where `title` came from: "user" (sent by the API or the dashboard) or "page" (the destination's <title>,
    # fetched in the background); None while there is no title.
    title_source: Mapped[str | None] = mapped_column(String(10), default=None)
    notes: Mapped[str | None] = mapped_column(Text, default=None)
    external_id: Mapped[str | None] = mapped_column(String(255), default=None)
    utm_source: Mapped[str | None] = mapped_column(String(255), default=None)
    utm_medium: Mapped[str | None] = mapped_column(String(255), default=None)
    utm_campaign: Mapped[str | None] = mapped_column(String(255), default=None)
    utm_term: Mapped[str | None] = mapped_column(String(255), default=None)
    utm_content: Mapped[str | None] = mapped_column(String(255), default=None)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    expired_url: Mapped[str | None] = mapped_column(Text, default=None)
    # Archived links still redirect but leave the default lists; disabled links stop redirecting at once.
    archived: Mapped[bool] = mapped_column(default=False, server_default=false())
    disabled: Mapped[bool] = mapped_column(default=False, server_default=false())
    clicks: Mapped[int] = mapped_column(BigInteger, default=0)
    # The latest human click stored (maintained by click storing, per batch, like `clicks`).
    last_clicked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Who created it: a member in the dashboard, or an API key (and then the member who made the key, if any).
    created_by_user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), default=None)
    created_by_key_id: Mapped[str | None] = mapped_column(ForeignKey("api_keys.id", ondelete="SET NULL"), default=None)
    # Disabled by an operator (abuse) or by a blocklist refresh: answers 451 and counts no clicks.
    suspended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    suspended_reason: Mapped[str | None] = mapped_column(String(200), default=None)
    # What a click gets (mask.link.access, mask.redirect.decision). Argon2id hash of the link's password: the
    # short URL asks for it first. Never the password itself.
    password_hash: Mapped[str | None] = mapped_column(Text, default=None)
    # Before it the link answers a not-yet-active page and counts nothing.
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # After this many clicks let through the link behaves as expired; `clicks_reserved` is the exact count of
    # clicks let through, reserved one by one on the redirect path (only for limited links).
    max_clicks: Mapped[int | None] = mapped_column(BigInteger, default=None)
    clicks_reserved: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    redirect_status: Mapped[int] = mapped_column(SmallInteger, default=302, server_default=text("302"))
    # Targeting rules ([{url, conditions: [{type, value, name?}]}], first match wins) and an A/B test
    # ([{url, weight}]), as mask.link.rules stores them and mask.redirect.rules compiles them.
    rules: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, default=None)
    variants: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, default=None)
    test_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # What link-preview bots show: {title, description, image_url} (mask.redirect.previews).
    preview: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)


class LinkTitleFetch(Base):
    """A destination whose <title> the background process is to fetch (mask.link.titles): written in the
    transaction that creates the link or changes its URL, deleted once the title is stored or given up on.
    A due row is leased by pushing `next_attempt_at` forward while the fetch runs."""

    __tablename__ = "link_title_fetches"
    __table_args__ = (Index(None, "next_attempt_at"),)

    link_id: Mapped[str] = mapped_column(ForeignKey("links.id", ondelete="CASCADE"), primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_error: Mapped[str | None] = mapped_column(String(500), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
