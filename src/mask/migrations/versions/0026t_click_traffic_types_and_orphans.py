"""clicks: traffic_type (human, bot, preview, prefetch), bot_name; orphan hits (orphan_type, path)

Clicks stored before this revision are `bot` when flagged `is_bot` and `human` otherwise: their user agent was
never stored, so neither previews nor bot names can be told afterwards, and prefetches were not recorded. The
`traffic_type` dimension rollups are built from the rollups' own totals (human clicks → `human`, bot clicks →
`bot`): no pass over the raw clicks. No orphan hit exists yet.

Revision ID: 0026t
Revises: 0025fix
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0026t"
down_revision = "0025fix"
branch_labels = None
depends_on = None

DIMENSION_COLUMNS = "workspace_id, event, dimension, grain, bucket, domain, value, shard"
TARGET_COLUMNS = "workspace_id, event, dimension, day, link_id, bio_page_id, domain, value, shard"


def upgrade() -> None:
    with op.batch_alter_table("clicks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("traffic_type", sa.String(length=8), server_default="human", nullable=False))
        batch_op.add_column(sa.Column("bot_name", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("orphan_type", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("path", sa.String(length=500), nullable=True))
    op.execute("UPDATE clicks SET traffic_type = 'bot' WHERE is_bot")
    for value, counts, having in (
        ("human", "SUM(clicks), SUM(unique_clicks), 0", "SUM(clicks) > 0"),
        ("bot", "0, 0, SUM(bot_clicks)", "SUM(bot_clicks) > 0"),
    ):
        op.execute(
            f"INSERT INTO analytics_dimension_rollups ({DIMENSION_COLUMNS}, clicks, unique_clicks, bot_clicks) "  # noqa: S608
            f"SELECT workspace_id, event, 'traffic_type', grain, bucket, domain, '{value}', shard, {counts} "
            "FROM analytics_dimension_rollups WHERE dimension = 'total' "
            f"GROUP BY workspace_id, event, grain, bucket, domain, shard HAVING {having}"
        )
        # Per link / bio page and day, from the per-target day rows (summed over a page's blocks).
        op.execute(
            f"INSERT INTO analytics_target_dimension_rollups ({TARGET_COLUMNS}, clicks, unique_clicks, "  # noqa: S608
            f"bot_clicks) SELECT workspace_id, event, 'traffic_type', bucket, link_id, bio_page_id, domain, "
            f"'{value}', shard, {counts} FROM analytics_target_rollups WHERE grain = 1 "
            f"GROUP BY workspace_id, event, bucket, link_id, bio_page_id, domain, shard HAVING {having}"
        )


def downgrade() -> None:
    for dimension in ("traffic_type", "bot_name", "orphan_type", "path"):
        op.execute(f"DELETE FROM analytics_dimension_rollups WHERE dimension = '{dimension}'")  # noqa: S608
        op.execute(f"DELETE FROM analytics_target_dimension_rollups WHERE dimension = '{dimension}'")  # noqa: S608
    op.execute("DELETE FROM analytics_target_rollups WHERE event = 2")
    op.execute("DELETE FROM analytics_dimension_rollups WHERE event = 2")
    op.execute("DELETE FROM analytics_target_dimension_rollups WHERE event = 2")
    op.execute("DELETE FROM clicks WHERE orphan_type IS NOT NULL")
    with op.batch_alter_table("clicks", schema=None) as batch_op:
        batch_op.drop_column("path")
        batch_op.drop_column("orphan_type")
        batch_op.drop_column("bot_name")
        batch_op.drop_column("traffic_type")
