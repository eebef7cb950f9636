from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response

from mask.auth.dependencies import LinksRead, LinksWrite
from mask.dependencies import SessionDep
from mask.kit.schemas import error_responses
from mask.link import service as link_service
from mask.qr import service as qr_service
from mask.qr.marker import QR_MARKER
from mask.qr.render import MEDIA_TYPES, etag, render
from mask.qr.schemas import QrStyle, QrStyleUpdate

router = APIRouter(tags=["QR codes"])

IMAGE_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {
        "description": "The image (PNG or SVG), with an `ETag`.",
        "content": {"image/png": {"schema": {"type": "string", "format": "binary"}}, "image/svg+xml": {}},
    },
    304: {"description": "`If-None-Match` named the current `ETag`: the image has not changed."},
}


def qr_url(short_url: str) -> str:
    """What a link's QR code encodes: its short URL with the scan marker."""
    return f"{short_url}?{QR_MARKER}"


@router.get(
    "/links/{link_id}/qr",
    response_class=Response,
    responses={**error_responses(403, 404, 422), **IMAGE_RESPONSES},
    summary="A link's QR code",
    description="Scope: `links:read`. The code encodes the short URL with `?qr=1`, which the redirect strips: "
    "a scan is counted as a click with `trigger: qr`. Parameters not given come from the workspace's style "
    "(`GET /v1/qr-style`). Foreground and background need a contrast of at least 4.5:1, dark on light (`422` "
    "otherwise). With the workspace's logo (`logo=true`, the default when there is one) error correction is H. "
    "The `ETag` changes whenever the encoded URL or the style does.",
)
async def link_qr(
    link_id: str,
    request: Request,
    auth: LinksRead,
    session: SessionDep,
    format: Annotated[Literal["svg", "png"], Query(description="`png` (default) or `svg`.")] = "png",
    size: Annotated[int, Query(ge=qr_service.MIN_SIZE, le=qr_service.MAX_SIZE, description="Pixels a side.")] = 512,
    margin: Annotated[int | None, Query(ge=0, le=20, description="Quiet zone in modules (default 4).")] = None,
    ecc: Annotated[Literal["L", "M", "Q", "H"] | None, Query(description="Error correction level.")] = None,
    fg: Annotated[str | None, Query(max_length=7, description="Dark colour, hex (`111827` or `#111827`).")] = None,
    bg: Annotated[str | None, Query(max_length=7, description="Light colour, hex.")] = None,
    logo: Annotated[bool | None, Query(description="Draw the workspace's logo (default: when it has one).")] = None,
    download: Annotated[bool, Query(description="Answer as an attachment (`Content-Disposition`).")] = False,
) -> Response:
    view = await link_service.get(session, workspace_id=auth.workspace_id, link_id=link_id)
    url = qr_url(link_service.short_url(view.link.domain, view.link.slug))
    style = await qr_service.style_of(session, workspace_id=auth.workspace_id)
    options = qr_service.options_for(
        style,
        qr_service.QrRequest(format=format, size=size, margin=margin, ecc=ecc, fg=fg, bg=bg, logo=logo),
        url,
    )
    tag = etag(url, options)
    headers = {"ETag": tag, "Cache-Control": "private, no-cache"}
    if download:
        headers["Content-Disposition"] = f'attachment; filename="qr-{view.link.slug}.{format}"'
    if tag in {value.strip() for value in request.headers.get("if-none-match", "").split(",")}:
        return Response(status_code=304, headers=headers)
    return Response(render(url, options), media_type=MEDIA_TYPES[format], headers=headers)


@router.get(
    "/qr-style",
    response_model=QrStyle,
    responses=error_responses(403),
    summary="The workspace's QR code style",
    description="Scope: `links:read`. The defaults of `GET /v1/links/{id}/qr`.",
)
async def get_qr_style(auth: LinksRead, session: SessionDep) -> QrStyle:
    return await qr_service.get_style(session, workspace_id=auth.workspace_id)


@router.patch(
    "/qr-style",
    response_model=QrStyle,
    responses=error_responses(400, 403, 422),
    summary="Change the workspace's QR code style",
    description='Scope: `links:write`. The fields sent change. `logo`: `{"media_type": "image/png" | '
    '"image/svg+xml", "data": "<base64>"}` (at most 256 KiB; a PNG is re-encoded, an SVG rasterised, '
    "and one that refers to any file or address is refused), or `null` to remove it.",
)
async def update_qr_style(body: QrStyleUpdate, auth: LinksWrite, session: SessionDep) -> QrStyle:
    return await qr_service.update_style(session, workspace_id=auth.workspace_id, data=body)
