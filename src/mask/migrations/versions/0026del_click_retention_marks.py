"""click retention: how far MASK_CLICK_RETENTION_DAYS has dropped raw clicks

Revision ID: 0026del
Revises: 0026s
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import mask.db

revision = "0026del"
down_revision = "0026s"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "click_retention_marks",
        sa.Column("id", sa.SmallInteger(), nullable=False),
        sa.Column("dropped_before", mask.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_click_retention_marks")),
    )


def downgrade() -> None:
    op.drop_table("click_retention_marks")
