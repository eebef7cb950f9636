from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, Date, Index, Integer, SmallInteger, String, Text, false, text
from sqlalchemy.orm import Mapped, mapped_column

from mask.db import Base, UTCDateTime

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL needs 64 bits at tens of millions of rows.
BigIntId = BigInteger().with_variant(Integer(), "sqlite")


class Click(Base):
    """One recorded click, enriched. Never holds the raw IP address or user agent.

    `click_id` comes from the click's place in the click journal and makes writes idempotent: a click read
    again after a crash is inserted once. `link_id` has no foreign key: a deleted link's clicks stay counted
    in workspace analytics.

    Bio pages (mask.bio_page) send their traffic through the same pipeline: a row with `bio_page_id` and
    `bio_block_id` is a click on that block; a row with `bio_page_id` and no `bio_block_id` is a VIEW of the
    page, not a click. Click counts and breakdowns must leave views out (`bio_block_id IS NOT NULL OR
    bio_page_id IS NULL`); page views are those rows alone (`GET /v1/analytics/views`).
    """

    __tablename__ = "clicks"
    __table_args__ = (
        Index(None, "workspace_id", "clicked_at"),
        Index(None, "link_id", "clicked_at"),
        # A bio page's views and block clicks, newest first (its events, its raw questions); bio rows only.
        Index(
            None,
            "bio_page_id",
            "clicked_at",
            sqlite_where=text("bio_page_id IS NOT NULL"),
            postgresql_where=text("bio_page_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    click_id: Mapped[str] = mapped_column(String(32), unique=True)
    workspace_id: Mapped[str] = mapped_column(String(32))
    link_id: Mapped[str | None] = mapped_column(String(32), default=None)
    bio_page_id: Mapped[str | None] = mapped_column(String(32), default=None)
    bio_block_id: Mapped[str | None] = mapped_column(String(32), default=None)
    domain: Mapped[str] = mapped_column(String(253))
    clicked_at: Mapped[datetime] = mapped_column(UTCDateTime())
    country: Mapped[str | None] = mapped_column(String(2), default=None)
    city: Mapped[str | None] = mapped_column(String(100), default=None)
    device: Mapped[str | None] = mapped_column(String(20), default=None)
    browser: Mapped[str | None] = mapped_column(String(50), default=None)
    os: Mapped[str | None] = mapped_column(String(50), default=None)
    referrer: Mapped[str | None] = mapped_column(String(253), default=None)
    referrer_url: Mapped[str | None] = mapped_column(Text, default=None)
    utm_source: Mapped[str | None] = mapped_column(String(255), default=None)
    utm_medium: Mapped[str | None] = mapped_column(String(255), default=None)
    utm_campaign: Mapped[str | None] = mapped_column(String(255), default=None)
    utm_term: Mapped[str | None] = mapped_column(String(255), default=None)
    utm_content: Mapped[str | None] = mapped_column(String(255), default=None)
    is_bot: Mapped[bool] = mapped_column(default=False)
    visitor_hash: Mapped[str] = mapped_column(String(32))
    is_unique: Mapped[bool] = mapped_column(default=False)
    # What led to the click: "link" (the short URL itself), "qr" (a scan: the QR code's URL carries the marker
    # the redirect strips, mask.redirect.destination.QR_MARKER) or "bio" (a bio page's view or block click).
    trigger: Mapped[str] = mapped_column(String(8), default="link", server_default="link")
    # What the hit was (mask.click.traffic): human, bot, preview (a link-preview fetcher) or prefetch; only
    # `human` is counted in `clicks`, and `is_bot` is true for every other type. `bot_name`: the crawler's short
    # name. `orphan_type` (mask.click.schemas.ORPHAN_TYPES) marks a hit that found no link to count: it is
    # never a click, a view or part of a link's counts, only `kind=orphan` sees it; `path` is what it asked for.
    traffic_type: Mapped[str] = mapped_column(String(8), default="human", server_default="human")
    bot_name: Mapped[str | None] = mapped_column(String(32), default=None)
    orphan_type: Mapped[str | None] = mapped_column(String(16), default=None)
    path: Mapped[str | None] = mapped_column(String(500), default=None)
    # What the decision engine decided (mask.redirect.decision), on clicks of links with a policy only: where the
    # click was sent (the link's, a rule's or a variant's URL as the link states it; null for a plain link, which
    # goes to its own `url`), the targeting rule that matched and the A/B variant given (0-based indexes into
    # the link's `rules` and `variants`), and whether the visitor was let through the link's password.
    destination_url: Mapped[str | None] = mapped_column(Text, default=None)
    rule_index: Mapped[int | None] = mapped_column(SmallInteger, default=None)
    variant: Mapped[int | None] = mapped_column(SmallInteger, default=None)
    passed_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class ClickVisitor(Base):
    """First sighting of a visitor on a target (link or bio page) on a UTC day: what makes a click unique.

    The visitor hash itself rotates daily, so rows older than a couple of days are never consulted again
    and can be pruned.
    """

    __tablename__ = "click_visitors"

    target_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    visitor_hash: Mapped[str] = mapped_column(String(32), primary_key=True)


class ClickInboxEntry(Base):
    """Raw clicks on their way to `clicks` from versions before the click journal (0018j), which appended them
    here. Nothing writes it any more: the background process stores the rows left at upgrade when it starts
    (mask.click.legacy), deleting each in the transaction that stores its clicks. Rows hold the client IP only
    until then.
    """

    __tablename__ = "click_inbox"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    n: Mapped[int] = mapped_column(Integer)  # clicks in the entry
    clicks: Mapped[str] = mapped_column(Text)  # JSON list of RawClick.to_row(), ids included


class ClickJournalPosition(Base):
    """How far the shipper has stored a journal segment (mask.click.shipper): updated in the transaction that
    stores the clicks before `position`, so a click is stored once across crashes and restarts. `journal` is
    `<journal id>/<segment file name>`: each host's journal has its own id. Deleted after the segment file."""

    __tablename__ = "click_journal_positions"

    journal: Mapped[str] = mapped_column(String(200), primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger)  # bytes of the segment stored or set aside


class DatabaseIdentity(Base):
    """This database's name for itself: one row, a random id made the first time a click journal is shipped into
    it. A journal records the identity of the database it ships into (mask.click.ownership), so a journal left by
    a server of another database is never shipped into this one. A dump restored elsewhere keeps it (the same
    clicks' home); a database created anew gets a new one."""

    __tablename__ = "database_identity"

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True)  # always 1
    identity: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ClickRetentionMark(Base):
    """How far MASK_CLICK_RETENTION_DAYS has dropped raw clicks: every click before `dropped_before` (a UTC day's
    start) may be gone, while the rollups still count it. One row (id 1), moved forward only; written before the
    first click of a pass goes, so that `mask clicks rebuild-rollups` never rebuilds (and so wipes) those days."""

    __tablename__ = "click_retention_marks"

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    dropped_before: Mapped[datetime] = mapped_column(UTCDateTime())
