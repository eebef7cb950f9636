"""dashboard session flash: a value shown once on the page a form redirects to (a new key, a notice)

Revision ID: 0025fix
Revises: 0026del
Create Date: 2026-12-06 17:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0025fix"
down_revision = "0026del"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("user_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("flash", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("user_sessions", schema=None) as batch_op:
        batch_op.drop_column("flash")
