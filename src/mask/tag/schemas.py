from __future__ import annotations

from pydantic import Field, StrictBool

from mask.kit.schemas import RequestSchema, Schema, UTCDatetime

COLOR_HELP = "One of gray, red, orange, yellow, green, teal, blue, purple, pink, brown."


class Tag(Schema):
    id: str
    name: str
    color: str = Field(description=COLOR_HELP)
    link_count: int = Field(description="How many of the workspace's links carry this tag.")
    created_at: UTCDatetime


class TagList(Schema):
    data: list[Tag]


class TagCreate(RequestSchema):
    name: str = Field(max_length=200, examples=["campaign-q1"], description="1–50 characters once trimmed.")
    color: str | None = Field(default=None, max_length=20, description=COLOR_HELP + " Default gray.")


class TagUpdate(RequestSchema):
    name: str | None = Field(
        default=None,
        max_length=200,
        description="A new name. The name of another tag is `409` unless `merge` is true.",
    )
    color: str | None = Field(default=None, max_length=20, description=COLOR_HELP)
    merge: StrictBool = Field(
        default=False,
        description="With `name` of another tag: move this tag's links to that tag and delete this one; the "
        "answer is the tag merged into.",
    )
