from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from etl.compare import ComparableItem, compare_items, match_items, match_plans
from etl.compare.terms import canonical, terms
from etl.records import StageReport


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


def _row(uid, dept, year, text, doc_type="work_plan", notice_id=None, section=1, ordinal=1, title="一"):
    return {"item_uid": uid, "host": "h", "notice_id": notice_id or year, "department": dept, "plan_year": year,
            "doc_type": doc_type, "section": section, "section_title": title, "ordinal": ordinal,
            "headline": text, "text": text, "published": f"{year}-03-01"}


def test_compare_items_pairs_each_plan_with_the_previous_annual_plan_of_its_department():
    rows = [
        _row("e21", "教育局", 2021, "建设幼儿园。"), _row("e22", "教育局", 2022, "建设幼儿园。"),
        _row("k22", "科技局", 2022, "培育高新技术企业。"),  # no earlier plan: nothing to compare
        _row("e24", "教育局", 2024, "建设幼儿园。"),  # 2023 missing: compared with 2022
        _row("e27", "教育局", 2027, "建设幼儿园。"),  # 2025 and 2026 missing: too far apart
        _row("a22", "教育局", 2022, "三年行动。", doc_type="action_plan"),  # not an annual plan
    ]
    links = compare_items(rows)
    assert [(lk.item_uid, lk.previous_item_uid, lk.status, lk.previous_plan_year) for lk in links] == [
        ("e22", "e21", "continued", 2021), ("e24", "e22", "continued", 2022)]
    assert (links[1].notice_id, links[1].previous_notice_id) == (2024, 2022)


def test_two_plans_of_one_department_year_are_never_merged():
    """A department-year with a work plan and a second, smaller plan: only the annual plan (the one
    with most items) is compared, and the other is reported, not mixed into it."""
    rows = [_row(f"p{n}", "交通局", 2022, t, ordinal=n) for n, t in enumerate(
        ["建设高速公路。", "优化公交线网。", "推广新能源公交车。"], start=1)]
    rows += [_row(f"c{n}", "交通局", 2023, t, notice_id=9001, ordinal=n) for n, t in enumerate(
        ["建设高速公路。", "优化公交线网。", "推广新能源公交车。"], start=1)]
    rows += [_row("x1", "交通局", 2023, "开展安全生产大检查。", notice_id=9003),
             _row("y1", "交通局", 2023, "开展安全生产大检查。", notice_id=9002)]
    report = StageReport("compare")
    links = compare_items(rows, report=report)
    assert {lk.item_uid for lk in links} == {"c1", "c2", "c3"}
    assert {lk.status for lk in links} == {"continued"}
    assert report.counts["plans_left_out"] == 2
    assert report.details["plans_left_out"] == [{"department": "交通局", "plan_year": 2023, "notice_id": 9002},
                                                {"department": "交通局", "plan_year": 2023, "notice_id": 9003}]


def _sec(uid, section, title, text):
    return ComparableItem(uid, text.split("。")[0] + "。", text, title, section)


def test_renamed_and_rewritten_successor_in_a_moved_section_is_found():
    """The issue's case: an infrastructure task renamed and fully rewritten, in a section that moved
    and was renamed, scores far below a character ratio's threshold yet is the right successor."""
    prev = [
        _sec("p1", 1, "加快综合交通基础设施建设", "推进重点公路项目建设。加快胶州湾第二海底隧道、董家口至梁山高速青岛段等项目建设，新开工高速公路2条。"),
        _sec("p2", 1, "加快综合交通基础设施建设", "实施农村公路提档升级。改造农村公路300公里。"),
        _sec("p3", 2, "加强党的建设", "全面加强党的政治建设。深入学习贯彻习近平新时代中国特色社会主义思想，认真落实“第一议题”制度，以高质量党建引领交通运输事业高质量发展。"),
    ]
    cur = [
        _sec("c1", 1, "全面从严治党", "加强党的政治建设。落实“第一议题”制度，以党建引领交通运输高质量发展。"),
        _sec("c2", 2, "统筹推进交通强市建设", "加快高速公路网络完善。胶州湾第二海底隧道项目全线开工建设，董家口至梁山高速青岛段年内建成通车，新开工高速公路3条。"),
        _sec("c3", 2, "统筹推进交通强市建设", "发展航空物流。支持胶东国际机场货运设施建设，开通国际货运航线5条。"),
    ]
    got = {(m.current and m.current.item_uid, m.previous and m.previous.item_uid): m.status
           for m in match_plans(prev, cur)}
    assert got == {("c1", "p3"): "revised", ("c2", "p1"): "revised", ("c3", None): "new", (None, "p2"): "dropped"}


def test_weak_best_candidate_is_offered_as_possible_with_its_score():
    prev = [_sec("p1", 1, "加强海洋生态保护", "做好浒苔灾害防控。落实浒苔绿潮应急处置预案，组织海上拦截和岸滩清理。"),
            _sec("p2", 1, "加强海洋生态保护", "实施海岸带保护修复。推进蓝色海湾整治行动，整治受损岸线10公里。"),
            _sec("p3", 2, "提升海洋治理能力", "推进海域海岛管理。完善海域使用审批制度，开展无居民海岛保护利用专项检查。")]
    cur = [_sec("c1", 1, "建设海洋生态文明", "浒苔绿潮综合防治。强化浒苔源头防控和海上打捞，保障海水浴场正常开放。"),
           _sec("c2", 1, "建设海洋生态文明", "推进蓝色海湾整治。实施胶州湾岸线生态修复工程，整治岸线15公里。"),
           _sec("c3", 2, "提升海洋治理能力", "推进海域海岛管理。完善海域使用审批制度，开展无居民海岛保护利用专项检查。")]
    # The rest of both plans (term weights come from the items compared, as in ``qdp diff``).
    others = ["加强渔业安全生产监管。开展渔船安全隐患排查整治，推进渔船北斗终端安装全覆盖。",
              "推进海洋科技创新。支持涉海科研机构开展关键技术攻关，建设海洋科技成果转化平台2个。",
              "推进海洋综合执法。开展“碧海”专项执法行动，严厉打击非法用海用岛行为。",
              "培育壮大现代海洋产业。推动海洋生物医药、海洋新材料等新兴产业集聚发展。"]
    prev += [_sec(f"p{n}", 3, "其他", t) for n, t in enumerate(others, start=4)]
    cur += [_sec(f"c{n}", 3, "其他", t) for n, t in enumerate(others, start=4)]
    by_cur = {m.current.item_uid: m for m in match_plans(prev, cur) if m.current}
    assert by_cur["c3"].status == "continued" and by_cur["c3"].score == 100.0
    assert by_cur["c2"].previous.item_uid == "p2" and by_cur["c2"].status == "revised"
    assert by_cur["c1"].previous.item_uid == "p1" and by_cur["c1"].status in ("possible", "revised")
    assert all(m.score is not None and 0 < m.score <= 100 for m in by_cur.values())


def test_unrelated_leftovers_are_not_linked():
    prev = [_sec("p1", 1, "强化安全生产", "加强交通执法队伍建设。开展执法人员业务培训，规范执法行为。")]
    cur = [_sec("c1", 1, "强化安全生产", "发展航空物流。支持胶东国际机场货运设施建设，开通国际货运航线5条。")]
    assert [m.status for m in match_plans(prev, cur)] == ["new", "dropped"]


def test_terms_mask_numbers_and_keep_words_the_dictionary_lacks():
    t = terms("做好浒苔灾害防控。新建国家级海洋牧场示范区3处，新建五十个。")
    assert "浒苔" in t and "牧场" in t
    assert not any(ch.isdigit() for term in t for ch in term) and "五十" not in t
    assert terms("新建城市书房20处。") == terms("新建城市书房25处。")


def _corpus_items() -> list[ComparableItem]:
    from etl.sample_site.corpus import load_corpus

    return [ComparableItem(i.key, i.headline, i.text, s.title, n)
            for d in load_corpus() for n, s in enumerate(d.sections, start=1) for i in s.items]


CORPUS_ITEMS = _corpus_items()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(range(len(CORPUS_ITEMS))), max_size=12, unique=True),
       st.lists(st.sampled_from(range(len(CORPUS_ITEMS))), max_size=12, unique=True),
       st.booleans())
def test_every_item_is_accounted_for_once(prev_idx, cur_idx, flat):
    """Whatever the plans: each current item gets one row, each previous item is linked at most once
    or dropped, scores stay on 0-100, and continued means the same text."""
    def pick(idx, tag):
        return [ComparableItem(f"{tag}{k}", CORPUS_ITEMS[k].headline, CORPUS_ITEMS[k].text,
                               "" if flat else CORPUS_ITEMS[k].section_title, 0 if flat else CORPUS_ITEMS[k].section)
                for k in idx]

    prev, cur = pick(prev_idx, "p"), pick(cur_idx, "c")
    matches = match_plans(prev, cur)
    assert [m.current.item_uid for m in matches if m.current] == [c.item_uid for c in cur]
    linked = [m.previous.item_uid for m in matches if m.previous and m.current]
    dropped = [m.previous.item_uid for m in matches if m.status == "dropped"]
    assert sorted(linked + dropped) == sorted(p.item_uid for p in prev)
    for m in matches:
        assert (m.score is None) == (m.status in ("new", "dropped"))
        if m.score is not None:
            assert 0 <= m.score <= 100
        if m.status == "continued":
            assert canonical(m.current.text) == canonical(m.previous.text)
