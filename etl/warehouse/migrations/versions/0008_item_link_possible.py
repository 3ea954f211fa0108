"""plan_item_link: the ``possible`` status, the year and notices compared.

``possible`` marks the best candidate predecessor when the evidence is weaker than for
``revised`` (etl/compare/match.py); ``previous_plan_year`` says which plan was compared with
(Y-1, or Y-2 when the department published no plan for Y-1); ``notice_id`` and
``previous_notice_id`` name the two plans. ``similarity`` keeps its name and is documented as the
0-100 match score it always held.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

OLD_CHECK = "status IN ('continued', 'revised', 'new', 'dropped')"
NEW_CHECK = "status IN ('continued', 'revised', 'possible', 'new', 'dropped')"
COLUMNS = ("previous_plan_year", "notice_id", "previous_notice_id")


def _dependent_views(conn) -> list[tuple[str, str]]:
    """SQLite rebuilds the table to change a CHECK; its RENAME step refuses while a view names the
    table, so the views reading plan_item_link are dropped and re-created from their own SQL."""
    rows = conn.execute(sa.text("SELECT name, sql FROM sqlite_master WHERE type = 'view' ORDER BY rowid")).all()
    return [(name, sql) for name, sql in rows if "plan_item_link" in sql]


def _alter(add_columns: bool, check: str) -> None:
    conn = op.get_bind()
    views = _dependent_views(conn) if conn.dialect.name == "sqlite" else []
    for name, _ in reversed(views):
        op.execute(f"DROP VIEW {name}")
    with op.batch_alter_table("plan_item_link") as batch:
        if add_columns:
            batch.add_column(sa.Column("previous_plan_year", sa.Integer, nullable=True))
            batch.add_column(sa.Column("notice_id", sa.BigInteger, nullable=True))
            batch.add_column(sa.Column("previous_notice_id", sa.BigInteger, nullable=True))
        else:
            for column in COLUMNS:
                batch.drop_column(column)
        batch.drop_constraint("ck_plan_item_link_status_known", type_="check")
        batch.create_check_constraint("ck_plan_item_link_status_known", check)
    for _, sql in views:
        op.execute(sql)


def upgrade() -> None:
    _alter(True, NEW_CHECK)


def downgrade() -> None:
    # Rows the old constraint cannot hold go: a possible link was a new item and a dropped one.
    conn = op.get_bind()
    t = sa.table("plan_item_link", sa.column("status"), sa.column("item_uid"), sa.column("previous_item_uid"),
                 sa.column("similarity"), sa.column("department"), sa.column("plan_year"),
                 sa.column("computed_at"))
    possible = conn.execute(sa.select(t).where(t.c.status == "possible")).mappings().all()
    if possible:
        conn.execute(t.delete().where(t.c.status == "possible"))
        rows = []
        for r in possible:
            base = {"department": r["department"], "plan_year": r["plan_year"], "computed_at": r["computed_at"],
                    "similarity": None}
            rows.append({**base, "status": "new", "item_uid": r["item_uid"], "previous_item_uid": None})
            rows.append({**base, "status": "dropped", "item_uid": None, "previous_item_uid": r["previous_item_uid"]})
        conn.execute(t.insert(), rows)
    _alter(False, OLD_CHECK)
