"""`client.audit_log`: who changed what in the workspace (`/v1/audit-log`). Scope `audit:read`."""

from __future__ import annotations

from typing import TypeVar

from mask_sdk._endpoint import Args, Json, Resource, endpoint, given, paginated
from mask_sdk.models import AuditEntry, Page

R = TypeVar("R")


class AuditLog(Resource[R]):
    @paginated("/v1/audit-log", item=AuditEntry)
    def list(
        self,
        *,
        action: str | None = None,
        actor_id: str | None = None,
        limit: int | None = None,
        max_items: int | None = None,
    ) -> Args:
        """Every entry, newest first; `action` is one action (`link.created`) or a family (`member.`)."""
        return given(locals())

    @endpoint("GET", "/v1/audit-log", returns=Json(Page[AuditEntry]))
    def list_page(
        self,
        *,
        action: str | None = None,
        actor_id: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Args:
        """One page of entries; pass its `next_cursor` back as `cursor` for the next."""
        return given(locals())
