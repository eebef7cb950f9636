"""clicks

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 12:15:09.522980
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import mask.db

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "click_visitors",
        sa.Column("target_id", sa.String(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("visitor_hash", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("target_id", "day", "visitor_hash", name=op.f("pk_click_visitors")),
    )
    op.create_table(
        "clicks",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("click_id", sa.String(length=32), nullable=False),
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("link_id", sa.String(length=32), nullable=True),
        sa.Column("bio_page_id", sa.String(length=32), nullable=True),
        sa.Column("bio_block_id", sa.String(length=32), nullable=True),
        sa.Column("domain", sa.String(length=253), nullable=False),
        sa.Column("clicked_at", mask.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("city", sa.String(length=100), nullable=True),
        sa.Column("device", sa.String(length=20), nullable=True),
        sa.Column("browser", sa.String(length=50), nullable=True),
        sa.Column("os", sa.String(length=50), nullable=True),
        sa.Column("referrer", sa.String(length=253), nullable=True),
        sa.Column("referrer_url", sa.Text(), nullable=True),
        sa.Column("utm_source", sa.String(length=255), nullable=True),
        sa.Column("utm_medium", sa.String(length=255), nullable=True),
        sa.Column("utm_campaign", sa.String(length=255), nullable=True),
        sa.Column("utm_term", sa.String(length=255), nullable=True),
        sa.Column("utm_content", sa.String(length=255), nullable=True),
        sa.Column("is_bot", sa.Boolean(), nullable=False),
        sa.Column("visitor_hash", sa.String(length=32), nullable=False),
        sa.Column("is_unique", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clicks")),
        sa.UniqueConstraint("click_id", name=op.f("uq_clicks_click_id")),
    )
    with op.batch_alter_table("clicks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_clicks_link_id_clicked_at"), ["link_id", "clicked_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_clicks_workspace_id_clicked_at"), ["workspace_id", "clicked_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("clicks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_clicks_workspace_id_clicked_at"))
        batch_op.drop_index(batch_op.f("ix_clicks_link_id_clicked_at"))

    op.drop_table("clicks")
    op.drop_table("click_visitors")
