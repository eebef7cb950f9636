"""shared dashboards: public, read-only analytics pages at /share/<token>

Revision ID: 0026s
Revises: 0018j
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import mask.db

revision = "0026s"
down_revision = "0018j"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "shared_dashboards",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("target_id", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("token_hint", sa.String(length=8), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=True),
        sa.Column("password_version", sa.Integer(), nullable=False),
        sa.Column("expires_at", mask.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("rotated_at", mask.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", mask.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", mask.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_shared_dashboards_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shared_dashboards")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_shared_dashboards_token_hash")),
    )
    with op.batch_alter_table("shared_dashboards", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_shared_dashboards_workspace_id_created_at_id"),
            ["workspace_id", "created_at", "id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("shared_dashboards", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shared_dashboards_workspace_id_created_at_id"))
    op.drop_table("shared_dashboards")
