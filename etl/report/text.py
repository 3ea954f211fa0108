"""Plain-text rendering of the report (``qdp report``, end of ``qdp run``). Long lists show their
first rows and say how many more there are; ``--json`` and ``--html`` have them all."""

from __future__ import annotations

from typing import Any

TEXT_ROWS = 12  # rows per list in the terminal


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def _more(total: int, shown: int) -> list[str]:
    if total > shown:
        return [f"    … and {total - shown} more (qdp report --json or --html lists all)"]
    return []


def render_text(report: dict[str, Any]) -> str:
    out: list[str] = []
    run = report["last_run"]
    if run:
        out.append(f"Last run {run['run_id']}: {run['status']}")
        stages = run["stages"]
        crawl = stages.get("crawl", {}).get("counts", {})
        validate = stages.get("validate", {}).get("counts", {})
        load = stages.get("load", {}).get("counts", {})
        if crawl:
            out.append(f"  discovered: {crawl.get('new_notices', 0)} new, {crawl.get('changed_notices', 0)} "
                       f"changed notices ({crawl.get('list_pages', 0)} list pages, "
                       f"{crawl.get('detail_fetched', 0)} pages fetched, {crawl.get('retried', 0)} retries, "
                       f"{crawl.get('failed', 0)} failed)")
        if validate:
            out.append(f"  validation: {validate.get('notices_valid', 0)} of {validate.get('notices_checked', 0)} "
                       f"notices passed; quarantined {validate.get('notices_quarantined', 0)} notices, "
                       f"{validate.get('items_quarantined', 0)} items, "
                       f"{validate.get('targets_quarantined', 0)} targets")
        if load:
            out.append(f"  loaded: {load.get('notices_new', 0)} new and {load.get('notices_revised', 0)} revised "
                       f"notices, {load.get('items_loaded', 0)} plan items, {load.get('targets_loaded', 0)} "
                       f"targets ({load.get('notices_unchanged', 0)} unchanged)")
    w = report["warehouse"]
    by_type = ", ".join(f"{r['doc_type']} {r['notices']}" for r in w["notices_by_doc_type"])
    out.append(f"Warehouse: notices ({by_type}); {w['plan_items']} plan items, {w['targets']} numeric "
               f"targets, {w['quarantined']} quarantined records")
    for dept in report["departments"]:
        out += ["", f"Year over year — {dept['department']} (annual work plans)"]
        out.append(f"  {'year':<6}{'items':>6}{'continued':>11}{'revised':>9}{'possible':>10}{'new':>6}"
                   f"{'dropped':>9}")
        for y in dept["years"]:
            if y["continued"] is None:
                out.append(f"  {y['plan_year']:<6}{y['items']:>6}{'(first year on record)':>45}")
            else:
                # possible: a candidate predecessor only, counted apart from new and dropped
                out.append(f"  {y['plan_year']:<6}{y['items']:>6}{y['continued']:>11}{y['revised']:>9}"
                           f"{y.get('possible') or 0:>10}{y['new']:>6}{y['dropped']:>9}")
        moves = dept["target_moves"]
        if moves:
            out.append(f"  numeric targets that moved ({len(moves)}):")
            for m in moves[:TEXT_ROWS]:
                out.append(f"    {m['plan_year']}  {m['object'] or '?'}: {_fmt(m['previous_value'])} → "
                           f"{_fmt(m['value'])} {m['unit']} ({m['movement']})")
            out += _more(len(moves), TEXT_ROWS)
    return "\n".join(out)
