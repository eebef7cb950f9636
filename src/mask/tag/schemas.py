from __future__ import annotations

from pydantic import Field

from mask.kit.schemas import Schema, UTCDatetime


class Tag(Schema):
    id: str
    name: str
    link_count: int = Field(description="How many of the workspace's links carry this tag.")
    created_at: UTCDatetime


class TagList(Schema):
    data: list[Tag]
