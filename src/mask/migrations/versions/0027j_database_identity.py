"""database identity: the name a click journal records for the database it ships into

Revision ID: 0027j
Revises: 0021o

Empty at upgrade: the row is made the first time a journal is shipped (mask.click.ownership), so that a copy of
a freshly migrated database (a template) does not share one.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import mask.db

revision = "0027j"
down_revision = "0021o"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "database_identity",
        sa.Column("id", sa.SmallInteger(), nullable=False),
        sa.Column("identity", sa.String(length=32), nullable=False),
        sa.Column("created_at", mask.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_database_identity")),
    )


def downgrade() -> None:
    op.drop_table("database_identity")
