"""One document, many URLs: ``notice.text_sha256`` and the ``notice_url`` table.

- ``notice.text_sha256``: the document's content key (etl/dedupe.py), computed here for the rows
  already loaded; the loader folds a new posting whose key equals a current notice's into it.
- ``notice_url``: one row per URL a notice was seen at, filled here with each notice's own URL.
  Documents already loaded twice stay two notices (folding is done by the loader, on new loads).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from etl.dedupe import text_key

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    # A plain ADD COLUMN (no table rebuild on SQLite: the views reading notice stay).
    op.add_column("notice", sa.Column("text_sha256", sa.Text, nullable=True))
    op.create_index("ix_notice_text_sha256", "notice", ["text_sha256"])
    op.create_table(
        "notice_url",
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("host", sa.Text, nullable=False),
        sa.Column("notice_id", sa.BigInteger, nullable=False),
        sa.Column("posted_host", sa.Text, nullable=False),
        sa.Column("posted_notice_id", sa.BigInteger, nullable=False),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("content_sha256", sa.Text, nullable=False),
        sa.Column("first_seen_at", TZ, nullable=False),
        sa.Column("last_seen_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("url", name="pk_notice_url"),
    )
    op.create_index("ix_notice_url_host_notice_id", "notice_url", ["host", "notice_id"])
    op.create_index("ix_notice_url_posted_notice_id", "notice_url", ["posted_notice_id"])
    conn = op.get_bind()
    notice = sa.table("notice", sa.column("notice_rev_id"), sa.column("title"), sa.column("body_text"),
                      sa.column("text_sha256"))
    rows = conn.execute(sa.select(notice.c.notice_rev_id, notice.c.title, notice.c.body_text)).all()
    updates = [{"b_id": rid, "b_key": key} for rid, title, body in rows if (key := text_key(title, body))]
    if updates:
        conn.execute(notice.update().where(notice.c.notice_rev_id == sa.bindparam("b_id"))
                     .values(text_sha256=sa.bindparam("b_key")), updates)
    # Each notice's own URL: the current revision's URL, channel and page; first/last fetch times.
    conn.execute(sa.text("""
        INSERT INTO notice_url (url, host, notice_id, posted_host, posted_notice_id, channel, content_sha256,
                                first_seen_at, last_seen_at)
        SELECT cur.url, cur.host, cur.notice_id, cur.host, cur.notice_id, cur.channel, cur.content_sha256,
               span.first_seen, span.last_seen
        FROM notice AS cur
        JOIN (SELECT host, notice_id, MIN(fetched_at) AS first_seen, MAX(fetched_at) AS last_seen
              FROM notice GROUP BY host, notice_id) AS span
          ON span.host = cur.host AND span.notice_id = cur.notice_id
        WHERE cur.is_current
          AND NOT EXISTS (SELECT 1 FROM notice AS other
                          WHERE other.url = cur.url AND other.is_current
                            AND (other.host < cur.host OR (other.host = cur.host AND other.notice_id < cur.notice_id)))
    """))


def downgrade() -> None:
    op.drop_index("ix_notice_url_posted_notice_id", table_name="notice_url")
    op.drop_index("ix_notice_url_host_notice_id", table_name="notice_url")
    op.drop_table("notice_url")
    op.drop_index("ix_notice_text_sha256", table_name="notice")
    # Native DROP COLUMN (SQLite >= 3.35): a batch rebuild would trip over the views reading notice.
    op.execute("ALTER TABLE notice DROP COLUMN text_sha256")
