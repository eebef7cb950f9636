"""`client.domains`: custom short domains (`/v1/domains`). Scopes `domains:read`, `domains:write`."""

from __future__ import annotations

from typing import TypeVar

from mask_sdk._endpoint import Args, Json, NoContent, Resource, endpoint, given, paginated
from mask_sdk.models import Domain, DomainCreate, Page

R = TypeVar("R")


class Domains(Resource[R]):
    @endpoint("POST", "/v1/domains", returns=Json(Domain), body=DomainCreate)
    def create(self, *, domain: str, idempotency_key: str | None = None) -> Args:
        """Add a host name you control (`go.yourbrand.com`); one used by any workspace is `ConflictError`."""
        return given(locals())

    @paginated("/v1/domains", item=Domain)
    def list(self, *, limit: int | None = None, max_items: int | None = None) -> Args:
        """Every domain of the workspace, newest first."""
        return given(locals())

    @endpoint("GET", "/v1/domains", returns=Json(Page[Domain]))
    def list_page(self, *, limit: int | None = None, cursor: str | None = None) -> Args:
        """One page of domains."""
        return given(locals())

    @endpoint("GET", "/v1/domains/{domain_id}", returns=Json(Domain))
    def get(self, domain_id: str) -> Args:
        """One domain of the workspace."""
        return given(locals())

    @endpoint("DELETE", "/v1/domains/{domain_id}", returns=NoContent())
    def delete(self, domain_id: str) -> Args:
        """Remove a domain; while links or bio pages use it, `ConflictError` (`domain_in_use`)."""
        return given(locals())
