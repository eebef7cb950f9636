"""throttle counters reserved before the slow check; networks users signed in from

Revision ID: 0024
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import mask.db

revision = "0024"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "throttle_counters",
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("window_start", mask.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_throttle_counters")),
    )
    with op.batch_alter_table("throttle_counters", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_throttle_counters_window_start"), ["window_start"], unique=False)
    op.create_table(
        "user_networks",
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("prefix", sa.String(length=50), nullable=False),
        sa.Column("first_seen_at", mask.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", mask.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_networks_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "prefix", name=op.f("pk_user_networks")),
    )
    # Failures counted the old way (one row each) are dropped: the throttle starts afresh.
    with op.batch_alter_table("login_failures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_failures_key_failed_at"))
        batch_op.drop_index(batch_op.f("ix_login_failures_failed_at"))
    op.drop_table("login_failures")


def downgrade() -> None:
    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("failed_at", mask.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_failures")),
    )
    with op.batch_alter_table("login_failures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_login_failures_failed_at"), ["failed_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_login_failures_key_failed_at"), ["key", "failed_at"], unique=False)
    op.drop_table("user_networks")
    with op.batch_alter_table("throttle_counters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_throttle_counters_window_start"))
    op.drop_table("throttle_counters")
