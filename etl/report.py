"""The summary ``make demo`` and ``qdp report`` print: what the last run did, what the warehouse
holds, and how one department's plans changed year over year. Read from the warehouse's analyst
views only, so it shows what an analyst querying the warehouse would see.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from .settings import Settings


def _rows(conn: sa.Connection, sql: str, **params: Any) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in conn.execute(sa.text(sql), params)]


def _counts(value: Any) -> dict[str, int]:
    return json.loads(value) if isinstance(value, str) else dict(value or {})


def summary(settings: Settings, *, department: str = "青岛市教育局") -> dict[str, Any]:
    from . import warehouse

    engine = warehouse.get_engine(settings.warehouse_url)
    with engine.connect() as conn:
        last = _rows(conn, "SELECT run_id, status, started_at, finished_at FROM etl_run "
                           "ORDER BY started_at DESC LIMIT 1")
        stages = {}
        if last:
            for row in _rows(conn, "SELECT stage, seconds, counts FROM etl_run_stage WHERE run_id = :r",
                             r=last[0]["run_id"]):
                stages[row["stage"]] = {"seconds": row["seconds"], "counts": _counts(row["counts"])}
        totals = _rows(conn, """
            SELECT doc_type, COUNT(*) AS notices FROM notice WHERE is_current GROUP BY doc_type
            ORDER BY doc_type""")
        items = conn.execute(sa.text("SELECT COUNT(*) FROM v_plan_items")).scalar_one()
        targets = conn.execute(sa.text("SELECT COUNT(*) FROM v_plan_targets")).scalar_one()
        quarantined = conn.execute(sa.text("SELECT COUNT(*) FROM quarantine")).scalar_one()
        yoy = _rows(conn, """
            SELECT plan_year,
                   SUM(CASE WHEN status = 'continued' THEN 1 ELSE 0 END) AS continued,
                   SUM(CASE WHEN status = 'revised' THEN 1 ELSE 0 END) AS revised,
                   SUM(CASE WHEN status = 'new' THEN 1 ELSE 0 END) AS new,
                   SUM(CASE WHEN status = 'dropped' THEN 1 ELSE 0 END) AS dropped
            FROM plan_item_link WHERE department = :d GROUP BY plan_year ORDER BY plan_year""",
                    d=department)
        plan_sizes = {r["plan_year"]: r["n"] for r in _rows(conn, """
            SELECT plan_year, COUNT(*) AS n FROM v_plan_items
            WHERE department = :d AND doc_type = 'work_plan' GROUP BY plan_year""", d=department)}
        moves = _rows(conn, """
            SELECT plan_year, object, unit, previous_value, value FROM v_yoy_target_changes
            WHERE department = :d AND value <> previous_value ORDER BY plan_year, object""", d=department)
    return {"last_run": last[0] if last else None, "stages": stages, "notices_by_doc_type": totals,
            "plan_items": items, "targets": targets, "quarantined": quarantined, "department": department,
            "plan_sizes": plan_sizes, "yoy": yoy, "target_moves": moves}


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:g}"


def render_summary(s: dict[str, Any]) -> str:
    out = []
    run = s["last_run"]
    if run:
        out.append(f"Last run {run['run_id']}: {run['status']}")
    crawl = s["stages"].get("crawl", {}).get("counts", {})
    validate = s["stages"].get("validate", {}).get("counts", {})
    load = s["stages"].get("load", {}).get("counts", {})
    if crawl:
        out.append(f"  discovered: {crawl.get('new_notices', 0)} new, {crawl.get('changed_notices', 0)} changed "
                   f"notices ({crawl.get('list_pages', 0)} list pages, {crawl.get('detail_fetched', 0)} pages "
                   f"fetched, {crawl.get('retried', 0)} retries, {crawl.get('failed', 0)} failed)")
    if validate:
        out.append(f"  validation: {validate.get('notices_valid', 0)} of {validate.get('notices_checked', 0)} "
                   f"notices passed; quarantined {validate.get('notices_quarantined', 0)} notices, "
                   f"{validate.get('items_quarantined', 0)} items, {validate.get('targets_quarantined', 0)} targets")
    if load:
        out.append(f"  loaded: {load.get('notices_new', 0)} new and {load.get('notices_revised', 0)} revised "
                   f"notices, {load.get('items_loaded', 0)} plan items, {load.get('targets_loaded', 0)} targets "
                   f"({load.get('notices_unchanged', 0)} unchanged)")
    by_type = ", ".join(f"{r['doc_type']} {r['notices']}" for r in s["notices_by_doc_type"])
    out.append(f"Warehouse: notices ({by_type}); {s['plan_items']} plan items, {s['targets']} numeric targets, "
               f"{s['quarantined']} quarantined records")
    out.append("")
    out.append(f"Year over year — {s['department']} (annual work plans)")
    out.append(f"  {'year':<6}{'items':>6}{'continued':>11}{'revised':>9}{'new':>6}{'dropped':>9}")
    linked_years = {r["plan_year"] for r in s["yoy"]}
    for year in sorted(set(s["plan_sizes"]) | linked_years):
        r = next((r for r in s["yoy"] if r["plan_year"] == year), None)
        if r is None:
            out.append(f"  {year:<6}{s['plan_sizes'].get(year, 0):>6}{'(first year on record)':>35}")
        else:
            out.append(f"  {year:<6}{s['plan_sizes'].get(year, 0):>6}{r['continued']:>11}{r['revised']:>9}"
                       f"{r['new']:>6}{r['dropped']:>9}")
    if s["target_moves"]:
        out.append("  numeric targets that moved:")
        for m in s["target_moves"][:12]:
            out.append(f"    {m['plan_year']}  {m['object'] or '?'}: {_fmt(m['previous_value'])} → "
                       f"{_fmt(m['value'])} {m['unit']}")
    return "\n".join(out)


def print_summary(settings: Settings, *, department: str = "青岛市教育局") -> None:
    print(render_summary(summary(settings, department=department)))
