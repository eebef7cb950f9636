"""What the analytics store is asked: a resolved, validated question about one workspace's clicks.

The service turns API parameters into these; a `ClickStore` answers them. Nothing here touches SQL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum, StrEnum

# Click attributes that can be broken down and filtered on, as named on the clicks table.
DIMENSIONS = (
    "country",
    "city",
    "device",
    "browser",
    "os",
    "referrer",
    "referrer_url",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "trigger",
    "traffic_type",  # human, bot, preview, prefetch (mask.click.traffic)
    "bot_name",  # known for bots and link previews only
    "orphan_type",  # orphan hits only (Event.orphan)
    "path",  # orphan hits only
)
# What the decision engine decided (issue 21), on clicks of links with a policy only. Rolled up like the
# dimensions (the indexes as text: '0', '1'); known for few clicks, so their rows cost little.
DECISIONS = ("destination_url", "variant", "rule_index")
INTEGER_DECISIONS = ("variant", "rule_index")
# Every column the rollups keep one row per known value of (mask.analytics.rollup).
ROLLED_UP = DIMENSIONS + DECISIONS
# Columns whose values are grouped by their first VALUE_LENGTH characters (mask.models.analytics), raw or rolled up.
CUT = ("referrer_url", "destination_url")
# What a click belongs to: the link, or the bio page (and its block).
TARGETS = ("link_id", "bio_page_id", "bio_block_id")
# The pseudo-column of a tag filter: the click's link carries (or does not carry) one of the named tags.
TAG = "tag"


class Event(IntEnum):
    """What a clicks row records: a click, a bio page view (a row with bio_page_id and no bio_block_id), or an
    orphan hit (a row with an orphan_type: an unknown slug, a domain root, an expired link)."""

    click = 0
    view = 1
    orphan = 2


class BotMode(StrEnum):
    exclude = "exclude"  # human clicks only (the default; what `links.clicks` counts)
    include = "include"  # humans and bots
    only = "only"  # bots only


# A filter value meaning "no value": an unknown country, a direct visit (no referrer), no UTM source. The API
# spells it `(none)` (as Plausible does); it is never a stored value.
UNKNOWN = ""


@dataclass(frozen=True)
class ValueFilter:
    """`column` IN include (when given) AND NOT IN exclude. Excluding keeps clicks with no value at all, unless
    UNKNOWN is among the excluded values."""

    column: str  # a DIMENSIONS, DECISIONS or TARGETS name, "domain", or TAG
    include: frozenset[str] | None = None
    exclude: frozenset[str] = frozenset()
    all_of: bool = False  # TAG only: the link carries every included tag, not any of them

    @property
    def names_unknown(self) -> bool:
        return UNKNOWN in self.exclude or (self.include is not None and UNKNOWN in self.include)


@dataclass(frozen=True)
class ClickQuery:
    """Clicks of one workspace in [start, end), filtered (all filters apply), counted per `bots`."""

    workspace_id: str
    start: datetime
    end: datetime
    filters: tuple[ValueFilter, ...] = ()
    bots: BotMode = BotMode.exclude
    rank_by_unique: bool = False
    event: Event = Event.click

    @property
    def filter_columns(self) -> frozenset[str]:
        return frozenset(f.column for f in self.filters)


@dataclass(frozen=True)
class Counts:
    clicks: int = 0
    unique_clicks: int = 0


@dataclass(frozen=True)
class Row:
    """One breakdown row: the values of the grouping columns (None: unknown) and the counts."""

    keys: tuple[str | None, ...]
    counts: Counts = field(default_factory=Counts)
