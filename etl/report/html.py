"""The report as one self-contained HTML page: readable offline, nothing loaded from another host.

Charts are Vega-Lite specs drawn in the browser by Vega, Vega-Lite and vega-embed, whose JavaScript
is inlined from ``vl-convert-python``'s bundle (no CDN). A Content-Security-Policy forbids every
load from anywhere (the page needs none), so a stray remote asset fails loudly in a test instead
of phoning home. Every string from the warehouse is escaped (``html.escape`` in text, JSON with
``<``, ``>``, ``&`` escaped inside script tags); links are kept only when they are http(s) URLs.
Each chart's data is also in a table next to it, so the page says everything without JavaScript.
"""

from __future__ import annotations

import functools
import html
import json
import os
from importlib.metadata import version
from pathlib import Path
from typing import Any

STATUS_COLORS = {"continued": "#4c78a8", "revised": "#f58518", "possible": "#b279a2", "new": "#54a24b",
                 "dropped": "#e45756"}
FONT = '"Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Zen Hei", "PingFang SC", "Microsoft YaHei", sans-serif'
CSP = ("default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline'; "
       "img-src data:; font-src data:")
CSS = f"""
body {{ font-family: {FONT}; margin: 0 auto; max-width: 1100px; padding: 1rem 2rem; color: #222; }}
h1 {{ font-size: 1.6rem; }} h2 {{ border-bottom: 2px solid #4c78a8; padding-bottom: .2rem; margin-top: 2.5rem; }}
h3 {{ margin-top: 1.6rem; }}
table {{ border-collapse: collapse; margin: .5rem 0; font-size: .9rem; }}
th, td {{ border: 1px solid #ccc; padding: .2rem .5rem; text-align: left; vertical-align: top; }}
th {{ background: #f2f2f2; }} td.num {{ text-align: right; font-variant-numeric: tabular-nums; }}
.raised {{ color: #2a7a2a; }} .lowered {{ color: #b22; font-weight: bold; }}
.chart {{ margin: .5rem 0; min-height: 40px; }} .meta {{ color: #666; font-size: .85rem; }}
.status-failed, .status-abandoned {{ color: #b22; font-weight: bold; }} .status-degraded {{ color: #b60; }}
details {{ margin: .4rem 0; }} summary {{ cursor: pointer; }}
li {{ margin: .25rem 0; }} nav a {{ margin-right: 1rem; }}
"""
RENDER_JS = """
(function () {
  var charts = document.querySelectorAll('.chart[data-spec]');
  var pending = [];
  charts.forEach(function (el) {
    var spec = JSON.parse(document.getElementById(el.dataset.spec).textContent);
    pending.push(window.vegaEmbed(el, spec, {renderer: 'svg', actions: false})
      .then(function () { el.dataset.rendered = 'ok'; })
      .catch(function (err) { el.dataset.rendered = 'error'; el.textContent = 'chart failed: ' + err; }));
  });
  Promise.all(pending).then(function () { document.body.dataset.charts = 'done'; });
})();
"""


def e(value: Any) -> str:
    """Escaped text; None as an en dash."""
    return "–" if value is None else html.escape(str(value), quote=True)


def _num(value: Any) -> str:
    if value is None:
        return "–"
    return e(f"{value:g}") if isinstance(value, float) else e(value)


def _link(url: Any, text: Any) -> str:
    if isinstance(url, str) and url.startswith(("https://", "http://")):
        return f'<a href="{e(url)}" rel="noreferrer">{e(text)}</a>'
    return e(text)


def _json_script(value: Any) -> str:
    # Inside <script>, "</script>" or "<!--" in a title would end or confuse the element.
    text = json.dumps(value, ensure_ascii=False)
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def _bundle_cache() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "qingdao-plans" / f"vega-bundle-vl-convert-{version('vl-convert-python')}.js"


@functools.lru_cache(maxsize=1)
def vega_bundle() -> str:
    """Vega, Vega-Lite and vega-embed as one script that sets ``window.vegaEmbed`` (about 0.9 MB).

    vl-convert builds the bundle in ten seconds or so; it is kept in the user's cache directory,
    keyed by the vl-convert version, so only the first report on a machine pays for it."""
    cache = _bundle_cache()
    try:
        return cache.read_text(encoding="utf-8")
    except OSError:
        pass
    import vl_convert

    bundle = vl_convert.javascript_bundle().replace("</script", "<\\/script")
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(bundle, encoding="utf-8")
        tmp.replace(cache)
    except OSError:  # a read-only home: build it again next time
        pass
    return bundle


class _Charts:
    def __init__(self) -> None:
        self.specs: list[tuple[str, dict[str, Any]]] = []

    def add(self, spec: dict[str, Any], label: str) -> str:
        spec_id = f"spec-{len(self.specs) + 1}"
        spec = {"$schema": "https://vega.github.io/schema/vega-lite/v5.json",
                "config": {"font": FONT, "view": {"stroke": None}}, **spec}
        self.specs.append((spec_id, spec))
        return f'<div class="chart" role="img" aria-label="{e(label)}" data-spec="{spec_id}"></div>'

    def scripts(self) -> str:
        return "\n".join(f'<script type="application/json" id="{sid}">{_json_script(spec)}</script>'
                         for sid, spec in self.specs)


def _status_chart(charts: _Charts, dept: dict[str, Any]) -> str:
    values = [{"plan_year": str(y["plan_year"]), "status": status, "items": y[status]}
              for y in dept["years"] for status in STATUS_COLORS if y[status]]
    if not values:
        return '<p class="meta">No year-over-year comparison yet (one year on record).</p>'
    return charts.add({
        "title": "Items by year-over-year status", "width": 520, "height": 220,
        "data": {"values": values},
        "mark": {"type": "bar", "tooltip": True},
        "encoding": {
            "x": {"field": "plan_year", "type": "ordinal", "title": "plan year"},
            "y": {"field": "items", "type": "quantitative", "title": "items", "stack": True},
            "color": {"field": "status", "type": "nominal", "title": None,
                      "scale": {"domain": list(STATUS_COLORS), "range": list(STATUS_COLORS.values())}},
            "order": {"field": "status"},
        },
    }, f"{dept['department']}: items by status and year")


def _trend_chart(charts: _Charts, dept: dict[str, Any]) -> str:
    values = []
    for s in dept["target_trends"]:
        series = f"{s['object']}（{s['unit']}）" + ("" if s["doc_type"] == "work_plan" else f" [{s['doc_type']}]")
        for p in s["points"]:
            change = p["change"]
            label = "" if change is None else (f"{change:+g}" if change else "=")
            values.append({"series": series, "plan_year": str(p["plan_year"]), "value": p["value"],
                           "move": p["movement"] or "first", "label": label})
    if not values:
        return '<p class="meta">No numeric target appears in two consecutive years.</p>'
    point = {"x": {"field": "plan_year", "type": "ordinal", "title": None},
             "y": {"field": "value", "type": "quantitative", "title": None}}
    return charts.add({
        "title": "Numeric targets by year (each object in its own unit; labels name the move)",
        "data": {"values": values},
        "facet": {"field": "series", "type": "nominal", "title": None},
        "columns": 3,
        "resolve": {"scale": {"y": "independent"}},
        "spec": {"width": 200, "height": 110, "layer": [
            {"mark": {"type": "line", "point": True, "tooltip": True}, "encoding": point},
            {"mark": {"type": "text", "dy": -9, "fontSize": 11},
             "encoding": {**point, "text": {"field": "label"},
                          "color": {"field": "move", "type": "nominal", "legend": None,
                                    "scale": {"domain": ["raised", "lowered", "kept", "first"],
                                              "range": ["#2a7a2a", "#b22222", "#666666", "#666666"]}}}},
        ]},
    }, f"{dept['department']}: numeric targets by year")


def _table(headers: list[str], rows: list[list[str]], numeric: set[int] = frozenset()) -> str:
    head = "".join(f"<th>{e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f'<td class="num">{c}</td>' if i in numeric else f"<td>{c}</td>"
                                    for i, c in enumerate(r)) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _items_list(title: str, items: list[dict[str, Any]], empty: str) -> str:
    if not items:
        return f"<h4>{e(title)} (0)</h4><p class='meta'>{e(empty)}</p>"
    by_year: dict[int, list[dict[str, Any]]] = {}
    for it in items:
        by_year.setdefault(it["plan_year"], []).append(it)
    parts = [f"<h4>{e(title)} ({len(items)})</h4>"]
    for year, rows in sorted(by_year.items()):
        lis = "".join(
            f"<li><b>{e(r['headline'])}</b> <span class='meta'>{e(r['section_title'] or '')}"
            f" · {_link(r['url'], r['notice_title'] or r['notice_id'])}</span>"
            f"<details><summary>text</summary>{e(r['text'])}</details></li>" for r in rows)
        parts.append(f"<details open><summary>{e(year)} — {len(rows)} items</summary><ol>{lis}</ol></details>")
    return "".join(parts)


def _department(charts: _Charts, n: int, dept: dict[str, Any]) -> str:
    name = dept["department"]
    years = [[e(y["plan_year"]), _num(y["items"]), *(_num(y[s]) for s in STATUS_COLORS)] for y in dept["years"]]
    moves = [[e(m["plan_year"]), e(m["object"]), e(m["unit"]), _num(m["previous_value"]), _num(m["value"]),
              f"<span class='{e(m['movement'])}'>{e(m['movement'])} {_num(m['value_change'])}</span>",
              e(m["span"])] for m in dept["target_moves"]]
    notices = [[e(x["plan_year"]), e(x["doc_type"]), _link(x["url"], x["title"] or x["notice_id"]),
                e(x["published"]), _num(x["items"])] for x in dept["notices"]]
    return "".join([
        f"<section id='dept-{n}' class='department'><h2>{e(name)}</h2>",
        _status_chart(charts, dept),
        _table(["plan year", "items", *STATUS_COLORS], years, numeric=set(range(1, 7))),
        "<p class='meta'>Status counts are empty in the first year on record (nothing to compare with). "
        "Items count the annual work plan only.</p>",
        "<h3>Numeric targets</h3>",
        _trend_chart(charts, dept),
        f"<h4>Targets that moved ({len(moves)})</h4>",
        _table(["year", "object", "unit", "last year", "this year", "move", "text"], moves, numeric={3, 4})
        if moves else "<p class='meta'>No linked target changed its value.</p>",
        "<h3>New and dropped items</h3>",
        _items_list("New items", dept["new_items"], "No new items."),
        _items_list("Dropped items", dept["dropped_items"], "No dropped items."),
        "<h3>Notices behind each year</h3>",
        _table(["plan year", "kind", "notice", "published", "items"], notices, numeric={4}),
        "</section>",
    ])


def _run_health(charts: _Charts, health: dict[str, Any]) -> str:
    runs = health["runs"]
    if not runs:
        return "<section id='runs'><h2>Run health</h2><p class='meta'>No runs recorded.</p></section>"
    rows = [[e(r["run_id"]), f"<span class='status-{e(r['status'])}'>{e(r['status'])}</span>",
             e(r["started_at"]), _num(None if r["duration_seconds"] is None else round(r["duration_seconds"], 1)),
             _num(r["list_pages"]), _num(r["pages_fetched"]), _num(r["pages_failed"]), _num(r["parse_errors"]),
             _num(r["records_rejected"]), _num(r["records_quarantined"]), _num(r["revisions_loaded"])]
            for r in runs]
    values = [{"run": r["run_id"], "measure": measure, "count": r[key] or 0}
              for r in runs for measure, key in (("pages fetched", "pages_fetched"),
                                                 ("rejected", "records_rejected"),
                                                 ("quarantined", "records_quarantined"))]
    chart = charts.add({
        "title": "Last runs", "width": 520, "height": 160, "data": {"values": values},
        "mark": {"type": "bar", "tooltip": True},
        "encoding": {"y": {"field": "run", "type": "nominal", "sort": None, "title": None},
                     "x": {"field": "count", "type": "quantitative", "title": None},
                     "color": {"field": "measure", "type": "nominal", "title": None},
                     "yOffset": {"field": "measure"}},
    }, "pages, rejects and quarantine of the last runs")
    q = [[e(x["run_id"]), e(x["record_type"]), e(x["failed_check"]), _num(x["records"])]
         for x in health["quarantine"]]
    more = (f"<p class='meta'>{health['more_runs']} older runs not shown (v_run_health has them all).</p>"
            if health["more_runs"] else "")
    return "".join([
        "<section id='runs'><h2>Run health</h2>", chart,
        _table(["run", "status", "started (UTC)", "seconds", "list pages", "fetched", "failed", "parse errors",
                "rejected", "quarantined", "revisions loaded"], rows, numeric=set(range(3, 11))),
        more, f"<h3>Quarantine of these runs ({sum(x['records'] for x in health['quarantine'])} records)</h3>",
        _table(["run", "record type", "failed check", "records"], q, numeric={3})
        if q else "<p class='meta'>Nothing quarantined.</p>",
        "</section>",
    ])


def render_html(report: dict[str, Any]) -> str:
    charts = _Charts()
    w = report["warehouse"]
    by_type = ", ".join(f"{e(r['doc_type'])} {_num(r['notices'])}" for r in w["notices_by_doc_type"])
    departments = "".join(_department(charts, n, d) for n, d in enumerate(report["departments"], 1))
    health = _run_health(charts, report["run_health"])
    nav = "".join(f"<a href='#dept-{n}'>{e(d['department'])}</a>" for n, d in enumerate(report["departments"], 1))
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{e(CSP)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>青岛 plans — year over year</title>
<style>{CSS}</style>
</head>
<body>
<h1>Qingdao department plans — year over year</h1>
<p class="meta">Generated {e(report['generated_at'])} from the warehouse's analyst views.
Notices: {by_type}; {_num(w['plan_items'])} plan items, {_num(w['targets'])} numeric targets,
{_num(w['quarantined'])} quarantined records.</p>
<nav><a href="#runs">Run health</a>{nav}</nav>
{health}
{departments}
{charts.scripts()}
<script>{vega_bundle()}</script>
<script>{RENDER_JS}</script>
</body>
</html>
"""
