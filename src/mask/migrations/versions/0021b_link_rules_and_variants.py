"""link rules and variants: targeting rules, an A/B test and its end

Revision ID: 0021b
Revises: 0021
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import mask.db

revision = "0021b"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("links") as batch:
        batch.add_column(sa.Column("rules", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("variants", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("test_ends_at", mask.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("links") as batch:
        batch.drop_column("test_ends_at")
        batch.drop_column("variants")
        batch.drop_column("rules")
