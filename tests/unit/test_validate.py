"""The GX suites in expectations/ route bad rows to quarantine and let good ones through."""

from __future__ import annotations

import datetime as dt

import pytest

from etl.records import NoticeRecord, ParsedNotice, PlanItem, Section, Target
from etl.validate import load_suite_configs, validate_records


def _record(nid: int, items: list[PlanItem], *, doc_type="work_plan", published=dt.date(2022, 3, 1),
            department="青岛市教育局", plan_year=2022, title="市教育局2022年工作要点",
            body: str | None = None) -> NoticeRecord:
    body = body if body is not None else "为深入贯彻落实全市教育大会精神，现将2022年工作要点印发如下。" + "".join(
        i.text for i in items)
    parsed = ParsedNotice(title, published, department, doc_type, plan_year,
                          [Section(1, "一、", "总体要求")], items, body_text=body)
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


@pytest.fixture(scope="module")
def implausible():
    """Observed: error pages and page furniture were loaded as notices titled 系统繁忙 or 青岛政务网."""
    many = [_item(k, f"完成第{k}项年度工作任务。") for k in range(1, 1202)]
    records = [
        _record(11, [], doc_type="notice", plan_year=None, title="青岛政务网", body=""),
        _record(12, [], doc_type="notice", plan_year=None, title="系统繁忙，请稍后再试",
                body="系统繁忙，请稍后再试。返回首页"),
        _record(13, [], doc_type="notice", plan_year=None, title="<span class=\"t\">关于开展检查的通知</span>"),
        _record(14, many),  # a "plan" of 1,201 items: a list or a table parsed as items
        _record(15, [_item(1, "推进<div class=\"item\">智慧校园</div>建设。")]),
        _record(16, [], doc_type="notice", plan_year=None, title="关于开展安全检查的通知", body="   "),
        _record(17, [], doc_type="notice", plan_year=None, title="关于开展安全检查的通知"),  # fine
    ]
    return validate_records(records)


def test_implausible_pages_and_plans_go_to_quarantine_with_reasons(implausible):
    assert [r.notice_id for r in implausible.valid] == [15, 17]  # 15 loads without its bad item
    by_key = {q.record_key: q for q in implausible.quarantined}
    checks = {k: q.check for k, q in by_key.items()}
    # 11 fails two checks (site name as title, no main text): the first one found is kept.
    assert checks.pop("www.qingdao.gov.cn/11") in {"title_not_site_furniture", "has_main_text"}
    assert checks == {
        "www.qingdao.gov.cn/12": "title_not_error_template",
        "www.qingdao.gov.cn/13": "title_without_markup",
        "www.qingdao.gov.cn/14": "plausible_item_count",
        "www.qingdao.gov.cn/15/1.1": "text_without_markup",
        "www.qingdao.gov.cn/16": "has_main_text",
    }
    assert "furniture" in by_key["www.qingdao.gov.cn/11"].reason
    assert "error, anti-bot" in by_key["www.qingdao.gov.cn/12"].reason
    assert "markup" in by_key["www.qingdao.gov.cn/13"].reason
    assert "thousands" in by_key["www.qingdao.gov.cn/14"].reason
    assert "main text" in by_key["www.qingdao.gov.cn/16"].reason


def test_every_expectation_says_why_when_it_guards_against_a_known_failure():
    suites = load_suite_configs()
    for name in ("notice", "plan_item"):
        for exp in suites[name]["expectations"]:
            if exp["type"].endswith("not_match_regex") or exp["kwargs"].get("column") == "body_chars":
                assert (exp.get("meta") or {}).get("why"), exp


def test_data_docs_work_offline_list_failing_keys_and_keep_every_run(outcome, tmp_path):
    import shutil

    from etl.data_docs import record_validation

    result, docs = outcome
    docs = shutil.copytree(docs, tmp_path / "docs")
    page = (docs / "index.html").read_text(encoding="utf-8")
    assert result.report.details["data_docs"].endswith("index.html")
    for q in result.quarantined:  # every failing record's key, under its check
        assert q.record_key in page and q.check.split("(")[0] in page
    assert "default-src 'none'" in page and "<script" not in page and "http" not in page.split("<body>")[1]
    # A second run keeps the first one's results; a hostile key is shown as text.
    bad = type(result.quarantined[0])("notice", "<script>x</script>", "check(x)", "reason", {})
    record_validation(docs, "second", {"notice": {"rows": 1, "success": False}}, [bad])
    page = (docs / "index.html").read_text(encoding="utf-8")
    assert page.index("second") < page.index(">test<") and "&lt;script&gt;x" in page
    assert sorted(p.stem for p in (docs / "runs").glob("*.json")) == ["second", "test"]


def test_suites_are_valid_gx_suites():
    import great_expectations as gx

    for name, config in load_suite_configs().items():
        suite = gx.ExpectationSuite(**config)
        assert suite.name == name and suite.expectations


def test_run_ids_that_look_like_dates_with_odd_offsets_validate(tmp_path):
    """Observed: a run id whose random tail starts with digits (…Z-97a20a) crashed the validate
    stage: Great Expectations parses a run name as a date when no run time is given."""
    result = validate_records([_record(21, [_item(1, "新建幼儿园20所。")])], data_docs_dir=tmp_path / "docs",
                              run_name="20261129T101404Z-97a20a")
    assert [r.notice_id for r in result.valid] == [21]
