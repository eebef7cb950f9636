"""`client.bio_pages`: link-in-bio pages (`/v1/bio-pages`). Scopes `bio_pages:read`, `bio_pages:write`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from mask_sdk._endpoint import NOT_GIVEN, Args, Json, NoContent, NotGiven, Resource, endpoint, given, paginated
from mask_sdk.models import BioPage, BioPageCreate, BioPageUpdate, BlockIn, Page, ThemeIn

R = TypeVar("R")

Theme = ThemeIn | Mapping[str, Any]
Blocks = Sequence[BlockIn | Mapping[str, Any]]


class BioPages(Resource[R]):
    @endpoint("POST", "/v1/bio-pages", returns=Json(BioPage), body=BioPageCreate)
    def create(
        self,
        *,
        handle: str,
        domain: str | None = None,
        title: str | None = None,
        description: str | None = None,
        avatar_url: str | None = None,
        theme: Theme | None = None,
        blocks: Blocks | None = None,
        published: bool | None = None,
        seo_title: str | None = None,
        seo_description: str | None = None,
        og_image_url: str | None = None,
        idempotency_key: str | None = None,
    ) -> Args:
        """Create a page, public at its `url` (`https://<domain>/@<handle>`) unless `published=False`.
        `blocks` are `LinkBlockIn`, `HeaderBlockIn`, `TextBlockIn`, `SocialBlockIn` (or dicts with a `type`)."""
        return given(locals())

    @paginated("/v1/bio-pages", item=BioPage)
    def list(self, *, domain: str | None = None, limit: int | None = None, max_items: int | None = None) -> Args:
        """Every bio page, newest first."""
        return given(locals())

    @endpoint("GET", "/v1/bio-pages", returns=Json(Page[BioPage]))
    def list_page(self, *, domain: str | None = None, limit: int | None = None, cursor: str | None = None) -> Args:
        """One page of bio pages."""
        return given(locals())

    @endpoint("GET", "/v1/bio-pages/{bio_page_id}", returns=Json(BioPage))
    def get(self, bio_page_id: str) -> Args:
        """One bio page of the workspace, with its blocks."""
        return given(locals())

    @endpoint("PATCH", "/v1/bio-pages/{bio_page_id}", returns=Json(BioPage), body=BioPageUpdate)
    def update(
        self,
        bio_page_id: str,
        *,
        handle: str | NotGiven = NOT_GIVEN,
        domain: str | NotGiven | None = NOT_GIVEN,
        title: str | NotGiven | None = NOT_GIVEN,
        description: str | NotGiven | None = NOT_GIVEN,
        avatar_url: str | NotGiven | None = NOT_GIVEN,
        theme: Theme | NotGiven | None = NOT_GIVEN,
        blocks: Blocks | NotGiven | None = NOT_GIVEN,
        published: bool | NotGiven | None = NOT_GIVEN,
        seo_title: str | NotGiven | None = NOT_GIVEN,
        seo_description: str | NotGiven | None = NOT_GIVEN,
        og_image_url: str | NotGiven | None = NOT_GIVEN,
    ) -> Args:
        """Change the fields given. `blocks` replaces the list: send a kept block's `id` to keep it and its
        clicks; blocks left out are removed. `None` clears an optional field."""
        return given(locals())

    @endpoint("DELETE", "/v1/bio-pages/{bio_page_id}", returns=NoContent())
    def delete(self, bio_page_id: str) -> Args:
        """Delete a page; its public address answers 404."""
        return given(locals())

    @endpoint("DELETE", "/v1/bio-pages/{bio_page_id}/clicks", returns=NoContent())
    def delete_clicks(self, bio_page_id: str) -> Args:
        """Delete a page's views and its blocks' clicks (analytics and counters); the page stays."""
        return given(locals())
