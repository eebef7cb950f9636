from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from mask.db import Base, UTCDateTime
from mask.kit.time import utcnow


class Role(StrEnum):
    """What each may do is mask.workspace.permissions.MATRIX."""

    owner = "owner"  # everything; only owners make or unmake owners
    admin = "admin"  # everything else: members, keys, domains, webhooks, the audit log
    member = "member"  # links, bio pages, analytics, their own API keys
    viewer = "viewer"  # read-only, analytics included


class User(Base):
    """A person who logs in to the dashboard. `email` is stored lower-cased; only an Argon2id hash is kept."""

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str | None] = mapped_column(String(100), default=None)
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # Two-factor sign-in (mask.account.two_factor): the TOTP secret (base32) once enrolled, the one being
    # enrolled, and the last time step accepted (a code is good once).
    totp_secret: Mapped[str | None] = mapped_column(String(64), default=None)
    totp_pending_secret: Mapped[str | None] = mapped_column(String(64), default=None)
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger, default=None)


class Membership(Base):
    """A user's place in a workspace, with a role."""

    __tablename__ = "memberships"
    __table_args__ = (Index(None, "user_id"),)

    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class UserSession(Base):
    """A dashboard session. Its id is the SHA-256 of the cookie's token: a leaked table logs nobody in."""

    __tablename__ = "user_sessions"
    __table_args__ = (Index(None, "user_id"), Index(None, "expires_at"))

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    csrf_secret: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ip: Mapped[str | None] = mapped_column(String(45), default=None)
    user_agent: Mapped[str | None] = mapped_column(String(255), default=None)
    # What the next page shows once (a new key, a notice), sealed with the cookie's token (mask.dashboard.security):
    # the table alone cannot open it.
    flash: Mapped[str | None] = mapped_column(Text, default=None)


class Invite(Base):
    """An invitation to a workspace: a link with a random token (only its hash kept), single use, expiring."""

    __tablename__ = "invites"
    __table_args__ = (Index(None, "workspace_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(10))
    email: Mapped[str | None] = mapped_column(String(254), default=None)
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    accepted_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), default=None)


class ThrottleCounter(Base):
    """How many attempts a key (`login:pair:…`, `login:source:…`, `signup:…`) made in its current window.

    One row per key, changed by one conditional upsert (mask.account.throttle), so that concurrent attempts are
    counted exactly, across workers and restarts, without Redis.
    """

    __tablename__ = "throttle_counters"
    __table_args__ = (Index(None, "window_start"),)

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime())
    count: Mapped[int] = mapped_column(Integer, default=0)


class KnownNetwork(Base):
    """A network (mask.kit.net.network_prefix) a user has signed in from: a sign-in from elsewhere is a "new
    place" (audit log), and the account-wide log-in throttle never applies to these."""

    __tablename__ = "user_networks"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    prefix: Mapped[str] = mapped_column(String(50), primary_key=True)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class EmailToken(Base):
    """A single-use link sent by mail: `verify` (the address is the user's) or `reset` (a new password).

    Only the token's SHA-256 is kept; it is used up by a conditional update, so a link works once however many
    times it is opened at the same moment.
    """

    __tablename__ = "email_tokens"
    __table_args__ = (Index(None, "user_id", "purpose"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(10))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class RecoveryCode(Base):
    """One of a user's ten single-use two-factor recovery codes: only its SHA-256 is kept."""

    __tablename__ = "recovery_codes"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
