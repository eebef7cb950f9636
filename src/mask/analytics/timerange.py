"""Time ranges and buckets in a user's timezone (IANA, DST included), computed as UTC instants.

A day bucket in America/New_York is 23, 24 or 25 hours long; in Asia/Kolkata it starts at 18:30 UTC. Every
bucket boundary is a whole minute (all zone offsets since 1972 are), which the store relies on.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

# Nothing earlier is accepted; `interval=all` starts here.
BEGINNING = datetime(2000, 1, 1, tzinfo=UTC)


class Granularity(StrEnum):
    hour = "hour"
    day = "day"
    month = "month"


class Interval(StrEnum):
    h24 = "24h"
    d7 = "7d"
    d30 = "30d"
    d90 = "90d"
    y1 = "1y"
    mtd = "mtd"
    qtd = "qtd"
    ytd = "ytd"
    all = "all"


@lru_cache(maxsize=1)
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def zone(name: str) -> ZoneInfo | None:
    """The IANA zone of that name, or None. Only names of the zone database are looked up (no paths)."""
    if name == "UTC":
        return ZoneInfo("UTC")
    return ZoneInfo(name) if name in _zone_names() else None


def _local_midnight(day: date, tz: ZoneInfo) -> datetime:
    # A midnight that does not exist (a DST gap at 00:00) resolves, with fold=0, to the instant of the gap.
    return datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(UTC)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def floor_bucket(instant: datetime, tz: ZoneInfo, granularity: Granularity) -> datetime:
    """Start (UTC) of the bucket holding `instant`."""
    local = instant.astimezone(tz)
    if granularity is Granularity.hour:
        # The local hour, whatever the offset (Kolkata's hours start at :30 UTC).
        return instant.astimezone(UTC) - timedelta(
            minutes=local.minute, seconds=local.second, microseconds=local.microsecond
        )
    if granularity is Granularity.day:
        return _local_midnight(local.date(), tz)
    return _local_midnight(local.date().replace(day=1), tz)


def next_bucket(start: datetime, tz: ZoneInfo, granularity: Granularity) -> datetime:
    """Start of the bucket after the one starting at `start`."""
    if granularity is Granularity.hour:
        following = floor_bucket(start + timedelta(hours=1), tz, granularity)
        return following if following > start else start + timedelta(hours=1)
    local = start.astimezone(tz).date()
    if granularity is Granularity.day:
        return _local_midnight(local + timedelta(days=1), tz)
    return _local_midnight(_add_months(local, 1), tz)


def bucket_starts(start: datetime, end: datetime, tz: ZoneInfo, granularity: Granularity) -> list[datetime]:
    """Starts of every bucket that overlaps [start, end), the first one aligned (so possibly before start)."""
    starts = []
    current = floor_bucket(start, tz, granularity)
    while current < end:
        starts.append(current)
        current = next_bucket(current, tz, granularity)
    return starts


def count_buckets(start: datetime, end: datetime, granularity: Granularity) -> int:
    """An upper bound of the number of buckets, cheap to compute before building them."""
    span = end - start
    if granularity is Granularity.hour:
        return span // timedelta(hours=1) + 2
    if granularity is Granularity.day:
        return span // timedelta(hours=23) + 2
    return span // timedelta(days=28) + 2


def auto_granularity(start: datetime, end: datetime) -> Granularity:
    """Hours up to three days, days up to about six months, months beyond."""
    span = end - start
    if span <= timedelta(days=3):
        return Granularity.hour
    if span <= timedelta(days=190):
        return Granularity.day
    return Granularity.month


def interval_start(interval: Interval, now: datetime, tz: ZoneInfo) -> datetime:
    """Where a named interval ending now starts. Calendar arithmetic happens on the local wall clock."""
    local = now.astimezone(tz)
    if interval is Interval.h24:
        return now - timedelta(hours=24)
    if interval in (Interval.d7, Interval.d30, Interval.d90):
        days = {Interval.d7: 7, Interval.d30: 30, Interval.d90: 90}[interval]
        return _wall_clock(local - timedelta(days=days), tz)
    if interval is Interval.y1:
        try:
            year_ago = local.replace(year=local.year - 1)
        except ValueError:  # 29 February
            year_ago = local.replace(year=local.year - 1, day=28)
        return _wall_clock(year_ago, tz)
    if interval is Interval.mtd:
        return _local_midnight(local.date().replace(day=1), tz)
    if interval is Interval.qtd:
        return _local_midnight(date(local.year, (local.month - 1) // 3 * 3 + 1, 1), tz)
    if interval is Interval.ytd:
        return _local_midnight(date(local.year, 1, 1), tz)
    return BEGINNING


def _wall_clock(local: datetime, tz: ZoneInfo) -> datetime:
    """The instant of a local wall-clock time (aware arithmetic in Python keeps the wall clock, not the offset)."""
    return local.replace(tzinfo=None).replace(tzinfo=tz).astimezone(UTC)
