"""click inbox: raw clicks between the serving processes and the background process

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "click_inbox",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("clicks", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_click_inbox")),
    )


def downgrade() -> None:
    op.drop_table("click_inbox")
