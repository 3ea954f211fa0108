"""Run health and crash hygiene: etl_run heartbeat/owner/health columns, statuses degraded and
abandoned; quarantine keeps one row per record, content and check (first/last seen, count).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from __future__ import annotations

import hashlib
import json

import sqlalchemy as sa
from alembic import op

from etl.warehouse import frozen_view_sql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)
# Views over the two rebuilt tables: SQLite cannot rebuild a table a view names, so they are
# dropped first and re-created afterwards, as 0003 froze them (never from today's sql/views/,
# which may name columns later migrations add).
VIEWS = ("v_run_history", "v_quarantine_summary")
OLD_STATUSES = "status IN ('running', 'success', 'failed')"
NEW_STATUSES = "status IN ('running', 'success', 'degraded', 'failed', 'abandoned')"
# 0001 named its CHECK constraints through the naming convention a second time; keep that name.
STATUS_CHECK = "ck_etl_run_status_known"  # becomes ck_etl_run_ck_etl_run_status_known
STATUS_CHECK_REAL = "ck_etl_run_ck_etl_run_status_known"
VOLATILE = ("fetched_at", "traceback")  # same record and content, another fetch: same key


def content_key(values: dict) -> str:
    """Mirror of etl.warehouse.runs.quarantine_content_key, frozen here as migrations must be."""
    sha = values.get("content_sha256") or values.get("sha256") if isinstance(values, dict) else None
    if sha:
        return str(sha)
    stable = {k: v for k, v in values.items() if k not in VOLATILE} if isinstance(values, dict) else values
    return hashlib.sha256(json.dumps(stable, ensure_ascii=False, sort_keys=True, default=str)
                          .encode("utf-8")).hexdigest()


def _dedupe_quarantine(conn: sa.Connection) -> None:
    q = sa.table("quarantine", sa.column("quarantine_id", sa.Integer), sa.column("record_type"),
                 sa.column("record_key"), sa.column("failed_check"), sa.column("record_values", sa.JSON),
                 sa.column("quarantined_at", TZ), sa.column("content_key"),
                 sa.column("last_seen_at", TZ), sa.column("seen_count", sa.Integer))
    groups: dict[tuple, list] = {}
    rows = conn.execute(sa.select(q.c.quarantine_id, q.c.record_type, q.c.record_key, q.c.failed_check,
                                  q.c.record_values, q.c.quarantined_at).order_by(q.c.quarantine_id))
    for row in rows:
        key = (row.record_type, row.record_key, content_key(row.record_values), row.failed_check)
        groups.setdefault(key, []).append(row)
    for key, members in groups.items():
        # Keep the latest row (latest reason and run), dated from the first.
        keep = members[-1]
        conn.execute(q.update().where(q.c.quarantine_id == keep.quarantine_id).values(
            content_key=key[2], quarantined_at=min(m.quarantined_at for m in members),
            last_seen_at=max(m.quarantined_at for m in members), seen_count=len(members)))
        drop = [m.quarantine_id for m in members[:-1]]
        if drop:
            conn.execute(q.delete().where(q.c.quarantine_id.in_(drop)))


def upgrade() -> None:
    for name in VIEWS:
        op.execute(f"DROP VIEW IF EXISTS {name}")
    with op.batch_alter_table("etl_run") as batch:
        batch.add_column(sa.Column("heartbeat_at", TZ, nullable=True))
        batch.add_column(sa.Column("current_stage", sa.Text, nullable=True))
        batch.add_column(sa.Column("hostname", sa.Text, nullable=True))
        batch.add_column(sa.Column("pid", sa.Integer, nullable=True))
        batch.add_column(sa.Column("health_reasons", sa.JSON, nullable=True))
        batch.drop_constraint(op.f(STATUS_CHECK_REAL), type_="check")
        batch.create_check_constraint(STATUS_CHECK, sa.text(NEW_STATUSES))
    op.execute("UPDATE etl_run SET heartbeat_at = COALESCE(finished_at, started_at)")

    op.add_column("quarantine", sa.Column("content_key", sa.Text, nullable=True))
    op.add_column("quarantine", sa.Column("last_seen_at", TZ, nullable=True))
    op.add_column("quarantine", sa.Column("seen_count", sa.Integer, nullable=True))
    _dedupe_quarantine(op.get_bind())
    with op.batch_alter_table("quarantine") as batch:
        batch.alter_column("content_key", existing_type=sa.Text, nullable=False)
        batch.alter_column("last_seen_at", existing_type=TZ, nullable=False)
        batch.alter_column("seen_count", existing_type=sa.Integer, nullable=False)
        batch.drop_constraint("uq_quarantine_run_id_record_type_record_key_failed_check", type_="unique")
        batch.create_unique_constraint(
            "uq_quarantine_record_type_record_key_content_key_failed_check",
            ["record_type", "record_key", "content_key", "failed_check"],
        )
    backend = op.get_bind().dialect.name
    for name in VIEWS:
        op.execute(frozen_view_sql("0003", name, backend))


def downgrade() -> None:
    for name in VIEWS:
        op.execute(f"DROP VIEW IF EXISTS {name}")
    with op.batch_alter_table("quarantine") as batch:
        batch.drop_constraint("uq_quarantine_record_type_record_key_content_key_failed_check", type_="unique")
        # One row per run, record and check again (a deduplicated row stays under its last run).
        batch.create_unique_constraint(
            "uq_quarantine_run_id_record_type_record_key_failed_check",
            ["run_id", "record_type", "record_key", "failed_check"],
        )
        batch.drop_column("seen_count")
        batch.drop_column("last_seen_at")
        batch.drop_column("content_key")
    # The old statuses cannot say degraded or abandoned: map them to what they were before.
    op.execute("UPDATE etl_run SET status = 'success' WHERE status = 'degraded'")
    op.execute("UPDATE etl_run SET status = 'failed' WHERE status = 'abandoned'")
    with op.batch_alter_table("etl_run") as batch:
        batch.drop_constraint(op.f(STATUS_CHECK_REAL), type_="check")
        batch.create_check_constraint(STATUS_CHECK, sa.text(OLD_STATUSES))
        batch.drop_column("health_reasons")
        batch.drop_column("pid")
        batch.drop_column("hostname")
        batch.drop_column("current_stage")
        batch.drop_column("heartbeat_at")
    backend = op.get_bind().dialect.name
    for name in VIEWS:
        op.execute(frozen_view_sql("0003", name, backend))
