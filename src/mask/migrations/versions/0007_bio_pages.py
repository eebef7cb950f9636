"""bio pages: pages and their blocks

Revision ID: 0007
Revises: 0002
Create Date: 2026-11-24 12:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import mask.db

revision = "0007"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bio_pages",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("domain", sa.String(length=253), nullable=False),
        sa.Column("handle", sa.String(length=30), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("avatar_url", sa.Text(), nullable=True),
        sa.Column("theme", sa.JSON(), nullable=False),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column("seo_title", sa.String(length=100), nullable=True),
        sa.Column("seo_description", sa.String(length=300), nullable=True),
        sa.Column("og_image_url", sa.Text(), nullable=True),
        sa.Column("views", sa.BigInteger(), nullable=False),
        sa.Column("clicks", sa.BigInteger(), nullable=False),
        sa.Column("created_at", mask.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", mask.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name=op.f("fk_bio_pages_workspace_id_workspaces"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bio_pages")),
        sa.UniqueConstraint("domain", "handle", name=op.f("uq_bio_pages_domain_handle")),
    )
    with op.batch_alter_table("bio_pages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_bio_pages_workspace_id_created_at_id"), ["workspace_id", "created_at", "id"], unique=False
        )

    op.create_table(
        "bio_blocks",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("bio_page_id", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("platform", sa.String(length=20), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("clicks", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["bio_page_id"], ["bio_pages.id"], name=op.f("fk_bio_blocks_bio_page_id_bio_pages"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bio_blocks")),
    )
    with op.batch_alter_table("bio_blocks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_bio_blocks_bio_page_id_position"), ["bio_page_id", "position"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("bio_blocks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bio_blocks_bio_page_id_position"))
    op.drop_table("bio_blocks")
    with op.batch_alter_table("bio_pages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bio_pages_workspace_id_created_at_id"))
    op.drop_table("bio_pages")
