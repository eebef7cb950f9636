"""`client.domains`: custom short domains (`/v1/domains`). Scopes `domains:read`, `domains:write`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from mask_sdk._endpoint import NOT_GIVEN, Args, Json, NoContent, NotGiven, Resource, endpoint, given, paginated
from mask_sdk.models import Domain, DomainCreate, DomainUpdate, Page

R = TypeVar("R")


class Domains(Resource[R]):
    @endpoint("POST", "/v1/domains", returns=Json(Domain), body=DomainCreate)
    def create(self, *, domain: str, idempotency_key: str | None = None) -> Args:
        """Claim a host name you control (`go.yourbrand.com`): `pending` until the TXT record in
        `verification.record` exists. This workspace's already, or verified by another: `ConflictError`."""
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

    @endpoint("PATCH", "/v1/domains/{domain_id}", returns=Json(Domain), body=DomainUpdate)
    def update(
        self,
        domain_id: str,
        *,
        root_url: str | NotGiven | None = NOT_GIVEN,
        not_found_url: str | NotGiven | None = NOT_GIVEN,
        expired_url: str | NotGiven | None = NOT_GIVEN,
        robots: str | NotGiven = NOT_GIVEN,
        apple_app_site_association: Mapping[str, Any] | NotGiven | None = NOT_GIVEN,
        asset_links: Sequence[Any] | NotGiven | None = NOT_GIVEN,
    ) -> Args:
        """Change what the domain answers besides links; `None` clears a setting."""
        return given(locals())

    @endpoint("POST", "/v1/domains/{domain_id}/verify", returns=Json(Domain))
    def verify(self, domain_id: str, *, idempotency_key: str | None = None) -> Args:
        """Check the domain's DNS records now; the domain with the result (`verification`)."""
        return given(locals())

    @endpoint("DELETE", "/v1/domains/{domain_id}", returns=NoContent())
    def delete(self, domain_id: str) -> Args:
        """Remove a domain; while links or bio pages use it, `ConflictError` (`domain_in_use`)."""
        return given(locals())
