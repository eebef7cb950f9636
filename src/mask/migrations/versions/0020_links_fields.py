"""links: title, notes, external id, archived/disabled, last click, sort indexes; tag colours; title fetches

Revision ID: 0020
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import mask.db

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

# Keys that held every scope before `tags:write` existed were "all scopes" keys: they get it too. Keys created
# with a choice of scopes keep exactly that choice.
SCOPES_BEFORE = {
    "links:read",
    "links:write",
    "domains:read",
    "domains:write",
    "analytics:read",
    "bio_pages:read",
    "bio_pages:write",
    "webhooks:read",
    "webhooks:write",
}


def _grant_tags_write() -> None:
    keys = sa.table("api_keys", sa.column("id", sa.String()), sa.column("scopes", sa.JSON()))
    connection = op.get_bind()
    for key_id, scopes in connection.execute(sa.select(keys.c.id, keys.c.scopes)).all():
        if SCOPES_BEFORE <= set(scopes or ()) and "tags:write" not in scopes:
            updated = [
                *scopes[: scopes.index("links:write") + 1],
                "tags:write",
                *scopes[scopes.index("links:write") + 1 :],
            ]
            connection.execute(sa.update(keys).where(keys.c.id == key_id).values(scopes=updated))


def upgrade() -> None:
    with op.batch_alter_table("links", schema=None) as batch_op:
        batch_op.add_column(sa.Column("title", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("title_source", sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column("notes", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("external_id", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("archived", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column("disabled", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column("last_clicked_at", mask.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_links_workspace_id_clicks_id"), ["workspace_id", "clicks", "id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_links_workspace_id_last_clicked_at_id"),
            ["workspace_id", "last_clicked_at", "id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_links_workspace_id_title_id"), ["workspace_id", "title", "id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_links_workspace_id_url"), ["workspace_id", "url"], unique=False)
        batch_op.create_unique_constraint(
            batch_op.f("uq_links_workspace_id_external_id"), ["workspace_id", "external_id"]
        )

    with op.batch_alter_table("tags", schema=None) as batch_op:
        batch_op.add_column(sa.Column("color", sa.String(length=10), server_default="gray", nullable=False))

    op.create_table(
        "link_title_fetches",
        sa.Column("link_id", sa.String(length=32), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", mask.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("created_at", mask.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["link_id"], ["links.id"], name=op.f("fk_link_title_fetches_link_id_links"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("link_id", name=op.f("pk_link_title_fetches")),
    )
    op.create_index(
        op.f("ix_link_title_fetches_next_attempt_at"), "link_title_fetches", ["next_attempt_at"], unique=False
    )
    _grant_tags_write()


def downgrade() -> None:
    op.drop_index(op.f("ix_link_title_fetches_next_attempt_at"), table_name="link_title_fetches")
    op.drop_table("link_title_fetches")
    with op.batch_alter_table("tags", schema=None) as batch_op:
        batch_op.drop_column("color")
    with op.batch_alter_table("links", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_links_workspace_id_external_id"), type_="unique")
        batch_op.drop_index(batch_op.f("ix_links_workspace_id_url"))
        batch_op.drop_index(batch_op.f("ix_links_workspace_id_title_id"))
        batch_op.drop_index(batch_op.f("ix_links_workspace_id_last_clicked_at_id"))
        batch_op.drop_index(batch_op.f("ix_links_workspace_id_clicks_id"))
        for column in ("last_clicked_at", "disabled", "archived", "external_id", "notes", "title_source", "title"):
            batch_op.drop_column(column)
