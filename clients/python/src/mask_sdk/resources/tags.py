"""`client.tags`: the workspace's tags (`/v1/tags`). Scopes `links:read`, `tags:write`."""

from __future__ import annotations

from typing import TypeVar

from mask_sdk._endpoint import NOT_GIVEN, Args, Json, NoContent, NotGiven, Part, Resource, endpoint, given
from mask_sdk.models import Tag, TagCreate, TagList, TagUpdate

R = TypeVar("R")


class Tags(Resource[R]):
    @endpoint("GET", "/v1/tags", returns=Part(TagList, lambda tags: tags.data))
    def list(self) -> Args:
        """Every tag, by name, with `color` and `link_count`."""
        return given(locals())

    @endpoint("POST", "/v1/tags", returns=Json(Tag), body=TagCreate)
    def create(self, *, name: str, color: str | None = None, idempotency_key: str | None = None) -> Args:
        """A new tag; a name the workspace has is `ConflictError` (`tag_exists`)."""
        return given(locals())

    @endpoint("GET", "/v1/tags/{tag_id}", returns=Json(Tag))
    def get(self, tag_id: str) -> Args:
        """One tag of the workspace."""
        return given(locals())

    @endpoint("PATCH", "/v1/tags/{tag_id}", returns=Json(Tag), body=TagUpdate)
    def update(
        self,
        tag_id: str,
        *,
        name: str | NotGiven = NOT_GIVEN,
        color: str | NotGiven = NOT_GIVEN,
        merge: bool | NotGiven = NOT_GIVEN,
    ) -> Args:
        """Rename or recolour; `merge=True` with another tag's name moves this tag's links there."""
        return given(locals())

    @endpoint("DELETE", "/v1/tags/{tag_id}", returns=NoContent())
    def delete(self, tag_id: str) -> Args:
        """Delete a tag; its links lose it and stay."""
        return given(locals())
