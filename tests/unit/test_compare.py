from __future__ import annotations

from etl.compare import ComparableItem, compare_items, match_items


def _item(uid: str, text: str) -> ComparableItem:
    return ComparableItem(uid, text.split("。")[0] + "。", text)


PREV = [
    _item("p1", "推动学前教育普惠优质发展。新建、改扩建幼儿园20所。积极推进普及普惠县创建工作。"),
    _item("p2", "推动中小学扩优提质。新建、改扩建中小学30所。推进义务教育优质均衡发展。"),
    _item("p3", "加快学习型城市建设。依托青岛开放大学，打造继续教育新平台。"),
    _item("p4", "做好第十四届全国学生运动会赛事组织工作。"),
]


def _status(links):
    return {(lk.item_uid, lk.previous_item_uid): lk.status for lk in links}


def test_verbatim_revised_new_and_dropped_items():
    cur = [
        _item("c1", "推动学前教育普惠优质发展。新建、改扩建幼儿园25所。积极推进普及普惠县创建工作。"),  # target moved
        _item("c2", "推动中小学扩优提质。新建、改扩建中小学30所。推进义务教育优质均衡发展。"),  # verbatim
        _item("c3", "加快学习型城市建设，依托青岛开放大学打造继续教育新平台。"),  # punctuation only
        _item("c4", "实施人工智能教育攻坚行动。推进人工智能课程普及。"),  # new
    ]
    links = match_items(PREV, cur, department="青岛市教育局", plan_year=2022)
    assert _status(links) == {
        ("c1", "p1"): "revised",
        ("c2", "p2"): "continued",
        ("c3", "p3"): "continued",
        ("c4", None): "new",
        (None, "p4"): "dropped",
    }
    assert all(lk.department == "青岛市教育局" and lk.plan_year == 2022 for lk in links)


def test_assignment_is_one_to_one_even_when_two_items_resemble_one_predecessor():
    cur = [
        _item("a", "推动学前教育普惠优质发展。新建、改扩建幼儿园25所。"),
        _item("b", "推动学前教育普惠优质发展。新建、改扩建幼儿园25所。积极推进普及普惠县创建工作。"),
    ]
    links = match_items(PREV[:1], cur, department="d", plan_year=2022)
    predecessors = [lk.previous_item_uid for lk in links if lk.item_uid]
    assert predecessors.count("p1") == 1
    assert {lk.status for lk in links if lk.item_uid} == {"revised", "new"}


def test_compare_items_pairs_consecutive_years_per_department_only():
    def row(uid, dept, year, text, doc_type="work_plan"):
        return {"item_uid": uid, "notice_id": 1, "department": dept, "plan_year": year, "doc_type": doc_type,
                "section": 1, "ordinal": 1, "headline": text, "text": text, "published": f"{year}-03-01"}

    rows = [
        row("e21", "教育局", 2021, "建设幼儿园。"), row("e22", "教育局", 2022, "建设幼儿园。"),
        row("k22", "科技局", 2022, "培育高新技术企业。"),  # no 2021 plan: nothing to compare
        row("e24", "教育局", 2024, "建设幼儿园。"),  # 2023 missing: not compared with 2022
        row("a22", "教育局", 2022, "三年行动。", doc_type="action_plan"),  # not an annual plan
    ]
    links = compare_items(rows)
    assert [(lk.item_uid, lk.previous_item_uid, lk.status) for lk in links] == [("e22", "e21", "continued")]
