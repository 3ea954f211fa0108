"""Analyst views, created from the files in sql/views/.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from __future__ import annotations

from alembic import op

from etl.warehouse import view_sql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# The views this revision owns, in dependency order. Changing a view means a new migration that
# drops and re-creates it; this list is never edited afterwards.
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
    for name in VIEWS:
        op.execute(view_sql(name))


def downgrade() -> None:
    for name in reversed(VIEWS):
        op.execute(f"DROP VIEW IF EXISTS {name}")
