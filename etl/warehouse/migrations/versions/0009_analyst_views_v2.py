"""Analyst views v2 (group, units, doc type, summary, run health), jsonb, unescaped JSON text.

- Views: dropped and re-created from their frozen copies in migrations/views/0009/ (v_plan_items
  gains group, position, lead/partner units and doc type; v_yoy_item_changes section, position and
  notice; new v_yoy_summary and v_run_health; v_yoy_target_changes never pairs an annual with a
  multi-year plan).
- JSON columns become jsonb on PostgreSQL (the conversion also decodes \\u escapes).
- SQLite: JSON text written with \\u escapes by older loaders is rewritten as plain UTF-8, so
  ``aliases LIKE '%市教育局%'`` finds the department.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

from etl.warehouse import frozen_view_sql

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

OLD_VIEWS = (  # as 0003 created them
    "v_plan_items",
    "v_notice_revisions",
    "v_plan_targets",
    "v_yoy_item_changes",
    "v_yoy_target_changes",
    "v_run_history",
    "v_quarantine_summary",
)
VIEWS = (  # this revision's views, in dependency order; SQL frozen in migrations/views/0009/
    "v_plan_items",
    "v_notice_revisions",
    "v_plan_targets",
    "v_yoy_item_changes",
    "v_yoy_summary",
    "v_yoy_target_changes",
    "v_run_history",
    "v_run_health",
    "v_quarantine_summary",
)
# (table, primary key columns, JSON columns) as of this revision.
JSON_COLUMNS = (
    ("department", ("department_id",), ("aliases",)),
    ("notice", ("notice_rev_id",), ("parse_warnings",)),
    ("plan_item", ("notice_rev_id", "section", "ordinal"), ("lead_units", "partner_units")),
    ("etl_run_stage", ("run_id", "stage"), ("counts",)),
    ("quarantine", ("quarantine_id",), ("record_values",)),
    ("etl_run", ("run_id",), ("health_reasons",)),
)


def _drop_views(names) -> None:
    for name in reversed(names):
        op.execute(f"DROP VIEW IF EXISTS {name}")


def _create_views(rev: str, names) -> None:
    backend = op.get_bind().dialect.name
    for name in names:
        op.execute(frozen_view_sql(rev, name, backend))


def _unescape_sqlite_json() -> None:
    conn = op.get_bind()
    for table, keys, columns in JSON_COLUMNS:
        for column in columns:
            select = f"SELECT {', '.join(keys)}, {column} FROM {table} WHERE {column} LIKE '%\\u%'"
            where = " AND ".join(f"{k} = :{k}" for k in keys)
            update = sa.text(f"UPDATE {table} SET {column} = :value WHERE {where}")
            for row in conn.exec_driver_sql(select).mappings().all():
                plain = json.dumps(json.loads(row[column]), ensure_ascii=False)
                if plain != row[column]:
                    conn.execute(update, {**{k: row[k] for k in keys}, "value": plain})


def _retype_postgresql(type_name: str) -> None:
    for table, _keys, columns in JSON_COLUMNS:
        for column in columns:
            op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} TYPE {type_name} USING {column}::{type_name}")


def upgrade() -> None:
    # Every view name either set uses: a migration chained before this one may have added one.
    _drop_views(tuple(dict.fromkeys(OLD_VIEWS + VIEWS)))
    if op.get_bind().dialect.name == "postgresql":
        _retype_postgresql("jsonb")
    else:
        _unescape_sqlite_json()
    _create_views(revision, VIEWS)


def downgrade() -> None:
    _drop_views(VIEWS)
    if op.get_bind().dialect.name == "postgresql":
        _retype_postgresql("json")
    # SQLite: the unescaped JSON text is the same JSON; nothing to undo.
    _create_views("0003", OLD_VIEWS)
