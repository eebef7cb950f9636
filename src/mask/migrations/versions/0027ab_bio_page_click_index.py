"""clicks: an index on (bio_page_id, clicked_at) over bio page rows only

A bio page's events (`GET /v1/analytics/events?bio_page_id=…`) and its questions that only the raw clicks answer
read its newest rows through it instead of filtering the workspace's: at 20M clicks a page of 100 events took
~50 ms at p50 through the (workspace_id, clicked_at) index. Partial: links' clicks (most rows) are not in it.

Revision ID: 0027ab
Revises: 0027a
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0027ab"
down_revision = "0027a"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_clicks_bio_page_id_clicked_at",
        "clicks",
        ["bio_page_id", "clicked_at"],
        sqlite_where=sa.text("bio_page_id IS NOT NULL"),
        postgresql_where=sa.text("bio_page_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_clicks_bio_page_id_clicked_at", table_name="clicks")
