"""Click rollups: counters maintained in the same transaction as the raw clicks they summarise.

Three tables, each shaped after the queries it answers (see `mask.analytics.planner`):
- `analytics_target_rollups`: per link / bio page (block) and domain, per hour, UTC day and UTC month. Answers
  `count`/`timeseries` filtered by link, tag, bio page or domain, and the `links`/`tags`/`bio_pages` breakdowns.
- `analytics_dimension_rollups`: per workspace and domain, per dimension value (country, device, …), per hour,
  UTC day and UTC month; the pseudo-dimension `total` holds the workspace totals. Answers workspace-wide counts,
  time series and breakdowns, also when filtered by the breakdown's own dimension.
- `analytics_target_dimension_rollups`: per link / bio page and dimension value, per UTC day. Answers breakdowns
  of one link (a hot link has millions of raw clicks), of a tag's links, or of a bio page.

Bio page views travel through the clicks table too; `event` keeps them apart from clicks in every rollup.
Unknown values (no country, a direct visit) are stored as the empty string so that they can be part of a
primary key; the API shows them as `null`. Every row carries a `shard`, one per writer process, so that
concurrent click writers do not queue on one hot counter row (the workspace's hour total is touched by every
batch); readers sum over shards anyway, and a single writer keeps every row in one shard.
"""

from __future__ import annotations

from datetime import datetime
from enum import IntEnum

from sqlalchemy import BigInteger, Index, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from mask.db import Base, UTCDateTime

VALUE_LENGTH = 500  # dimension values are grouped by their first 500 characters (long referrer URLs)


class Grain(IntEnum):
    hour = 0
    day = 1  # UTC day
    month = 2  # UTC month


class _Counts:
    clicks: Mapped[int] = mapped_column(BigInteger, default=0)  # human clicks
    unique_clicks: Mapped[int] = mapped_column(BigInteger, default=0)  # human first-of-the-day clicks
    bot_clicks: Mapped[int] = mapped_column(BigInteger, default=0)


class TargetRollup(_Counts, Base):
    __tablename__ = "analytics_target_rollups"
    __table_args__ = (
        Index(None, "link_id", "grain", "bucket"),
        {"sqlite_with_rowid": False},
    )

    workspace_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    event: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    grain: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    bucket: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    link_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    bio_page_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    bio_block_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    domain: Mapped[str] = mapped_column(String(253), primary_key=True)
    shard: Mapped[int] = mapped_column(SmallInteger, primary_key=True)


class DimensionRollup(_Counts, Base):
    __tablename__ = "analytics_dimension_rollups"
    __table_args__ = ({"sqlite_with_rowid": False},)

    workspace_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    event: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    dimension: Mapped[str] = mapped_column(String(20), primary_key=True)
    grain: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    bucket: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    domain: Mapped[str] = mapped_column(String(253), primary_key=True)
    value: Mapped[str] = mapped_column(String(VALUE_LENGTH), primary_key=True)
    shard: Mapped[int] = mapped_column(SmallInteger, primary_key=True)


class TargetDimensionRollup(_Counts, Base):
    __tablename__ = "analytics_target_dimension_rollups"
    __table_args__ = (
        Index(None, "link_id", "dimension", "day"),
        {"sqlite_with_rowid": False},
    )

    workspace_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    event: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    dimension: Mapped[str] = mapped_column(String(20), primary_key=True)
    day: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    link_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    bio_page_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    domain: Mapped[str] = mapped_column(String(253), primary_key=True)
    value: Mapped[str] = mapped_column(String(VALUE_LENGTH), primary_key=True)
    shard: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
