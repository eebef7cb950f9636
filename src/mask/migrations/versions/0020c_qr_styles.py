"""qr styles: a workspace's default QR code colours, error correction, quiet zone and logo

Revision ID: 0020c
Revises: 0020b
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import mask.db

revision = "0020c"
down_revision = "0020b"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "qr_styles",
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("fg", sa.String(length=7), nullable=False),
        sa.Column("bg", sa.String(length=7), nullable=False),
        sa.Column("ecc", sa.String(length=1), nullable=False),
        sa.Column("margin", sa.SmallInteger(), nullable=False),
        sa.Column("logo", sa.LargeBinary(), nullable=True),
        sa.Column("logo_sha256", sa.String(length=64), nullable=True),
        sa.Column("updated_at", mask.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name=op.f("fk_qr_styles_workspace_id_workspaces"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("workspace_id", name=op.f("pk_qr_styles")),
    )


def downgrade() -> None:
    op.drop_table("qr_styles")
