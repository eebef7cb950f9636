from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StrictBool

from mask.kit.schemas import RequestSchema, Schema, UTCDatetime

Platform = Literal[
    "x",
    "instagram",
    "tiktok",
    "youtube",
    "linkedin",
    "github",
    "facebook",
    "threads",
    "mastodon",
    "bluesky",
    "email",
    "website",
]
ButtonShape = Literal["rounded", "square", "pill"]
Font = Literal["system", "humanist", "rounded", "serif", "mono"]
Color = Annotated[str, Field(max_length=7, examples=["#0f172a"], description="`#rrggbb` or `#rgb`.")]
BLOCK_ID = Field(default=None, max_length=32, description="A kept block's id (PATCH); leave out for a new block.")


class ThemeIn(RequestSchema):
    """A preset, and overrides. Text colours must reach 4.5:1 contrast against their background (`422
    low_contrast` otherwise); a text colour left out is chosen readable automatically."""

    preset: str = Field(
        default="minimal", max_length=30, description="minimal, midnight, sunset, forest, ocean, paper or neon."
    )
    background: Color | None = Field(default=None, description="Page background (replaces a preset gradient).")
    text_color: Color | None = None
    button_color: Color | None = None
    button_text_color: Color | None = None
    button_shape: ButtonShape | None = None
    font: Font | None = Field(default=None, description="A built-in system font stack (no web fonts).")


class LinkBlockIn(RequestSchema):
    id: str | None = BLOCK_ID
    type: Literal["link"]
    title: str = Field(description="The button's label, 1 to 100 characters.")
    url: str = Field(max_length=2048, description="http(s) URL, same rules as a link's destination.")
    enabled: StrictBool = Field(default=True, description="Disabled links are kept but not shown.")


class HeaderBlockIn(RequestSchema):
    id: str | None = BLOCK_ID
    type: Literal["header"]
    text: str = Field(description="1 to 100 characters.")


class TextBlockIn(RequestSchema):
    id: str | None = BLOCK_ID
    type: Literal["text"]
    text: str = Field(description="Plain text, 1 to 500 characters; line breaks are kept.")


class SocialBlockIn(RequestSchema):
    id: str | None = BLOCK_ID
    type: Literal["social"]
    platform: Platform
    url: str = Field(
        max_length=2048, description="http(s) URL; for `email`, `mailto:you@example.com` or the bare address."
    )


BlockIn = Annotated[LinkBlockIn | HeaderBlockIn | TextBlockIn | SocialBlockIn, Field(discriminator="type")]


class BioPageFields(RequestSchema):
    domain: str | None = Field(
        default=None,
        max_length=253,
        examples=["go.yourbrand.com"],
        description="The default short domain or one of the workspace's domains.",
    )
    title: str | None = Field(default=None, max_length=100, examples=["Ada Lovelace"])
    description: str | None = Field(default=None, max_length=500, description="Plain text, line breaks kept.")
    avatar_url: str | None = Field(default=None, max_length=2048, description="An https image URL.")
    theme: ThemeIn | None = None
    blocks: list[BlockIn] | None = Field(default=None, description="Ordered; at most 100.")
    published: StrictBool | None = Field(default=None, description="Unpublished pages answer 404 in public.")
    seo_title: str | None = Field(default=None, max_length=100)
    seo_description: str | None = Field(default=None, max_length=300)
    og_image_url: str | None = Field(default=None, max_length=2048, description="An https image URL.")


class BioPageCreate(BioPageFields):
    handle: str = Field(
        max_length=30, examples=["ada"], description="3–30 of [a-z0-9_.-] (upper case is folded), unique on the domain."
    )


class BioPageUpdate(BioPageFields):
    """Every field optional. `blocks` replaces the list wholesale: send a kept block's `id` to keep it (and
    its click history); blocks left out are removed. `null` clears an optional field."""

    handle: str | None = Field(default=None, max_length=30)


class Theme(Schema):
    preset: str
    background: str | None = None
    text_color: str | None = None
    button_color: str | None = None
    button_text_color: str | None = None
    button_shape: ButtonShape | None = None
    font: Font | None = None


class LinkBlock(Schema):
    id: str = Field(examples=["blk_0Ks5Jx3b9pQ2h1Vw8mZtRc"])
    type: Literal["link"]
    title: str
    url: str
    enabled: bool
    clicks: int = Field(description="Human clicks on this block.")


class HeaderBlock(Schema):
    id: str
    type: Literal["header"]
    text: str


class TextBlock(Schema):
    id: str
    type: Literal["text"]
    text: str


class SocialBlock(Schema):
    id: str
    type: Literal["social"]
    platform: Platform
    url: str
    clicks: int = Field(description="Human clicks on this icon (`email` icons link directly and count none).")


Block = Annotated[LinkBlock | HeaderBlock | TextBlock | SocialBlock, Field(discriminator="type")]


class BioPage(Schema):
    id: str = Field(examples=["bio_0Ks5Jx3b9pQ2h1Vw8mZtRc"])
    url: str = Field(examples=["https://go.yourbrand.com/@ada"], description="The public address.")
    handle: str
    domain: str
    title: str | None
    description: str | None
    avatar_url: str | None
    theme: Theme
    blocks: list[Block]
    published: bool
    seo_title: str | None
    seo_description: str | None
    og_image_url: str | None
    views: int = Field(description="Human page views.")
    clicks: int = Field(description="Human clicks on the page's blocks.")
    workspace_id: str
    created_at: UTCDatetime
    updated_at: UTCDatetime


class BioPagePage(Schema):
    data: list[BioPage]
    has_more: bool
    next_cursor: str | None
