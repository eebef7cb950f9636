from __future__ import annotations

from typing import Literal

from pydantic import Field, StrictBool

from mask.kit.schemas import RequestSchema, Schema, UTCDatetime, stated

UTM = Field(default=None, max_length=255)


class RuleCondition(RequestSchema):
    type: str = Field(
        max_length=20,
        examples=["device"],
        description="`device` (mobile, desktop, tablet), `os` (ios, android, windows, macos, linux, chromeos), "
        "`browser` (chrome, safari, firefox, edge, opera, samsung), `language` (`es` matches `es-AR`), "
        "`country` (two letters), `city` (only with a city database), `query_param` (`name`, optional `value`), "
        "`ip` (an address or CIDR, v4 or v6), `before` / `after` (an ISO 8601 time).",
    )
    value: str | None = Field(default=None, max_length=500, examples=["mobile"])
    name: str | None = Field(default=None, max_length=100, description="The query parameter's name (`query_param`).")


class ImportedClicks(Schema):
    """Clicks another shortener counted for the link before it was imported: kept apart, never part of `clicks`
    or of any analytics answer."""

    clicks: int = Field(description="The total the other shortener reported at import time.", examples=[1204])
    source: str = Field(description="The import's `source` (`bitly`, `bitly-csv`, `shlink`, …).", examples=["bitly"])
    imported_at: UTCDatetime | None = Field(
        description="When the import ran: the clicks were counted before it (null if that import was deleted)."
    )


class LinkRule(RequestSchema):
    url: str = Field(max_length=2048, description="Where a click matching every condition goes.")
    conditions: list[RuleCondition] = Field(max_length=10, description="1–10 conditions, all of which must hold.")


class LinkVariant(RequestSchema):
    url: str = Field(max_length=2048)
    weight: int = Field(ge=1, le=100, description="Percent of visitors; the weights sum to 100.")


class LinkPreview(RequestSchema):
    title: str = Field(max_length=200, description="1–200 characters.")
    description: str | None = Field(default=None, max_length=500)
    image_url: str | None = Field(default=None, max_length=2048, description="An absolute https URL.")


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
    password: str | None = Field(
        default=None,
        min_length=1,
        max_length=1024,
        description="Write-only. Visitors must enter it before being redirected (a small form on the short URL; "
        "stored as an Argon2id hash, never shown again). `null` on update removes it; responses say "
        "`password_protected`.",
    )
    starts_at: UTCDatetime | None = Field(
        default=None,
        description="Before it the link answers a not-yet-active page (`404`) and counts nothing; before "
        "`expires_at` when both are set.",
    )
    max_clicks: int | None = Field(
        default=None,
        ge=1,
        le=1_000_000_000,
        description="After this many clicks let through (human visitors; HEAD, prefetches and bots are not "
        "counted) the link behaves as expired (`expired_url`, else `410`). Exact across workers.",
    )
    redirect_status: Literal[301, 302, 307, 308] | None = Field(
        default=None,
        description="`302` (default), `301`, `307` or `308`. Permanent ones (301, 308) may be remembered by "
        "browsers and crawlers, whose repeat visits then never reach MASK and are not counted.",
    )
    rules: list[LinkRule] | None = Field(
        default=None,
        max_length=25,
        description="Targeting rules, in order: the first whose conditions all hold decides the destination; "
        "otherwise `variants` or `url`. `null` or `[]` removes them.",
    )
    ios_url: str | None = Field(
        default=None,
        max_length=2048,
        description="Write-only shortcut: a rule `os: ios` → this URL (`null` removes it).",
    )
    android_url: str | None = Field(
        default=None, max_length=2048, description="Write-only shortcut: a rule `os: android` → this URL."
    )
    geo: dict[str, str] | None = Field(
        default=None,
        max_length=50,
        examples=[{"US": "https://example.com/us"}],
        description="Write-only shortcut: one rule `country: XX` → URL per entry (`null` removes them).",
    )
    variants: list[LinkVariant] | None = Field(
        default=None,
        max_length=5,
        description="An A/B test: 2–5 destinations whose weights sum to 100. A visitor always gets the same one "
        "(a hash of visitor and link, no cookie); bots get the first. `null` ends the test.",
    )
    test_ends_at: UTCDatetime | None = Field(
        default=None, description="After it, clicks go to `url` again (promote the winner to keep it)."
    )
    preview: LinkPreview | None = Field(
        default=None,
        description="What link-preview bots (Slack, WhatsApp, X, Facebook, LinkedIn, Discord, Telegram, …) show: "
        "they get a small page with these Open Graph and Twitter tags; people and search crawlers get the "
        "redirect. `null` removes it.",
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


class RuleConditionOut(Schema):
    type: str
    value: str | None
    name: str | None = None


class LinkRuleOut(Schema):
    url: str
    conditions: list[RuleConditionOut]


class LinkVariantOut(Schema):
    url: str
    weight: int


class LinkPreviewOut(Schema):
    title: str
    description: str | None
    image_url: str | None


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
    imported_clicks: ImportedClicks | None = Field(
        default=None,
        description="Clicks counted by another shortener before the link was imported (Bitly, Shlink, a CSV "
        "file); null without any. Never added to `clicks` or to analytics.",
    )
    archived: bool
    disabled: bool
    utm_source: str | None
    utm_medium: str | None
    utm_campaign: str | None
    utm_term: str | None
    utm_content: str | None
    expires_at: UTCDatetime | None
    expired_url: str | None
    password_protected: bool = Field(description="Visitors must enter the link's password first.")
    starts_at: UTCDatetime | None
    max_clicks: int | None
    clicks_remaining: int | None = Field(
        description="Clicks left before `max_clicks` is reached (exact: reserved as they happen); null without a limit."
    )
    redirect_status: Literal[301, 302, 307, 308]
    rules: list[LinkRuleOut] = Field(description="Targeting rules, shortcuts included, in order.")
    variants: list[LinkVariantOut] = Field(description="The A/B test's destinations; empty without a test.")
    test_ends_at: UTCDatetime | None
    preview: LinkPreviewOut | None
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


class LinkMetadata(Schema):
    """A page's preview fields, to pre-fill `preview`."""

    url: str
    title: str | None
    description: str | None
    image_url: str | None = Field(description="Only an https image (previews take no other).")
