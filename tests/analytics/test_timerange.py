"""Buckets and range pieces, by hand: DST days of 23 and 25 hours, half-hour zones, rollup/raw splits."""

from __future__ import annotations

from datetime import UTC, datetime

from mask.analytics.planner import RAW, Piece, Table, choose_source, decompose, plan_ranges
from mask.analytics.timerange import Granularity, Interval, bucket_starts, interval_start, zone
from mask.models.analytics import Grain


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def starts(first: str, end: str, tz: str, granularity: Granularity) -> list[str]:
    zone_info = zone(tz)
    assert zone_info is not None
    return [s.isoformat()[:16] for s in bucket_starts(utc(first), utc(end), zone_info, granularity)]


def test_new_york_days_across_spring_forward_are_23_hours_and_start_at_local_midnight() -> None:
    assert starts("2026-03-07T05:00", "2026-03-10T04:00", "America/New_York", Granularity.day) == [
        "2026-03-07T05:00",
        "2026-03-08T05:00",
        "2026-03-09T04:00",
    ]


def test_new_york_fall_back_day_has_25_hour_buckets_with_the_repeated_hour_twice() -> None:
    hours = starts("2026-11-01T04:00", "2026-11-02T05:00", "America/New_York", Granularity.hour)
    assert len(hours) == 25
    assert hours[1:3] == ["2026-11-01T05:00", "2026-11-01T06:00"]  # 01:00 EDT, then 01:00 EST


def test_berlin_months_start_at_local_midnight_of_the_first_in_either_offset() -> None:
    assert starts("2026-09-30T22:00", "2026-11-30T23:00", "Europe/Berlin", Granularity.month) == [
        "2026-09-30T22:00",
        "2026-10-31T23:00",
    ]


def test_kolkata_days_and_hours_start_at_half_past_utc() -> None:
    assert starts("2026-05-09T18:30", "2026-05-11T18:30", "Asia/Kolkata", Granularity.day) == [
        "2026-05-09T18:30",
        "2026-05-10T18:30",
    ]
    assert starts("2026-05-09T18:45", "2026-05-09T20:00", "Asia/Kolkata", Granularity.hour) == [
        "2026-05-09T18:30",
        "2026-05-09T19:30",
    ]


def test_calendar_intervals_follow_the_local_wall_clock() -> None:
    berlin = zone("Europe/Berlin")
    assert berlin is not None
    now = utc("2026-04-02T10:00")  # CEST
    assert interval_start(Interval.mtd, now, berlin) == utc("2026-03-31T22:00")
    assert interval_start(Interval.ytd, now, berlin) == utc("2025-12-31T23:00")  # CET
    assert interval_start(Interval.qtd, now, berlin) == utc("2026-03-31T22:00")
    assert interval_start(Interval.d7, now, berlin) == utc("2026-03-26T11:00")  # 12:00 CET, a week before
    assert interval_start(Interval.h24, now, berlin) == utc("2026-04-01T10:00")


def test_unknown_or_path_like_timezones_are_not_zones() -> None:
    assert zone("Mars/Olympus") is None
    assert zone("../../etc/passwd") is None
    assert zone("Europe/Berlin") is not None


def test_a_range_splits_into_days_hours_and_raw_edges() -> None:
    pieces = decompose(utc("2026-05-09T18:30"), utc("2026-05-12T18:30"), (Grain.day, Grain.hour))
    assert pieces == [
        Piece(None, utc("2026-05-09T18:30"), utc("2026-05-09T19:00")),
        Piece(Grain.hour, utc("2026-05-09T19:00"), utc("2026-05-10T00:00")),
        Piece(Grain.day, utc("2026-05-10T00:00"), utc("2026-05-12T00:00")),
        Piece(Grain.hour, utc("2026-05-12T00:00"), utc("2026-05-12T18:00")),
        Piece(None, utc("2026-05-12T18:00"), utc("2026-05-12T18:30")),
    ]


def test_adjacent_bucket_pieces_merge_into_one_range_per_grain() -> None:
    windows = [(utc("2026-03-07T05:00"), utc("2026-03-08T05:00")), (utc("2026-03-08T05:00"), utc("2026-03-09T04:00"))]
    ranges = plan_ranges(windows, (Grain.day, Grain.hour))
    assert ranges == {Grain.hour: [(utc("2026-03-07T05:00"), utc("2026-03-09T04:00"))]}


def test_the_source_is_the_smallest_rollup_holding_every_column() -> None:
    assert choose_source([], []).table is Table.dimension
    assert choose_source(["country"], ["country"]).dimension == "country"
    assert choose_source(["link_id"], []).table is Table.target
    assert choose_source(["tag"], ["device"]).table is Table.target_dimension
    assert choose_source([], ["link_id"]).table is Table.target
    assert choose_source(["country"], ["device"]) == RAW
    assert choose_source([], ["bio_page_id", "bio_block_id"]).table is Table.target


def test_long_ranges_read_whole_months_then_days_then_hours() -> None:
    pieces = decompose(utc("2026-01-30T22:15"), utc("2026-04-02T01:00"), (Grain.month, Grain.day, Grain.hour))
    assert [(p.grain, p.start.isoformat()[:16], p.end.isoformat()[:16]) for p in pieces] == [
        (None, "2026-01-30T22:15", "2026-01-30T23:00"),
        (Grain.hour, "2026-01-30T23:00", "2026-01-31T00:00"),
        (Grain.day, "2026-01-31T00:00", "2026-02-01T00:00"),
        (Grain.month, "2026-02-01T00:00", "2026-04-01T00:00"),
        (Grain.day, "2026-04-01T00:00", "2026-04-02T00:00"),
        (Grain.hour, "2026-04-02T00:00", "2026-04-02T01:00"),
    ]
