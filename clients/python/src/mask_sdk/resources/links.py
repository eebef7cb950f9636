"""`client.links`: short links (`/v1/links`). Scopes `links:read`, `links:write`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TypeVar

from mask_sdk._endpoint import NOT_GIVEN, Args, Json, NoContent, NotGiven, Resource, endpoint, given, paginated
from mask_sdk.models import Link, LinkCreate, LinkUpdate, Page

R = TypeVar("R")


class Links(Resource[R]):
    @endpoint("POST", "/v1/links", returns=Json(Link), body=LinkCreate)
    def create(
        self,
        *,
        url: str,
        slug: str | None = None,
        domain: str | None = None,
        tags: Sequence[str] | None = None,
        utm_source: str | None = None,
        utm_medium: str | None = None,
        utm_campaign: str | None = None,
        utm_term: str | None = None,
        utm_content: str | None = None,
        expires_at: datetime | None = None,
        expired_url: str | None = None,
        idempotency_key: str | None = None,
    ) -> Args:
        """Create a link. Without `slug`, 7 random characters; without `domain`, the default short domain.
        A slug taken on the domain is `ConflictError` (`slug_taken`)."""
        return given(locals())

    @paginated("/v1/links", item=Link)
    def list(
        self,
        *,
        tag: str | None = None,
        domain: str | None = None,
        q: str | None = None,
        created_by: str | None = None,
        limit: int | None = None,
        max_items: int | None = None,
    ) -> Args:
        """Every link, newest first, optionally with a tag, on a domain, matching `q` (URL and slug), or created
        by `created_by` (`"me"`, a `usr_…` or a `key_…` id). `limit` is the page size; `max_items` stops after
        that many."""
        return given(locals())

    @endpoint("GET", "/v1/links", returns=Json(Page[Link]))
    def list_page(
        self,
        *,
        tag: str | None = None,
        domain: str | None = None,
        q: str | None = None,
        created_by: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Args:
        """One page of links; pass its `next_cursor` back as `cursor` for the next."""
        return given(locals())

    @endpoint("GET", "/v1/links/{link_id}", returns=Json(Link))
    def get(self, link_id: str) -> Args:
        """One link of the workspace (another workspace's id is `NotFoundError`)."""
        return given(locals())

    @endpoint("PATCH", "/v1/links/{link_id}", returns=Json(Link), body=LinkUpdate)
    def update(
        self,
        link_id: str,
        *,
        url: str | NotGiven = NOT_GIVEN,
        slug: str | NotGiven = NOT_GIVEN,
        domain: str | NotGiven | None = NOT_GIVEN,
        tags: Sequence[str] | NotGiven | None = NOT_GIVEN,
        utm_source: str | NotGiven | None = NOT_GIVEN,
        utm_medium: str | NotGiven | None = NOT_GIVEN,
        utm_campaign: str | NotGiven | None = NOT_GIVEN,
        utm_term: str | NotGiven | None = NOT_GIVEN,
        utm_content: str | NotGiven | None = NOT_GIVEN,
        expires_at: datetime | NotGiven | None = NOT_GIVEN,
        expired_url: str | NotGiven | None = NOT_GIVEN,
    ) -> Args:
        """Change the fields given, only those; `None` clears an optional field (`domain=None` moves the link
        to the default domain)."""
        return given(locals())

    @endpoint("DELETE", "/v1/links/{link_id}", returns=NoContent())
    def delete(self, link_id: str) -> Args:
        """Delete a link; it stops redirecting at once."""
        return given(locals())
