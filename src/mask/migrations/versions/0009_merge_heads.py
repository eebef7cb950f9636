"""One head again: plan limits, webhooks, analytics, accounts and bio pages were built side by side on 0002.

Revision ID: 0009
Revises: 0003, 0004, 0005, 0006, 0007
"""

from __future__ import annotations

revision = "0009"
down_revision = ("0003", "0004", "0005", "0006", "0007")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
