"""`client.tags`: the workspace's tags with their link counts (`/v1/tags`). Scope `links:read`."""

from __future__ import annotations

from typing import TypeVar

from mask_sdk._endpoint import Args, Part, Resource, endpoint, given
from mask_sdk.models import TagList

R = TypeVar("R")


class Tags(Resource[R]):
    @endpoint("GET", "/v1/tags", returns=Part(TagList, lambda tags: tags.data))
    def list(self) -> Args:
        """Every tag, by name, with `link_count`."""
        return given(locals())
