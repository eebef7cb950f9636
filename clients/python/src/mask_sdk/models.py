"""The API's request and response bodies as Pydantic models.

Responses accept fields a newer server adds (`extra="allow"`: they are kept, reachable as attributes and in
`model_extra`); request bodies refuse unknown fields (`extra="forbid"`), as the API does. Values the API
documents as a closed set (a delivery's `status`, a block's `platform`) are plain strings in responses, so that a
value added by a newer server does not break an older SDK. Timestamps are timezone-aware `datetime`s in UTC.

`tests/sdk/test_coverage.py` compares these models with the server's OpenAPI document.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    SerializerFunctionWrapHandler,
    field_serializer,
    model_serializer,
)
from pydantic import Tag as Variant

T = TypeVar("T")


class Model(BaseModel):
    """A response body: fields added by a newer server are kept, not refused."""

    model_config = ConfigDict(extra="allow")


class Params(BaseModel):
    """A request body (or a part of one): unknown fields are an error, as they are for the API."""

    model_config = ConfigDict(extra="forbid")


class Page(Model, Generic[T]):
    """One page of a list, newest first. Pass `next_cursor` back as `cursor` for the next page."""

    data: list[T]
    has_more: bool
    next_cursor: str | None


# Errors


class ErrorDetail(Model):
    """One invalid field of a `422`."""

    param: str
    code: str
    message: str


class ErrorObject(Model):
    type: str
    code: str
    message: str
    param: str | None = None
    request_id: str | None = None
    required_scope: str | None = None
    errors: list[ErrorDetail] | None = None


class ErrorBody(Model):
    """The one shape of every non-2xx answer of the API."""

    error: ErrorObject


# Links


class RuleCondition(Params):
    """`type`: device, os, browser, language, country, city, query_param (with `name`), ip, before, after."""

    type: str
    value: str | None = None
    name: str | None = None


class LinkRule(Params):
    """A targeting rule: clicks matching every condition go to `url`; the first matching rule wins."""

    url: str
    conditions: list[RuleCondition]


class LinkVariant(Params):
    url: str
    weight: int


class LinkPreview(Params):
    """What link-preview bots show (Open Graph and Twitter tags)."""

    title: str
    description: str | None = None
    image_url: str | None = None


class LinkCreate(Params):
    url: str
    slug: str | None = None
    domain: str | None = None
    title: str | None = None
    notes: str | None = None
    external_id: str | None = None
    tags: list[str] | None = None
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None
    utm_term: str | None = None
    utm_content: str | None = None
    expires_at: datetime | None = None
    expired_url: str | None = None
    archived: bool | None = None
    disabled: bool | None = None
    password: str | None = None
    starts_at: datetime | None = None
    max_clicks: int | None = None
    redirect_status: Literal[301, 302, 307, 308] | None = None
    rules: list[LinkRule] | None = None
    ios_url: str | None = None
    android_url: str | None = None
    geo: dict[str, str] | None = None
    variants: list[LinkVariant] | None = None
    test_ends_at: datetime | None = None
    preview: LinkPreview | None = None
    if_exists: Literal["create", "return"] | None = None


class LinkUpdate(Params):
    url: str | None = None
    slug: str | None = None
    domain: str | None = None
    title: str | None = None
    notes: str | None = None
    external_id: str | None = None
    tags: list[str] | None = None
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None
    utm_term: str | None = None
    utm_content: str | None = None
    expires_at: datetime | None = None
    expired_url: str | None = None
    archived: bool | None = None
    disabled: bool | None = None
    password: str | None = None
    starts_at: datetime | None = None
    max_clicks: int | None = None
    redirect_status: Literal[301, 302, 307, 308] | None = None
    rules: list[LinkRule] | None = None
    ios_url: str | None = None
    android_url: str | None = None
    geo: dict[str, str] | None = None
    variants: list[LinkVariant] | None = None
    test_ends_at: datetime | None = None
    preview: LinkPreview | None = None


class RuleConditionOut(Model):
    type: str
    value: str | None
    name: str | None = None


class LinkRuleOut(Model):
    url: str
    conditions: list[RuleConditionOut]


class LinkVariantOut(Model):
    url: str
    weight: int


class LinkPreviewOut(Model):
    title: str
    description: str | None
    image_url: str | None


class LinkMetadata(Model):
    url: str
    title: str | None
    description: str | None
    image_url: str | None


class ImportedClicks(Model):
    """Clicks another shortener counted before the link was imported: never part of `clicks` or analytics."""

    clicks: int
    source: str
    imported_at: datetime | None


class Link(Model):
    id: str
    url: str
    short_url: str
    slug: str
    domain: str
    title: str | None
    title_source: Literal["user", "page"] | None
    notes: str | None
    external_id: str | None
    tags: list[str]
    clicks: int
    last_clicked_at: datetime | None
    imported_clicks: ImportedClicks | None = None
    archived: bool
    disabled: bool
    utm_source: str | None
    utm_medium: str | None
    utm_campaign: str | None
    utm_term: str | None
    utm_content: str | None
    expires_at: datetime | None
    expired_url: str | None
    workspace_id: str
    created_at: datetime
    updated_at: datetime
    created_by_user_id: str | None
    created_by_key_id: str | None
    suspended: bool
    password_protected: bool
    starts_at: datetime | None
    max_clicks: int | None
    clicks_remaining: int | None
    redirect_status: Literal[301, 302, 307, 308]
    rules: list[LinkRuleOut]
    variants: list[LinkVariantOut]
    test_ends_at: datetime | None
    preview: LinkPreviewOut | None


# The audit log


class AuditActor(Model):
    type: Literal["user", "api_key", "system"]
    id: str | None
    label: str


class AuditEntry(Model):
    id: str
    at: datetime
    actor: AuditActor
    action: str
    target_type: str | None
    target_id: str | None
    ip_prefix: str | None
    details: dict[str, Any]


# Domains and tags


class DomainCreate(Params):
    domain: str


class DomainUpdate(Params):
    root_url: str | None = None
    not_found_url: str | None = None
    expired_url: str | None = None
    robots: str | None = None
    apple_app_site_association: dict[str, Any] | None = None
    asset_links: list[Any] | None = None


class DnsRecord(Model):
    type: str
    name: str
    value: str


class CheckProblem(Model):
    code: str
    message: str


class Verification(Model):
    """`status`: `pending`, `verified` or `failed`; `method`: `dns_txt` or `operator`."""

    status: str
    method: str
    record: DnsRecord | None
    verified_at: datetime | None
    last_checked_at: datetime | None
    next_check_at: datetime | None
    record_missing_since: datetime | None
    error: CheckProblem | None


class Routing(Model):
    status: str | None
    records: list[DnsRecord]


class Domain(Model):
    id: str
    domain: str
    verified: bool
    verification: Verification
    routing: Routing
    root_url: str | None
    not_found_url: str | None
    expired_url: str | None
    robots: str
    apple_app_site_association: dict[str, Any] | None
    asset_links: list[Any] | None
    workspace_id: str
    created_at: datetime
    updated_at: datetime


class Tag(Model):
    id: str
    name: str
    color: str
    link_count: int
    created_at: datetime


class TagCreate(Params):
    name: str
    color: str | None = None


class TagUpdate(Params):
    name: str | None = None
    color: str | None = None
    merge: bool | None = None


# QR codes


class QrLogo(Model):
    media_type: Literal["image/png"]
    width: int
    height: int
    sha256: str


class QrStyle(Model):
    fg: str
    bg: str
    ecc: Literal["L", "M", "Q", "H"]
    margin: int
    logo: QrLogo | None
    updated_at: datetime | None


class QrLogoUpload(Params):
    media_type: Literal["image/png", "image/svg+xml"]
    data: str  # base64


class QrStyleUpdate(Params):
    """The fields set change (`logo=None` removes the logo); inside `workspace.update(qr_style=…)` too."""

    fg: str | None = None
    bg: str | None = None
    ecc: Literal["L", "M", "Q", "H"] | None = None
    margin: int | None = None
    logo: QrLogoUpload | None = None

    @model_serializer(mode="wrap")
    def _only_what_was_set(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # A field left out is unchanged, `null` means remove: a nested update must not send every field as null.
        data: dict[str, Any] = handler(self)
        return {name: value for name, value in data.items() if name in self.model_fields_set}


class TagList(Model):
    data: list[Tag]


# API keys, members, invitations, the workspace

Role = Literal["owner", "admin", "member", "viewer"]


class ApiKey(Model):
    """An API key as listed: never its secret."""

    id: str
    name: str
    prefix: str
    scopes: list[str]
    created_by: str | None
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    last_used_ip_prefix: str | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKey):
    """The answer of `keys.create()`: the only one that carries the key itself (`secret`)."""

    secret: str


class ApiKeyList(Model):
    data: list[ApiKey]


class ApiKeyCreate(Params):
    name: str | None = None
    scopes: list[str] | None = None
    expires_at: datetime | None = None


class Member(Model):
    user_id: str
    email: str
    name: str | None
    role: str  # owner, admin, member or viewer
    joined_at: datetime


class MemberList(Model):
    data: list[Member]


class MemberUpdate(Params):
    role: Role | None = None


class Invitation(Model):
    id: str
    role: str
    email: str | None
    created_by: str | None
    created_at: datetime
    expires_at: datetime


class InvitationCreated(Invitation):
    """The answer of `invitations.create()`: the only one that carries the invite link (`url`)."""

    url: str


class InvitationList(Model):
    data: list[Invitation]


class InvitationCreate(Params):
    role: Role = "member"
    email: str | None = None


class Workspace(Model):
    id: str
    slug: str
    name: str
    plan: str
    created_at: datetime
    default_domain: str  # where links and bio pages go when they name no domain
    qr_style: QrStyle
    require_two_factor: bool  # every member signs in to the dashboard with a second factor


class WorkspaceUpdate(Params):
    name: str | None = None
    default_domain: str | None = None
    qr_style: QrStyleUpdate | None = None
    require_two_factor: bool | None = None


# Bio pages


class ThemeIn(Params):
    """A preset (minimal, midnight, sunset, forest, ocean, paper, neon) and overrides; colours are `#rrggbb`."""

    preset: str = "minimal"
    background: str | None = None
    text_color: str | None = None
    button_color: str | None = None
    button_text_color: str | None = None
    button_shape: Literal["rounded", "square", "pill"] | None = None
    font: Literal["system", "humanist", "rounded", "serif", "mono"] | None = None


class LinkBlockIn(Params):
    """A button. Send a kept block's `id` when updating a page, to keep it and its clicks."""

    id: str | None = None
    type: Literal["link"] = "link"
    title: str
    url: str
    enabled: bool = True


class HeaderBlockIn(Params):
    id: str | None = None
    type: Literal["header"] = "header"
    text: str


class TextBlockIn(Params):
    id: str | None = None
    type: Literal["text"] = "text"
    text: str


class SocialBlockIn(Params):
    id: str | None = None
    type: Literal["social"] = "social"
    platform: Literal[
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
    url: str


BlockIn = Annotated[LinkBlockIn | HeaderBlockIn | TextBlockIn | SocialBlockIn, Discriminator("type")]


class BioPageCreate(Params):
    handle: str
    domain: str | None = None
    title: str | None = None
    description: str | None = None
    avatar_url: str | None = None
    theme: ThemeIn | None = None
    blocks: list[BlockIn] | None = None
    published: bool | None = None
    seo_title: str | None = None
    seo_description: str | None = None
    og_image_url: str | None = None


class BioPageUpdate(Params):
    handle: str | None = None
    domain: str | None = None
    title: str | None = None
    description: str | None = None
    avatar_url: str | None = None
    theme: ThemeIn | None = None
    blocks: list[BlockIn] | None = None
    published: bool | None = None
    seo_title: str | None = None
    seo_description: str | None = None
    og_image_url: str | None = None


class Theme(Model):
    preset: str
    background: str | None = None
    text_color: str | None = None
    button_color: str | None = None
    button_text_color: str | None = None
    button_shape: str | None = None
    font: str | None = None


class LinkBlock(Model):
    id: str
    type: Literal["link"]
    title: str
    url: str
    enabled: bool
    clicks: int


class HeaderBlock(Model):
    id: str
    type: Literal["header"]
    text: str


class TextBlock(Model):
    id: str
    type: Literal["text"]
    text: str


class SocialBlock(Model):
    id: str
    type: Literal["social"]
    platform: str
    url: str
    clicks: int


class OtherBlock(Model):
    """A block of a type this SDK does not know yet (added by a newer server); its fields are in `model_extra`."""

    id: str
    type: str


_BLOCK_TYPES = frozenset({"link", "header", "text", "social"})


def _block_type(value: Any) -> str:
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    return kind if kind in _BLOCK_TYPES else "other"


Block = Annotated[
    Annotated[LinkBlock, Variant("link")]
    | Annotated[HeaderBlock, Variant("header")]
    | Annotated[TextBlock, Variant("text")]
    | Annotated[SocialBlock, Variant("social")]
    | Annotated[OtherBlock, Variant("other")],
    Discriminator(_block_type),
]


class BioPage(Model):
    id: str
    url: str
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
    views: int
    clicks: int
    workspace_id: str
    created_at: datetime
    updated_at: datetime


# Webhooks


class WebhookCreate(Params):
    url: str
    events: list[str]
    description: str = ""
    enabled: bool = True


class WebhookUpdate(Params):
    url: str | None = None
    events: list[str] | None = None
    description: str | None = None
    enabled: bool | None = None


class Webhook(Model):
    id: str
    url: str
    events: list[str]
    description: str
    enabled: bool
    disabled_reason: str | None  # "manual" or "failing"
    disabled_at: datetime | None
    consecutive_failures: int
    failing_since: datetime | None
    last_success_at: datetime | None
    last_failure_at: datetime | None
    workspace_id: str
    created_at: datetime
    updated_at: datetime


class WebhookWithSecret(Webhook):
    """A webhook as created or after a secret rotation: the only answers that carry the signing `secret`."""

    secret: str


class SharedDashboardCreate(Params):
    link_id: str | None = None
    tag: str | None = None
    domain: str | None = None
    bio_page_id: str | None = None
    title: str | None = None
    password: str | None = None
    expires_at: datetime | None = None


class SharedDashboardUpdate(Params):
    title: str | None = None
    password: str | None = None
    expires_at: datetime | None = None


class SharedDashboard(Model):
    """A public analytics page of one link, tag, domain or bio page. Its URL is never listed: only its hash is
    stored; `token_hint` is its token's first characters."""

    id: str
    kind: str  # "link", "tag", "domain" or "bio_page"
    link_id: str | None
    tag_id: str | None
    domain_id: str | None
    bio_page_id: str | None
    title: str | None
    token_hint: str
    password_protected: bool
    expires_at: datetime | None
    expired: bool
    rotated_at: datetime | None
    workspace_id: str
    created_at: datetime
    updated_at: datetime


class SharedDashboardWithUrl(SharedDashboard):
    """A shared dashboard as created or after a rotation: the only answers that carry its `url`."""

    url: str


class DeliveryAttempt(Model):
    id: str
    number: int
    attempted_at: datetime
    duration_ms: int
    status_code: int | None
    succeeded: bool
    response_excerpt: str | None
    error: str | None
    next_retry_at: datetime | None


class Delivery(Model):
    id: str
    webhook_id: str
    event_id: str
    event_type: str
    status: str  # "pending", "succeeded" or "failed"
    attempt_count: int
    next_retry_at: datetime | None
    last_status_code: int | None
    last_attempt_at: datetime | None
    created_at: datetime
    completed_at: datetime | None
    attempts: list[DeliveryAttempt]


class DeliveryDetail(Delivery):
    payload: dict[str, Any] | None


# Click analytics: one shape per `group_by`


class ClickEvent(Model):
    """One click (`client.analytics.events()`), as the `link.clicked` webhook shows it."""

    click_id: str
    clicked_at: datetime
    workspace_id: str
    domain: str
    link_id: str | None
    bio_page_id: str | None
    bio_block_id: str | None
    country: str | None
    city: str | None
    device: str | None
    browser: str | None
    os: str | None
    referrer: str | None
    referrer_url: str | None
    utm_source: str | None
    utm_medium: str | None
    utm_campaign: str | None
    utm_term: str | None
    utm_content: str | None
    is_bot: bool
    is_unique: bool
    trigger: str
    traffic_type: str  # human, bot, preview (a link-preview fetcher), prefetch; only human is counted
    bot_name: str | None  # a bot's or preview fetcher's short name, e.g. "googlebot"
    orphan_type: str | None  # kind="orphan": unknown_slug, domain_root, expired_link or limit_reached
    path: str | None  # kind="orphan": the path asked for
    destination_url: str | None  # where the decision engine sent the click; null for a plain link
    rule_index: int | None  # the targeting rule that matched (0-based)
    variant: int | None  # the A/B variant given (0-based)
    passed_password: bool


class ClickCount(Model):
    """`group_by="count"`."""

    clicks: int
    unique_clicks: int


class LinkClickCount(ClickCount):
    """`group_by="count"` filtered to one link imported with another shortener's click total (not in `clicks`)."""

    imported_clicks: ImportedClicks


class TimeseriesPoint(Model):
    start: datetime
    clicks: int
    unique_clicks: int


class ClickTimeseries(Model):
    """`group_by="timeseries"`: every bucket of the range, empty ones included, oldest first."""

    granularity: Literal["hour", "day", "month"]
    data: list[TimeseriesPoint]


class LinkClicks(Model):
    link_id: str
    slug: str | None
    short_url: str | None
    url: str | None
    clicks: int
    unique_clicks: int


class LinksBreakdown(Model):
    """`group_by="links"`: top links, most clicks first."""

    data: list[LinkClicks]


class BioBlockClicks(Model):
    bio_page_id: str
    bio_block_id: str
    clicks: int
    unique_clicks: int


class BioBlocksBreakdown(Model):
    """`group_by="bio_blocks"`: top bio page blocks, most clicks first."""

    data: list[BioBlockClicks]


class ClickRow(Model):
    clicks: int
    unique_clicks: int


RowT = TypeVar("RowT", bound=ClickRow)


class Breakdown(Model, Generic[RowT]):
    """A breakdown by one dimension, most clicks first; a row whose value is unknown has `None` as its key."""

    data: list[RowT]


class DomainClicks(ClickRow):
    domain: str | None


class CountryClicks(ClickRow):
    country: str | None


class CityClicks(ClickRow):
    city: str | None


class DeviceClicks(ClickRow):
    device: str | None


class BrowserClicks(ClickRow):
    browser: str | None


class OsClicks(ClickRow):
    os: str | None


class ReferrerClicks(ClickRow):
    referrer: str | None


class ReferrerUrlClicks(ClickRow):
    referrer_url: str | None


class UtmSourceClicks(ClickRow):
    utm_source: str | None


class UtmMediumClicks(ClickRow):
    utm_medium: str | None


class UtmCampaignClicks(ClickRow):
    utm_campaign: str | None


class UtmTermClicks(ClickRow):
    utm_term: str | None


class UtmContentClicks(ClickRow):
    utm_content: str | None


class TagClicks(ClickRow):
    tag: str | None


class BioPageIdClicks(ClickRow):
    bio_page_id: str | None


class TriggerClicks(ClickRow):
    trigger: str | None


class TrafficTypeClicks(ClickRow):
    traffic_type: str | None


class BotNameClicks(ClickRow):
    bot_name: str | None


class OrphanTypeClicks(ClickRow):
    orphan_type: str | None


class PathClicks(ClickRow):
    path: str | None


class DestinationUrlClicks(ClickRow):
    destination_url: str | None


class VariantClicks(ClickRow):
    variant: int | None  # 0-based index in the link's `variants`; null: no test ran for these clicks


class RuleIndexClicks(ClickRow):
    rule_index: int | None  # 0-based index in the link's `rules`; null: no rule matched


GroupBy = Literal[
    "count",
    "timeseries",
    "links",
    "domains",
    "tags",
    "countries",
    "cities",
    "devices",
    "browsers",
    "os",
    "referrers",
    "referrer_urls",
    "utm_sources",
    "utm_mediums",
    "utm_campaigns",
    "utm_terms",
    "utm_contents",
    "bio_pages",
    "bio_blocks",
    "triggers",
    "traffic_types",
    "bots",
    "orphan_types",  # kind="orphan"
    "paths",  # kind="orphan"
    "destinations",
    "variants",
    "rules",
]

CLICKS_BY_GROUP: dict[str, Any] = {
    "count": LinkClickCount | ClickCount,
    "timeseries": ClickTimeseries,
    "links": LinksBreakdown,
    "bio_blocks": BioBlocksBreakdown,
    "domains": Breakdown[DomainClicks],
    "tags": Breakdown[TagClicks],
    "countries": Breakdown[CountryClicks],
    "cities": Breakdown[CityClicks],
    "devices": Breakdown[DeviceClicks],
    "browsers": Breakdown[BrowserClicks],
    "os": Breakdown[OsClicks],
    "referrers": Breakdown[ReferrerClicks],
    "referrer_urls": Breakdown[ReferrerUrlClicks],
    "utm_sources": Breakdown[UtmSourceClicks],
    "utm_mediums": Breakdown[UtmMediumClicks],
    "utm_campaigns": Breakdown[UtmCampaignClicks],
    "utm_terms": Breakdown[UtmTermClicks],
    "utm_contents": Breakdown[UtmContentClicks],
    "bio_pages": Breakdown[BioPageIdClicks],
    "triggers": Breakdown[TriggerClicks],
    "traffic_types": Breakdown[TrafficTypeClicks],
    "bots": Breakdown[BotNameClicks],
    "orphan_types": Breakdown[OrphanTypeClicks],
    "paths": Breakdown[PathClicks],
    "destinations": Breakdown[DestinationUrlClicks],
    "variants": Breakdown[VariantClicks],
    "rules": Breakdown[RuleIndexClicks],
}

# What `analytics.clicks()` returns: narrow it with isinstance (`ClickCount`, `ClickTimeseries`, `Breakdown`, …).
ClickAnalytics = (
    LinkClickCount
    | ClickCount
    | ClickTimeseries
    | LinksBreakdown
    | BioBlocksBreakdown
    | Breakdown[DomainClicks]
    | Breakdown[TagClicks]
    | Breakdown[CountryClicks]
    | Breakdown[CityClicks]
    | Breakdown[DeviceClicks]
    | Breakdown[BrowserClicks]
    | Breakdown[OsClicks]
    | Breakdown[ReferrerClicks]
    | Breakdown[ReferrerUrlClicks]
    | Breakdown[UtmSourceClicks]
    | Breakdown[UtmMediumClicks]
    | Breakdown[UtmCampaignClicks]
    | Breakdown[UtmTermClicks]
    | Breakdown[UtmContentClicks]
    | Breakdown[BioPageIdClicks]
    | Breakdown[TriggerClicks]
    | Breakdown[TrafficTypeClicks]
    | Breakdown[BotNameClicks]
    | Breakdown[OrphanTypeClicks]
    | Breakdown[PathClicks]
    | Breakdown[DestinationUrlClicks]
    | Breakdown[VariantClicks]
    | Breakdown[RuleIndexClicks]
    | Breakdown[ClickRow]  # a `group_by` added by a newer server: the row's key is in `model_extra`
)


# Bio page views


class ViewCount(Model):
    """`group_by="count"`."""

    views: int
    unique_views: int


class ViewPoint(Model):
    start: datetime
    views: int
    unique_views: int


class ViewTimeseries(Model):
    """`group_by="timeseries"`."""

    granularity: Literal["hour", "day", "month"]
    data: list[ViewPoint]


class ViewRow(Model):
    """A breakdown row: its key (`country`, `referrer`, `bio_page_id`, …) is in `model_extra`, beside the counts."""

    views: int
    unique_views: int


class ViewBreakdown(Model):
    data: list[ViewRow]


ViewAnalytics = ViewCount | ViewTimeseries | ViewBreakdown

VIEWS_BY_GROUP: dict[str, type[BaseModel]] = {"count": ViewCount, "timeseries": ViewTimeseries}


# Webhook events: the envelope MASK POSTs to a webhook, around the resource as the API shows it


class Click(Model):
    """A click as `link.clicked` carries it (the visitor hash and the IP address never leave MASK)."""

    click_id: str
    clicked_at: datetime
    workspace_id: str
    domain: str
    link_id: str | None = None
    bio_page_id: str | None = None
    bio_block_id: str | None = None
    country: str | None = None
    city: str | None = None
    device: str | None = None
    browser: str | None = None
    os: str | None = None
    referrer: str | None = None
    referrer_url: str | None = None
    trigger: Literal["link", "qr", "bio"] = "link"
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None
    utm_term: str | None = None
    utm_content: str | None = None
    is_bot: bool = False
    is_unique: bool = False
    traffic_type: Literal["human", "bot", "preview", "prefetch"] = "human"  # only human is counted
    bot_name: str | None = None  # a bot's or link-preview fetcher's short name, e.g. "slackbot"
    destination_url: str | None = None
    rule_index: int | None = None
    variant: int | None = None
    passed_password: bool = False


class LinkClickedData(Model):
    link: Link
    click: Click


class PingData(Model):
    webhook_id: str
    message: str


class WebhookEvent(Model):
    """An event of a type this SDK has no model for (added by a newer server); `data` is the raw object."""

    id: str  # the `webhook-id` header too: the same across retries, for deduplication
    type: str
    created_at: datetime
    workspace_id: str
    data: Any


class LinkEvent(WebhookEvent):
    type: Literal["link.created", "link.updated", "link.deleted", "link.clicks_deleted"]
    data: Link


class LinkClickedEvent(WebhookEvent):
    type: Literal["link.clicked"]
    data: LinkClickedData


class BioPageEvent(WebhookEvent):
    type: Literal["bio_page.created", "bio_page.updated", "bio_page.deleted", "bio_page.clicks_deleted"]
    data: BioPage


class DomainEvent(WebhookEvent):
    type: Literal["domain.created", "domain.updated", "domain.deleted", "domain.verified", "domain.verification_failed"]
    data: Domain


class PingEvent(WebhookEvent):
    """Sent by `webhooks.send_test()`."""

    type: Literal["ping"]
    data: PingData


Event = LinkEvent | LinkClickedEvent | BioPageEvent | DomainEvent | PingEvent | WebhookEvent

EVENT_MODELS: dict[str, type[WebhookEvent]] = {
    "link.created": LinkEvent,
    "link.updated": LinkEvent,
    "link.deleted": LinkEvent,
    "link.clicks_deleted": LinkEvent,
    "link.clicked": LinkClickedEvent,
    "bio_page.created": BioPageEvent,
    "bio_page.updated": BioPageEvent,
    "bio_page.deleted": BioPageEvent,
    "bio_page.clicks_deleted": BioPageEvent,
    "domain.created": DomainEvent,
    "domain.updated": DomainEvent,
    "domain.deleted": DomainEvent,
    "domain.verified": DomainEvent,
    "domain.verification_failed": DomainEvent,
    "ping": PingEvent,
}


# Bulk operations, imports and exports


class BulkCreate(Params):
    links: list[LinkCreate]

    @field_serializer("links")
    def _links(self, links: list[LinkCreate]) -> list[dict[str, Any]]:
        # As one create: a field left out is absent, never null (`archived: null` would be refused).
        return [link.model_dump(mode="json", exclude_none=True) for link in links]


class BulkSet(Params):
    tags_add: list[str] | None = None
    tags_remove: list[str] | None = None
    archived: bool | None = None
    disabled: bool | None = None
    expires_at: datetime | None = None
    expired_url: str | None = None
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None
    utm_term: str | None = None
    utm_content: str | None = None


class BulkUpdate(Params):
    ids: list[str] | None = None
    external_ids: list[str] | None = None
    set: BulkSet

    @field_serializer("set")
    def _set(self, changes: BulkSet) -> dict[str, Any]:
        # Only the changes given: `None` given clears a field (`expires_at=None`), a field not given stays.
        return changes.model_dump(mode="json", exclude_unset=True)


class BulkDelete(Params):
    ids: list[str]


class BulkResult(Model):
    """One item's outcome at its place in the request: `link`, or `error` in the API's error shape."""

    index: int
    status: int
    id: str | None = None
    link: Link | None = None
    error: ErrorObject | None = None


class BulkAnswer(Model):
    data: list[BulkResult]
    succeeded: int
    failed: int


class ImportOptions(Params):
    source: Literal[
        "mask-csv", "bitly-csv", "dub-csv", "shlink-csv", "yourls-csv", "kutt-csv", "csv", "bitly", "shlink"
    ]
    dry_run: bool | None = None
    on_conflict: Literal["skip", "rename", "overwrite"] | None = None
    domains: dict[str, str] | None = None
    domain: str | None = None
    keep_slugs: bool | None = None
    keep_created_at: bool | None = None
    tags: list[str] | None = None
    mapping: dict[str, str] | None = None
    file_content: str | None = None
    token: str | None = None
    server_url: str | None = None
    group_guid: str | None = None
    import_clicks: bool | None = None


class ImportCounts(Model):
    created: int
    updated: int
    skipped: int
    failed: int


class ImportProgress(Model):
    done: int
    total: int | None


class ImportJob(Model):
    id: str
    source: str
    status: Literal["queued", "running", "completed", "failed"]
    dry_run: bool
    filename: str | None
    progress: ImportProgress
    counts: ImportCounts
    error: str | None
    report_url: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class ImportPage(Model):
    data: list[ImportJob]
