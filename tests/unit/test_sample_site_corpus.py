"""The plan corpus: YAML -> documents -> ground truth, and the promises the corpus makes."""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest

from etl.departments import find_department
from etl.sample_site import corpus as c
from etl.sample_site.corpus import load_corpus


@pytest.fixture(scope="module")
def docs() -> list[c.PlanDoc]:
    return c.load_corpus()


@pytest.fixture(scope="module")
def truth(docs) -> dict:
    return c.derive_ground_truth(docs)


def _doc(truth: dict, key: str) -> dict:
    return next(d for d in truth["documents"] if d["key"] == key)


def _item(truth: dict, key: str) -> dict:
    return next(i for d in truth["documents"] for i in d["items"] if i["key"] == key)


def test_committed_ground_truth_equals_what_the_yaml_derives(truth):
    committed = json.loads(c.GROUND_TRUTH_FILE.read_text(encoding="utf-8"))
    assert committed == json.loads(json.dumps(truth, ensure_ascii=False)), (
        "ground_truth.json is stale: run `python -m etl.sample_site.corpus`")


def test_chinese_numbers():
    assert [c.chinese_number(n) for n in (1, 9, 10, 11, 20, 25, 99)] == [
        "一", "九", "十", "十一", "二十", "二十五", "九十九"]
    with pytest.raises(ValueError):
        c.chinese_number(0)


def test_seed_structure_is_read_from_the_real_capture(docs):
    seed = docs[0]
    assert seed.key == "jyj-2021" and not seed.synthetic
    assert [len(s.items) for s in seed.sections] == [3, 3, 4, 5, 4]
    assert seed.sections[0].title == "突出优质均衡，形成教育公共服务新格局"
    first = seed.items[0]
    assert first.key == "jyj-2021-1.1" and first.marker == "1."
    assert "新建、改扩建幼儿园20所" in first.text and "(" not in first.text
    # The seed page body is served as found (Traditional, pinyin artefacts, mojibake).
    raw = c.SEED_FILE.read_text(encoding="utf-8")
    assert all(line in raw for line in seed.body)
    assert any("網(wǎng)" in line for line in seed.body)
    assert any("?;\ue205" in line for line in seed.body)  # the garbled stretch


def test_corpus_covers_three_departments_over_three_plan_years(truth):
    plans = [d for d in truth["documents"] if d["doc_type"] == "work_plan" and d["synthetic"]]
    years = {}
    for d in plans:
        years.setdefault(d["department"], set()).add(d["plan_year"])
    assert {dep for dep, ys in years.items() if {2022, 2023, 2024} <= ys} >= {
        "青岛市教育局", "青岛市科学技术局", "青岛市文化和旅游局"}
    doc_types = Counter(d["doc_type"] for d in truth["documents"])
    assert doc_types["work_summary"] >= 1 and doc_types["action_plan"] >= 1


def test_plan_documents_have_realistic_size(truth):
    for d in truth["documents"]:
        if d["attachment"] and d["attachment"]["content"] == "scanned":
            assert not d["has_plan_items"] and d["items"] == [], d["key"]  # nothing readable in a scan
        elif d["doc_type"] in ("work_plan", "action_plan"):
            # The first departments' plans run to 12-25 items; the later ones are compact (8+).
            assert 3 <= d["sections"] <= 6, d["key"]
            assert 8 <= len(d["items"]) <= 25, d["key"]
            assert sum(d["items_per_section"]) == len(d["items"])
        else:
            assert not d["has_plan_items"], d["key"]


def test_every_numbering_shape_and_page_variant_is_present(truth):
    shapes = {d["numbering"] for d in truth["documents"]}
    assert {"sections", "running", "blocks", "bullets", "nested", "paragraphs", "mixed"} <= shapes
    variants = {v for d in truth["documents"] for v in d["variants"]}
    assert {"gbk", "no_source", "tnull", "nav_debris"} <= variants


def test_markers_follow_the_shape(truth):
    kjj22 = _doc(truth, "kjj-2022")  # （一） numbered on across sections
    assert [i["marker"] for i in kjj22["items"]][:5] == ["（一）", "（二）", "（三）", "（四）", "（五）"]
    assert kjj22["items"][3]["section"] == 2 and kjj22["items"][3]["ordinal"] == 1
    jyj22 = _doc(truth, "jyj-2022")  # 1. restarting per section
    assert [i["marker"] for i in jyj22["items"] if i["section"] == 2] == ["1.", "2.", "3."]
    jyj23 = _doc(truth, "jyj-2023")  # 一、/（一）/1.: 1. restarts per group, ordinal per section
    first = [(i["group"], i["marker"], i["ordinal"]) for i in jyj23["items"] if i["section"] == 1]
    assert first == [("（一）学前教育", "1.", 1), ("（一）学前教育", "2.", 2),
                     ("（二）义务教育和高中教育", "1.", 3), ("（二）义务教育和高中教育", "2.", 4)]
    kjj24 = _doc(truth, "kjj-2024")
    assert [i["marker"] for i in kjj24["items"]][:4] == ["01", "02", "03", "04"]
    assert {i["marker"] for i in _doc(truth, "whly-2023")["items"]} == {"——"}


def test_links_continue_revise_new_and_drop(docs, truth):
    by_key = {i.key: i for d in docs for i in d.items}
    statuses = Counter()
    for d in truth["documents"]:
        for item in d["items"]:
            statuses[item["status"]] += 1
            if item["status"] == "continued":
                assert item["text"] == by_key[item["previous"]].text
            elif item["status"] == "revised":
                assert item["text"] != by_key[item["previous"]].text
            if item["previous"]:
                assert item["previous"].startswith(d["previous_plan"] + "-")
        if d["previous_plan"]:
            prev = _doc(truth, d["previous_plan"])
            referenced = {i["previous"] for i in d["items"]} - {None}
            merged = {m for i in d["items"] for m in i["merged_from"]}
            assert set(d["merged"]) == merged and not merged & referenced
            assert set(d["dropped"]) == {i["key"] for i in prev["items"]} - referenced - merged
            assert d["dropped"], f"{d['key']} drops nothing: comparison would be too easy"
    assert min(statuses["continued"], statuses["revised"], statuses["new"]) >= 10
    # The headline example: a numeric target changed between years.
    item = next(i for i in _doc(truth, "jyj-2022")["items"] if i["key"] == "jyj-2022-1.1")
    assert item["previous"] == "jyj-2021-1.1"
    assert item["targets"][0] == {"action": "新建、改扩建", "object": "幼儿园", "value": 25, "unit": "所",
                                  "span": "新建、改扩建幼儿园25所", "modifier": None, "value_min": None,
                                  "value_max": None, "kind": "target"}


def test_paraphrased_successors_merges_splits_and_a_missing_year(truth):
    """The matching corpus: rewritten successors over three years, a merge and a split, and a
    department without a 2023 plan whose 2024 plan is compared with 2022."""
    items = [i for d in truth["documents"] for i in d["items"]]
    paraphrased = [i for i in items if i["paraphrased"]]
    assert len(paraphrased) >= 20 and all(i["status"] == "revised" for i in paraphrased)
    assert sum(1 for i in paraphrased if i["headline"] != _item(truth, i["previous"])["headline"]) >= 15
    assert any(i["merged_from"] for i in items) and any(i["split_from"] for i in items)
    assert all(i["status"] == "new" for i in items if i["split_from"])
    hyfz24 = _doc(truth, "hyfz-2024")
    assert hyfz24["previous_plan"] == "hyfz-2022" and not any(
        d["department"] == hyfz24["department"] and d["plan_year"] == 2023 for d in truth["documents"])
    jtys = [d for d in truth["documents"] if d["key"].startswith("jtys-")]
    assert [d["previous_plan"] for d in jtys] == [None, "jtys-2022", "jtys-2023"]
    # Sections reordered and renamed: a successor sits in another section position than its predecessor.
    assert sum(1 for i in paraphrased if i["section"] != _item(truth, i["previous"])["section"]) >= 5


@pytest.mark.parametrize(("item", "message"), [
    ({"key": "1.1", "text": "甲。", "paraphrased": True}, "label a revision"),
    ({"key": "1.1", "text": "甲。", "merges": ["jyj-2021-1.2"]}, "label a revision"),
    ({"key": "1.1", "revises": "jyj-2021-1.1", "text": "甲。", "merges": ["jyj-2098-1.2"]}, "unknown item"),
    ({"key": "1.1", "revises": "jyj-2021-1.1", "text": "甲。", "splits": "jyj-2021-1.2"}, "no predecessor"),
])
def test_matching_labels_are_checked(docs, item, message):
    known = {i.key: i for i in docs[0].items}
    with pytest.raises(c.CorpusError, match=message):
        c._build_doc(_raw([item]), _dept(), known)


def test_targets_use_arabic_and_chinese_numerals_and_many_units(truth):
    targets = [t for d in truth["documents"] for i in d["items"] for t in i["targets"]]
    assert any(re.search(r"[一二三四五六七八九十百千]+[个家项所条]$", t["span"]) for t in targets)
    assert any(re.search(r"\d", t["span"]) for t in targets)
    assert {"所", "个", "家", "项", "人", "%", "亿元", "万元", "万人次", "处", "名"} <= {t["unit"] for t in targets}
    assert any(isinstance(t["value"], float) for t in targets)  # 2.5万人次, 3.2%
    for d in truth["documents"]:
        for i in d["items"]:
            for t in i["targets"]:
                assert t["span"] in i["text"], (i["key"], t)


def test_responsibility_notes_close_many_items(truth):
    items = [i for d in truth["documents"] if d["synthetic"] for i in d["items"]]
    with_note = [i for i in items if i["raw_text"] != i["text"]]
    assert len(with_note) > len(items) / 2
    for i in with_note:
        note = i["raw_text"][len(i["text"]):]
        assert (note.endswith(("）", ")")) or note.startswith("\n")) and i["lead_units"]
        assert i["raw_text"].startswith(i["text"])
    # The shapes departments write notes in (issue 12).
    notes = [i["raw_text"][len(i["text"]):] for i in with_note]
    for shape in ("责任处室（单位）：", "牵头部门：", "\n配合部门：", "\n责任领导：", "(牵头单位:"):
        assert any(shape in n for n in notes), shape
    assert any(i["partner_units"] for i in with_note)
    assert any("责任单位" in i["raw_text"] for i in with_note)
    jyj = next(i for i in items if i["key"] == "jyj-2022-1.1")
    assert jyj["lead_units_canonical"] == ["青岛市教育局"]
    assert jyj["partner_units_canonical"] == ["青岛市财政局", "青岛市自然资源和规划局"]


def test_no_source_page_still_names_its_department_in_title_and_signature(docs):
    doc = next(d for d in docs if "no_source" in d.variants)
    assert find_department(doc.title) == doc.department
    assert find_department(doc.body[-2]) == doc.department


def _dept(**kw) -> dict:
    return {"department": "青岛市教育局", "code": "jyj", "channel": "jyj-ghjh", **kw}


def _raw(items: list[dict], **kw) -> dict:
    sections = [{"title": f"第{n}部分", "items": items if n == 1 else []} for n in range(1, 2)]
    return {"key": "jyj-2099", "doc_type": "work_plan", "plan_year": 2099, "title": "t", "published": "2099-01-01",
            "sections": sections, **kw}


@pytest.mark.parametrize(("items", "message"), [
    ([{"key": "1.1", "continues": "jyj-2098-1.1"}], "unknown item"),
    ([{"key": "1.1", "text": "甲。", "targets": [["新建", "学校", 2, "所", "新建学校2所"]]}], "not in the item text"),
    ([{"key": "1.1", "text": "甲。"}, {"key": "1.1", "text": "乙。"}], "duplicate item key"),
    ([{"key": "1.1", "continues": "jyj-2021-1.1", "text": "x"}], "use revises"),
    ([{"key": "1.1"}], "needs text"),
])
def test_inconsistent_yaml_is_refused(docs, items, message):
    known = {i.key: i for i in docs[0].items}
    with pytest.raises(c.CorpusError, match=message):
        c._build_doc(_raw(items), _dept(), known)


def test_revision_identical_to_its_source_is_refused(docs):
    known = {i.key: i for i in docs[0].items}
    same = known["jyj-2021-1.2"].text
    with pytest.raises(c.CorpusError, match="identical"):
        c._build_doc(_raw([{"key": "1.1", "revises": "jyj-2021-1.2", "text": same}]), _dept(), known)


def test_targets_carry_every_modifier_shape(truth):
    targets = [t for d in truth["documents"] for i in d["items"] for t in i["targets"]]
    words = {w for t in targets if t["modifier"] for w in t["modifier"].split("、")}
    assert {"以上", "左右", "不低于", "不少于", "力争", "累计", "各", "range"} <= words
    assert any(t["kind"] == "scope" for t in targets)
    assert {"万吨", "万亩", "公里", "个百分点"} <= {t["unit"] for t in targets}
    for t in targets:
        if t["modifier"] and "range" in t["modifier"]:
            assert t["value_min"] == t["value"] < t["value_max"]
    # A correction note and an attachment list follow the body of some plans.
    closings = [line for d in load_corpus() for line in d.closing]
    assert any(line.startswith("更正") for line in closings) and any(line.startswith("附件") for line in closings)
