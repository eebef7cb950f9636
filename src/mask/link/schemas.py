from __future__ import annotations

from typing import Literal

from pydantic import Field, StrictBool

from mask.kit.schemas import RequestSchema, Schema, UTCDatetime, stated

UTM = Field(default=None, max_length=255)


class LinkFields(RequestSchema):
    slug: str | None = Field(
        default=None,
        max_length=64,
        examples=["my-link"],
        description="1–64 of [a-zA-Z0-9_-], case-sensitive; generated (7 characters) if absent.",
        json_schema_extra=stated(pattern="^[A-Za-z0-9_-]{1,64}$"),
    )
    domain: str | None = Field(
        default=None,
        max_length=253,
        examples=["go.yourbrand.com"],
        description="The default short domain or one of the workspace's domains.",
    )
    title: str | None = Field(
        default=None,
        max_length=255,
        examples=["Spring sale"],
        description="At most 255 characters, no control characters. Without one, MASK fetches the destination "
        'page\'s `<title>` in the background (`title_source: "page"`); `null` on update goes back to that.',
    )
    notes: str | None = Field(
        default=None, max_length=2000, description="Free text for your team, at most 2,000 characters."
    )
    external_id: str | None = Field(
        default=None,
        max_length=255,
        examples=["crm-4711"],
        description="Your own id for the link, unique in the workspace (`GET /v1/links/info?external_id=`).",
    )
    tags: list[str] | None = Field(
        default=None, examples=[["campaign-q1"]], description="Up to 25 tags, each 1–50 characters once trimmed."
    )
    utm_source: str | None = UTM
    utm_medium: str | None = UTM
    utm_campaign: str | None = UTM
    utm_term: str | None = UTM
    utm_content: str | None = UTM
    expires_at: UTCDatetime | None = Field(default=None, description="In the future; after it the link expires.")
    expired_url: str | None = Field(
        default=None, max_length=2048, description="Where an expired link redirects (otherwise it answers 410)."
    )
    archived: StrictBool | None = Field(
        default=None,
        json_schema_extra=stated(nullable=False),
        description="Archived links still redirect but leave the default lists (`?archived=`).",
    )
    disabled: StrictBool | None = Field(
        default=None,
        json_schema_extra=stated(nullable=False),
        description="A disabled link stops redirecting at once (a 404 page; no click counted).",
    )


class LinkCreate(LinkFields):
    url: str = Field(
        max_length=2048,
        examples=["https://example.com/long-page"],
        description="Absolute http(s) URL, at most 2,048 characters, without credentials.",
    )
    if_exists: Literal["create", "return"] = Field(
        default="create",
        description="`return`: when the workspace already has a link to this URL on this domain with the same "
        "value for every other field sent, answer it (`200`) instead of creating another (`201`).",
    )


class LinkUpdate(LinkFields):
    """Every field optional; `null` clears an optional field (`domain: null` moves to the default domain)."""

    url: str | None = Field(default=None, max_length=2048, json_schema_extra=stated(nullable=False))


class Link(Schema):
    id: str = Field(examples=["lnk_0Ks5Jx3b9pQ2h1Vw8mZtRc"])
    url: str
    short_url: str = Field(examples=["https://go.yourbrand.com/my-link"])
    slug: str
    domain: str
    title: str | None = Field(description="The title sent, or the destination page's (see `title_source`).")
    title_source: Literal["user", "page"] | None = Field(
        description="`user`: sent with the API or dashboard; `page`: the destination's `<title>`; null: no title "
        "(yet: a page title is fetched in the background after the link is created or its URL changes)."
    )
    notes: str | None
    external_id: str | None
    tags: list[str]
    clicks: int = Field(description="Human clicks recorded (bots excluded), QR code scans included.")
    last_clicked_at: UTCDatetime | None = Field(description="The latest human click recorded; null before the first.")
    archived: bool
    disabled: bool
    utm_source: str | None
    utm_medium: str | None
    utm_campaign: str | None
    utm_term: str | None
    utm_content: str | None
    expires_at: UTCDatetime | None
    expired_url: str | None
    workspace_id: str
    created_at: UTCDatetime
    updated_at: UTCDatetime
    created_by_user_id: str | None = Field(
        description="The member who created it (in the dashboard, or through a key they made); null for keys "
        "made with the CLI."
    )
    created_by_key_id: str | None = Field(description="The API key it was created with; null from the dashboard.")
    suspended: bool = Field(
        description="Disabled by the server's operator (abuse, a blocklisted destination): it answers 451, "
        "redirects nowhere and counts no clicks."
    )


class LinkPage(Schema):
    data: list[Link]
    has_more: bool
    next_cursor: str | None
