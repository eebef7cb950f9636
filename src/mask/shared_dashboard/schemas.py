from __future__ import annotations

from typing import Literal

from pydantic import Field

from mask.kit.schemas import RequestSchema, Schema, UTCDatetime, stated

Kind = Literal["link", "tag", "domain", "bio_page"]
SCOPE_FIELDS = ("link_id", "tag", "domain", "bio_page_id")


class SharedDashboardCreate(RequestSchema):
    """Exactly one of `link_id`, `tag`, `domain`, `bio_page_id`: what the page shows the analytics of."""

    link_id: str | None = Field(default=None, max_length=64, examples=["lnk_0Ks5Jx3b9pQ2h1Vw8mZtRc"])
    tag: str | None = Field(default=None, max_length=64, description="A tag's id (`tag_…`) or its name.")
    domain: str | None = Field(
        default=None, max_length=253, description="One of the workspace's custom domains: its id (`dom_…`) or name."
    )
    bio_page_id: str | None = Field(default=None, max_length=64, examples=["bio_0Ks5Jx3b9pQ2h1Vw8mZtRc"])
    title: str | None = Field(
        default=None,
        max_length=100,
        description="The page's heading; without one it names the link, tag, domain "
        "or bio page. Nothing else about the workspace is shown.",
    )
    password: str | None = Field(
        default=None, max_length=1024, description="Visitors must enter it first (8 to 1,024 characters)."
    )
    expires_at: UTCDatetime | None = Field(default=None, description="After this the page answers 404.")


class SharedDashboardUpdate(RequestSchema):
    """Every field optional; `password: null` removes the password, `expires_at: null` makes it never expire."""

    title: str | None = Field(default=None, max_length=100)
    password: str | None = Field(default=None, max_length=1024, json_schema_extra=stated())
    expires_at: UTCDatetime | None = None


class SharedDashboard(Schema):
    id: str = Field(examples=["shd_0Ks5Jx3b9pQ2h1Vw8mZtRc"])
    kind: Kind = Field(description="What the page shows: one `link`, `tag`, `domain` or `bio_page`.")
    link_id: str | None
    tag_id: str | None
    domain_id: str | None
    bio_page_id: str | None
    title: str | None
    token_hint: str = Field(description="The first characters of the page's token, to tell URLs apart.")
    password_protected: bool
    expires_at: UTCDatetime | None
    expired: bool
    rotated_at: UTCDatetime | None
    workspace_id: str
    created_at: UTCDatetime
    updated_at: UTCDatetime


class SharedDashboardWithUrl(SharedDashboard):
    url: str = Field(
        examples=["https://mask.example/share/pQ2h1Vw8mZtRcMfKQ9r8GKYqrTwjUPD8ILPZ"],
        description="The page's address. Shown only now (creation, rotation): only its hash is stored.",
    )
