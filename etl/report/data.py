"""The report's content as plain data: what ``qdp report --json`` prints and what the text and HTML
renderings show. Read from the analyst views only, so it shows what an analyst querying the
warehouse would see; no list is cut (the renderings say how many rows they leave out).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ..departments import DEPARTMENTS, canonical_department

RUN_HEALTH_RUNS = 10  # runs shown in the run-health panel (the total is reported beside them)


class ReportError(ValueError):
    """The report cannot be built (unknown department, warehouse not migrated)."""


class UnknownDepartmentError(ReportError):
    """A department name (or alias) that is neither curated nor in the warehouse."""


def _rows(conn: sa.Connection, sql: str, **params: Any) -> list[dict[str, Any]]:
    return [{k: _plain(v) for k, v in r._mapping.items()} for r in conn.execute(sa.text(sql), params)]


def _plain(value: Any) -> Any:
    """JSON-ready values: ISO dates, floats for numerics, lists for JSON text (SQLite units)."""
    if isinstance(value, dt.datetime):
        return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if hasattr(value, "is_finite"):  # Decimal (PostgreSQL EXTRACT, SUM)
        return float(value)
    return value


def _counts(value: Any) -> dict[str, int]:
    return json.loads(value) if isinstance(value, str) else dict(value or {})


def resolve_departments(engine: Engine, names: list[str] | None) -> list[str]:
    """Canonical names for ``names`` (aliases such as 市教育局 accepted). ``None``: every department
    with a plan in the warehouse. Raises ``UnknownDepartmentError`` for a name nobody knows."""
    with engine.connect() as conn:
        in_warehouse = set(conn.execute(sa.text("SELECT name FROM department")).scalars())
        if names is None:
            return list(conn.execute(sa.text(
                "SELECT DISTINCT department FROM v_plan_items WHERE department IS NOT NULL "
                "ORDER BY department")).scalars())
    known = in_warehouse | {d.name for d in DEPARTMENTS}
    out = []
    for name in names:
        canon = canonical_department(name)
        if canon not in known:
            raise UnknownDepartmentError(
                f"unknown department {name!r}: give a name or alias from etl/departments.py "
                f"(e.g. 青岛市教育局 or 市教育局) or one of the warehouse's departments")
        if canon not in out:
            out.append(canon)
    return out


def _department(conn: sa.Connection, name: str) -> dict[str, Any]:
    years = _rows(conn, """
        SELECT plan_year, items, continued, revised, possible, new, dropped
        FROM v_yoy_summary WHERE department = :d ORDER BY plan_year""", d=name)
    notices = _rows(conn, """
        SELECT plan_year, doc_type, notice_id, title, published, url, COUNT(*) AS items
        FROM v_plan_items WHERE department = :d
        GROUP BY plan_year, doc_type, notice_id, title, published, url
        ORDER BY plan_year, doc_type, notice_id""", d=name)
    moves = _rows(conn, """
        SELECT plan_year, previous_plan_year, doc_type, object, unit, action, previous_value, value,
               value_change, movement, previous_span, span, item_uid, previous_item_uid
        FROM v_yoy_target_changes WHERE department = :d
        ORDER BY plan_year, object, unit, item_uid""", d=name)
    new_items = _rows(conn, """
        SELECT plan_year, item_uid, section, section_title, item_group, ordinal, marker, headline, text,
               notice_id, notice_title, url
        FROM v_yoy_item_changes WHERE department = :d AND status = 'new'
        ORDER BY plan_year, notice_id, section, ordinal""", d=name)
    dropped_items = _rows(conn, """
        SELECT plan_year, previous_plan_year, previous_item_uid AS item_uid,
               previous_section AS section, previous_section_title AS section_title,
               previous_ordinal AS ordinal, previous_headline AS headline, previous_text AS text,
               previous_notice_id AS notice_id, previous_notice_title AS notice_title, previous_url AS url
        FROM v_yoy_item_changes WHERE department = :d AND status = 'dropped'
        ORDER BY plan_year, previous_notice_id, previous_section, previous_ordinal""", d=name)
    return {
        "department": name,
        "years": years,
        "notices": notices,
        "target_changes": moves,
        "target_moves": [m for m in moves if m["movement"] != "kept"],
        "target_trends": target_trends(moves),
        "new_items": new_items,
        "dropped_items": dropped_items,
    }


def target_trends(changes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each object's value by year, from the linked target pairs: one series per (doc type, object,
    unit), with every year's value and the move that led to it."""
    series: dict[tuple[str, str, str], dict[int, dict[str, Any]]] = {}
    for c in changes:
        key = (c["doc_type"], c["object"] or "?", c["unit"])
        points = series.setdefault(key, {})
        points.setdefault(c["previous_plan_year"], {"plan_year": c["previous_plan_year"],
                                                     "value": c["previous_value"], "movement": None,
                                                     "change": None})
        points[c["plan_year"]] = {"plan_year": c["plan_year"], "value": c["value"],
                                  "movement": c["movement"], "change": c["value_change"]}
    return [{"doc_type": k[0], "object": k[1], "unit": k[2],
             "points": [p[y] for y in sorted(p)]} for k, p in sorted(series.items())]


def build_report(engine: Engine, departments: list[str] | None = None) -> dict[str, Any]:
    """The whole report for ``departments`` (canonical names or aliases; None: all with plans)."""
    names = resolve_departments(engine, departments)
    with engine.connect() as conn:
        runs = _rows(conn, "SELECT * FROM v_run_health WHERE run_rank <= :n ORDER BY run_rank",
                     n=RUN_HEALTH_RUNS)
        run_total = conn.execute(sa.text("SELECT COUNT(*) FROM etl_run")).scalar_one()
        stages: dict[str, Any] = {}
        if runs:
            for row in _rows(conn, "SELECT stage, seconds, counts FROM etl_run_stage WHERE run_id = :r "
                                   "ORDER BY stage", r=runs[0]["run_id"]):
                stages[row["stage"]] = {"seconds": row["seconds"], "counts": _counts(row["counts"])}
        quarantine = _rows(conn, """
            SELECT q.run_id, q.record_type, q.failed_check, q.records
            FROM v_quarantine_summary AS q
            INNER JOIN v_run_health AS r ON q.run_id = r.run_id
            WHERE r.run_rank <= :n ORDER BY r.run_rank, q.record_type, q.failed_check""", n=RUN_HEALTH_RUNS)
        totals = {
            "notices_by_doc_type": _rows(conn, "SELECT doc_type, COUNT(*) AS notices FROM notice "
                                               "WHERE is_current GROUP BY doc_type ORDER BY doc_type"),
            "plan_items": conn.execute(sa.text("SELECT COUNT(*) FROM v_plan_items")).scalar_one(),
            "targets": conn.execute(sa.text("SELECT COUNT(*) FROM v_plan_targets")).scalar_one(),
            "quarantined": conn.execute(sa.text("SELECT COUNT(*) FROM quarantine")).scalar_one(),
        }
        depts = [_department(conn, name) for name in names]
    return {
        "generated_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "warehouse": totals,
        "last_run": ({**runs[0], "stages": stages} if runs else None),
        "run_health": {"runs": runs, "runs_total": run_total, "more_runs": max(run_total - len(runs), 0),
                       "quarantine": quarantine},
        "departments": depts,
    }


__all__ = ["ReportError", "UnknownDepartmentError", "build_report", "resolve_departments", "target_trends"]
