"""Logos for QR codes: uploaded bytes in, a PNG MASK drew itself out. Never fetched from a URL.

- PNG: opened with Pillow (which checks the format and refuses decompression bombs), at most 2,048 pixels a
  side, then re-encoded: no metadata, no extra chunks, nothing of the upload but its pixels.
- SVG: parsed with defusedxml (no DTD, no entities, no external anything), refused when it refers to anything
  outside itself (an `href` that is not `#…` or an embedded raster `data:` image, a CSS `url()` or `@import`
  that leaves the document), then rasterised with resvg (resvg-py). Only the pixels are kept: a script,
  an event handler or a link in the SVG never reaches anyone. resvg itself would read a local file an `<image>`
  names, which is why those references are refused first.
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ElementTree

import defusedxml.ElementTree as SafeElementTree
from defusedxml import DefusedXmlException
from PIL import Image, UnidentifiedImageError

MAX_UPLOAD_BYTES = 256 * 1024
MAX_INPUT_PIXELS = 2048  # a side, of an uploaded PNG
STORED_SIZE = 512  # the longest side of the stored PNG
SAFE_DATA_IMAGES = ("data:image/png", "data:image/jpeg", "data:image/gif", "data:image/webp")
CSS_URL = re.compile(r"url\(\s*['\"]?\s*([^)'\"\s]*)", re.IGNORECASE)


class LogoRefused(ValueError):
    """Why an uploaded logo is not accepted; the message is for the user."""


def _png_out(image: Image.Image) -> bytes:
    image = image.convert("RGBA")
    image.thumbnail((STORED_SIZE, STORED_SIZE), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _from_png(data: bytes) -> bytes:
    try:
        image = Image.open(io.BytesIO(data), formats=["PNG"])
        if max(image.size) > MAX_INPUT_PIXELS:
            raise LogoRefused(f"The logo is {image.width}×{image.height}; at most {MAX_INPUT_PIXELS} pixels a side.")
        image.load()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, SyntaxError) as error:
        raise LogoRefused("The logo is not a valid PNG image.") from error
    return _png_out(image)


def _outside_reference(value: str) -> bool:
    text = value.strip()
    return not (text.startswith("#") or text.lower().startswith(SAFE_DATA_IMAGES)) if text else False


def check_svg(data: bytes) -> ElementTree.Element:
    """The parsed SVG, or LogoRefused when it is not one or refers to anything outside itself."""
    if b"<?xml-stylesheet" in data.lower():
        raise LogoRefused("The SVG logo's styles refer to a file or an address.")
    try:
        root: ElementTree.Element = SafeElementTree.fromstring(data, forbid_dtd=True)
    except (DefusedXmlException, ElementTree.ParseError, ValueError) as error:
        raise LogoRefused("The logo is not a well-formed SVG document (DTDs and entities are not accepted).") from error
    if not root.tag.endswith("svg"):
        raise LogoRefused("The logo is not an SVG document.")
    for element in root.iter():
        for name, value in element.attrib.items():
            local = name.rsplit("}", 1)[-1]
            if local == "href" and _outside_reference(value):
                raise LogoRefused("The SVG logo refers to a file or an address; embed everything it shows.")
            if any(_outside_reference(found) for found in CSS_URL.findall(value)):
                raise LogoRefused("The SVG logo's styles refer to a file or an address.")
        if element.tag.rsplit("}", 1)[-1] == "style" and element.text:
            if "@import" in element.text.lower() or any(
                _outside_reference(found) for found in CSS_URL.findall(element.text)
            ):
                raise LogoRefused("The SVG logo's styles refer to a file or an address.")
    return root


def _from_svg(data: bytes) -> bytes:
    import resvg_py

    check_svg(data)
    try:
        png = resvg_py.svg_to_bytes(
            svg_string=data.decode("utf-8"), width=STORED_SIZE, skip_system_fonts=True, font_files=[]
        )
    except (ValueError, UnicodeDecodeError) as error:
        raise LogoRefused("The SVG logo could not be drawn.") from error
    return _png_out(Image.open(io.BytesIO(bytes(png)), formats=["PNG"]))


def sanitize(data: bytes, media_type: str) -> bytes:
    """An uploaded PNG or SVG logo → the PNG MASK stores; LogoRefused otherwise."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise LogoRefused(f"The logo is {len(data):,} bytes; at most {MAX_UPLOAD_BYTES:,}.")
    if media_type == "image/png":
        return _from_png(data)
    if media_type == "image/svg+xml":
        return _from_svg(data)
    raise LogoRefused("A logo is a PNG (`image/png`) or an SVG (`image/svg+xml`) image.")
