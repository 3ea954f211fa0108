"""Data dictionary: the one source of what every table, view and column means.

docs/data-dictionary.md is rendered from ``schema.metadata`` (tables), ``VIEW_COLUMNS`` below
(views) and the header comments of sql/; PostgreSQL gets the same text as ``COMMENT ON``
(``comment_statements``, applied by ``etl.warehouse.upgrade``). Tests fail when the committed file
differs, or when a view has a column this module does not describe (or the other way round).

    python -m etl.warehouse.dictionary            # rewrite docs/data-dictionary.md
    python -m etl.warehouse.dictionary --check    # exit 1 when it is out of date
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import sqlalchemy as sa

from . import SQL_DIR, head_revision, schema

DOC_PATH = Path(__file__).resolve().parents[2] / "docs" / "data-dictionary.md"

_NOTICE = {
    "host": "Site host of the notice.",
    "notice_id": "The site's notice id.",
    "url": "URL of the notice page on the live site.",
    "title": "Notice title.",
}
_SIMILARITY = "Text similarity of the pair, 0–100 (100 = same text); NULL for new and dropped items."

# Every column of every view: meaning and units. A test compares this with the migrated views.
VIEW_COLUMNS: dict[str, dict[str, str]] = {
    "v_plan_items": {
        "department": "Canonical department name (青岛市教育局); NULL when the notice names none.",
        "plan_year": "Year the plan is for.",
        "doc_type": "work_plan (annual) or action_plan (multi-year); other notices have no items.",
        "title": "Notice title.",
        "published": "Publication date shown on the page (Asia/Shanghai calendar date).",
        "host": _NOTICE["host"],
        "notice_id": _NOTICE["notice_id"],
        "url": _NOTICE["url"],
        "item_uid": "Stable item id host:notice_id:section:ordinal.",
        "section": "Section number of the item (1-based; 0 when the document has no sections).",
        "section_title": "Heading of the item's section (一、…); NULL when there is none.",
        "item_group": "Heading between section and item in three-level documents, e.g. （一）深化教育改革; "
        "NULL otherwise.",
        "ordinal": "Position of the item within its section (1-based).",
        "item_order": "Position of the item within the whole document (1-based).",
        "marker": "Numbering as written, e.g. 1. or （六）.",
        "headline": "Leading short sentence of the item.",
        "text": "Normalised Simplified text of the item.",
        "lead_units": "Lead (牵头) units as canonical department names: text[] on PostgreSQL, "
        "a JSON list (text) on SQLite.",
        "partner_units": "Partner (参与/配合) units as canonical department names: text[] on PostgreSQL, "
        "a JSON list (text) on SQLite.",
    },
    "v_notice_revisions": {
        "host": _NOTICE["host"],
        "notice_id": _NOTICE["notice_id"],
        "revision": "Revision number (1 = first content seen).",
        "is_current": "True for the current revision.",
        "title": "Title of this revision.",
        "published": "Publication date of this revision.",
        "content_sha256": "SHA-256 of the page body of this revision (over the page and its attachments when "
        "it links documents).",
        "valid_from": "When this revision was fetched (UTC).",
        "valid_to": "When a newer revision replaced it (UTC); NULL while current.",
        "previous_revision": "Revision this one replaced; NULL for the first.",
        "previous_title": "Title of the previous revision.",
        "previous_content_sha256": "SHA-256 of the previous revision's body.",
        "previous_valid_from": "When the previous revision was fetched (UTC).",
        "item_count": "Plan items of this revision (count).",
        "previous_item_count": "Plan items of the previous revision (count); NULL for the first.",
    },
    "v_plan_targets": {
        "department": "Canonical department name.",
        "plan_year": "Year the plan is for.",
        "doc_type": "work_plan (annual) or action_plan (multi-year): never add the two.",
        "host": _NOTICE["host"],
        "notice_id": _NOTICE["notice_id"],
        "item_uid": "Item the target belongs to.",
        "headline": "Headline of that item.",
        "target_ordinal": "Position of the target within the item (1-based).",
        "action": "Verb of the target, e.g. 新建; NULL when none was found.",
        "object": "What is counted, e.g. 幼儿园; NULL when none was found.",
        "value": "Numeric value, in `unit`.",
        "unit": "Counting unit as written, multiplier included (所, 万人, 亿元, %).",
        "modifier": "What qualifies the number: 以上, 以下, 左右, 不低于, 不少于, 力争, 累计, 各, range "
        "(joined by 、); NULL when none.",
        "value_min": "Floor of the target (以上, 不低于, low end of a range), in `unit`; NULL when none.",
        "value_max": "Ceiling of the target (以下, 不超过, high end of a range), in `unit`; NULL when none.",
        "target_kind": "target (a commitment) or scope (a count that describes, e.g. 全市16处); NULL for "
        "rows loaded before it was recorded.",
        "span": "The text the target was read from.",
    },
    "v_yoy_item_changes": {
        "department": "Canonical department name.",
        "plan_year": "This year's plan year.",
        "status": "continued, revised, new or dropped.",
        "similarity": _SIMILARITY,
        "item_uid": "This year's item; NULL for dropped.",
        "previous_item_uid": "Last year's item; NULL for new.",
        "section": "Section of this year's item.",
        "section_title": "Section heading of this year's item.",
        "item_group": "Group heading of this year's item (three-level documents).",
        "ordinal": "Position of this year's item within its section.",
        "marker": "Numbering of this year's item as written.",
        "headline": "Headline of this year's item.",
        "text": "Text of this year's item.",
        "notice_id": "Notice of this year's item.",
        "notice_title": "Title of that notice.",
        "url": "URL of that notice.",
        "previous_plan_year": "Plan year of last year's item.",
        "previous_section": "Section of last year's item.",
        "previous_section_title": "Section heading of last year's item.",
        "previous_ordinal": "Position of last year's item within its section.",
        "previous_headline": "Headline of last year's item.",
        "previous_text": "Text of last year's item.",
        "previous_notice_id": "Notice of last year's item.",
        "previous_notice_title": "Title of that notice.",
        "previous_url": "URL of that notice.",
        "computed_at": "When the compare stage computed the link (UTC).",
        "doc_type": "Plan kind of the linked items (work_plan).",
    },
    "v_yoy_summary": {
        "department": "Canonical department name.",
        "plan_year": "Plan year.",
        "items": "Items of the year's annual work plan(s) (count; multi-year plans not included).",
        "continued": "Items carried over with (nearly) the same text (count); NULL in the first year on record.",
        "revised": "Items carried over with changed text (count); NULL in the first year on record.",
        "possible": "Links the compare stage is unsure of (count); NULL in the first year on record.",
        "new": "Items without a predecessor last year (count); NULL in the first year on record.",
        "dropped": "Last year's items without a successor (count); NULL in the first year on record.",
    },
    "v_yoy_target_changes": {
        "department": "Canonical department name.",
        "plan_year": "This year's plan year.",
        "doc_type": "Plan kind; both sides always have the same one.",
        "status": "Link status of the items: continued or revised.",
        "item_uid": "This year's item.",
        "previous_item_uid": "Last year's item.",
        "previous_plan_year": "Last year's plan year.",
        "object": "What is counted, e.g. 幼儿园.",
        "unit": "Counting unit, the same on both sides (所, 万人, 亿元, %).",
        "action": "This year's verb, e.g. 新建.",
        "previous_value": "Last year's value, in `unit`.",
        "value": "This year's value, in `unit`.",
        "previous_modifier": "Last year's qualifier (以上, 力争, range, ...); NULL when none.",
        "modifier": "This year's qualifier; compare floors with floors.",
        "previous_span": "Text last year's value was read from.",
        "span": "Text this year's value was read from.",
        "notice_id": "Notice of this year's item.",
        "previous_notice_id": "Notice of last year's item.",
        "value_change": "value − previous_value, in `unit`.",
        "movement": "raised, lowered or kept.",
    },
    "v_run_history": {
        "run_id": "Run id.",
        "dag_id": "Airflow DAG id, when run by Airflow.",
        "dag_run_id": "Airflow dag_run id, when run by Airflow.",
        "started_at": "Start of the run (UTC).",
        "finished_at": "End of the run (UTC); NULL while running.",
        "status": "Run status as recorded in etl_run.",
        "stage_count": "Stages that reported (count).",
        "stage_seconds": "Total wall time of the stages (seconds).",
        "revisions_loaded": "Notice revisions the run loaded (count).",
        "records_quarantined": "Records the run quarantined (count).",
    },
    "v_run_health": {
        "run_id": "Run id.",
        "run_rank": "1 for the latest run (by start time), 2 for the one before, …",
        "dag_id": "Airflow DAG id, when run by Airflow.",
        "dag_run_id": "Airflow dag_run id, when run by Airflow.",
        "status": "Run status as recorded in etl_run (new statuses pass through unchanged).",
        "started_at": "Start of the run (UTC).",
        "finished_at": "End of the run (UTC); NULL while running.",
        "duration_seconds": "finished_at − started_at (seconds); NULL while running.",
        "stage_seconds": "Total wall time of the stages that reported (seconds).",
        "list_pages": "List pages the crawl read (count).",
        "pages_fetched": "Notice pages the crawl fetched (count).",
        "pages_failed": "Pages the crawl could not fetch (count).",
        "parse_errors": "Pages the parser could not handle, quarantined (count).",
        "records_rejected": "Notices, items and targets validation rejected (count).",
        "records_quarantined": "Rows in quarantine for the run (count).",
        "revisions_loaded": "Notice revisions the run loaded (count).",
    },
    "v_quarantine_summary": {
        "run_id": "Run that quarantined the records.",
        "record_type": "notice, plan_item or plan_target.",
        "failed_check": "The failed expectation or rule.",
        "records": "Records held back (count).",
        "first_quarantined_at": "First time (UTC).",
        "last_quarantined_at": "Last time (UTC).",
    },
}


def _type(col: sa.Column) -> str:
    t = col.type
    if isinstance(t, sa.DateTime):
        return "timestamp with time zone" if t.timezone else "timestamp"
    return {
        "Text": "text",
        "Integer": "integer",
        "BigInteger": "bigint",
        "Boolean": "boolean",
        "Date": "date",
        "Float": "double precision",
        "JSON": "jsonb (PostgreSQL) / JSON text (SQLite)",
    }.get(type(t).__name__, str(t).lower())


def _header(path: Path) -> list[str]:
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("--"):
            break
        lines.append(line.removeprefix("--").strip())
    return lines


def _body(path: Path) -> str:
    return "\n".join(
        line for line in path.read_text(encoding="utf-8").splitlines() if not line.startswith("--")
    ).strip()


def render() -> str:
    out = [
        "# Warehouse data dictionary",
        "",
        "<!-- Generated by `python -m etl.warehouse.dictionary` from etl/warehouse/schema.py and sql/;",
        "     do not edit by hand (tests/unit/test_load.py fails when it is stale). -->",
        "",
        f"Schema revision (Alembic head): `{head_revision()}`. The same tables, keys and views exist on "
        "SQLite and PostgreSQL. Timestamps are UTC. JSON is stored as plain UTF-8 text (no \\u escapes), "
        "so LIKE finds Chinese names in it. Unit columns (`lead_units`, `partner_units`) hold canonical "
        "department names (etl/departments.py). On PostgreSQL every table, view and column carries "
        "the description below as a `COMMENT` (`\\d+` in psql). See docs/warehouse.md for how loads and "
        "revisions work, and its analyst cookbook for worked queries.",
        "",
        "## Tables",
        "",
    ]
    for table in schema.metadata.sorted_tables:
        out += [f"### `{table.name}`", "", table.info.get("doc", ""), ""]
        pk = [c.name for c in table.primary_key.columns]
        out += [f"Primary key: `({', '.join(pk)})`", ""]
        out += ["| column | type | null | description |", "|---|---|---|---|"]
        for col in table.columns:
            out.append(
                f"| `{col.name}` | {_type(col)} | {'yes' if col.nullable else 'no'} | "
                f"{col.info.get('doc', '')} |"
            )
        out.append("")
        extras = []
        for fk in sorted(table.foreign_key_constraints, key=lambda f: f.name or ""):
            cols = ", ".join(c.name for c in fk.columns)
            ref = ", ".join(e.target_fullname for e in fk.elements)
            extras.append(f"- foreign key `({cols})` → `{ref}`")
        for uq in sorted(
            (c for c in table.constraints if isinstance(c, sa.UniqueConstraint)), key=lambda c: c.name or ""
        ):
            extras.append(f"- unique `({', '.join(c.name for c in uq.columns)})`")
        for ck in sorted(
            (c for c in table.constraints if isinstance(c, sa.CheckConstraint)), key=lambda c: str(c.name)
        ):
            extras.append(f"- check `{ck.sqltext}`")
        for ix in sorted(table.indexes, key=lambda i: i.name or ""):
            where = ix.dialect_options["postgresql"].get("where")
            kind = "unique index" if ix.unique else "index"
            cond = f" where `{where}`" if where is not None else ""
            extras.append(f"- {kind} `{ix.name}` on `({', '.join(c.name for c in ix.columns)})`{cond}")
        if extras:
            out += [*extras, ""]
    out += [
        "## Views",
        "",
        "Defined in `sql/views/` and created by migrations from frozen copies of those files; query "
        "them like tables.",
        "",
    ]
    for name in schema.VIEWS:
        out += [
            f"### `{name}`",
            "",
            view_doc(name),
            "",
            f"Answers: {_header(SQL_DIR / 'views' / f'{name}.sql')[0].split(':', 1)[-1].strip()}",
            "",
            "| column | description |",
            "|---|---|",
        ]
        out += [f"| `{col}` | {doc} |" for col, doc in VIEW_COLUMNS[name].items()]
        out.append("")
    out += [
        "## Saved queries (example queries)",
        "",
        "In `sql/queries/`; `:name` marks a parameter. From Python: "
        '`etl.warehouse.run_saved_query(engine, "<file stem>", name=value)`.',
        "",
    ]
    for path in sorted((SQL_DIR / "queries").glob("*.sql")):
        out += [f"### `{path.stem}`", "", " ".join(_header(path)), "", "```sql", _body(path), "```", ""]
    return "\n".join(out).rstrip() + "\n"


def view_doc(name: str) -> str:
    header = _header(SQL_DIR / "views" / f"{name}.sql")
    return " ".join(header[1:])


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def comment_statements() -> list[tuple[str, str]]:
    """``(relation, COMMENT ON ...)`` for every table, column, view and view column (PostgreSQL)."""
    out = []
    for table in schema.metadata.sorted_tables:
        out.append((table.name, f"COMMENT ON TABLE {table.name} IS {_quote(table.info['doc'])}"))
        for col in table.columns:
            out.append((table.name, f"COMMENT ON COLUMN {table.name}.{col.name} IS {_quote(col.info['doc'])}"))
    for name in schema.VIEWS:
        out.append((name, f"COMMENT ON VIEW {name} IS {_quote(view_doc(name))}"))
        for col, doc in VIEW_COLUMNS[name].items():
            out.append((name, f"COMMENT ON COLUMN {name}.{col} IS {_quote(doc)}"))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only check that the file is up to date")
    parser.add_argument("--output", type=Path, default=DOC_PATH)
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is out of date: run python -m etl.warehouse.dictionary", file=sys.stderr)
            return 1
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
