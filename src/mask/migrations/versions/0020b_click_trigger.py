"""clicks: trigger (link, qr, bio), with its analytics rollups backfilled

Clicks stored before this revision were all on short links or bio pages (nothing told scans apart yet), so a
row with a bio page is `bio` and every other row `link`. The `trigger` dimension rollups are built from the
per-target rollups, which already separate links from bio pages: no pass over the raw clicks.

Revision ID: 0020b
Revises: 0020
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020b"
down_revision = "0020"
branch_labels = None
depends_on = None

COUNTS = "SUM(clicks), SUM(unique_clicks), SUM(bot_clicks)"
TRIGGER_OF_TARGET = "CASE WHEN bio_page_id <> '' THEN 'bio' ELSE 'link' END"


def upgrade() -> None:
    with op.batch_alter_table("clicks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("trigger", sa.String(length=8), server_default="link", nullable=False))
    op.execute("UPDATE clicks SET trigger = 'bio' WHERE bio_page_id IS NOT NULL")
    # Every grain of the workspace-wide rollups, from the per-target rows of the same grain.
    op.execute(
        "INSERT INTO analytics_dimension_rollups (workspace_id, event, dimension, grain, bucket, domain, value, "  # noqa: S608
        f"shard, clicks, unique_clicks, bot_clicks) SELECT workspace_id, event, 'trigger', grain, bucket, domain, "
        f"{TRIGGER_OF_TARGET}, shard, {COUNTS} FROM analytics_target_rollups "
        f"GROUP BY workspace_id, event, grain, bucket, domain, {TRIGGER_OF_TARGET}, shard"
    )
    # Per link / bio page and day, from the per-target day rows (summed over a page's blocks).
    op.execute(
        "INSERT INTO analytics_target_dimension_rollups (workspace_id, event, dimension, day, link_id, "  # noqa: S608
        "bio_page_id, domain, value, shard, clicks, unique_clicks, bot_clicks) SELECT workspace_id, event, "
        f"'trigger', bucket, link_id, bio_page_id, domain, {TRIGGER_OF_TARGET}, shard, {COUNTS} "
        "FROM analytics_target_rollups WHERE grain = 1 "
        "GROUP BY workspace_id, event, bucket, link_id, bio_page_id, domain, shard"
    )


def downgrade() -> None:
    op.execute("DELETE FROM analytics_dimension_rollups WHERE dimension = 'trigger'")
    op.execute("DELETE FROM analytics_target_dimension_rollups WHERE dimension = 'trigger'")
    with op.batch_alter_table("clicks", schema=None) as batch_op:
        batch_op.drop_column("trigger")
