"""The workspace's QR style: colours, quiet zone, error correction and logo, with a live preview."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import urlencode

from pydantic import ValidationError
from starlette.datastructures import UploadFile
from starlette.responses import Response

from mask.dashboard.views.links import qr_request
from mask.dashboard.web import Page, Rerender, field_errors, view
from mask.kit.errors import MaskError
from mask.qr import logo as logos
from mask.qr import service as qr_service
from mask.qr.render import MEDIA_TYPES, etag, render
from mask.qr.schemas import QrStyleUpdate
from mask.workspace.permissions import Permission

LOGO_TYPES = {"image/png": "image/png", "image/svg+xml": "image/svg+xml"}


def _sample_url(page: Page) -> str:
    return f"https://{page.settings.short_domain}/example?qr=1"


async def _render(page: Page, *, status: int = 200, errors: dict[str, str] | None = None) -> Response:
    style = await qr_service.get_style(page.db, workspace_id=page.ws.workspace.id)
    values: dict[str, Any] = {"fg": style.fg, "bg": style.bg, "margin": style.margin, "ecc": style.ecc}
    preview = f"{page.base}/qr/preview.svg?" + urlencode(
        {**values, "v": (style.updated_at.timestamp() if style.updated_at else 0)}
    )
    return page.render(
        "qr_style.html", status=status, style=style, values=values, errors=errors or {}, preview_url=preview
    )


@view(workspace=True, permission=Permission.links_read)
async def qr_style(page: Page) -> Response:
    return await _render(page)


@view(workspace=True, permission=Permission.links_write)
async def save_qr_style(page: Page) -> Response:
    form = await page.form()
    margin = (await page.field("margin") or "").strip()
    changes: dict[str, Any] = {
        "fg": await page.field("fg"),
        "bg": await page.field("bg"),
        "ecc": await page.field("ecc") or None,
        "margin": int(margin) if margin.isascii() and margin.isdigit() else margin or None,  # the API wants a number
    }
    upload = form.get("logo")
    if await page.field("remove_logo") == "1":
        changes["logo"] = None
    elif isinstance(upload, UploadFile) and upload.filename:
        data = await upload.read(logos.MAX_UPLOAD_BYTES + 1)
        media_type = LOGO_TYPES.get((upload.content_type or "").split(";")[0].strip().lower(), "image/png")
        if upload.filename.lower().endswith(".svg"):
            media_type = "image/svg+xml"
        changes["logo"] = {"media_type": media_type, "data": base64.b64encode(data).decode()}
    try:
        data_in = QrStyleUpdate.model_validate(changes)
        await qr_service.update_style(page.db, workspace_id=page.ws.workspace.id, data=data_in)
    except (MaskError, ValidationError) as error:
        status = 422 if isinstance(error, ValidationError) else error.status_code
        raise Rerender(await _render(page, status=status, errors=field_errors(error))) from error
    return page.redirect(f"{page.base}/qr", done="qr-style-saved")


@view(workspace=True, permission=Permission.links_read)
async def preview(page: Page) -> Response:
    """A sample code in the style the form shows (before it is saved)."""
    url = _sample_url(page)
    style = await qr_service.style_of(page.db, workspace_id=page.ws.workspace.id)
    try:
        options = qr_service.options_for(style, qr_request(page, "svg"), url)
    except MaskError as error:
        return Response(error.message, status_code=422, media_type="text/plain")
    return Response(
        render(url, options),
        media_type=MEDIA_TYPES["svg"],
        headers={"ETag": etag(url, options), "Cache-Control": "private, no-cache"},
    )
