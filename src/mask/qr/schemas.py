from __future__ import annotations

from typing import Literal

from pydantic import Field, StrictInt

from mask.kit.schemas import RequestSchema, Schema, UTCDatetime, stated

ECC_HELP = "Error correction: L (7 %), M (15 %), Q (25 %), H (30 %). A logo always uses H."


class QrLogo(Schema):
    media_type: Literal["image/png"] = Field(description="Stored as a PNG MASK drew (an SVG upload is rasterised).")
    width: int
    height: int
    sha256: str


class QrStyle(Schema):
    """The workspace's default QR code style: what `GET /v1/links/{id}/qr` uses for every parameter not given."""

    fg: str = Field(examples=["#111827"], description="Dark modules, `#rrggbb`.")
    bg: str = Field(examples=["#ffffff"], description="Light modules and quiet zone, `#rrggbb`.")
    ecc: Literal["L", "M", "Q", "H"] = Field(description=ECC_HELP)
    margin: int = Field(description="Quiet zone in modules (4 is the standard's minimum).")
    logo: QrLogo | None
    updated_at: UTCDatetime | None


# Hex colours, `#` optional (stated in the document; the service checks them, and their contrast).
COLOR_PATTERN = r"^\s*#?([0-9A-Fa-f]{3}|[0-9A-Fa-f]{6})\s*$"


class QrLogoUpload(RequestSchema):
    media_type: Literal["image/png", "image/svg+xml"]
    data: str = Field(max_length=360_000, description="The image, base64-encoded: at most 256 KiB once decoded.")


class QrStyleUpdate(RequestSchema):
    """Fields sent change; `logo: null` removes the logo."""

    fg: str | None = Field(default=None, max_length=7, json_schema_extra=stated(nullable=False, pattern=COLOR_PATTERN))
    bg: str | None = Field(default=None, max_length=7, json_schema_extra=stated(nullable=False, pattern=COLOR_PATTERN))
    ecc: Literal["L", "M", "Q", "H"] | None = Field(default=None, json_schema_extra=stated(nullable=False))
    margin: StrictInt | None = Field(default=None, ge=0, le=20, json_schema_extra=stated(nullable=False))
    logo: QrLogoUpload | None = Field(
        default=None,
        description="A PNG or SVG (sanitised: re-encoded, or rasterised; never fetched from a URL), or null.",
    )
