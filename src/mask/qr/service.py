"""QR codes: a workspace's default style, and the options of one drawing (the style, overridden by a request)."""

from __future__ import annotations

import base64
import hashlib
import io
from dataclasses import dataclass

from PIL import Image
from sqlalchemy.ext.asyncio import AsyncSession

from mask.kit.errors import FieldError, ValidationFailed
from mask.kit.time import utcnow
from mask.models.qr import QrStyle
from mask.qr import logo as logos
from mask.qr.render import Ecc, Format, QrOptions, check_colors, parse_color, smallest_size
from mask.qr.repository import QrStyleRepository
from mask.qr.schemas import QrLogo, QrStyleUpdate
from mask.qr.schemas import QrStyle as QrStyleSchema

DEFAULT = QrStyle(fg="#000000", bg="#ffffff", ecc="M", margin=4, logo=None, logo_sha256=None, updated_at=None)
MIN_SIZE, MAX_SIZE = 64, 2048


def _schema(style: QrStyle) -> QrStyleSchema:
    logo = None
    if style.logo is not None:
        width, height = Image.open(io.BytesIO(style.logo)).size
        logo = QrLogo(media_type="image/png", width=width, height=height, sha256=style.logo_sha256 or "")
    return QrStyleSchema(
        fg=style.fg,
        bg=style.bg,
        ecc=style.ecc,
        margin=style.margin,
        logo=logo,
        updated_at=style.updated_at,
    )


async def style_of(session: AsyncSession, *, workspace_id: str) -> QrStyle:
    """The workspace's stored style, or the defaults."""
    return await QrStyleRepository(session).get(workspace_id) or DEFAULT


async def get_style(session: AsyncSession, *, workspace_id: str) -> QrStyleSchema:
    return _schema(await style_of(session, workspace_id=workspace_id))


async def update_style(session: AsyncSession, *, workspace_id: str, data: QrStyleUpdate) -> QrStyleSchema:
    """Change the fields sent; the colours that result must make a readable code (422 otherwise)."""
    repository = QrStyleRepository(session)
    style = await repository.get(workspace_id)
    current = style or DEFAULT
    sent = data.model_fields_set
    errors: list[FieldError] = []
    fg = parse_color("fg", data.fg, errors) if data.fg is not None else current.fg
    bg = parse_color("bg", data.bg, errors) if data.bg is not None else current.bg
    for name in ("fg", "bg", "ecc", "margin"):
        if name in sent and getattr(data, name) is None:
            errors.append(FieldError(name, "required", f"`{name}` cannot be null; send a value."))
    if fg is not None and bg is not None and not errors:
        check_colors(fg, bg, errors)
    logo_png: bytes | None = current.logo
    if "logo" in sent:
        logo_png = None
        if data.logo is not None:
            try:
                raw: bytes | None = base64.b64decode(data.logo.data, validate=True)
            except ValueError:  # binascii.Error, or characters outside ASCII
                raw = None
                errors.append(FieldError("logo.data", "invalid_base64", "`data` is not valid base64."))
            try:
                logo_png = logos.sanitize(raw, data.logo.media_type) if raw is not None else None
            except logos.LogoRefused as refused:
                errors.append(FieldError("logo.data", "invalid_logo", str(refused)))
    if errors:
        raise ValidationFailed(errors)
    assert fg is not None and bg is not None
    if style is None:
        style = QrStyle(workspace_id=workspace_id)
        repository.add(style)
    style.fg, style.bg = fg, bg
    style.ecc = data.ecc if data.ecc is not None else current.ecc
    style.margin = data.margin if data.margin is not None else current.margin
    style.logo = logo_png
    style.logo_sha256 = hashlib.sha256(logo_png).hexdigest() if logo_png is not None else None
    style.updated_at = utcnow()
    await session.flush()
    return _schema(style)


@dataclass(frozen=True)
class QrRequest:
    """One drawing's parameters as a request gave them (None: the workspace's style decides)."""

    format: Format = "png"
    size: int = 512
    margin: int | None = None
    ecc: Ecc | None = None
    fg: str | None = None
    bg: str | None = None
    logo: bool | None = None  # None: the workspace's logo when it has one


def options_for(style: QrStyle, request: QrRequest, url: str) -> QrOptions:
    """The drawing's options: the request over the workspace style; 422 for colours a scanner cannot read, or
    a size too small to draw every module of this code."""
    errors: list[FieldError] = []
    fg = parse_color("fg", request.fg, errors) if request.fg is not None else style.fg
    bg = parse_color("bg", request.bg, errors) if request.bg is not None else style.bg
    if fg is not None and bg is not None and not errors:
        check_colors(fg, bg, errors)
    if request.logo and style.logo is None:
        errors.append(
            FieldError("logo", "no_logo", "The workspace has no QR logo; upload one with PATCH /v1/qr-style.")
        )
    if errors:
        raise ValidationFailed(errors)
    assert fg is not None and bg is not None
    use_logo = style.logo is not None and request.logo is not False
    options = QrOptions(
        format=request.format,
        size=request.size,
        margin=request.margin if request.margin is not None else style.margin,
        ecc=request.ecc or style.ecc,  # type: ignore[arg-type]
        fg=fg,
        bg=bg,
        logo=style.logo if use_logo else None,
        logo_sha256=style.logo_sha256 if use_logo else None,
    )
    needed = smallest_size(url, options)
    if options.size < needed:
        raise ValidationFailed.single(
            "size", "size_too_small", f"This code needs at least {needed} pixels a side with this margin."
        )
    return options
