from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from mask.db import Base, UTCDateTime
from mask.kit.time import utcnow


class QrStyle(Base):
    """A workspace's default QR code style (mask.qr): what `GET /v1/links/{id}/qr` draws without parameters.

    `logo` is always a PNG that MASK re-encoded itself (an uploaded SVG is rasterised, mask.qr.logo), never the
    bytes that were uploaded."""

    __tablename__ = "qr_styles"

    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True)
    fg: Mapped[str] = mapped_column(String(7), default="#000000")
    bg: Mapped[str] = mapped_column(String(7), default="#ffffff")
    ecc: Mapped[str] = mapped_column(String(1), default="M")
    margin: Mapped[int] = mapped_column(SmallInteger, default=4)
    logo: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    logo_sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
