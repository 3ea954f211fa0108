"""Core star schema: department, notice revisions, sections, items, targets, run audit, quarantine.

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)

# Frozen copy of the curated list at the time of this migration; later additions arrive through
# the loader's idempotent upsert (etl.warehouse.ensure_departments), not through migrations.
SEED = [
    ("bgt", "青岛市人民政府办公厅"),
    ("fgw", "青岛市发展和改革委员会"),
    ("jyj", "青岛市教育局"),
    ("kjj", "青岛市科学技术局"),
    ("gyxx", "青岛市工业和信息化局"),
    ("gaj", "青岛市公安局"),
    ("mzj", "青岛市民政局"),
    ("sfj", "青岛市司法局"),
    ("czj", "青岛市财政局"),
    ("hrss", "青岛市人力资源和社会保障局"),
    ("zygh", "青岛市自然资源和规划局"),
    ("sthj", "青岛市生态环境局"),
    ("zjj", "青岛市住房和城乡建设局"),
    ("jtys", "青岛市交通运输局"),
    ("swglj", "青岛市水务管理局"),
    ("nync", "青岛市农业农村局"),
    ("hyfz", "青岛市海洋发展局"),
    ("bofcom", "青岛市商务局"),
    ("whly", "青岛市文化和旅游局"),
    ("wjw", "青岛市卫生健康委员会"),
    ("yjj", "青岛市应急管理局"),
    ("sjj", "青岛市审计局"),
    ("amr", "青岛市市场监督管理局"),
    ("tyj", "青岛市体育局"),
    ("tjj", "青岛市统计局"),
    ("ybj", "青岛市医疗保障局"),
    ("cgj", "青岛市城市管理局"),
    ("xzspj", "青岛市行政审批服务局"),
    ("dsj", "青岛市大数据发展管理局"),
]


def upgrade() -> None:
    department = op.create_table(
        "department",
        sa.Column("department_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("code", sa.Text, nullable=True),
        sa.Column("aliases", sa.JSON, nullable=False),
        sa.Column("is_known", sa.Boolean, nullable=False),
        sa.PrimaryKeyConstraint("department_id", name="pk_department"),
        sa.UniqueConstraint("name", name="uq_department_name"),
        sa.UniqueConstraint("code", name="uq_department_code"),
    )
    op.create_table(
        "etl_run",
        sa.Column("run_id", sa.Text, nullable=False),
        sa.Column("dag_id", sa.Text, nullable=True),
        sa.Column("dag_run_id", sa.Text, nullable=True),
        sa.Column("started_at", TZ, nullable=False),
        sa.Column("finished_at", TZ, nullable=True),
        sa.Column("status", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("run_id", name="pk_etl_run"),
        sa.CheckConstraint("status IN ('running', 'success', 'failed')", name="ck_etl_run_status_known"),
    )
    op.create_table(
        "etl_run_stage",
        sa.Column("run_id", sa.Text, nullable=False),
        sa.Column("stage", sa.Text, nullable=False),
        sa.Column("seconds", sa.Float, nullable=False),
        sa.Column("counts", sa.JSON, nullable=False),
        sa.PrimaryKeyConstraint("run_id", "stage", name="pk_etl_run_stage"),
        sa.ForeignKeyConstraint(
            ["run_id"], ["etl_run.run_id"], name="fk_etl_run_stage_run_id_etl_run", ondelete="CASCADE"
        ),
    )
    op.create_table(
        "notice",
        sa.Column("notice_rev_id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("host", sa.Text, nullable=False),
        sa.Column("notice_id", sa.BigInteger, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("title", sa.Text, nullable=True),
        sa.Column("published", sa.Date, nullable=True),
        sa.Column("department_id", sa.Integer, nullable=True),
        sa.Column("doc_type", sa.Text, nullable=False),
        sa.Column("plan_year", sa.Integer, nullable=True),
        sa.Column("column_name", sa.Text, nullable=True),
        sa.Column("content_sha256", sa.Text, nullable=False),
        sa.Column("body_text", sa.Text, nullable=False),
        sa.Column("parse_warnings", sa.JSON, nullable=False),
        sa.Column("fetched_at", TZ, nullable=False),
        sa.Column("first_seen_at", TZ, nullable=False),
        sa.Column("valid_from", TZ, nullable=False),
        sa.Column("valid_to", TZ, nullable=True),
        sa.Column("is_current", sa.Boolean, nullable=False),
        sa.Column("load_run_id", sa.Text, nullable=True),
        sa.PrimaryKeyConstraint("notice_rev_id", name="pk_notice"),
        sa.UniqueConstraint("host", "notice_id", "revision", name="uq_notice_host_notice_id_revision"),
        sa.ForeignKeyConstraint(
            ["department_id"], ["department.department_id"], name="fk_notice_department_id_department"
        ),
        sa.ForeignKeyConstraint(["load_run_id"], ["etl_run.run_id"], name="fk_notice_load_run_id_etl_run"),
        sa.CheckConstraint("revision >= 1", name="ck_notice_revision_positive"),
        sa.CheckConstraint(
            "doc_type IN ('work_plan', 'work_summary', 'action_plan', 'notice', 'other')",
            name="ck_notice_doc_type_known",
        ),
        sa.CheckConstraint(
            "(is_current AND valid_to IS NULL) OR (NOT is_current AND valid_to IS NOT NULL)",
            name="ck_notice_current_has_no_end",
        ),
    )
    is_current = sa.column("is_current", sa.Boolean)
    op.create_index(
        "uq_notice_current",
        "notice",
        ["host", "notice_id"],
        unique=True,
        sqlite_where=is_current,
        postgresql_where=is_current,
    )
    op.create_index("ix_notice_department_year", "notice", ["department_id", "plan_year"])
    op.create_index("ix_notice_content_sha256", "notice", ["content_sha256"])
    op.create_index("ix_notice_load_run_id", "notice", ["load_run_id"])
    op.create_table(
        "plan_section",
        sa.Column("notice_rev_id", sa.Integer, nullable=False),
        sa.Column("section", sa.Integer, nullable=False),
        sa.Column("marker", sa.Text, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("notice_rev_id", "section", name="pk_plan_section"),
        sa.ForeignKeyConstraint(
            ["notice_rev_id"],
            ["notice.notice_rev_id"],
            name="fk_plan_section_notice_rev_id_notice",
            ondelete="CASCADE",
        ),
    )
    op.create_table(
        "plan_item",
        sa.Column("notice_rev_id", sa.Integer, nullable=False),
        sa.Column("section", sa.Integer, nullable=False),
        sa.Column("ordinal", sa.Integer, nullable=False),
        sa.Column("item_uid", sa.Text, nullable=False),
        sa.Column("marker", sa.Text, nullable=False),
        sa.Column("headline", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("raw_text", sa.Text, nullable=False),
        sa.Column("lead_units", sa.JSON, nullable=False),
        sa.Column("partner_units", sa.JSON, nullable=False),
        sa.PrimaryKeyConstraint("notice_rev_id", "section", "ordinal", name="pk_plan_item"),
        sa.ForeignKeyConstraint(
            ["notice_rev_id"],
            ["notice.notice_rev_id"],
            name="fk_plan_item_notice_rev_id_notice",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_plan_item_item_uid", "plan_item", ["item_uid"])
    op.create_table(
        "plan_target",
        sa.Column("notice_rev_id", sa.Integer, nullable=False),
        sa.Column("section", sa.Integer, nullable=False),
        sa.Column("ordinal", sa.Integer, nullable=False),
        sa.Column("target_ordinal", sa.Integer, nullable=False),
        sa.Column("action", sa.Text, nullable=True),
        sa.Column("object", sa.Text, nullable=True),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("unit", sa.Text, nullable=False),
        sa.Column("span", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint(
            "notice_rev_id", "section", "ordinal", "target_ordinal", name="pk_plan_target"
        ),
        sa.ForeignKeyConstraint(
            ["notice_rev_id", "section", "ordinal"],
            ["plan_item.notice_rev_id", "plan_item.section", "plan_item.ordinal"],
            name="fk_plan_target_notice_rev_id_plan_item",
            ondelete="CASCADE",
        ),
    )
    op.create_table(
        "quarantine",
        sa.Column("quarantine_id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("run_id", sa.Text, nullable=True),
        sa.Column("record_type", sa.Text, nullable=False),
        sa.Column("record_key", sa.Text, nullable=False),
        sa.Column("failed_check", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("record_values", sa.JSON, nullable=False),
        sa.Column("quarantined_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("quarantine_id", name="pk_quarantine"),
        sa.ForeignKeyConstraint(
            ["run_id"], ["etl_run.run_id"], name="fk_quarantine_run_id_etl_run", ondelete="CASCADE"
        ),
        sa.UniqueConstraint(
            "run_id",
            "record_type",
            "record_key",
            "failed_check",
            name="uq_quarantine_run_id_record_type_record_key_failed_check",
        ),
        sa.CheckConstraint(
            "record_type IN ('notice', 'plan_item', 'plan_target')", name="ck_quarantine_record_type_known"
        ),
    )
    op.bulk_insert(
        department, [{"code": code, "name": name, "aliases": [], "is_known": True} for code, name in SEED]
    )


def downgrade() -> None:
    for table in (
        "quarantine",
        "plan_target",
        "plan_item",
        "plan_section",
        "notice",
        "etl_run_stage",
        "etl_run",
        "department",
    ):
        op.drop_table(table)
