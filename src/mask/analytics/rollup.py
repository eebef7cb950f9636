"""What a batch of clicks adds to each rollup table, summed in Python: the deltas the store then upserts.

Pure Python, no SQL. Rows of *unknown* dimension values (no country, a direct visit, no UTM tag) are not
kept: the unknown row of a breakdown is the total minus the known values, derived when reading
(`mask.analytics.repository`). With real traffic most dimension values of a click are unknown (five UTM
fields, the city), so this leaves out most of what a batch would otherwise write.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from mask.analytics.planner import TOTAL
from mask.analytics.query import DIMENSIONS, Event
from mask.click.schemas import EnrichedClick
from mask.kit.time import as_utc
from mask.models.analytics import VALUE_LENGTH, Grain

Key = tuple[str | int | datetime, ...]
Counts = list[int]  # clicks (human), unique_clicks, bot_clicks
K = TypeVar("K")

HOUR, DAY, MONTH = Grain.hour.value, Grain.day.value, Grain.month.value


@dataclass
class RollupDeltas:
    """Per table, key (the primary key's columns in order, shard left out) → counts to add."""

    target: dict[Key, Counts] = field(default_factory=dict)  # TargetRollup
    dimension: dict[Key, Counts] = field(default_factory=dict)  # DimensionRollup
    target_dimension: dict[Key, Counts] = field(default_factory=dict)  # TargetDimensionRollup


def _add(table: dict[K, Counts], key: K, counts: Counts) -> None:
    found = table.get(key)
    if found is None:
        table[key] = counts.copy()
    else:
        found[0] += counts[0]
        found[1] += counts[1]
        found[2] += counts[2]


def rollup_deltas(clicks: Sequence[EnrichedClick]) -> RollupDeltas:
    """Sum a batch of stored clicks into the rows of every rollup table (known dimension values only)."""
    # workspace, event, hour, link, page, block, domain
    target_hours: dict[tuple[str, int, datetime, str, str, str, str], Counts] = {}
    # workspace, event, dimension, hour, domain, value
    dimension_hours: dict[tuple[str, int, str, datetime, str, str], Counts] = {}
    target_dimension: dict[Key, Counts] = {}
    for click in clicks:
        at = as_utc(click.clicked_at)
        hour = at.replace(minute=0, second=0, microsecond=0)
        day = hour.replace(hour=0)
        page, block = click.bio_page_id or "", click.bio_block_id or ""
        event = Event.view.value if page and not block else Event.click.value
        counts = [0, int(click.is_unique), 1] if click.is_bot else [1, int(click.is_unique), 0]
        workspace, domain, link = click.workspace_id, click.domain, click.link_id or ""
        _add(target_hours, (workspace, event, hour, link, page, block, domain), counts)
        _add(dimension_hours, (workspace, event, TOTAL, hour, domain, ""), counts)
        for name in DIMENSIONS:
            value = getattr(click, name)
            if not value:
                continue  # unknown: derived from the totals when read
            if name == "referrer_url":
                value = value[:VALUE_LENGTH]
            _add(dimension_hours, (workspace, event, name, hour, domain, value), counts)
            _add(target_dimension, (workspace, event, name, day, link, page, domain, value), counts)
    deltas = RollupDeltas(target_dimension=target_dimension)
    for (workspace, event, hour, link, page, block, domain), counts in target_hours.items():
        day = hour.replace(hour=0)
        for grain, bucket in ((HOUR, hour), (DAY, day), (MONTH, day.replace(day=1))):
            _add(deltas.target, (workspace, event, grain, bucket, link, page, block, domain), counts)
    for (workspace, event, name, hour, domain, value), counts in dimension_hours.items():
        day = hour.replace(hour=0)
        for grain, bucket in ((HOUR, hour), (DAY, day), (MONTH, day.replace(day=1))):
            _add(deltas.dimension, (workspace, event, name, grain, bucket, domain, value), counts)
    return deltas
