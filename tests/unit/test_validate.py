"""The GX suites in expectations/ route bad rows to quarantine and let good ones through."""

from __future__ import annotations

import datetime as dt

import pytest

from etl.records import NoticeRecord, ParsedNotice, PlanItem, Section, Target
from etl.validate import load_suite_configs, validate_records


def _record(nid: int, items: list[PlanItem], *, doc_type="work_plan", published=dt.date(2022, 3, 1),
            department="青岛市教育局", plan_year=2022) -> NoticeRecord:
    parsed = ParsedNotice("市教育局2022年工作要点", published, department, doc_type, plan_year,
                          [Section(1, "一、", "总体要求")], items)
    return NoticeRecord("www.qingdao.gov.cn", nid, f"https://www.qingdao.gov.cn/zwgk/t_{nid}.shtml",
                        "jyj-ghjh", "ab" * 32, dt.datetime(2026, 1, 1, tzinfo=dt.UTC), parsed)


def _item(ordinal: int, text: str, targets=()) -> PlanItem:
    return PlanItem(1, ordinal, f"{ordinal}.", text.split("。")[0] + "。", text, targets=list(targets))


GOOD_TARGET = Target("新建", "幼儿园", 20.0, "所", "新建幼儿园20所")


@pytest.fixture(scope="module")
def outcome(tmp_path_factory):
    records = [
        _record(1, [_item(1, "推动学前教育发展。新建幼儿园20所。", [
            GOOD_TARGET, Target(None, "x", -5.0, "所", "-5所"),
            Target("新增", "等", 1.0, "家", "新增等1家"),  # a junk object
            Target("新增", "企业", 3.0, "家", "新增企业3-2家", modifier="range", value_min=3.0, value_max=2.0),
            Target("新增", "企业", 3.0, "家", "新增企业3家", modifier="大约"),  # an unknown modifier
            Target("新增", "企业", 3.0, "家", "新增企业3家", kind="guess"),
        ]),
                    _item(2, "推进網(wǎng)絡建设。")]),
        _record(2, []),  # a work plan without items: parser missed the structure
        _record(3, [_item(1, "发布公告。")], doc_type="notice", published=dt.date(2099, 1, 1)),
        _record(4, [_item(1, "完成年度任务。")], department=None),
        _record(5, [], doc_type="notice", plan_year=None),  # an ordinary notice: fine without items
    ]
    docs = tmp_path_factory.mktemp("docs")
    return validate_records(records, data_docs_dir=docs, run_name="test"), docs


def test_good_records_pass_and_bad_rows_are_quarantined_with_reasons(outcome):
    result, _ = outcome
    assert sorted(r.notice_id for r in result.valid) == [1, 5]
    quarantined = {(q.record_type, q.record_key): q for q in result.quarantined}
    assert set(quarantined) == {
        ("plan_target", "www.qingdao.gov.cn/1/1.1#1"),
        ("plan_target", "www.qingdao.gov.cn/1/1.1#2"),
        ("plan_target", "www.qingdao.gov.cn/1/1.1#3"),
        ("plan_target", "www.qingdao.gov.cn/1/1.1#4"),
        ("plan_target", "www.qingdao.gov.cn/1/1.1#5"),
        ("plan_item", "www.qingdao.gov.cn/1/1.2"),
        ("notice", "www.qingdao.gov.cn/2"),
        ("notice", "www.qingdao.gov.cn/3"),
        ("notice", "www.qingdao.gov.cn/4"),
    }
    assert "item_count" in quarantined[("notice", "www.qingdao.gov.cn/2")].check
    assert "days_in_future" in quarantined[("notice", "www.qingdao.gov.cn/3")].check
    assert "department" in quarantined[("notice", "www.qingdao.gov.cn/4")].check
    assert "pinyin" in quarantined[("plan_item", "www.qingdao.gov.cn/1/1.2")].reason


def test_nothing_is_lost_the_quarantine_keeps_the_whole_record(outcome):
    result, _ = outcome
    notice = next(q for q in result.quarantined if q.record_key == "www.qingdao.gov.cn/3")
    assert notice.values["parsed"]["items"][0]["text"] == "发布公告。"
    kept = next(r for r in result.valid if r.notice_id == 1)
    assert [i.ordinal for i in kept.parsed.items] == [1]
    assert kept.parsed.items[0].targets == [GOOD_TARGET]
    counts = result.report.counts
    assert counts["notices_quarantined"] == 3 and counts["items_quarantined"] == 1
    assert counts["targets_quarantined"] == 5 and counts["notices_valid"] == 2


def test_data_docs_are_built(outcome):
    result, docs = outcome
    assert (docs / "index.html").exists()
    assert result.report.details["success"] is False


def test_suites_are_valid_gx_suites():
    import great_expectations as gx

    for name, config in load_suite_configs().items():
        suite = gx.ExpectationSuite(**config)
        assert suite.name == name and suite.expectations
