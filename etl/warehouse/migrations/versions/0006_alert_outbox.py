"""Alert outbox: alert_outbox (one row per new notice) and alert_delivery (per notice x destination).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "alert_outbox",
        sa.Column("outbox_id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("host", sa.Text, nullable=False),
        sa.Column("notice_id", sa.BigInteger, nullable=False),
        sa.Column("notice_rev_id", sa.Integer, nullable=False),
        sa.Column("run_id", sa.Text, nullable=True),
        sa.Column("is_baseline", sa.Boolean, nullable=False),
        sa.Column("enqueued_at", TZ, nullable=False),
        sa.Column("routed_at", TZ, nullable=True),
        sa.PrimaryKeyConstraint("outbox_id", name="pk_alert_outbox"),
        sa.UniqueConstraint("host", "notice_id", name="uq_alert_outbox_host_notice_id"),
        sa.ForeignKeyConstraint(
            ["notice_rev_id"], ["notice.notice_rev_id"], name="fk_alert_outbox_notice_rev_id_notice",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["run_id"], ["etl_run.run_id"], name="fk_alert_outbox_run_id_etl_run"),
    )
    op.create_index("ix_alert_outbox_routed_at", "alert_outbox", ["routed_at"])
    op.create_table(
        "alert_delivery",
        sa.Column("delivery_id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("outbox_id", sa.Integer, nullable=False),
        sa.Column("destination", sa.Text, nullable=False),
        sa.Column("destination_label", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("next_attempt_at", TZ, nullable=False),
        sa.Column("claimed_by", sa.Text, nullable=True),
        sa.Column("claimed_until", TZ, nullable=True),
        sa.Column("message_id", sa.Text, nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("delivered_at", TZ, nullable=True),
        sa.PrimaryKeyConstraint("delivery_id", name="pk_alert_delivery"),
        sa.UniqueConstraint("outbox_id", "destination", name="uq_alert_delivery_outbox_id_destination"),
        sa.ForeignKeyConstraint(
            ["outbox_id"], ["alert_outbox.outbox_id"], name="fk_alert_delivery_outbox_id_alert_outbox",
            ondelete="CASCADE",
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'delivered', 'expired')", name="ck_alert_delivery_status_known"
        ),
    )
    op.create_index("ix_alert_delivery_status_destination", "alert_delivery", ["status", "destination"])
    op.create_index("ix_alert_delivery_message_id", "alert_delivery", ["message_id"])


def downgrade() -> None:
    op.drop_table("alert_delivery")
    op.drop_table("alert_outbox")
