"""analytics: hourly/daily click rollups per target, per workspace dimension value, per target dimension value

Revision ID: 0005
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import mask.db

revision = "0005"
down_revision = "0002"
branch_labels = None
depends_on = None


def _counts() -> list[sa.Column[int]]:
    return [
        sa.Column("clicks", sa.BigInteger(), nullable=False),
        sa.Column("unique_clicks", sa.BigInteger(), nullable=False),
        sa.Column("bot_clicks", sa.BigInteger(), nullable=False),
    ]


def upgrade() -> None:
    # WITHOUT ROWID on SQLite: rows are stored in primary-key order, so a range of buckets is one contiguous read.
    op.create_table(
        "analytics_target_rollups",
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("event", sa.SmallInteger(), nullable=False),
        sa.Column("grain", sa.SmallInteger(), nullable=False),
        sa.Column("bucket", mask.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("link_id", sa.String(length=32), nullable=False),
        sa.Column("bio_page_id", sa.String(length=32), nullable=False),
        sa.Column("bio_block_id", sa.String(length=32), nullable=False),
        sa.Column("domain", sa.String(length=253), nullable=False),
        sa.Column("shard", sa.SmallInteger(), nullable=False),
        *_counts(),
        sa.PrimaryKeyConstraint(
            "workspace_id",
            "event",
            "grain",
            "bucket",
            "link_id",
            "bio_page_id",
            "bio_block_id",
            "domain",
            "shard",
            name=op.f("pk_analytics_target_rollups"),
        ),
        sqlite_with_rowid=False,
    )
    op.create_index(
        op.f("ix_analytics_target_rollups_link_id_grain_bucket"),
        "analytics_target_rollups",
        ["link_id", "grain", "bucket"],
        unique=False,
    )
    op.create_table(
        "analytics_dimension_rollups",
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("event", sa.SmallInteger(), nullable=False),
        sa.Column("dimension", sa.String(length=20), nullable=False),
        sa.Column("grain", sa.SmallInteger(), nullable=False),
        sa.Column("bucket", mask.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("domain", sa.String(length=253), nullable=False),
        sa.Column("value", sa.String(length=500), nullable=False),
        sa.Column("shard", sa.SmallInteger(), nullable=False),
        *_counts(),
        sa.PrimaryKeyConstraint(
            "workspace_id",
            "event",
            "dimension",
            "grain",
            "bucket",
            "domain",
            "value",
            "shard",
            name=op.f("pk_analytics_dimension_rollups"),
        ),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "analytics_target_dimension_rollups",
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("event", sa.SmallInteger(), nullable=False),
        sa.Column("dimension", sa.String(length=20), nullable=False),
        sa.Column("day", mask.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("link_id", sa.String(length=32), nullable=False),
        sa.Column("bio_page_id", sa.String(length=32), nullable=False),
        sa.Column("domain", sa.String(length=253), nullable=False),
        sa.Column("value", sa.String(length=500), nullable=False),
        sa.Column("shard", sa.SmallInteger(), nullable=False),
        *_counts(),
        sa.PrimaryKeyConstraint(
            "workspace_id",
            "event",
            "dimension",
            "day",
            "link_id",
            "bio_page_id",
            "domain",
            "value",
            "shard",
            name=op.f("pk_analytics_target_dimension_rollups"),
        ),
        sqlite_with_rowid=False,
    )
    op.create_index(
        op.f("ix_analytics_target_dimension_rollups_link_id_dimension_day"),
        "analytics_target_dimension_rollups",
        ["link_id", "dimension", "day"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_analytics_target_dimension_rollups_link_id_dimension_day"),
        table_name="analytics_target_dimension_rollups",
    )
    op.drop_table("analytics_target_dimension_rollups")
    op.drop_table("analytics_dimension_rollups")
    op.drop_index(op.f("ix_analytics_target_rollups_link_id_grain_bucket"), table_name="analytics_target_rollups")
    op.drop_table("analytics_target_rollups")
