"""Warehouse tables (SQLAlchemy Core): the single source of truth for the schema.

Alembic migrations in ``migrations/versions`` build exactly these tables; a test compares the
migrated database with this metadata, and ``docs/data-dictionary.md`` is generated from it, so
neither can drift.  Every column carries ``info={"doc": ...}`` for the data dictionary.

Star shape: ``notice`` (one row per revision of a page) is the hub, ``plan_section``/``plan_item``/
``plan_target`` and ``attachment`` hang off a revision, ``department`` is the dimension,
``plan_item_link`` holds the year-over-year comparison, ``etl_run``/``etl_run_stage``/``quarantine``
are the engineers' audit.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# Deterministic constraint names: migrations and downgrades can refer to them on both backends.
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = sa.MetaData(naming_convention=NAMING)


def _col(name: str, type_: sa.types.TypeEngine | type, *args, doc: str, **kw) -> sa.Column:
    kw.setdefault("nullable", False)
    return sa.Column(name, type_, *args, info={"doc": doc}, **kw)


TZ = sa.DateTime(timezone=True)
# JSON columns: jsonb on PostgreSQL (indexable, ->> and @> work, text stored decoded), JSON text
# (unescaped UTF-8, see etl.warehouse.json_dumps) on SQLite.
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

department = sa.Table(
    "department",
    metadata,
    _col("department_id", sa.Integer, primary_key=True, autoincrement=True, doc="Surrogate key."),
    _col("name", sa.Text, unique=True, doc="Canonical name, e.g. 青岛市教育局 (etl/departments.py)."),
    _col(
        "code",
        sa.Text,
        unique=True,
        nullable=True,
        doc="Path code on the site, e.g. jyj; NULL for departments only seen in documents.",
    ),
    _col(
        "aliases",
        JSON,
        doc="JSON list of other names documents use for the department, stored as text (not \\u "
        "escapes), so `aliases LIKE '%市教育局%'` works.",
    ),
    _col(
        "is_known",
        sa.Boolean,
        doc="True when the department is in the curated list; false when the "
        "loader met the name in a document first.",
    ),
    info={"doc": "Department dimension. Seeded by migration; unknown names are added by the loader."},
)

notice = sa.Table(
    "notice",
    metadata,
    _col(
        "notice_rev_id",
        sa.Integer,
        primary_key=True,
        autoincrement=True,
        doc="Surrogate key of one revision of a notice.",
    ),
    _col("host", sa.Text, doc="Site host; notice ids are unique per host only."),
    _col("notice_id", sa.BigInteger, doc="The site's notice id (numeric tail of the page file name)."),
    _col("revision", sa.Integer, doc="1 for the first content seen, +1 for every changed content."),
    _col("url", sa.Text, doc="Canonical URL of the page on the live site."),
    _col("channel", sa.Text, doc="Key of the watched list column the notice was found in."),
    _col("title", sa.Text, nullable=True, doc="Article title."),
    _col("published", sa.Date, nullable=True, doc="Publication date shown on the page."),
    _col(
        "department_id",
        sa.Integer,
        sa.ForeignKey("department.department_id"),
        nullable=True,
        doc="Issuing department; NULL when the page does not say.",
    ),
    _col("doc_type", sa.Text, doc="work_plan, work_summary, action_plan, notice or other."),
    _col("plan_year", sa.Integer, nullable=True, doc="Year a plan is for (2021 for 2021年工作要点)."),
    _col("column_name", sa.Text, nullable=True, doc="ColumnName meta of the page, when present."),
    _col(
        "content_sha256",
        sa.Text,
        doc="SHA-256 of the fetched page body this revision was parsed from; for a page that links "
        "documents, a SHA-256 over the page's and its attachments' hashes (a replaced PDF is a new revision).",
    ),
    _col("body_text", sa.Text, doc="Normalised main text, for search and re-parsing."),
    _col(
        "text_sha256",
        sa.Text,
        nullable=True,
        doc="Content key of the document (etl/dedupe.py): SHA-256 of the NFKC-folded title and main "
        "text without whitespace. The same document posted at another URL has the same key and is "
        "folded into this notice (notice_url). NULL when the text is too short to tell documents apart.",
    ),
    _col("parse_warnings", JSON, doc="JSON list of parser warnings {code, message, section, item}."),
    _col("fetched_at", TZ, doc="When the page body of this revision was fetched."),
    _col("first_seen_at", TZ, doc="When the notice (any revision) was first fetched."),
    _col("valid_from", TZ, doc="Start of this revision's validity (its fetch time)."),
    _col("valid_to", TZ, nullable=True, doc="When a newer revision replaced it; NULL while current."),
    _col("is_current", sa.Boolean, doc="True for the one current revision of (host, notice_id)."),
    _col(
        "load_run_id",
        sa.Text,
        sa.ForeignKey("etl_run.run_id"),
        nullable=True,
        doc="Audit: the etl_run that loaded this revision.",
    ),
    sa.UniqueConstraint("host", "notice_id", "revision"),
    sa.CheckConstraint("revision >= 1", name="revision_positive"),
    sa.CheckConstraint(
        "doc_type IN ('work_plan', 'work_summary', 'action_plan', 'notice', 'other')", name="doc_type_known"
    ),
    sa.CheckConstraint(
        "(is_current AND valid_to IS NULL) OR (NOT is_current AND valid_to IS NOT NULL)",
        name="current_has_no_end",
    ),
    info={
        "doc": "One row per revision of a notice page. Revisions are never deleted, also when the "
        "notice leaves the site's lists; exactly one revision per (host, notice_id) is current."
    },
)
# At most one current revision per notice, enforced by the database on both backends.
sa.Index(
    "uq_notice_current",
    notice.c.host,
    notice.c.notice_id,
    unique=True,
    sqlite_where=notice.c.is_current,
    postgresql_where=notice.c.is_current,
)
sa.Index("ix_notice_department_year", notice.c.department_id, notice.c.plan_year)
sa.Index("ix_notice_content_sha256", notice.c.content_sha256)
sa.Index("ix_notice_load_run_id", notice.c.load_run_id)
sa.Index("ix_notice_text_sha256", notice.c.text_sha256)

notice_url = sa.Table(
    "notice_url",
    metadata,
    _col("url", sa.Text, primary_key=True, doc="A URL the document was seen at (canonical, live host)."),
    _col("host", sa.Text, doc="Host of the notice the URL belongs to (notice.host)."),
    _col("notice_id", sa.BigInteger, doc="Notice the URL belongs to (notice.notice_id): the lowest "
         "(host, notice_id) among the postings of the document, whichever was crawled first."),
    _col("posted_host", sa.Text, doc="Host the site posted this URL under."),
    _col("posted_notice_id", sa.BigInteger, doc="Notice id the site gives this URL (the numeric tail of its "
         "file name); equals notice_id for the notice's own URL."),
    _col("channel", sa.Text, doc="Key of the list column the URL was last found in."),
    _col("content_sha256", sa.Text, doc="SHA-256 of the page body last loaded from this URL."),
    _col("first_seen_at", TZ, doc="Fetch time of the first page loaded from this URL."),
    _col("last_seen_at", TZ, doc="Fetch time of the latest page loaded from this URL."),
    info={
        "doc": "Every URL a notice was seen at, its own included: one document posted in two columns "
        "(or on a mirror host) is one notice with several URLs, matched on notice.text_sha256."
    },
)
sa.Index("ix_notice_url_host_notice_id", notice_url.c.host, notice_url.c.notice_id)
sa.Index("ix_notice_url_posted_notice_id", notice_url.c.posted_notice_id)

plan_section = sa.Table(
    "plan_section",
    metadata,
    _col(
        "notice_rev_id",
        sa.Integer,
        sa.ForeignKey("notice.notice_rev_id", ondelete="CASCADE"),
        primary_key=True,
        doc="Notice revision the section belongs to.",
    ),
    _col("section", sa.Integer, primary_key=True, doc="1-based position of the section in the document."),
    _col("marker", sa.Text, doc="Numbering as written, e.g. 一、"),
    _col("title", sa.Text, doc="Section heading."),
    info={"doc": "Top-level sections (一、二、…) of a notice revision."},
)

ATTACHMENT_OUTCOMES = ("ok", "no_text_layer", "unsupported", "encrypted", "corrupt", "empty", "failed")
attachment = sa.Table(
    "attachment",
    metadata,
    _col("attachment_id", sa.Integer, primary_key=True, autoincrement=True, doc="Surrogate key."),
    _col(
        "notice_rev_id",
        sa.Integer,
        sa.ForeignKey("notice.notice_rev_id", ondelete="CASCADE"),
        doc="Notice revision whose page links the document.",
    ),
    _col("ordinal", sa.Integer, doc="1-based position of the link on the page."),
    _col("url", sa.Text, doc="Canonical URL of the document on the live site (P0<digits>.pdf beside the page)."),
    _col("filename", sa.Text, doc="Last path segment of the URL, percent-decoded."),
    _col(
        "media_type",
        sa.Text,
        nullable=True,
        doc="What the bytes are, sniffed (application/pdf, …wordprocessingml.document, application/ofd, "
        "application/msword); NULL when nothing usable arrived.",
    ),
    _col(
        "content_sha256",
        sa.Text,
        nullable=True,
        doc="SHA-256 of the document body (its landing-zone object); NULL when it could not be fetched.",
    ),
    _col("bytes", sa.BigInteger, nullable=True, doc="Size of the document body in bytes; NULL when not fetched."),
    _col(
        "text_length",
        sa.Integer,
        nullable=True,
        doc="Characters of text extracted from the document (0 for a scan); NULL when not fetched.",
    ),
    _col(
        "outcome",
        sa.Text,
        doc="ok (text read and parsed), no_text_layer (a scan: OCR is not attempted), unsupported (legacy "
        ".doc/.wps, unknown format), encrypted, corrupt, empty, or failed (gone for good: HTTP 404/410, "
        "refused by robots.txt or the size cap).",
    ),
    _col("reason", sa.Text, nullable=True, doc="Why there is no text, for any outcome but ok."),
    sa.UniqueConstraint("notice_rev_id", "url"),
    sa.CheckConstraint(
        "outcome IN ('ok', 'no_text_layer', 'unsupported', 'encrypted', 'corrupt', 'empty', 'failed')",
        name="outcome_known",
    ),
    info={
        "doc": "Documents (PDF, DOCX, OFD, DOC/WPS) a notice revision's page links to, and what reading "
        "them gave. Items read from one point at it (plan_item.source_attachment_id)."
    },
)

plan_item = sa.Table(
    "plan_item",
    metadata,
    _col(
        "notice_rev_id",
        sa.Integer,
        sa.ForeignKey("notice.notice_rev_id", ondelete="CASCADE"),
        primary_key=True,
        doc="Notice revision the item belongs to.",
    ),
    _col(
        "section",
        sa.Integer,
        primary_key=True,
        doc="plan_section.section of the item; 0 when the document has no sections.",
    ),
    _col("ordinal", sa.Integer, primary_key=True, doc="1-based position within its section."),
    _col("item_uid", sa.Text, doc="Stable id host:notice_id:section:ordinal, the same in every revision."),
    _col("marker", sa.Text, doc="Numbering as written, e.g. 1. or （六）"),
    _col("headline", sa.Text, doc="Leading short sentence of the item."),
    _col("text", sa.Text, doc="Normalised Simplified text, responsibility note removed."),
    _col("raw_text", sa.Text, doc="The item's text exactly as found on the page."),
    _col(
        "lead_units",
        JSON,
        doc="JSON list of lead (牵头) units, as canonical department names (etl/departments.py), "
        "e.g. [\"青岛市教育局\"]; names not in the curated list are kept as written.",
    ),
    _col(
        "partner_units",
        JSON,
        doc="JSON list of partner (参与/配合) units, as canonical department names like lead_units.",
    ),
    _col(
        "item_group",
        sa.Text,
        nullable=True,
        doc="Three-level documents: the heading the item sits under, as written, e.g. （一）深化教育改革; "
        "null when the document has no such level.",
    ),
    _col(
        "source_attachment_id",
        sa.Integer,
        sa.ForeignKey("attachment.attachment_id", ondelete="SET NULL"),
        nullable=True,
        doc="The attachment the item was read from (a plan published as a PDF or Word file); NULL for "
        "items read from the page itself.",
    ),
    info={"doc": "Plan items (tasks) of a notice revision."},
)
sa.Index("ix_plan_item_item_uid", plan_item.c.item_uid)

plan_target = sa.Table(
    "plan_target",
    metadata,
    _col("notice_rev_id", sa.Integer, primary_key=True, doc="Notice revision of the item."),
    _col("section", sa.Integer, primary_key=True, doc="Section of the item."),
    _col("ordinal", sa.Integer, primary_key=True, doc="Ordinal of the item."),
    _col("target_ordinal", sa.Integer, primary_key=True, doc="1-based position of the target in the item."),
    _col("action", sa.Text, nullable=True, doc="Verb of the target, e.g. 新建."),
    _col("object", sa.Text, nullable=True, doc="What is counted, e.g. 幼儿园."),
    _col("value", sa.Float, doc="Numeric value."),
    _col(
        "unit",
        sa.Text,
        doc="Counting unit as written, with its 万/亿 multiplier, e.g. 所, 万人, 亿元, %; compare values "
        "only within one unit.",
    ),
    _col("span", sa.Text, doc="The exact normalised text the target was read from."),
    _col("modifier", sa.Text, nullable=True,
         doc="Modifier words in reading order, joined by 、: 以上, 以下, 以内, 左右, 不低于, 不少于, 不超过, 力争, "
             "累计, 各, or range (1-2家); null when none."),
    _col("value_min", sa.Float, nullable=True, doc="Floor: 10家以上, 不低于80%, the low end of a range; else null."),
    _col("value_max", sa.Float, nullable=True, doc="Ceiling: 以下, 以内, 不超过, the high end of a range; else null."),
    _col("target_kind", sa.Text, nullable=True,
         doc="target (a commitment) or scope (a count of what is covered, 覆盖10个区市; a running total). "
             "Null on rows loaded before revision 0007."),
    sa.ForeignKeyConstraint(
        ["notice_rev_id", "section", "ordinal"],
        ["plan_item.notice_rev_id", "plan_item.section", "plan_item.ordinal"],
        ondelete="CASCADE",
    ),
    info={"doc": "Numeric targets found in plan items (新建幼儿园20所)."},
)

plan_item_link = sa.Table(
    "plan_item_link",
    metadata,
    _col("link_id", sa.Integer, primary_key=True, autoincrement=True, doc="Surrogate key."),
    _col("department", sa.Text, sa.ForeignKey("department.name"), doc="Canonical department name."),
    _col("plan_year", sa.Integer, doc="This year's plan year."),
    _col(
        "status",
        sa.Text,
        doc="continued, revised, possible (the best candidate predecessor, weaker evidence than "
        "revised: to be confirmed by an analyst), new or dropped.",
    ),
    _col("item_uid", sa.Text, nullable=True, doc="This year's item (NULL for dropped)."),
    _col("previous_item_uid", sa.Text, nullable=True, doc="The previous plan's item (NULL for new)."),
    _col(
        "similarity",
        sa.Float,
        nullable=True,
        doc="Match score of the pair on a 0–100 scale (100 = same text), for continued, revised and "
        "possible links; NULL for new and dropped.",
    ),
    _col("computed_at", TZ, doc="When the compare stage computed the link."),
    _col(
        "previous_plan_year",
        sa.Integer,
        nullable=True,
        doc="Year of the plan compared with: plan_year - 1, or plan_year - 2 when the department "
        "published no plan for plan_year - 1 (NULL on rows computed before revision 0008).",
    ),
    _col("notice_id", sa.BigInteger, nullable=True, doc="Notice id of this year's plan (same host as item_uid)."),
    _col("previous_notice_id", sa.BigInteger, nullable=True, doc="Notice id of the previous plan compared with."),
    sa.CheckConstraint(
        "status IN ('continued', 'revised', 'possible', 'new', 'dropped')", name="status_known"
    ),
    info={
        "doc": "Year-over-year links between a department's annual plan items (compare stage); "
        "replaced per (department, plan_year) on every compare."
    },
)
sa.Index("ix_plan_item_link_department_plan_year", plan_item_link.c.department, plan_item_link.c.plan_year)

etl_run = sa.Table(
    "etl_run",
    metadata,
    _col("run_id", sa.Text, primary_key=True, doc="Run id, e.g. 20210305T093000Z-1a2b3c."),
    _col("dag_id", sa.Text, nullable=True, doc="Airflow DAG id, when run by Airflow."),
    _col("dag_run_id", sa.Text, nullable=True, doc="Airflow dag_run id, when run by Airflow."),
    _col("started_at", TZ, doc="Start of the run."),
    _col("finished_at", TZ, nullable=True, doc="End of the run; NULL while running."),
    _col(
        "status",
        sa.Text,
        doc="running; then success, degraded (some channels or pages failed; what was read is "
        "loaded), failed (nothing could be read, or a stage crashed) or abandoned (killed or timed "
        "out: closed by a later run).",
    ),
    _col(
        "heartbeat_at",
        TZ,
        nullable=True,
        doc="Last sign of life: set when the run starts and when each stage starts.",
    ),
    _col("current_stage", sa.Text, nullable=True, doc="Stage started last (where a dead run stopped)."),
    _col("hostname", sa.Text, nullable=True, doc="Host of the process that owns a `qdp run` run."),
    _col(
        "pid",
        sa.Integer,
        nullable=True,
        doc="Process id owning a `qdp run` run (NULL under Airflow, where every task is a process).",
    ),
    _col(
        "health_reasons",
        JSON,
        nullable=True,
        doc="JSON list of why the run is not success (failed channels, crashed stage, ...).",
    ),
    sa.CheckConstraint(
        "status IN ('running', 'success', 'degraded', 'failed', 'abandoned')", name="status_known"
    ),
    info={"doc": "One row per pipeline run."},
)

etl_run_stage = sa.Table(
    "etl_run_stage",
    metadata,
    _col(
        "run_id",
        sa.Text,
        sa.ForeignKey("etl_run.run_id", ondelete="CASCADE"),
        primary_key=True,
        doc="The run.",
    ),
    _col("stage", sa.Text, primary_key=True, doc="crawl, parse, validate, load, compare, alert."),
    _col("seconds", sa.Float, doc="Wall time of the stage."),
    _col("counts", JSON, doc="JSON object of the stage's counts."),
    info={"doc": "Per-stage counts and timings of a run."},
)

quarantine = sa.Table(
    "quarantine",
    metadata,
    _col("quarantine_id", sa.Integer, primary_key=True, autoincrement=True, doc="Surrogate key."),
    _col(
        "run_id",
        sa.Text,
        sa.ForeignKey("etl_run.run_id", ondelete="CASCADE"),
        nullable=True,
        doc="Run that quarantined the record last.",
    ),
    _col("record_type", sa.Text, doc="notice, plan_item or plan_target."),
    _col("record_key", sa.Text, doc="Key of the record, e.g. www.qingdao.gov.cn/3012345/1.2"),
    _col("failed_check", sa.Text, doc="The failed expectation or rule."),
    _col("reason", sa.Text, doc="Human-readable reason."),
    _col(
        "content_key",
        sa.Text,
        doc="Content of the record: the page's sha256 for notices, a hash of the values otherwise.",
    ),
    _col(
        "record_values",
        JSON,
        doc="The whole record held back, as a JSON object, so nothing is lost: for a notice the parsed "
        "notice record (host, notice_id, url, channel, content_sha256, fetched_at, parsed: title, "
        "published, department, doc_type, plan_year, sections, items, warnings; attachments: url, filename, "
        "media_type, content_sha256, bytes, text_length, outcome, reason); for a plan_item the "
        "item (section, ordinal, marker, headline, text, raw_text, lead_units, partner_units, targets) "
        "with its notice key and url; for a plan_target the target (action, object, value, unit, span) "
        "with its item key; for a parse error url, sha256 and the traceback.",
    ),
    _col("quarantined_at", TZ, doc="When this record, content and check were first quarantined."),
    _col("last_seen_at", TZ, doc="When a run last quarantined them."),
    _col("seen_count", sa.Integer, doc="How many runs quarantined them."),
    sa.CheckConstraint("record_type IN ('notice', 'plan_item', 'plan_target')", name="record_type_known"),
    sa.UniqueConstraint("record_type", "record_key", "content_key", "failed_check"),
    info={
        "doc": "Records held back by validation or loading, with the reason and all their values: one "
        "row per record, content and check, however many runs hold it back."
    },
)

alert_outbox = sa.Table(
    "alert_outbox",
    metadata,
    _col("outbox_id", sa.Integer, primary_key=True, autoincrement=True, doc="Surrogate key."),
    _col("host", sa.Text, doc="Site host of the notice."),
    _col("notice_id", sa.BigInteger, doc="The site's notice id; a notice is announced once, for its first revision."),
    _col(
        "notice_rev_id",
        sa.Integer,
        sa.ForeignKey("notice.notice_rev_id", ondelete="CASCADE"),
        doc="The revision the load stage inserted when it enqueued the notice.",
    ),
    _col(
        "run_id",
        sa.Text,
        sa.ForeignKey("etl_run.run_id"),
        nullable=True,
        doc="The etl_run whose load stage enqueued the notice (same transaction as the notice insert).",
    ),
    _col(
        "is_baseline",
        sa.Boolean,
        doc="True: recorded as already known (first load of its channel, or a backfill) and not "
        "announced unless `qdp alert --include-baseline` routes it deliberately.",
    ),
    _col("enqueued_at", TZ, doc="When the load stage wrote the row."),
    _col(
        "routed_at",
        TZ,
        nullable=True,
        doc="When the alert stage matched it against the subscriptions and created its deliveries; "
        "NULL while waiting (and for baseline rows never announced).",
    ),
    sa.UniqueConstraint("host", "notice_id"),
    info={
        "doc": "Transactional outbox of new-notice alerts: one row per new notice, written by the load "
        "stage in the transaction that inserts the notice, so no crash can lose an alert."
    },
)
sa.Index("ix_alert_outbox_routed_at", alert_outbox.c.routed_at)

ALERT_DELIVERY_STATUSES = ("pending", "delivered", "expired")
alert_delivery = sa.Table(
    "alert_delivery",
    metadata,
    _col("delivery_id", sa.Integer, primary_key=True, autoincrement=True, doc="Surrogate key."),
    _col(
        "outbox_id",
        sa.Integer,
        sa.ForeignKey("alert_outbox.outbox_id", ondelete="CASCADE"),
        doc="The notice to announce.",
    ),
    _col(
        "destination",
        sa.Text,
        doc="Destination key: sha256 of the Apprise URL (URLs hold secrets and are never stored).",
    ),
    _col("destination_label", sa.Text, doc="The Apprise URL with secrets masked, for people reading this table."),
    _col("status", sa.Text, doc="pending, delivered or expired."),
    _col("attempts", sa.Integer, doc="Delivery attempts so far."),
    _col("last_error", sa.Text, nullable=True, doc="Why the last attempt failed."),
    _col("next_attempt_at", TZ, doc="Earliest time of the next attempt (exponential backoff)."),
    _col(
        "claimed_by",
        sa.Text,
        nullable=True,
        doc="Token of the alert stage currently sending the row; NULL when nobody is.",
    ),
    _col(
        "claimed_until",
        TZ,
        nullable=True,
        doc="End of the claim's lease: a sender that died is replaced after it.",
    ),
    _col(
        "message_id",
        sa.Text,
        nullable=True,
        doc="The message that delivered the row (`qdp alert --message ID` lists its notices).",
    ),
    _col("created_at", TZ, doc="When the notice was routed to this destination."),
    _col("delivered_at", TZ, nullable=True, doc="When the destination accepted the message."),
    sa.UniqueConstraint("outbox_id", "destination"),
    sa.CheckConstraint("status IN ('pending', 'delivered', 'expired')", name="status_known"),
    info={
        "doc": "One row per (notice, destination): marked delivered only after that destination "
        "accepted the message; failed attempts stay pending with their error and backoff until "
        "they pass QDP_ALERT_MAX_AGE_HOURS (expired)."
    },
)
sa.Index("ix_alert_delivery_status_destination", alert_delivery.c.status, alert_delivery.c.destination)
sa.Index("ix_alert_delivery_message_id", alert_delivery.c.message_id)

# Analyst views, in dependency order: sql/views/<name>.sql holds the current definition, the newest
# migration that creates views holds a frozen copy of it (a test checks they agree).
VIEWS: tuple[str, ...] = (
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

# PostgreSQL keeps the same descriptions as COMMENT ON (psql \\d+); one source for both.
for _table in metadata.tables.values():
    _table.comment = _table.info.get("doc")
    for _column in _table.columns:
        _column.comment = _column.info.get("doc")
