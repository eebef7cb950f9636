"""click journal: the shipper's position in each journal segment

Revision ID: 0018j
Revises: 0020c

The click inbox stays: rows left in it at upgrade (appended by workers of the previous version) are stored by
the background process when it starts (mask.click.legacy), as are Redis click stream entries and spill files.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018j"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "click_journal_positions",
        sa.Column("journal", sa.String(length=200), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("journal", name=op.f("pk_click_journal_positions")),
    )


def downgrade() -> None:
    op.drop_table("click_journal_positions")
