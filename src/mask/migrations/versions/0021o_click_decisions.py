"""clicks: what the decision engine decided (destination_url, rule_index, variant, passed_password)

Clicks stored before this revision carry nothing decided: null, null, null, false. No rollups: breakdowns by
destination or variant are answered from the raw clicks of the link asked about (mask.analytics.planner).

Revision ID: 0021o
Revises: 0026t
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021o"
down_revision = "0026t"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("clicks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("destination_url", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("rule_index", sa.SmallInteger(), nullable=True))
        batch_op.add_column(sa.Column("variant", sa.SmallInteger(), nullable=True))
        batch_op.add_column(sa.Column("passed_password", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("clicks", schema=None) as batch_op:
        batch_op.drop_column("passed_password")
        batch_op.drop_column("variant")
        batch_op.drop_column("rule_index")
        batch_op.drop_column("destination_url")
