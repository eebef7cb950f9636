"""`client.links`: short links (`/v1/links`). Scopes `links:read`, `links:write`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Literal, TypeVar

from mask_sdk._endpoint import (
    NOT_GIVEN,
    Args,
    Binary,
    Json,
    NoContent,
    NotGiven,
    Resource,
    Text,
    endpoint,
    given,
    paginated,
)
from mask_sdk.models import (
    BulkAnswer,
    BulkCreate,
    BulkDelete,
    BulkSet,
    BulkUpdate,
    Link,
    LinkCreate,
    LinkMetadata,
    LinkPreview,
    LinkRule,
    LinkUpdate,
    LinkVariant,
    Page,
)

R = TypeVar("R")
Sort = Literal["created_at", "clicks", "last_clicked_at", "title"]
Order = Literal["asc", "desc"]
Archived = Literal["false", "true", "all"]


class Links(Resource[R]):
    @endpoint("POST", "/v1/links", returns=Json(Link), body=LinkCreate)
    def create(
        self,
        *,
        url: str,
        slug: str | None = None,
        domain: str | None = None,
        title: str | None = None,
        notes: str | None = None,
        external_id: str | None = None,
        tags: Sequence[str] | None = None,
        utm_source: str | None = None,
        utm_medium: str | None = None,
        utm_campaign: str | None = None,
        utm_term: str | None = None,
        utm_content: str | None = None,
        expires_at: datetime | None = None,
        expired_url: str | None = None,
        archived: bool | None = None,
        disabled: bool | None = None,
        password: str | None = None,
        starts_at: datetime | None = None,
        max_clicks: int | None = None,
        redirect_status: Literal[301, 302, 307, 308] | None = None,
        rules: Sequence[LinkRule | Mapping[str, Any]] | None = None,
        ios_url: str | None = None,
        android_url: str | None = None,
        geo: Mapping[str, str] | None = None,
        variants: Sequence[LinkVariant | Mapping[str, Any]] | None = None,
        test_ends_at: datetime | None = None,
        preview: LinkPreview | Mapping[str, Any] | None = None,
        if_exists: Literal["create", "return"] | None = None,
        idempotency_key: str | None = None,
    ) -> Args:
        """Create a link. Without `slug`, 7 random characters; without `domain`, the default short domain;
        without `title`, the destination page's title, fetched in the background. A slug taken on the domain is
        `ConflictError` (`slug_taken`). `if_exists="return"` answers the workspace's link to the same URL with
        the same fields sent, if there is one, instead of creating another. `password` (write-only), `starts_at`,
        `max_clicks` and `redirect_status` decide what a click gets."""
        return given(locals())

    @paginated("/v1/links", item=Link)
    def list(
        self,
        *,
        sort: Sort | None = None,
        order: Order | None = None,
        archived: Archived | None = None,
        tags: str | None = None,
        tag_match: Literal["any", "all"] | None = None,
        tag: str | None = None,
        domain: str | None = None,
        q: str | None = None,
        created_by: str | None = None,
        limit: int | None = None,
        max_items: int | None = None,
    ) -> Args:
        """Every link, newest first unless `sort`/`order` say otherwise; `tags="a,b,-c"` with `tag_match`,
        on a domain, matching `q` (URL, slug, title), or created by `created_by` (`"me"`, a `usr_…` or a `key_…`
        id). `limit` is the page size; `max_items` stops after that many."""
        return given(locals())

    @endpoint("GET", "/v1/links", returns=Json(Page[Link]))
    def list_page(
        self,
        *,
        sort: Sort | None = None,
        order: Order | None = None,
        archived: Archived | None = None,
        tags: str | None = None,
        tag_match: Literal["any", "all"] | None = None,
        tag: str | None = None,
        domain: str | None = None,
        q: str | None = None,
        created_by: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Args:
        """One page of links; pass its `next_cursor` back as `cursor` (with the same sort) for the next."""
        return given(locals())

    @endpoint("GET", "/v1/links/info", returns=Json(Link))
    def info(self, *, domain: str | None = None, slug: str | None = None, external_id: str | None = None) -> Args:
        """The workspace's link at `domain`/`slug` (the default short domain without `domain`), or with
        `external_id`."""
        return given(locals())

    @endpoint("GET", "/v1/links/metadata", returns=Json(LinkMetadata))
    def metadata(self, *, url: str) -> Args:
        """A page's Open Graph title, description and https image, to pre-fill a link's `preview`."""
        return given(locals())

    @endpoint("GET", "/v1/links/{link_id}", returns=Json(Link))
    def get(self, link_id: str) -> Args:
        """One link of the workspace (another workspace's id is `NotFoundError`)."""
        return given(locals())

    @endpoint("GET", "/v1/links/{link_id}/qr", returns=Binary())
    def qr(
        self,
        link_id: str,
        *,
        format: Literal["svg", "png"] | None = None,
        size: int | None = None,
        margin: int | None = None,
        ecc: Literal["L", "M", "Q", "H"] | None = None,
        fg: str | None = None,
        bg: str | None = None,
        logo: bool | None = None,
        download: bool | None = None,
    ) -> Args:
        """The link's QR code as PNG (default) or SVG bytes, in the workspace's style unless overridden."""
        return given(locals())

    @endpoint("PATCH", "/v1/links/{link_id}", returns=Json(Link), body=LinkUpdate)
    def update(
        self,
        link_id: str,
        *,
        url: str | NotGiven = NOT_GIVEN,
        slug: str | NotGiven = NOT_GIVEN,
        domain: str | NotGiven | None = NOT_GIVEN,
        title: str | NotGiven | None = NOT_GIVEN,
        notes: str | NotGiven | None = NOT_GIVEN,
        external_id: str | NotGiven | None = NOT_GIVEN,
        tags: Sequence[str] | NotGiven | None = NOT_GIVEN,
        utm_source: str | NotGiven | None = NOT_GIVEN,
        utm_medium: str | NotGiven | None = NOT_GIVEN,
        utm_campaign: str | NotGiven | None = NOT_GIVEN,
        utm_term: str | NotGiven | None = NOT_GIVEN,
        utm_content: str | NotGiven | None = NOT_GIVEN,
        expires_at: datetime | NotGiven | None = NOT_GIVEN,
        expired_url: str | NotGiven | None = NOT_GIVEN,
        archived: bool | NotGiven = NOT_GIVEN,
        disabled: bool | NotGiven = NOT_GIVEN,
        password: str | NotGiven | None = NOT_GIVEN,
        starts_at: datetime | NotGiven | None = NOT_GIVEN,
        max_clicks: int | NotGiven | None = NOT_GIVEN,
        redirect_status: Literal[301, 302, 307, 308] | NotGiven | None = NOT_GIVEN,
        rules: Sequence[LinkRule | Mapping[str, Any]] | NotGiven | None = NOT_GIVEN,
        ios_url: str | NotGiven | None = NOT_GIVEN,
        android_url: str | NotGiven | None = NOT_GIVEN,
        geo: Mapping[str, str] | NotGiven | None = NOT_GIVEN,
        variants: Sequence[LinkVariant | Mapping[str, Any]] | NotGiven | None = NOT_GIVEN,
        test_ends_at: datetime | NotGiven | None = NOT_GIVEN,
        preview: LinkPreview | Mapping[str, Any] | NotGiven | None = NOT_GIVEN,
    ) -> Args:
        """Change the fields given, only those; `None` clears an optional field (`domain=None` moves the link
        to the default domain, `title=None` goes back to the page's title)."""
        return given(locals())

    @endpoint("POST", "/v1/links/{link_id}/variants/{n}/promote", returns=Json(Link))
    def promote_variant(self, link_id: str, n: int, *, idempotency_key: str | None = None) -> Args:
        """Make A/B variant `n` (0-based) the link's URL and end the test."""
        return given(locals())

    @endpoint("DELETE", "/v1/links/{link_id}", returns=NoContent())
    def delete(self, link_id: str) -> Args:
        """Delete a link; it stops redirecting at once."""
        return given(locals())

    @endpoint("DELETE", "/v1/links/{link_id}/clicks", returns=NoContent())
    def delete_clicks(self, link_id: str) -> Args:
        """Delete every click of a link (raw clicks, analytics, its `clicks` counter); the link stays."""
        return given(locals())

    @endpoint("POST", "/v1/links/bulk", returns=Json(BulkAnswer), body=BulkCreate)
    def bulk_create(
        self, *, links: Sequence[LinkCreate | Mapping[str, Any]], idempotency_key: str | None = None
    ) -> Args:
        """Create up to 1,000 links; each gets its own result (`link`, or `error` in the API's error shape)
        at its `index`, and one bad link never stops the others."""
        return given(locals())

    @endpoint("PATCH", "/v1/links/bulk", returns=Json(BulkAnswer), body=BulkUpdate)
    def bulk_update(
        self,
        *,
        set: BulkSet | Mapping[str, Any],
        ids: Sequence[str] | None = None,
        external_ids: Sequence[str] | None = None,
    ) -> Args:
        """Apply `set` (tags_add, tags_remove, archived, disabled, expiry, UTM) to up to 1,000 links named by
        `ids` or `external_ids`; a link that is not this workspace's is a 404 result."""
        return given(locals())

    @endpoint("DELETE", "/v1/links/bulk", returns=Json(BulkAnswer), body=BulkDelete)
    def bulk_delete(self, *, ids: Sequence[str]) -> Args:
        """Delete up to 1,000 links; a link that is not this workspace's is a 404 result."""
        return given(locals())

    @endpoint("GET", "/v1/links/export", returns=Text())
    def export(
        self,
        *,
        format: Literal["csv", "ndjson"] | None = None,
        sort: Sort | None = None,
        order: Order | None = None,
        archived: Archived | None = None,
        tags: str | None = None,
        tag_match: Literal["any", "all"] | None = None,
        domain: str | None = None,
        q: str | None = None,
    ) -> Args:
        """Every link the filters select, as CSV (the columns the `mask-csv` import reads back) or NDJSON."""
        return given(locals())
