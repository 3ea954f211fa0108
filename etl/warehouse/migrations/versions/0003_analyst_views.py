"""Analyst views, from their frozen copies in migrations/views/0003/.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from __future__ import annotations

from alembic import op

from etl.warehouse import frozen_view_sql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# The views this revision owns, in dependency order. Their SQL is the frozen copy in
# migrations/views/0003/ (never sql/views/, which holds the current definitions): changing a view
# means a new migration with its own copy; neither this list nor that folder is edited afterwards.
VIEWS = (
    "v_plan_items",
    "v_notice_revisions",
    "v_plan_targets",
    "v_yoy_item_changes",
    "v_yoy_target_changes",
    "v_run_history",
    "v_quarantine_summary",
)


def upgrade() -> None:
    backend = op.get_bind().dialect.name
    for name in VIEWS:
        op.execute(frozen_view_sql(revision, name, backend))


def downgrade() -> None:
    for name in reversed(VIEWS):
        op.execute(f"DROP VIEW IF EXISTS {name}")
