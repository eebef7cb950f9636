"""Which stored form answers a question, and which time pieces come from where. Pure Python, no SQL.

A range [start, end) is split into whole UTC months and days (month and day rollups), whole UTC hours (hour
rollups) and the sub-hour remainders at its edges (raw clicks), so every answer is exact whatever the timezone or range:
for example a day in Asia/Kolkata (18:30 UTC → 18:30 UTC) is 23 hour rollups plus two half hours of raw
clicks. Only the raw pieces touch the clicks table, through its (workspace_id, clicked_at) index.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from mask.analytics.query import ROLLED_UP, TAG, TARGETS
from mask.models.analytics import Grain

TOTAL = "total"  # the pseudo-dimension of workspace totals in the dimension rollups


class Table(StrEnum):
    raw = "raw"
    target = "target"  # per link / bio page, hour and day
    dimension = "dimension"  # per workspace, domain and dimension value, hour and day
    target_dimension = "target_dimension"  # per link / bio page and dimension value, day


@dataclass(frozen=True)
class Source:
    table: Table
    grains: tuple[Grain, ...] = ()  # largest first
    dimension: str | None = None  # the dimension rollup rows to read


RAW = Source(Table.raw)


def choose_source(filter_columns: Iterable[str], key_columns: Iterable[str]) -> Source:
    """The smallest stored form that holds every column the question filters or groups on.

    A rollup keeps one dimension (or decision) at a time, so a question that involves two (e.g. `country=US`
    with `group_by=devices`) is answered from the raw clicks.
    """
    used = set(filter_columns) | set(key_columns)
    if TAG in used:
        used = (used - {TAG}) | {"link_id"}
    dimensions = used & set(ROLLED_UP)
    targets = used & set(TARGETS)
    if len(dimensions) > 1:
        return RAW
    dimension = next(iter(dimensions), None)
    if not targets:
        return Source(Table.dimension, (Grain.month, Grain.day, Grain.hour), dimension or TOTAL)
    if dimension is None:
        return Source(Table.target, (Grain.month, Grain.day, Grain.hour))
    if "bio_block_id" not in targets:
        return Source(Table.target_dimension, (Grain.day,), dimension)
    return RAW


@dataclass(frozen=True)
class Piece:
    """[start, end) read from rollups of `grain`, or from raw clicks when grain is None."""

    grain: Grain | None
    start: datetime
    end: datetime


def floor_grain(instant: datetime, grain: Grain) -> datetime:
    """Start of the UTC hour, day or month holding `instant`: the bucket a rollup row of that grain has."""
    instant = instant.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    if grain is Grain.hour:
        return instant
    instant = instant.replace(hour=0)
    return instant if grain is Grain.day else instant.replace(day=1)


def _ceil(instant: datetime, grain: Grain) -> datetime:
    floor = floor_grain(instant, grain)
    if floor == instant:
        return floor
    if grain is Grain.hour:
        return floor + timedelta(hours=1)
    if grain is Grain.day:
        return floor + timedelta(days=1)
    return floor_grain(floor + timedelta(days=32), Grain.month)


def decompose(start: datetime, end: datetime, grains: Sequence[Grain]) -> list[Piece]:
    """Split [start, end) into the fewest pieces of the given grains (largest first), raw for the rest."""
    if start >= end:
        return []
    if not grains:
        return [Piece(None, start, end)]
    grain, smaller = grains[0], grains[1:]
    low, high = _ceil(start, grain), floor_grain(end, grain)
    if low >= high:
        return decompose(start, end, smaller)
    return [*decompose(start, low, smaller), Piece(grain, low, high), *decompose(high, end, smaller)]


def plan_ranges(
    windows: Iterable[tuple[datetime, datetime]], grains: Sequence[Grain]
) -> dict[Grain | None, list[tuple[datetime, datetime]]]:
    """Decompose each window; return, per grain (None: raw), the merged ranges to read.

    Windows are disjoint and sorted (time-series buckets); pieces never straddle a window's edge, so a row
    read from any range belongs to exactly one window.
    """
    ranges: dict[Grain | None, list[tuple[datetime, datetime]]] = {}
    for window_start, window_end in windows:
        for piece in decompose(window_start, window_end, grains):
            existing = ranges.setdefault(piece.grain, [])
            if existing and existing[-1][1] == piece.start:
                existing[-1] = (existing[-1][0], piece.end)
            else:
                existing.append((piece.start, piece.end))
    return ranges
