"""analytics rollups: the decision engine's fields (destination_url, variant, rule_index) as rolled-up dimensions

`group_by=destinations|variants|rules` and the `destination_url`, `variant`, `rule_index` filters were answered
from the raw clicks alone; they now read the rollups like every other dimension (mask.analytics.rollup). This
builds their rows from the raw clicks stored so far (known values only, shard 0): hour rows per workspace, the
day and month rows from those, and the per-target day rows. Days whose raw clicks MASK_CLICK_RETENTION_DAYS
already dropped get none: their clicks show as unknown (null) in these breakdowns.

Revision ID: 0027a
Revises: 0027j
"""

from __future__ import annotations

from alembic import op

revision = "0027a"
down_revision = "0027j"
branch_labels = None
depends_on = None

# mask.analytics.query.DECISIONS when this revision was written: column → its value as rollups keep it.
DECISIONS = {
    "destination_url": "SUBSTR(destination_url, 1, 500)",
    "variant": "CAST(variant AS VARCHAR(6))",
    "rule_index": "CAST(rule_index AS VARCHAR(6))",
}
# A raw row's rollup event (mask.analytics.repository.SqlClickStore._raw_event): orphan hit, page view, click.
EVENT = (
    "CASE WHEN orphan_type IS NOT NULL THEN 2 WHEN bio_page_id IS NOT NULL AND bio_block_id IS NULL THEN 1 ELSE 0 END"
)
SUMS = (
    "SUM(CASE WHEN is_bot THEN 0 ELSE 1 END), SUM(CASE WHEN is_unique THEN 1 ELSE 0 END), "
    "SUM(CASE WHEN is_bot THEN 1 ELSE 0 END)"
)
DIMENSION_COLUMNS = "workspace_id, event, dimension, grain, bucket, domain, value, shard"
TARGET_COLUMNS = "workspace_id, event, dimension, day, link_id, bio_page_id, domain, value, shard"
COUNTS = "clicks, unique_clicks, bot_clicks"


def _truncate(column: str, grain: str, dialect: str) -> str:
    if dialect == "postgresql":
        return f"date_trunc('{grain}', {column}, 'UTC')"
    pattern = {
        "hour": "%Y-%m-%d %H:00:00.000000",
        "day": "%Y-%m-%d 00:00:00.000000",
        "month": "%Y-%m-01 00:00:00.000000",
    }
    return f"strftime('{pattern[grain]}', {column})"


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    hour, day = _truncate("clicked_at", "hour", dialect), _truncate("clicked_at", "day", dialect)
    for dimension, value in DECISIONS.items():
        known = f"{dimension} IS NOT NULL"
        op.execute(
            f"INSERT INTO analytics_dimension_rollups ({DIMENSION_COLUMNS}, {COUNTS}) "  # noqa: S608
            f"SELECT workspace_id, {EVENT}, '{dimension}', 0, {hour}, domain, {value}, 0, {SUMS} "
            f"FROM clicks WHERE {known} GROUP BY workspace_id, {EVENT}, {hour}, domain, {value}"
        )
        for finer, coarser, grain in ((0, 1, "day"), (1, 2, "month")):
            bucket = _truncate("bucket", grain, dialect)
            op.execute(
                f"INSERT INTO analytics_dimension_rollups ({DIMENSION_COLUMNS}, {COUNTS}) "  # noqa: S608
                f"SELECT workspace_id, event, dimension, {coarser}, {bucket}, domain, value, 0, "
                "SUM(clicks), SUM(unique_clicks), SUM(bot_clicks) FROM analytics_dimension_rollups "
                f"WHERE dimension = '{dimension}' AND grain = {finer} "
                f"GROUP BY workspace_id, event, dimension, {bucket}, domain, value"
            )
        op.execute(
            f"INSERT INTO analytics_target_dimension_rollups ({TARGET_COLUMNS}, {COUNTS}) "  # noqa: S608
            f"SELECT workspace_id, {EVENT}, '{dimension}', {day}, COALESCE(link_id, ''), COALESCE(bio_page_id, ''), "
            f"domain, {value}, 0, {SUMS} FROM clicks WHERE {known} "
            f"GROUP BY workspace_id, {EVENT}, {day}, COALESCE(link_id, ''), COALESCE(bio_page_id, ''), domain, {value}"
        )


def downgrade() -> None:
    for dimension in DECISIONS:
        op.execute(f"DELETE FROM analytics_dimension_rollups WHERE dimension = '{dimension}'")  # noqa: S608
        op.execute(f"DELETE FROM analytics_target_dimension_rollups WHERE dimension = '{dimension}'")  # noqa: S608
