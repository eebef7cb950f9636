from __future__ import annotations

from pydantic import Field

from mask.kit.schemas import RequestSchema, Schema, UTCDatetime

UTM = Field(default=None, max_length=255)


class LinkFields(RequestSchema):
    slug: str | None = Field(
        default=None,
        max_length=64,
        examples=["my-link"],
        description="1–64 of [a-zA-Z0-9_-], case-sensitive; generated (7 characters) if absent.",
    )
    domain: str | None = Field(
        default=None,
        max_length=253,
        examples=["go.yourbrand.com"],
        description="The default short domain or one of the workspace's domains.",
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


class LinkCreate(LinkFields):
    url: str = Field(
        max_length=2048,
        examples=["https://example.com/long-page"],
        description="Absolute http(s) URL, at most 2,048 characters, without credentials.",
    )


class LinkUpdate(LinkFields):
    """Every field optional; `null` clears an optional field (`domain: null` moves to the default domain)."""

    url: str | None = Field(default=None, max_length=2048)


class Link(Schema):
    id: str = Field(examples=["lnk_0Ks5Jx3b9pQ2h1Vw8mZtRc"])
    url: str
    short_url: str = Field(examples=["https://go.yourbrand.com/my-link"])
    slug: str
    domain: str
    tags: list[str]
    clicks: int = Field(description="Human clicks recorded (bots excluded).")
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
