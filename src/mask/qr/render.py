"""Drawing a QR code: segno makes the matrix; this module draws it as SVG (by hand, one path of module runs) or
PNG (Pillow), with the quiet zone, colours and an optional centred logo.

Rules a scanner needs, enforced before drawing (`check_colors`): dark modules on a light background (inverted
codes are not read by many scanners) with a WCAG contrast ratio of at least 4.5:1. A logo forces error
correction H (about 30 % of the modules may be lost) and its box covers at most ~18 % of the symbol's area,
so that the code still reads with room to spare.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import math
from dataclasses import dataclass
from typing import Literal

import segno
from PIL import Image, ImageDraw

from mask.kit.errors import FieldError

Format = Literal["svg", "png"]
Ecc = Literal["L", "M", "Q", "H"]
RENDER_VERSION = 1  # part of every ETag: bump when the drawing changes
MIN_CONTRAST = 4.5
LOGO_AREA = 0.18  # of the symbol (quiet zone excluded), logo box and its padding included
MIN_LOGO_VERSION = 4  # smaller symbols have too few modules around a logo box
MEDIA_TYPES: dict[str, str] = {"svg": "image/svg+xml", "png": "image/png"}


@dataclass(frozen=True)
class QrOptions:
    format: Format = "png"
    size: int = 512  # pixels, width and height
    margin: int = 4  # quiet zone, in modules
    ecc: Ecc = "M"
    fg: str = "#000000"
    bg: str = "#ffffff"
    logo: bytes | None = None  # a PNG MASK produced (mask.qr.logo)
    logo_sha256: str | None = None

    @property
    def effective_ecc(self) -> Ecc:
        return "H" if self.logo is not None else self.ecc


def parse_color(param: str, raw: str, errors: list[FieldError]) -> str | None:
    """`#rrggbb`, `rrggbb`, `#rgb` or `rgb` → `#rrggbb`; problems go to `errors`."""
    text = raw.strip().lower().removeprefix("#")
    if len(text) == 3:
        text = "".join(char * 2 for char in text)
    if len(text) != 6 or any(char not in "0123456789abcdef" for char in text):
        errors.append(FieldError(param, "invalid_color", f"`{raw}` is not a colour; use hex like `#1f2937`."))
        return None
    return f"#{text}"


def luminance(color: str) -> float:
    """WCAG 2 relative luminance of `#rrggbb`."""

    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(fg: str, bg: str) -> float:
    a, b = sorted((luminance(fg), luminance(bg)), reverse=True)
    return (a + 0.05) / (b + 0.05)


def check_colors(fg: str, bg: str, errors: list[FieldError]) -> None:
    """Dark on light, at least 4.5:1 (WCAG AA), or a 422 naming `fg`."""
    if luminance(fg) > luminance(bg):
        errors.append(
            FieldError(
                "fg",
                "inverted_colors",
                f"The foreground {fg} is lighter than the background {bg}; many scanners cannot read inverted codes.",
            )
        )
    elif contrast(fg, bg) < MIN_CONTRAST:
        errors.append(
            FieldError(
                "fg",
                "low_contrast",
                f"{fg} on {bg} has a contrast of {contrast(fg, bg):.2f}:1; a QR code needs at least {MIN_CONTRAST}:1.",
            )
        )


def etag(url: str, options: QrOptions) -> str:
    """What the image depends on, hashed: the encoded URL and every style choice (the logo by its hash)."""
    key = [
        RENDER_VERSION,
        url,
        options.format,
        options.size,
        options.margin,
        options.effective_ecc,
        options.fg,
        options.bg,
        options.logo_sha256 if options.logo is not None else None,
    ]
    return '"' + hashlib.sha256(json.dumps(key).encode()).hexdigest()[:32] + '"'


def make_code(url: str, options: QrOptions) -> segno.QRCode:
    code = segno.make(url, error=options.effective_ecc, micro=False, boost_error=False)
    if options.logo is not None and int(code.version) < MIN_LOGO_VERSION:
        code = segno.make(url, error="H", micro=False, boost_error=False, version=MIN_LOGO_VERSION)
    return code


def smallest_size(url: str, options: QrOptions) -> int:
    """The fewest pixels that draw every module of this code (one pixel each), quiet zone included."""
    return int(make_code(url, options).symbol_size(border=options.margin)[0])


def _logo_box(symbol: int, margin: int) -> tuple[int, int]:
    """(start, side) in modules of the square the logo occupies: centred, on whole modules, ≤ LOGO_AREA."""
    side = math.floor(symbol * math.sqrt(LOGO_AREA))
    if (symbol - side) % 2:
        side -= 1  # centred on whole modules
    return margin + (symbol - side) // 2, side


def _fitted(logo: Image.Image, box: int) -> Image.Image:
    """The logo scaled to fit a `box`-pixel square, aspect kept."""
    width, height = logo.size
    factor = box / max(width, height)
    return logo.resize((max(1, round(width * factor)), max(1, round(height * factor))), Image.Resampling.LANCZOS)


def render(url: str, options: QrOptions) -> bytes:
    """The code for `url` as SVG or PNG bytes (`options.size` pixels square)."""
    code = make_code(url, options)
    total = int(code.symbol_size(border=options.margin)[0])
    symbol = int(code.symbol_size(border=0)[0])
    rows = [list(row) for row in code.matrix_iter(scale=1, border=options.margin)]
    box = _logo_box(symbol, options.margin) if options.logo is not None else None
    if options.format == "svg":
        return _svg(rows, total, options, box)
    return _png(rows, total, options, box)


def _runs(row: list[int]) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    start = None
    for x, dark in enumerate([*row, 0]):
        if dark and start is None:
            start = x
        elif not dark and start is not None:
            runs.append((start, x - start))
            start = None
    return runs


def _svg(rows: list[list[int]], total: int, options: QrOptions, box: tuple[int, int] | None) -> bytes:
    path = "".join(f"M{x} {y}h{length}v1h-{length}z" for y, row in enumerate(rows) for x, length in _runs(row))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" version="1.1" '
        f'width="{options.size}" height="{options.size}" viewBox="0 0 {total} {total}" shape-rendering="crispEdges">',
        f'<rect width="{total}" height="{total}" fill="{options.bg}"/>',
        f'<path fill="{options.fg}" d="{path}"/>',
    ]
    if box is not None and options.logo is not None:
        start, side = box
        logo = Image.open(io.BytesIO(options.logo))
        width, height = logo.size
        inner = side - 2  # a module of background around the logo
        factor = inner / max(width, height)
        w, h = width * factor, height * factor
        x, y = start + 1 + (inner - w) / 2, start + 1 + (inner - h) / 2
        data = base64.b64encode(options.logo).decode()
        parts.append(f'<rect x="{start}" y="{start}" width="{side}" height="{side}" fill="{options.bg}"/>')
        parts.append(
            f'<image x="{x:.3f}" y="{y:.3f}" width="{w:.3f}" height="{h:.3f}" preserveAspectRatio="xMidYMid meet" '
            f'href="data:image/png;base64,{data}" xlink:href="data:image/png;base64,{data}"/>'
        )
    parts.append("</svg>")
    return "".join(parts).encode()


def _png(rows: list[list[int]], total: int, options: QrOptions, box: tuple[int, int] | None) -> bytes:
    scale = options.size // total  # whole pixels per module: crisp edges; the rest is background around
    offset = (options.size - scale * total) // 2
    image = Image.new("RGB", (options.size, options.size), options.bg)
    draw = ImageDraw.Draw(image)
    for y, row in enumerate(rows):
        for x, length in _runs(row):
            left, top = offset + x * scale, offset + y * scale
            draw.rectangle((left, top, left + length * scale - 1, top + scale - 1), fill=options.fg)
    if box is not None and options.logo is not None:
        start, side = box
        left = offset + start * scale
        draw.rectangle((left, left, left + side * scale - 1, left + side * scale - 1), fill=options.bg)
        logo = _fitted(Image.open(io.BytesIO(options.logo)).convert("RGBA"), (side - 2) * scale)
        position = (left + (side * scale - logo.width) // 2, left + (side * scale - logo.height) // 2)
        image.paste(logo, position, logo)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
