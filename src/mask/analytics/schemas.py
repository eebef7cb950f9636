"""The analytics API's parameters and response shapes (one response model per `group_by`)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, create_model

from mask.analytics.query import BotMode
from mask.analytics.timerange import Granularity, Interval
from mask.click.schemas import ORPHAN_TYPES, OrphanType
from mask.kit.schemas import UTCDatetime
from mask.link.schemas import ImportedClicks


class GroupBy(StrEnum):
    count = "count"  # type: ignore[assignment]  # shadows str.count, as an enum member may
    timeseries = "timeseries"
    links = "links"
    domains = "domains"
    tags = "tags"
    countries = "countries"
    cities = "cities"
    devices = "devices"
    browsers = "browsers"
    os = "os"
    referrers = "referrers"
    referrer_urls = "referrer_urls"
    utm_sources = "utm_sources"
    utm_mediums = "utm_mediums"
    utm_campaigns = "utm_campaigns"
    utm_terms = "utm_terms"
    utm_contents = "utm_contents"
    bio_pages = "bio_pages"
    bio_blocks = "bio_blocks"
    triggers = "triggers"
    traffic_types = "traffic_types"
    bots = "bots"
    orphan_types = "orphan_types"  # kind=orphan only
    paths = "paths"  # kind=orphan only
    destinations = "destinations"
    variants = "variants"
    rules = "rules"


# A breakdown's row key (singular) and what it means; the key is also the clicks column grouped on.
DIMENSION_KEYS: dict[GroupBy, tuple[str, str]] = {
    GroupBy.domains: ("domain", "The short domain the click came through."),
    GroupBy.countries: ("country", "ISO 3166-1 alpha-2 code; null when unknown."),
    GroupBy.cities: ("city", "City name (needs a city database); null when unknown."),
    GroupBy.devices: ("device", "desktop, mobile, tablet, bot or other; null when unknown."),
    GroupBy.browsers: ("browser", "Browser family, e.g. Chrome; null when unknown."),
    GroupBy.os: ("os", "Operating system family, e.g. iOS; null when unknown."),
    GroupBy.referrers: ("referrer", "Referring host; null for a direct visit."),
    GroupBy.referrer_urls: ("referrer_url", "Referring URL (first 500 characters); null for a direct visit."),
    GroupBy.utm_sources: ("utm_source", "null when the click had none."),
    GroupBy.utm_mediums: ("utm_medium", "null when the click had none."),
    GroupBy.utm_campaigns: ("utm_campaign", "null when the click had none."),
    GroupBy.utm_terms: ("utm_term", "null when the click had none."),
    GroupBy.utm_contents: ("utm_content", "null when the click had none."),
    GroupBy.tags: ("tag", "Tag name; a click on a link with two tags counts for both."),
    GroupBy.bio_pages: ("bio_page_id", "The bio page (whose blocks were clicked, or that was viewed)."),
    GroupBy.triggers: ("trigger", "What led to the click: `link` (the short URL), `qr` (a QR code scan) or `bio`."),
    GroupBy.traffic_types: (
        "traffic_type",
        "What the hit was: `human`, `bot`, `preview` (a link-preview fetcher) or `prefetch` (a browser's "
        "speculative load). Only `human` is counted in a link's clicks.",
    ),
    GroupBy.bots: ("bot_name", "The bot's or link-preview fetcher's short name, e.g. `googlebot`; null when unknown."),
    GroupBy.orphan_types: (
        "orphan_type",
        "What an orphan hit found (`kind=orphan`): `unknown_slug` (no link with that path on the workspace's "
        "own domain), `domain_root` (the domain's `/`), `expired_link` (a link past `expires_at`) or "
        "`limit_reached` (a link whose `max_clicks` are spent); the last two name the link in `link_id`.",
    ),
    GroupBy.paths: ("path", "The path an orphan hit asked for (`kind=orphan`), e.g. `/wp-login.php`."),
    GroupBy.destinations: (
        "destination_url",
        "Where the decision engine sent the click: the link's `url`, a rule's or a variant's, as the link states "
        "it (without the click's own query); null for clicks on links without targeting, A/B test, password, start "
        "time, click limit or status (they go to the link's `url`) and for clicks stored before it was recorded.",
    ),
}
# Breakdowns keyed by an index into the link's `rules` or `variants` (0-based; null: none decided).
INDEX_KEYS: dict[GroupBy, tuple[str, str]] = {
    GroupBy.variants: (
        "variant",
        "The A/B variant given: its 0-based index in the link's `variants`; null when no test ran for the click.",
    ),
    GroupBy.rules: (
        "rule_index",
        "The targeting rule that matched: its 0-based index in the link's `rules`; null when none did.",
    ),
}
# Breakdowns that only orphan hits have values for.
ORPHAN_ONLY = frozenset({GroupBy.orphan_types, GroupBy.paths})

FILTER_HELP = (
    "A value, a comma list (any of them), or values prefixed with `-` to exclude them. On click attributes, "
    "`(none)` matches clicks without a value (unknown country, direct visit) and `-(none)` those with one. "
    "A backslash escapes: `\\,` a comma within a value (`/a\\,b` is the one value `/a,b`), `\\\\` a backslash, "
    "`\\-` a leading minus, `\\(none)` the text `(none)`."
)


class ClickFilterParams(BaseModel):
    """Which clicks a question is about: the range and the filters (shared by `/clicks` and `/events`)."""

    model_config = ConfigDict(extra="forbid")

    interval: Interval | None = Field(
        default=None,
        description="Range ending now (default `24h`); `mtd`/`qtd`/`ytd` start at local midnight "
        "in `timezone`. Not together with `start`/`end`.",
    )
    start: str | None = Field(
        default=None,
        max_length=40,
        examples=["2026-03-01", "2026-03-01T00:00:00Z"],
        description="ISO 8601 date or time; without an offset it is read in `timezone`.",
    )
    end: str | None = Field(default=None, max_length=40, description="ISO 8601 (exclusive); default now.")
    timezone: str = Field(
        default="UTC",
        max_length=64,
        examples=["Europe/Berlin"],
        description="IANA timezone for day/month buckets and `mtd`/`qtd`/`ytd` (DST included).",
    )
    link_id: str | None = Field(
        default=None,
        max_length=2000,
        description=FILTER_HELP + " A link of another workspace (or a deleted link) is `404`.",
    )
    domain: str | None = Field(default=None, max_length=2000, description=FILTER_HELP)
    tag: str | None = Field(
        default=None, max_length=2000, description=FILTER_HELP + " Tag names; matches the links that carry the tag now."
    )
    tags: str | None = Field(
        default=None,
        max_length=2000,
        description="Tag names, comma-separated, `-name` to exclude (`\\,` for a comma in a name, as in every "
        "filter); with `tag_match` (the same as `tag`, which it replaces; not both).",
    )
    tag_match: Literal["any", "all"] = Field(
        default="any", description="`any`: links carrying any of the named tags; `all`: carrying every one of them."
    )
    bio_page_id: str | None = Field(default=None, max_length=2000, description=FILTER_HELP)
    country: str | None = Field(default=None, max_length=2000, description=FILTER_HELP + " ISO alpha-2 codes.")
    city: str | None = Field(default=None, max_length=2000, description=FILTER_HELP)
    device: str | None = Field(default=None, max_length=2000, description=FILTER_HELP)
    browser: str | None = Field(default=None, max_length=2000, description=FILTER_HELP)
    os: str | None = Field(default=None, max_length=2000, description=FILTER_HELP)
    referrer: str | None = Field(default=None, max_length=2000, description=FILTER_HELP + " Hosts.")
    utm_source: str | None = Field(default=None, max_length=2000, description=FILTER_HELP)
    utm_medium: str | None = Field(default=None, max_length=2000, description=FILTER_HELP)
    utm_campaign: str | None = Field(default=None, max_length=2000, description=FILTER_HELP)
    utm_term: str | None = Field(default=None, max_length=2000, description=FILTER_HELP)
    utm_content: str | None = Field(default=None, max_length=2000, description=FILTER_HELP)
    trigger: str | None = Field(
        default=None, max_length=2000, description=FILTER_HELP + " `link`, `qr` (QR code scans) or `bio`."
    )
    destination_url: str | None = Field(
        default=None,
        max_length=2000,
        description=FILTER_HELP + " Where the decision engine sent the click (a link's, rule's or variant's URL).",
    )
    variant: str | None = Field(
        default=None,
        max_length=2000,
        description=FILTER_HELP + " 0-based indexes into the link's `variants` (the A/B variant given).",
    )
    rule_index: str | None = Field(
        default=None,
        max_length=2000,
        description=FILTER_HELP + " 0-based indexes into the link's `rules` (the targeting rule that matched).",
    )
    traffic_type: str | None = Field(
        default=None,
        max_length=2000,
        description=FILTER_HELP + " `human`, `bot`, `preview` or `prefetch`; with it, `bots` defaults to `include`.",
    )
    orphan_type: str | None = Field(
        default=None,
        max_length=2000,
        description=FILTER_HELP
        + " With `kind=orphan` only: "
        + ", ".join(f"`{name}`" for name in ORPHAN_TYPES)
        + " (see `group_by=orphan_types`).",
    )
    path: str | None = Field(
        default=None,
        max_length=2000,
        description=FILTER_HELP + " With `kind=orphan` only: the path an orphan hit asked for, e.g. `/wp-login.php`.",
    )
    bots: BotMode | None = Field(
        default=None,
        description="`exclude`: human clicks only, as the link's `clicks` counts them; `include`: every traffic "
        "type; `only`: every type but `human` (bots, link previews, prefetches). Default `exclude`, except "
        "`include` with `group_by=traffic_types` or a `traffic_type` filter and `only` with `group_by=bots`.",
    )
    kind: Literal["click", "orphan"] = Field(
        default="click",
        description="`click` (default): hits on links and bio blocks. `orphan`: hits that found no link to count "
        "(an unknown slug or the root of the workspace's own domain, an expired link, a link whose click limit is "
        "spent), never part of any link's numbers; see `group_by=orphan_types|paths`.",
    )


class AnalyticsParams(ClickFilterParams):
    """Query parameters of GET /v1/analytics/clicks. Unknown parameters are refused (422)."""

    group_by: GroupBy = Field(default=GroupBy.count, description="What to count by.")
    granularity: Granularity | None = Field(
        default=None,
        description="Time-series bucket size; default chosen from the range (hour up to 3 days, "
        "day up to ~6 months, month beyond). At most 5,000 buckets.",
    )
    unique: bool = Field(
        default=False,
        description="Rank breakdown rows by unique clicks (distinct visitors "
        "per day) instead of clicks. Both counts are always returned.",
    )
    limit: int = Field(default=10, ge=1, le=1000, description="Rows of a breakdown.")
    format: Literal["json", "csv"] | None = Field(
        default=None, description="`csv` returns the same rows as CSV (also with `Accept: text/csv`)."
    )


FILTER_PARAMS = (
    "link_id",
    "domain",
    "tag",
    "bio_page_id",
    "country",
    "city",
    "device",
    "browser",
    "os",
    "referrer",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "trigger",
    "traffic_type",
    "destination_url",
    "variant",
    "rule_index",
    "orphan_type",  # kind=orphan only (ORPHAN_FILTERS)
    "path",
)
# Filters on what only orphan hits have: a question about clicks refuses them.
ORPHAN_FILTERS = ("orphan_type", "path")


CLICKS_HELP = "Clicks (human only unless `bots` says otherwise)."
UNIQUE_HELP = (
    "Clicks that were a visitor's first of the (UTC) day on that link or bio block; they add up across "
    "rows. Bots never count as unique."
)


def _clicks() -> Any:
    return Field(description=CLICKS_HELP)


def _unique() -> Any:
    return Field(description=UNIQUE_HELP)


class ClickCount(BaseModel):
    """`group_by=count`."""

    clicks: int = _clicks()
    unique_clicks: int = _unique()


class LinkClickCount(ClickCount):
    """`group_by=count` filtered to one link that was imported with another shortener's click total."""

    imported_clicks: ImportedClicks = Field(
        description="What the other shortener counted before the import: not part of `clicks`, whatever the range "
        "(the link's `imported_clicks`)."
    )


class TimeseriesPoint(BaseModel):
    start: UTCDatetime = Field(description="Start of the bucket (local midnight for day buckets), in UTC.")
    clicks: int = _clicks()
    unique_clicks: int = _unique()


GRANULARITY_HELP = "The size of the buckets: `granularity` when given, else chosen from the range."


class ClickTimeseries(BaseModel):
    """`group_by=timeseries`: every bucket of the range, empty ones included, oldest first."""

    granularity: Granularity = Field(description=GRANULARITY_HELP)
    data: list[TimeseriesPoint]


class LinkClicks(BaseModel):
    link_id: str
    slug: str | None = Field(description="null when the link was deleted since.")
    short_url: str | None = Field(description="null when the link was deleted since.")
    url: str | None = Field(description="The destination; null when the link was deleted since.")
    clicks: int = _clicks()
    unique_clicks: int = _unique()


class LinksBreakdown(BaseModel):
    """`group_by=links`: top links, most clicks first."""

    data: list[LinkClicks]


class BioBlockClicks(BaseModel):
    bio_page_id: str
    bio_block_id: str
    clicks: int = _clicks()
    unique_clicks: int = _unique()


class BioBlocksBreakdown(BaseModel):
    """`group_by=bio_blocks`: top bio page blocks, most clicks first."""

    data: list[BioBlockClicks]


def _breakdown_model(group_by: GroupBy, key: str, description: str) -> type[BaseModel]:
    title = "".join(part.title() for part in key.split("_"))
    fields: dict[str, Any] = {
        key: (OrphanType | None if key == "orphan_type" else str | None, Field(description=description)),
        "clicks": (int, _clicks()),
        "unique_clicks": (int, _unique()),
    }
    row: Any = create_model(f"{title}Clicks", **fields)
    model = create_model(f"{title}Breakdown", data=(list[row], ...))
    model.__doc__ = f"`group_by={group_by.value}`: rows most clicks first, keyed by `{key}`."
    return model


BREAKDOWN_MODELS: dict[GroupBy, type[BaseModel]] = {
    group_by: _breakdown_model(group_by, key, description) for group_by, (key, description) in DIMENSION_KEYS.items()
}
for _group_by, (_key, _description) in INDEX_KEYS.items():
    _title = "".join(part.title() for part in _key.split("_"))
    _row: Any = create_model(
        f"{_title}Clicks",
        **{_key: (int | None, Field(description=_description))},  # type: ignore[call-overload]
        clicks=(int, _clicks()),
        unique_clicks=(int, _unique()),
    )
    BREAKDOWN_MODELS[_group_by] = create_model(f"{_title}Breakdown", data=(list[_row], ...))
    BREAKDOWN_MODELS[_group_by].__doc__ = f"`group_by={_group_by.value}`: rows most clicks first, keyed by `{_key}`."
BREAKDOWN_MODELS[GroupBy.links] = LinksBreakdown
BREAKDOWN_MODELS[GroupBy.bio_blocks] = BioBlocksBreakdown

# What the endpoint documents: one shape per group_by.
ANALYTICS_RESPONSE: Any = Union[(LinkClickCount, ClickCount, ClickTimeseries, *BREAKDOWN_MODELS.values())]


# ---- bio page views (GET /v1/analytics/views) ----

VIEWS_HELP = "Page views (human only unless `bots` says otherwise)."
UNIQUE_VIEWS_HELP = "Views that were a visitor's first of the (UTC) day on that page."


class ViewCount(BaseModel):
    """`group_by=count`."""

    views: int = Field(description=VIEWS_HELP)
    unique_views: int = Field(description=UNIQUE_VIEWS_HELP)


class ViewPoint(BaseModel):
    start: UTCDatetime = Field(description="Start of the bucket (local midnight for day buckets), in UTC.")
    views: int = Field(description=VIEWS_HELP)
    unique_views: int = Field(description=UNIQUE_VIEWS_HELP)


class ViewTimeseries(BaseModel):
    """`group_by=timeseries`: every bucket of the range, empty ones included, oldest first."""

    granularity: Granularity = Field(description=GRANULARITY_HELP)
    data: list[ViewPoint]


class ViewRow(BaseModel):
    """One group of a breakdown: its key (`country`, `referrer`, `bio_page_id`, …), `views`, `unique_views`."""

    model_config = ConfigDict(extra="allow")

    views: int = Field(description=VIEWS_HELP)
    unique_views: int = Field(description=UNIQUE_VIEWS_HELP)


class ViewBreakdown(BaseModel):
    """A breakdown, most views first."""

    data: list[ViewRow]


ViewsResponse = ViewCount | ViewTimeseries | ViewBreakdown


# ---- click events (GET /v1/analytics/events) ----


class EventsParams(ClickFilterParams):
    """Query parameters of GET /v1/analytics/events. Unknown parameters are refused (422)."""

    limit: int = Field(default=100, ge=1, le=1000, description="Events per page.")
    cursor: str | None = Field(
        default=None, max_length=200, description="`next_cursor` of the previous page, passed back as is."
    )


class EventsExportParams(ClickFilterParams):
    """Query parameters of GET /v1/analytics/events/export. Unknown parameters are refused (422)."""

    format: Literal["csv", "ndjson"] | None = Field(
        default=None,
        description="`csv` (the default) or `ndjson` (one JSON event per line); without it, `Accept: "
        "application/x-ndjson` chooses NDJSON.",
    )


class ClickEvent(BaseModel):
    """One click as the `link.clicked` webhook shows it: never the IP address or the raw user agent."""

    click_id: str = Field(description="The click's id, stable across exports and webhooks.")
    clicked_at: UTCDatetime
    workspace_id: str
    domain: str = Field(description="The short domain the click came through.")
    link_id: str | None = Field(description="The link clicked; null for a bio block click.")
    bio_page_id: str | None
    bio_block_id: str | None
    country: str | None = Field(description="ISO 3166-1 alpha-2; null when unknown.")
    city: str | None
    device: str | None = Field(description="desktop, mobile, tablet, bot or other; null when unknown.")
    browser: str | None
    os: str | None
    referrer: str | None = Field(description="Referring host; null for a direct visit.")
    referrer_url: str | None
    utm_source: str | None
    utm_medium: str | None
    utm_campaign: str | None
    utm_term: str | None
    utm_content: str | None
    is_bot: bool
    is_unique: bool = Field(description="The visitor's first human click of the (UTC) day on this target.")
    trigger: str = Field(description="`link`, `qr` (a QR code scan) or `bio`.")
    traffic_type: str = Field(
        description="`human`, `bot`, `preview` (a link-preview fetcher) or `prefetch`; only `human` is counted."
    )
    bot_name: str | None = Field(description="A bot's or preview fetcher's short name (e.g. `slackbot`).")
    orphan_type: OrphanType | None = Field(
        description="What an orphan hit found (`kind=orphan`; see `group_by=orphan_types`); null for a click."
    )
    path: str | None = Field(description="The path an orphan hit asked for; null for a click.")
    destination_url: str | None = Field(
        description="Where the decision engine sent the click (the link's, a rule's or a variant's URL as the link "
        "states it); null for a link without targeting, A/B test, password, start time, click limit or status."
    )
    rule_index: int | None = Field(description="The targeting rule that matched (0-based index in `rules`).")
    variant: int | None = Field(description="The A/B variant given (0-based index in `variants`).")
    passed_password: bool = Field(description="The visitor was let through the link's password.")


class ClickEventPage(BaseModel):
    """Newest first; `next_cursor` fetches the next (older) page while `has_more`."""

    data: list[ClickEvent]
    has_more: bool
    next_cursor: str | None


EVENT_FIELDS = tuple(ClickEvent.model_fields)
