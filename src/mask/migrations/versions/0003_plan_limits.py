"""plan_limits: API requests per window for each plan (hobby 60, pro 600, enterprise 6,000 per minute)

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    plan_limits = op.create_table(
        "plan_limits",
        sa.Column("plan", sa.String(length=20), nullable=False),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.Column("window_seconds", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("plan", name=op.f("pk_plan_limits")),
    )
    op.bulk_insert(
        plan_limits,
        [
            {"plan": "hobby", "requests": 60, "window_seconds": 60},
            {"plan": "pro", "requests": 600, "window_seconds": 60},
            {"plan": "enterprise", "requests": 6000, "window_seconds": 60},
        ],
    )


def downgrade() -> None:
    op.drop_table("plan_limits")
