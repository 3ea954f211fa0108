"""Year-over-year links between plan items (compare stage).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "plan_item_link",
        sa.Column("link_id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("department", sa.Text, nullable=False),
        sa.Column("plan_year", sa.Integer, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("item_uid", sa.Text, nullable=True),
        sa.Column("previous_item_uid", sa.Text, nullable=True),
        sa.Column("similarity", sa.Float, nullable=True),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("link_id", name="pk_plan_item_link"),
        sa.ForeignKeyConstraint(
            ["department"], ["department.name"], name="fk_plan_item_link_department_department"
        ),
        sa.CheckConstraint(
            "status IN ('continued', 'revised', 'new', 'dropped')", name="ck_plan_item_link_status_known"
        ),
    )
    op.create_index("ix_plan_item_link_department_plan_year", "plan_item_link", ["department", "plan_year"])


def downgrade() -> None:
    op.drop_table("plan_item_link")
