"""link preview: the Open Graph title, description and image link-preview bots get

Revision ID: 0021c
Revises: 0021b
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021c"
down_revision = "0021b"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("links") as batch:
        batch.add_column(sa.Column("preview", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("links") as batch:
        batch.drop_column("preview")
