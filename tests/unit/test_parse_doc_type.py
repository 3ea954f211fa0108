"""Document type from the title: a report on how a plan was carried out is a summary, not a plan."""

from __future__ import annotations

import pytest

from etl.parse import parse_page
from etl.parse.page import classify
from tests.unit.test_parse import page


@pytest.mark.parametrize("title, doc_type", [
    # Progress reports name the plan they report on; the report word after it decides.
    ("青岛市工业和信息化局2023年上半年工作要点落实情况", "work_summary"),
    ("市发展改革委2022年重点工作任务进展情况", "work_summary"),
    ("市民政局2022年工作计划完成情况", "work_summary"),
    ("关于2023年行动计划执行情况的报告", "work_summary"),
    # A plan that opens with a review of last year is still a plan.
    ("市教育局2022年工作总结和2023年工作计划", "work_plan"),
    ("市商务局上半年工作完成情况及下半年工作安排", "work_plan"),
    ("市教育局2023年工作要点", "work_plan"),
])
def test_progress_reports_are_summaries(title, doc_type):
    assert classify(title) == doc_type


def test_progress_report_page_has_no_plan_items():
    p = parse_page(page("青岛市工业和信息化局2023年上半年工作要点落实情况",
                        ["上半年，各项任务有序推进。", "一、产业发展", "实施500万元以上工业技改项目412个，完成年度目标的51.5%。",
                         "二、下半年打算", "持续推进技改项目。"]).encode())
    assert p.doc_type == "work_summary" and p.plan_year == 2023 and p.items == []
