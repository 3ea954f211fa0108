"""Report rendering without a warehouse: escaping, nothing cut silently, trends from target pairs."""

from __future__ import annotations

import html
import json
import re

from etl.report.data import target_trends
from etl.report.html import render_html
from etl.report.text import TEXT_ROWS, render_text

HOSTILE = '</script><img src="http://evil.example/x.png" onerror="alert(1)">'


def _move(year: int, obj: str, prev: float, value: float) -> dict:
    change = value - prev
    return {"plan_year": year, "previous_plan_year": year - 1, "doc_type": "work_plan", "object": obj,
            "unit": "所", "action": "新建", "previous_value": prev, "value": value, "value_change": change,
            "movement": "raised" if change > 0 else "lowered" if change < 0 else "kept",
            "previous_span": "", "span": f"新建{obj}{value:g}所", "item_uid": f"u{obj}", "previous_item_uid": "p"}


def _report(moves: list[dict], title: str = "市教育局2021年工作要点") -> dict:
    item = {"plan_year": 2021, "item_uid": "u1", "section": 1, "section_title": title, "item_group": None,
            "ordinal": 1, "marker": "1.", "headline": title, "text": title, "notice_id": 1,
            "notice_title": title, "url": "javascript:alert(1)"}
    return {
        "generated_at": "2026-11-29T00:00:00+00:00",
        "warehouse": {"notices_by_doc_type": [{"doc_type": "work_plan", "notices": 2}], "plan_items": 4,
                      "targets": 2, "quarantined": 0},
        "last_run": None,
        "run_health": {"runs": [], "runs_total": 0, "more_runs": 0, "quarantine": []},
        "departments": [{
            "department": "青岛市教育局",
            "years": [{"plan_year": 2020, "items": 2, "continued": None, "revised": None, "possible": None,
                       "new": None, "dropped": None},
                      {"plan_year": 2021, "items": 2, "continued": 1, "revised": 0, "possible": 0, "new": 1,
                       "dropped": 1}],
            "notices": [{"plan_year": 2021, "doc_type": "work_plan", "notice_id": 1, "title": title,
                         "published": "2021-03-05", "url": "https://www.qingdao.gov.cn/a.shtml", "items": 2}],
            "target_changes": moves,
            "target_moves": [m for m in moves if m["movement"] != "kept"],
            "target_trends": target_trends(moves),
            "new_items": [item],
            "dropped_items": [],
        }],
    }


def test_every_warehouse_string_is_escaped():
    page = render_html(_report([_move(2021, HOSTILE, 1.0, 2.0)], title=HOSTILE))
    body = page.split("<script>", 1)[0]  # the inlined library comes after the data
    assert HOSTILE not in page
    assert "<img" not in body and 'src="http://evil' not in body
    assert "&lt;/script&gt;&lt;img" in body  # shown as text
    specs = re.findall(r'<script type="application/json" id="spec-\d+">(.*?)</script>', page, re.S)
    assert specs and all("</" not in s for s in specs)
    assert any(HOSTILE[:9] in json.dumps(json.loads(s), ensure_ascii=False) for s in specs)  # data intact
    assert 'href="javascript:' not in page  # only http(s) links


def test_page_loads_nothing_from_another_host():
    page = render_html(_report([_move(2021, "幼儿园", 20.0, 25.0)]))
    assert "Content-Security-Policy" in page and "default-src 'none'" in html.unescape(page)
    head_and_body = page.split("<script>", 1)[0]
    assert not re.search(r'(src|href)="(https?:)?//', head_and_body.replace('href="https://www.qingdao.gov.cn', ""))
    assert "window.vegaEmbed" in page  # the charting library is inlined


def test_text_says_how_many_rows_it_leaves_out():
    moves = [_move(2021, f"对象{k}", 10.0, 11.0) for k in range(TEXT_ROWS + 3)] + [_move(2021, "学位", 9000.0, 6000.0)]
    text = render_text(_report(moves))
    assert f"numeric targets that moved ({TEXT_ROWS + 4})" in text
    assert "… and 4 more" in text


def test_trends_join_the_years_of_each_object():
    trends = target_trends([_move(2021, "幼儿园", 20.0, 25.0), _move(2022, "幼儿园", 25.0, 20.0)])
    assert trends == [{"doc_type": "work_plan", "object": "幼儿园", "unit": "所", "points": [
        {"plan_year": 2020, "value": 20.0, "movement": None, "change": None},
        {"plan_year": 2021, "value": 25.0, "movement": "raised", "change": 5.0},
        {"plan_year": 2022, "value": 20.0, "movement": "lowered", "change": -5.0}]}]


def test_text_summary_shows_the_possible_tier():
    """Observed in the demo: a year of 12 items read 1 continued, 8 revised, 1 new, 1 dropped: the
    possible links were nowhere in the text table."""
    from etl.report.text import render_text

    report = {"last_run": None, "warehouse": {"notices_by_doc_type": [{"doc_type": "work_plan", "notices": 2}], "plan_items": 24,
                            "targets": 3, "quarantined": 0},
              "departments": [{"department": "青岛市海洋发展局", "target_moves": [], "years": [
                  {"plan_year": 2022, "items": 12, "continued": None, "revised": None, "possible": None,
                   "new": None, "dropped": None},
                  {"plan_year": 2024, "items": 12, "continued": 1, "revised": 8, "possible": 2, "new": 1,
                   "dropped": 1}]}]}
    text = render_text(report)
    assert "possible" in text
    assert [line.split() for line in text.splitlines() if line.strip().startswith("2024")] == [
        ["2024", "12", "1", "8", "2", "1", "1"]]
