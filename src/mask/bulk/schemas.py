"""Bulk link operations: what `POST|PATCH|DELETE /v1/links/bulk` take and answer."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from mask.kit.schemas import ErrorObject, RequestSchema, Schema, UTCDatetime
from mask.link.schemas import UTM, Link

MAX_BULK_ITEMS = 1000


class BulkResult(Schema):
    """One item's outcome, at its place in the request (`index`, from 0)."""

    index: int
    status: int = Field(description="The status the item would have had alone: 201, 200, 404, 409, 422, …")
    id: str | None = Field(default=None, description="The link's id (update and delete).")
    link: Link | None = None
    error: ErrorObject | None = Field(default=None, description="The API's error shape, for this item alone.")


class BulkAnswer(Schema):
    data: list[BulkResult]
    succeeded: int
    failed: int


class BulkSet(RequestSchema):
    """What a bulk update changes on every link it names (never the slug, domain or destination)."""

    tags_add: list[str] | None = Field(default=None, description="Tags added to each link (kept if present).")
    tags_remove: list[str] | None = Field(default=None, description="Tags taken off each link.")
    archived: bool | None = None
    disabled: bool | None = None
    expires_at: UTCDatetime | None = Field(default=None, description="In the future; `null` clears it.")
    expired_url: str | None = Field(default=None, max_length=2048)
    utm_source: str | None = UTM
    utm_medium: str | None = UTM
    utm_campaign: str | None = UTM
    utm_term: str | None = UTM
    utm_content: str | None = UTM


class BulkUpdate(RequestSchema):
    ids: list[str] | None = Field(default=None, max_length=MAX_BULK_ITEMS, examples=[["lnk_0Ks5Jx3b9pQ2h1Vw8mZtRc"]])
    external_ids: list[str] | None = Field(default=None, max_length=MAX_BULK_ITEMS)
    set: BulkSet

    @model_validator(mode="after")
    def _one_way(self) -> BulkUpdate:
        if (self.ids is None) == (self.external_ids is None):
            raise ValueError("give either `ids` or `external_ids`")
        return self


class BulkDelete(RequestSchema):
    ids: list[str] = Field(max_length=MAX_BULK_ITEMS, examples=[["lnk_0Ks5Jx3b9pQ2h1Vw8mZtRc"]])


class BulkCreate(RequestSchema):
    """Each item is validated on its own (`parse_items`), so that one bad item is that item's error."""

    links: list[Any] = Field(min_length=1, max_length=MAX_BULK_ITEMS)


def create_schema() -> dict[str, Any]:
    """OpenAPI for the create body: `links`, an array of link create objects."""
    return {
        "title": "BulkCreate",
        "type": "object",
        "required": ["links"],
        "additionalProperties": False,
        "properties": {
            "links": {
                "type": "array",
                "minItems": 1,
                "maxItems": MAX_BULK_ITEMS,
                "items": {"$ref": "#/components/schemas/LinkCreate"},
                "description": "Up to 1,000 links, each as `POST /v1/links` takes it.",
            }
        },
    }


Format = Literal["csv", "ndjson"]
