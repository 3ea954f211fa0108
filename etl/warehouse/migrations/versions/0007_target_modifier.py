"""plan_target.modifier, value_min, value_max, target_kind: how a target is qualified (issue 12).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_COLUMNS = ("modifier", "value_min", "value_max", "target_kind")


def upgrade() -> None:
    # Nullable, no default: rows loaded before this revision were read without modifiers, and a
    # null says "not recorded" rather than a wrong "none" or "target".
    op.add_column("plan_target", sa.Column("modifier", sa.Text, nullable=True))
    op.add_column("plan_target", sa.Column("value_min", sa.Float, nullable=True))
    op.add_column("plan_target", sa.Column("value_max", sa.Float, nullable=True))
    op.add_column("plan_target", sa.Column("target_kind", sa.Text, nullable=True))


def downgrade() -> None:
    # Native DROP COLUMN (SQLite >= 3.35, PostgreSQL); views select plan_target columns by name.
    for name in reversed(_COLUMNS):
        op.drop_column("plan_target", name)
