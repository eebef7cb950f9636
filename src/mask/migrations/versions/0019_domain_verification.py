"""domain verification and per-domain settings: claims instead of first-come host names

Revision ID: 0019
Revises: 0010

A host name may now be claimed by several workspaces until one proves it owns it (DNS TXT); at most one claim
per host name is verified (a partial unique index). Existing domains become pending claims with a fresh token,
checked at once by the background process.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import mask.db

revision = "0019"
down_revision = "0024c"
branch_labels = None
depends_on = None

TOKEN_BYTES = 24


def upgrade() -> None:
    with op.batch_alter_table("domains", schema=None) as batch_op:
        batch_op.drop_constraint("uq_domains_domain", type_="unique")
        batch_op.add_column(sa.Column("updated_at", mask.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("verification_method", sa.String(length=16), nullable=False, server_default="dns_txt")
        )
        batch_op.add_column(
            sa.Column("verification_status", sa.String(length=16), nullable=False, server_default="pending")
        )
        batch_op.add_column(sa.Column("verification_token", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("pending_since", mask.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("verified_at", mask.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("last_checked_at", mask.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("next_check_at", mask.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("check_count", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("last_error", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("last_error_message", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("record_missing_since", mask.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("routing_status", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("root_url", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("not_found_url", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("expired_url", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("robots", sa.String(length=8), nullable=False, server_default="deny"))
        batch_op.add_column(sa.Column("apple_app_site_association", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("asset_links", sa.JSON(), nullable=True))

    # Existing domains: pending claims, each with its own token, due for a check now.
    domains = sa.table(
        "domains",
        sa.column("id", sa.String()),
        sa.column("created_at", mask.db.UTCDateTime(timezone=True)),
        sa.column("updated_at", mask.db.UTCDateTime(timezone=True)),
        sa.column("verified", sa.Boolean()),
        sa.column("verification_token", sa.String()),
        sa.column("pending_since", mask.db.UTCDateTime(timezone=True)),
        sa.column("next_check_at", mask.db.UTCDateTime(timezone=True)),
    )
    connection = op.get_bind()
    now = datetime.now(UTC)
    for row in connection.execute(sa.select(domains.c.id, domains.c.created_at)).all():
        connection.execute(
            domains.update()
            .where(domains.c.id == row.id)
            .values(
                verified=False,
                verification_token=secrets.token_hex(TOKEN_BYTES),
                updated_at=row.created_at,
                pending_since=now,
                next_check_at=now,
            )
        )

    with op.batch_alter_table("domains", schema=None) as batch_op:
        batch_op.alter_column("updated_at", existing_type=mask.db.UTCDateTime(timezone=True), nullable=False)
        batch_op.alter_column("verification_token", existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column("verification_method", server_default=None)
        batch_op.alter_column("verification_status", server_default=None)
        batch_op.alter_column("check_count", server_default=None)
        batch_op.alter_column("robots", server_default=None)
        batch_op.create_unique_constraint(batch_op.f("uq_domains_workspace_id_domain"), ["workspace_id", "domain"])
        batch_op.create_index(batch_op.f("ix_domains_next_check_at"), ["next_check_at"], unique=False)
        batch_op.create_index(
            "uq_domains_domain_verified",
            ["domain"],
            unique=True,
            sqlite_where=sa.text("verified"),
            postgresql_where=sa.text("verified"),
        )


def downgrade() -> None:
    with op.batch_alter_table("domains", schema=None) as batch_op:
        batch_op.drop_index("uq_domains_domain_verified")
        batch_op.drop_index(batch_op.f("ix_domains_next_check_at"))
        batch_op.drop_constraint(batch_op.f("uq_domains_workspace_id_domain"), type_="unique")
        for column in (
            "asset_links",
            "apple_app_site_association",
            "robots",
            "expired_url",
            "not_found_url",
            "root_url",
            "routing_status",
            "record_missing_since",
            "last_error_message",
            "last_error",
            "check_count",
            "next_check_at",
            "last_checked_at",
            "verified_at",
            "pending_since",
            "verification_token",
            "verification_status",
            "verification_method",
            "updated_at",
        ):
            batch_op.drop_column(column)
    # Only one claim per host name may survive the old unique constraint: the others are dropped.
    op.execute(
        "DELETE FROM domains WHERE id NOT IN (SELECT id FROM (SELECT MIN(id) AS id FROM domains GROUP BY domain) kept)"
    )
    with op.batch_alter_table("domains", schema=None) as batch_op:
        batch_op.create_unique_constraint("uq_domains_domain", ["domain"])
