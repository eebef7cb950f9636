"""What a batch of clicks adds to each rollup table, summed in Python: the deltas the store then upserts.

Pure Python, no SQL. Rows of *unknown* dimension values (no country, a direct visit, no UTM tag) are not
kept: the unknown row of a breakdown is the total minus the known values, derived when reading
(`mask.analytics.repository`). With real traffic most dimension values of a click are unknown (five UTM
fields, the city), so this leaves out most of what a batch would otherwise write.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from operator import attrgetter
from typing import Any, TypeVar

from mask.analytics.planner import TOTAL
from mask.analytics.query import CUT, ROLLED_UP, Event
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


_values = attrgetter(*ROLLED_UP)
_NAMED = tuple(enumerate(ROLLED_UP))
_CUT = frozenset(ROLLED_UP.index(name) for name in CUT)
_ORPHAN = ROLLED_UP.index("orphan_type")


def rollup_deltas(clicks: Sequence[EnrichedClick]) -> RollupDeltas:
    """Sum a batch of stored clicks into the rows of every rollup table (known dimension values only).

    A hot path (every stored click passes here, in the background process): the clicks are first summed per
    target, hour and set of values, which a batch repeats often (wrk's clicks all do), and hours are computed
    once per batch."""
    groups: dict[tuple[Any, ...], Counts] = {}
    hours: dict[tuple[int, int, int, int], tuple[datetime, datetime]] = {}
    for click in clicks:
        at = click.clicked_at
        if at.tzinfo is not UTC:
            at = as_utc(at)
        hour_key = (at.year, at.month, at.day, at.hour)
        if hour_key not in hours:
            hour = at.replace(minute=0, second=0, microsecond=0)
            hours[hour_key] = (hour, hour.replace(hour=0))
        page, block = click.bio_page_id or "", click.bio_block_id or ""
        key = (click.workspace_id, hour_key, click.link_id or "", page, block, click.domain, _values(click))
        found = groups.get(key)
        if found is None:
            found = groups[key] = [0, 0, 0]
        if click.is_bot:
            found[2] += 1
        else:
            found[0] += 1
        if click.is_unique:
            found[1] += 1
    # workspace, event, hour, link, page, block, domain
    target_hours: dict[tuple[str, int, datetime, str, str, str, str], Counts] = {}
    # workspace, event, dimension, hour, domain, value
    dimension_hours: dict[tuple[str, int, str, datetime, str, str], Counts] = {}
    target_dimension: dict[Key, Counts] = {}
    for (workspace, hour_key, link, page, block, domain, values), counts in groups.items():
        hour, day = hours[hour_key]
        if values[_ORPHAN]:
            event = Event.orphan.value
        else:
            event = Event.view.value if page and not block else Event.click.value
        _add(target_hours, (workspace, event, hour, link, page, block, domain), counts)
        _add(dimension_hours, (workspace, event, TOTAL, hour, domain, ""), counts)
        for index, name in _NAMED:
            value = values[index]
            if value is None or value == "":
                continue  # unknown: derived from the totals when read
            if type(value) is int:  # a decision's index (0 is a known value)
                value = str(value)
            elif index in _CUT:
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
