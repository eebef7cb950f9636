"""analytics rollups: rows of known dimension values only; unknown values are derived when reading

A breakdown's unknown row (no country, a direct visit, no UTM tag) is now the total minus the known values,
computed by the queries (mask.analytics.repository), so click storing no longer writes rows of empty values:
most of what a batch wrote. This deletes the existing ones. Downgrading writes them back from the totals
(the `total` rows, the per-target day rows) minus the known values, in shard 0.

Revision ID: 0018s
Revises: 0020c
"""

from __future__ import annotations

from alembic import op

revision = "0018s"
down_revision = "0020c"
branch_labels = None
depends_on = None

# mask.analytics.query.DIMENSIONS when this revision was written.
DIMENSIONS = (
    "country",
    "city",
    "device",
    "browser",
    "os",
    "referrer",
    "referrer_url",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "trigger",
)
SUMS = "SUM(clicks) AS c, SUM(unique_clicks) AS u, SUM(bot_clicks) AS b"
DIFFERENCES = "t.c - COALESCE(k.c, 0), t.u - COALESCE(k.u, 0), t.b - COALESCE(k.b, 0)"
NONZERO = "t.c <> COALESCE(k.c, 0) OR t.u <> COALESCE(k.u, 0) OR t.b <> COALESCE(k.b, 0)"


def upgrade() -> None:
    op.execute("DELETE FROM analytics_dimension_rollups WHERE value = '' AND dimension <> 'total'")
    op.execute("DELETE FROM analytics_target_dimension_rollups WHERE value = ''")


def downgrade() -> None:
    workspace_keys = "workspace_id, event, grain, bucket, domain"
    workspace_join = " AND ".join(f"k.{name} = t.{name}" for name in workspace_keys.split(", "))
    target_keys = "workspace_id, event, day, link_id, bio_page_id, domain"
    target_join = " AND ".join(f"k.{name} = t.{name}" for name in target_keys.split(", "))
    for dimension in DIMENSIONS:
        op.execute(
            "INSERT INTO analytics_dimension_rollups (workspace_id, event, dimension, grain, bucket, domain, value, "  # noqa: S608
            f"shard, clicks, unique_clicks, bot_clicks) SELECT t.workspace_id, t.event, '{dimension}', t.grain, "
            f"t.bucket, t.domain, '', 0, {DIFFERENCES} "
            f"FROM (SELECT {workspace_keys}, {SUMS} FROM analytics_dimension_rollups WHERE dimension = 'total' "
            "GROUP BY 1, 2, 3, 4, 5) t "
            f"LEFT JOIN (SELECT {workspace_keys}, {SUMS} FROM analytics_dimension_rollups "
            f"WHERE dimension = '{dimension}' GROUP BY 1, 2, 3, 4, 5) k ON {workspace_join} WHERE {NONZERO}"
        )
        op.execute(
            "INSERT INTO analytics_target_dimension_rollups (workspace_id, event, dimension, day, link_id, "  # noqa: S608
            "bio_page_id, domain, value, shard, clicks, unique_clicks, bot_clicks) SELECT t.workspace_id, t.event, "
            f"'{dimension}', t.day, t.link_id, t.bio_page_id, t.domain, '', 0, {DIFFERENCES} "
            "FROM (SELECT workspace_id, event, bucket AS day, link_id, bio_page_id, domain, "
            f"{SUMS} FROM analytics_target_rollups WHERE grain = 1 GROUP BY 1, 2, 3, 4, 5, 6) t "
            f"LEFT JOIN (SELECT {target_keys}, {SUMS} FROM analytics_target_dimension_rollups "
            f"WHERE dimension = '{dimension}' GROUP BY 1, 2, 3, 4, 5, 6) k ON {target_join} WHERE {NONZERO}"
        )
