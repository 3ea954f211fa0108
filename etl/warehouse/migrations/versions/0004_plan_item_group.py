"""plan_item.item_group: the （一） heading of an item in three-level documents.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable, no default: rows loaded before this revision simply have no group recorded.
    op.add_column("plan_item", sa.Column("item_group", sa.Text, nullable=True))


def downgrade() -> None:
    # A native DROP COLUMN (SQLite >= 3.35, PostgreSQL); no view refers to the column.
    op.drop_column("plan_item", "item_group")
