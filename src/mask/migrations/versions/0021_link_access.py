"""link access: password hash, start time, click limit (with its exact reservation count), redirect status

Revision ID: 0021
Revises: 0020c
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import mask.db

revision = "0021"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("links") as batch:
        batch.add_column(sa.Column("password_hash", sa.Text(), nullable=True))
        batch.add_column(sa.Column("starts_at", mask.db.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("max_clicks", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("clicks_reserved", sa.BigInteger(), server_default=sa.text("0"), nullable=False))
        batch.add_column(sa.Column("redirect_status", sa.SmallInteger(), server_default=sa.text("302"), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("links") as batch:
        batch.drop_column("redirect_status")
        batch.drop_column("clicks_reserved")
        batch.drop_column("max_clicks")
        batch.drop_column("starts_at")
        batch.drop_column("password_hash")
