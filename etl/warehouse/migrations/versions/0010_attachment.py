"""attachment: the documents a notice revision links to; plan_item.source_attachment_id.

Many plans are published as a PDF or Word file beside a short cover page. ``attachment`` holds one
row per document link of a revision (what reading it gave: ok, no_text_layer for a scan, failed
for a document gone for good, ...), and items read from a document point at it.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

FK_NAME = "fk_plan_item_source_attachment_id_attachment"
OUTCOMES = "outcome IN ('ok', 'no_text_layer', 'unsupported', 'encrypted', 'corrupt', 'empty', 'failed')"


def upgrade() -> None:
    op.create_table(
        "attachment",
        sa.Column("attachment_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("notice_rev_id", sa.Integer, nullable=False),
        sa.Column("ordinal", sa.Integer, nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("filename", sa.Text, nullable=False),
        sa.Column("media_type", sa.Text, nullable=True),
        sa.Column("content_sha256", sa.Text, nullable=True),
        sa.Column("bytes", sa.BigInteger, nullable=True),
        sa.Column("text_length", sa.Integer, nullable=True),
        sa.Column("outcome", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=True),
        sa.PrimaryKeyConstraint("attachment_id", name="pk_attachment"),
        sa.ForeignKeyConstraint(["notice_rev_id"], ["notice.notice_rev_id"], ondelete="CASCADE",
                                name="fk_attachment_notice_rev_id_notice"),
        sa.UniqueConstraint("notice_rev_id", "url", name="uq_attachment_notice_rev_id_url"),
        sa.CheckConstraint(OUTCOMES, name="ck_attachment_outcome_known"),
    )
    # Nullable, no default: items loaded before this revision were all read from their page.
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_plan_item(lambda batch: batch.add_column(sa.Column(
            "source_attachment_id", sa.Integer,
            sa.ForeignKey("attachment.attachment_id", name=FK_NAME, ondelete="SET NULL"), nullable=True)))
    else:
        op.add_column("plan_item", sa.Column("source_attachment_id", sa.Integer, nullable=True))
        op.create_foreign_key(FK_NAME, "plan_item", "attachment", ["source_attachment_id"], ["attachment_id"],
                              ondelete="SET NULL")


def downgrade() -> None:
    # Items read from attachments stay, as items of their notice (their source is forgotten).
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_plan_item(lambda batch: batch.drop_column("source_attachment_id"))
    else:
        op.drop_constraint(FK_NAME, "plan_item", type_="foreignkey")
        op.drop_column("plan_item", "source_attachment_id")
    op.drop_table("attachment")


def _rebuild_plan_item(change) -> None:
    """SQLite adds a foreign key only by rebuilding the table (a column-level REFERENCES added by
    ALTER TABLE is not reflected by name, so the schema would drift). With foreign keys on, and they
    cannot be switched off inside the migration's transaction, dropping the old plan_item cascades to
    plan_target: its rows are kept aside and put back. Views naming the tables are dropped and
    re-created from their own SQL (the rename step refuses while a view names a missing table)."""
    conn = op.get_bind()
    views = conn.execute(sa.text("SELECT name, sql FROM sqlite_master WHERE type = 'view' ORDER BY rowid")).all()
    for name, _ in reversed(views):
        op.execute(f'DROP VIEW "{name}"')
    op.execute("CREATE TEMP TABLE _qdp_plan_target AS SELECT * FROM plan_target")
    with op.batch_alter_table("plan_item", recreate="always") as batch:
        change(batch)
    op.execute("DELETE FROM plan_target")
    op.execute("INSERT INTO plan_target SELECT * FROM temp._qdp_plan_target")
    op.execute("DROP TABLE temp._qdp_plan_target")
    for _, sql in views:
        op.execute(sql)
