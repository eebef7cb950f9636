"""`client.qr`: the workspace's QR code style (`/v1/qr-style`). Scopes `links:read`, `links:write`.

A link's QR code itself is `client.links.qr(link_id)`."""

from __future__ import annotations

from typing import Literal, TypeVar

from mask_sdk._endpoint import NOT_GIVEN, Args, Json, NotGiven, Resource, endpoint, given
from mask_sdk.models import QrLogoUpload, QrStyle, QrStyleUpdate

R = TypeVar("R")


class Qr(Resource[R]):
    @endpoint("GET", "/v1/qr-style", returns=Json(QrStyle))
    def style(self) -> Args:
        """The workspace's default QR style."""
        return given(locals())

    @endpoint("PATCH", "/v1/qr-style", returns=Json(QrStyle), body=QrStyleUpdate)
    def update_style(
        self,
        *,
        fg: str | NotGiven = NOT_GIVEN,
        bg: str | NotGiven = NOT_GIVEN,
        ecc: Literal["L", "M", "Q", "H"] | NotGiven = NOT_GIVEN,
        margin: int | NotGiven = NOT_GIVEN,
        logo: QrLogoUpload | NotGiven | None = NOT_GIVEN,
    ) -> Args:
        """Change the fields given; `logo=None` removes the logo."""
        return given(locals())
