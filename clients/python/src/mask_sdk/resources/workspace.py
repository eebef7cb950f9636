"""`client.workspace`: the key's workspace and its defaults (`/v1/workspace`). Scopes `workspace:read`,
`workspace:write`."""

from __future__ import annotations

from typing import TypeVar

from mask_sdk._endpoint import NOT_GIVEN, Args, Json, NotGiven, Resource, endpoint, given
from mask_sdk.models import QrStyleUpdate, Workspace, WorkspaceUpdate

R = TypeVar("R")


class WorkspaceSettings(Resource[R]):
    @endpoint("GET", "/v1/workspace", returns=Json(Workspace))
    def get(self) -> Args:
        """The workspace: id, handle, name, plan, default domain and default QR style."""
        return given(locals())

    @endpoint("PATCH", "/v1/workspace", returns=Json(Workspace), body=WorkspaceUpdate)
    def update(
        self,
        *,
        name: str | NotGiven = NOT_GIVEN,
        default_domain: str | NotGiven | None = NOT_GIVEN,
        qr_style: QrStyleUpdate | NotGiven = NOT_GIVEN,
        require_two_factor: bool | NotGiven = NOT_GIVEN,
    ) -> Args:
        """Rename it or change its defaults (admins and owners); the fields given change. `default_domain`: one
        of its verified domains, where links go when they name none (`None`: the server's short domain).
        `require_two_factor` (owners who use it themselves): every member signs in with a second factor."""
        return given(locals())
