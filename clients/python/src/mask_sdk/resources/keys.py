"""`client.keys`: the workspace's API keys (`/v1/keys`). Scopes `keys:read`, `keys:write`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TypeVar

from mask_sdk._endpoint import Args, Json, NoContent, Part, Resource, endpoint, given
from mask_sdk.models import ApiKey, ApiKeyCreate, ApiKeyCreated, ApiKeyList

R = TypeVar("R")


class Keys(Resource[R]):
    @endpoint("GET", "/v1/keys", returns=Part(ApiKeyList, lambda keys: keys.data))
    def list(self) -> Args:
        """Every key of the workspace, newest first, revoked ones included; never a secret."""
        return given(locals())

    @endpoint("POST", "/v1/keys", returns=Json(ApiKeyCreated), body=ApiKeyCreate)
    def create(
        self,
        *,
        name: str | None = None,
        scopes: Sequence[str] | None = None,
        expires_at: datetime | None = None,
        idempotency_key: str | None = None,
    ) -> Args:
        """A new key of the same member as this client's key, with at most its scopes (`PermissionDeniedError`
        with code `scope_not_held` otherwise; none given: this key's). `secret` is in this answer only."""
        return given(locals())

    @endpoint("GET", "/v1/keys/{key_id}", returns=Json(ApiKey))
    def get(self, key_id: str) -> Args:
        """One key of the workspace (without its secret)."""
        return given(locals())

    @endpoint("DELETE", "/v1/keys/{key_id}", returns=NoContent())
    def revoke(self, key_id: str) -> Args:
        """Revoke a key; it stops working at once. A `member`'s key revokes only that member's keys."""
        return given(locals())
