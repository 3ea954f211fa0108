"""Data Docs that work offline: one page of our own built from the validation results of every run.

Great Expectations' own Data Docs load their CSS and JavaScript from CDNs (blank without internet),
show no failing record and, with the pipeline's ephemeral context, only the latest run. Here each
validation run leaves ``runs/<run>.json`` (suites, expectations evaluated, failed checks and the
keys of every failing record with the reason), and ``index.html`` is rebuilt from all of them,
newest run first: self-contained, no script, every string escaped. The folder may be local or in
an object store (``etl.storage``); each file is written whole, never half.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .storage import Location

RUNS_DIR = "runs"
INDEX = "index.html"


def _safe_name(run_name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", run_name)[:120] or "run"


def record_validation(docs_dir: Path | Location, run_name: str | None, suites: dict[str, dict[str, Any]],
                      quarantined: Iterable[Any]) -> Path | Location:
    """Store one run's results beside the earlier ones and rebuild the index; returns its path."""
    now = dt.datetime.now(dt.UTC)  # microseconds: runs validated in one second still sort
    run_name = run_name or now.strftime("%Y%m%dT%H%M%SZ")
    failing: dict[str, dict[str, Any]] = {}
    for q in quarantined:
        check = failing.setdefault(f"{q.record_type}|{q.check}", {
            "record_type": q.record_type, "check": q.check, "reason": q.reason, "record_keys": []})
        check["record_keys"].append(q.record_key)
    result = {"run": run_name, "validated_at": now.isoformat(), "suites": suites,
              "success": all(s.get("success", False) for s in suites.values()),
              "failing": sorted(failing.values(), key=lambda c: (c["record_type"], c["check"]))}
    path = Location.of(docs_dir) / RUNS_DIR / f"{_safe_name(run_name)}.json"
    path.write_text(json.dumps(result, ensure_ascii=False, indent=1, default=str))
    return write_index(docs_dir)


def load_runs(docs_dir: Path | Location) -> list[dict[str, Any]]:
    out = []
    for path in (Location.of(docs_dir) / RUNS_DIR).glob("*.json"):
        try:
            out.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            out.append({"run": path.stem, "validated_at": "", "suites": {}, "success": False,
                        "failing": [], "unreadable": str(path)})
    return sorted(out, key=lambda r: (r.get("validated_at", ""), r.get("run", "")), reverse=True)


def e(value: Any) -> str:
    return html.escape("–" if value is None else str(value), quote=True)


def _run_section(run: dict[str, Any], open_: bool) -> str:
    status = "passed" if run.get("success") else "failed"
    rows = "".join(
        f"<tr><td>{e(name)}</td><td class=num>{e(s.get('rows'))}</td><td class=num>{e(s.get('evaluated'))}</td>"
        f"<td class=num>{e(s.get('failed_rows', 0))}</td><td>{e(', '.join(s.get('failed_expectations', [])))}</td></tr>"
        for name, s in sorted(run.get("suites", {}).items()))
    checks = "".join(
        f"<details><summary><b>{e(c['record_type'])}</b> · {e(c['check'])} — {len(c['record_keys'])} records"
        f"</summary><p>{e(c['reason'])}</p><ul>{''.join(f'<li><code>{e(k)}</code></li>' for k in c['record_keys'])}"
        f"</ul></details>" for c in run.get("failing", []))
    unreadable = f"<p class=bad>results file unreadable: {e(run['unreadable'])}</p>" if "unreadable" in run else ""
    return (f"<details class=run {'open' if open_ else ''}><summary><b>{e(run.get('run'))}</b> "
            f"<span class={status}>{status}</span> <span class=meta>{e(run.get('validated_at'))}</span></summary>"
            f"{unreadable}<table><tr><th>suite</th><th>rows</th><th>expectations</th><th>failing rows</th>"
            f"<th>failed expectations</th></tr>{rows}</table>"
            f"{checks or '<p class=meta>No failing record.</p>'}</details>")


def write_index(docs_dir: Path | Location) -> Path | Location:
    runs = load_runs(docs_dir)
    body = "".join(_run_section(r, i == 0) for i, r in enumerate(runs))
    page = f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>Validation results — qingdao-plans</title>
<style>
body {{ font-family: "Noto Sans CJK SC", "WenQuanYi Zen Hei", sans-serif; max-width: 1100px; margin: auto; }}
table {{ border-collapse: collapse; margin: .5rem 0; }} th, td {{ border: 1px solid #ccc; padding: .2rem .5rem; }}
td.num {{ text-align: right; }} .failed, .bad {{ color: #b22; font-weight: bold; }} .passed {{ color: #2a7a2a; }}
.meta {{ color: #666; }} details.run {{ border-top: 1px solid #ddd; padding: .5rem 0; }}
</style></head><body>
<h1>Validation results (Great Expectations suites)</h1>
<p class=meta>{len(runs)} validation runs, newest first. Failing records are quarantined with their
values (table <code>quarantine</code>); their keys are listed under each failed check.</p>
{body}
</body></html>
"""
    index = Location.of(docs_dir) / INDEX
    index.write_text(page)
    return index.local_path if index.is_local else index
