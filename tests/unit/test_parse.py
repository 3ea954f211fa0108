"""parse_page on the seed, on each numbering style and on each page variant (own small examples)."""

from __future__ import annotations

import datetime as dt
import html
import re
from pathlib import Path

import pytest

from etl.parse import parse_page
from etl.parse.normalize import has_traditional

SEED = Path(__file__).resolve().parents[2] / "etl" / "sample_site" / "seed" / "jyj_2021_work_points.txt"
SEED_URL = "https://www.qingdao.gov.cn/zwgk/xxgk/jyj/gkml/ghjh/202103/t20210305_2106401.shtml"
PINYIN = re.compile(r"\([a-zü]*[āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ][a-zü]*\)")


def page(title: str, body: list[str], *, source: str | None = "青岛市教育局", date: str = "2021-03-05",
         charset: str = "utf-8", column: str = "规划计划", meta: bool = True, container: str = 'class="TRS_Editor" id="zoom"') -> str:
    """A detail page in the sample-site / real-site shape."""
    e = html.escape
    metas = ""
    if meta:
        metas = (f'<meta name="SiteName" content="青岛政务网">\n<meta name="ColumnName" content="{e(column)}">\n'
                 f'<meta name="ArticleTitle" content="{e(title)}">\n<meta name="PubDate" content="{date} 09:30">\n')
        if source:
            metas += f'<meta name="ContentSource" content="{e(source)}">\n'
    header = f"青岛政务网 发布日期 : {date}" + (f" 来源 : {source}" if source else "")
    paras = "".join(f"    <p>{e(line)}</p>\n" for line in body)
    return (f'<!DOCTYPE html>\n<html lang="zh-CN"><head>\n<meta charset="{charset}">\n{metas}'
            f"<title>{e(title)}_{e(source or '青岛政务网')}</title></head>\n<body>\n"
            '<div class="header-nav">导航 首页 政务公开 我要收藏 取消收藏</div>\n<div class="article">\n'
            f'  <h1 class="article-title">{e(title)}</h1>\n  <div class="article-info">{e(header)}</div>\n'
            f'  <div class="article-tools">字体大小: 打印</div>\n  <div {container}>\n{paras}  </div>\n'
            '  <div class="article-qr">扫一扫在手机打开当前页</div>\n</div>\n<div class="footer">版权所有</div>\n</body></html>\n')


def seed_as_html() -> bytes:
    """The seed's body in a sample-site page: header/tools/QR lines in their own divs, one <p> per line."""
    lines = SEED.read_text(encoding="utf-8").split("\n")
    body = [line for line in lines[3:] if line.strip() and "掃一掃" not in line]
    return page("市教育局2021年工作要點", body, source="青島市教育局", column="規劃計劃").encode("utf-8")


# --------------------------------------------------------------------------- the seed


@pytest.fixture(scope="module", params=["text", "html"])
def seed_parsed(request):
    if request.param == "text":
        return parse_page(SEED.read_bytes())
    return parse_page(seed_as_html(), url=SEED_URL, charset="utf-8")


def test_seed_metadata(seed_parsed):
    p = seed_parsed
    assert p.title == "市教育局2021年工作要点"
    assert p.published == dt.date(2021, 3, 5)
    assert p.department == "青岛市教育局"
    assert p.doc_type == "work_plan"
    assert p.plan_year == 2021


def test_seed_structure(seed_parsed):
    p = seed_parsed
    assert [s.marker for s in p.sections] == ["一、", "二、", "三、", "四、", "五、"]
    assert p.sections[0].title == "突出优质均衡，形成教育公共服务新格局"
    counts = [sum(1 for i in p.items if i.section == s.ordinal) for s in p.sections]
    assert counts == [3, 3, 4, 5, 4]
    first = p.items[0]
    assert (first.section, first.ordinal, first.marker) == (1, 1, "1.")
    assert first.headline == "推动学前教育普惠优质发展。"
    assert first.text.startswith("推动学前教育普惠优质发展。印发第四期学前教育行动计划。")
    # Preamble and page furniture stay out of sections and items.
    assert not any("将以习近平" in i.text or "扫一扫" in i.text for i in p.items)
    assert "扫一扫" not in p.body_text and "字体大小" not in p.body_text


def test_seed_text_is_clean_simplified(seed_parsed):
    for item in seed_parsed.items:
        assert not PINYIN.search(item.text), item.text
        assert not has_traditional(item.text), item.text
        assert not has_traditional(item.headline)
    for s in seed_parsed.sections:
        assert not has_traditional(s.title) and not PINYIN.search(s.title)
    # The raw text keeps the page as found.
    assert "(fā)" in seed_parsed.items[0].raw_text or "發(fā)" in seed_parsed.items[0].raw_text


def test_seed_mojibake_warning_names_the_item(seed_parsed):
    moji = [w for w in seed_parsed.warnings if w.code == "mojibake"]
    assert len(moji) == 1
    assert (moji[0].section, moji[0].item) == (5, 3)
    item = next(i for i in seed_parsed.items if (i.section, i.ordinal) == (5, 3))
    # Kept, not dropped: the garbled stretch is still in the text, next to its neighbours.
    assert "开展经?" in item.text and "\ue205" in item.text and "安全自查" in item.text


def test_seed_targets(seed_parsed):
    found = {(t.object, t.value, t.unit) for i in seed_parsed.items for t in i.targets}
    assert ("幼儿园", 20, "所") in found
    assert ("中小学", 30, "所") in found
    demo = [t for i in seed_parsed.items for t in i.targets if t.value == 300]
    assert len(demo) == 1 and demo[0].unit == "所"
    assert demo[0].object == "市示范幼儿园"
    spans = " ".join(t.span for i in seed_parsed.items for t in i.targets)
    for not_target in ("十四届", "100周年", "30%"):
        assert not_target not in spans
    assert {t.value for i in seed_parsed.items for t in i.targets} == {20, 300, 30}


def test_seed_to_dict_contract(seed_parsed):
    d = seed_parsed.to_dict()
    assert set(d) == {"title", "published", "department", "doc_type", "plan_year", "sections", "items",
                      "warnings", "column"}
    assert d["published"] == "2021-03-05"
    assert set(d["items"][0]) >= {"section", "ordinal", "marker", "headline", "text", "lead_units",
                                  "partner_units", "targets", "group"}
    assert set(d["items"][0]["targets"][0]) == {"action", "object", "value", "unit", "span", "modifier",
                                                "value_min", "value_max", "kind"}
    assert set(d["warnings"][0]) == {"code", "message", "section", "item"}


# --------------------------------------------------------------------------- numbering styles

TITLE = "市教育局2024年工作要点"


def _items(body: list[str], title: str = TITLE):
    return parse_page(page(title, body).encode())


def test_sections_with_restarting_items():
    p = _items(["2024年，市教育局将扎实推进各项工作。", "一、扩大优质资源", "1.新建幼儿园。新建幼儿园10所。",
                "2.扩容中小学。新增学位500个。", "二、深化改革", "1.深化评价改革。完善评价体系。"])
    assert [(i.section, i.ordinal, i.marker) for i in p.items] == [(1, 1, "1."), (1, 2, "2."), (2, 1, "1.")]
    assert [s.title for s in p.sections] == ["扩大优质资源", "深化改革"]


def test_running_paren_items_keep_markers_ordinals_restart():
    p = _items(["一、平台建设", "（一）建设创新平台。新建平台5个。", "（二）重塑实验室体系。优化布局。",
                "二、企业培育", "（三）培育高新技术企业。高新技术企业总数突破6000家。"])
    assert [(i.section, i.ordinal, i.marker) for i in p.items] == [(1, 1, "（一）"), (1, 2, "（二）"), (2, 1, "（三）")]


def test_ascii_paren_items_without_sections():
    p = _items(["(一)建设创新平台。新建平台5个。", "(二)重塑实验室体系。优化布局。"])
    assert p.sections == []
    assert [(i.section, i.ordinal, i.marker) for i in p.items] == [(0, 1, "（一）"), (0, 2, "（二）")]


def test_number_comma_items():
    p = _items(["一、总体要求", "1、加强领导。成立领导小组。", "2、压实责任。明确分工。"])
    assert [i.marker for i in p.items] == ["1、", "2、"]
    assert p.items[1].headline == "压实责任。"


def test_level3_sub_items_stay_inside_their_item():
    p = _items(["一、重点任务", "1.推进学前教育。主要包括：", "（1）新建幼儿园20所。", "（2）培训教师。",
                "① 开展园长培训。", "2.推进义务教育。扩大优质资源。"])
    assert len(p.items) == 2
    first = p.items[0]
    assert "（1）新建幼儿园20所。" in first.text and "①开展园长培训。" in first.text
    assert [(t.object, t.value) for t in first.targets] == [("幼儿园", 20)]


def test_circled_items_without_sections():
    p = _items(["①建设城市书房。新建城市书房20处。", "②举办文化活动。举办群众文化活动3000场。"])
    assert [i.marker for i in p.items] == ["①", "②"] and {i.section for i in p.items} == {0}


def test_block_numbers_alone_on_a_line():
    p = _items(["一、繁荣文化事业", "01", "完善公共文化服务体系。新建城市书房20处。", "02", "推动文艺精品创作。推出剧目10部。",
                "二、保护文化遗产", "03", "加强非遗保护。新认定项目五十项。"])
    assert [(i.section, i.ordinal, i.marker) for i in p.items] == [(1, 1, "01"), (1, 2, "02"), (2, 1, "03")]
    assert p.items[2].targets[0].value == 50


def test_block_number_then_headline_line_then_body():
    p = _items(["01", "完善公共文化服务体系", "推进公共文化设施提档升级，新建城市书房20处。", "02", "推动文艺精品创作",
                "实施扶持计划。"])
    assert [i.headline for i in p.items] == ["完善公共文化服务体系", "推动文艺精品创作"]
    assert p.items[0].text == "完善公共文化服务体系\n推进公共文化设施提档升级，新建城市书房20处。"


def test_di_numbering():
    p = _items(["第一，强化组织领导。成立工作专班。", "第二，加强督导考核。纳入年度考核。"])
    assert [i.marker for i in p.items] == ["第一，", "第二，"]
    assert p.items[0].headline == "强化组织领导。"


def test_bullets_under_sections_are_items():
    p = _items(["一、实施平台提升行动", "——到2025年，累计建设创新平台80个。", "——支持建设大科学装置。",
                "二、实施企业培育行动", "——高新技术企业数量突破10000家。"],
               title="青岛市科技创新能力提升三年行动计划（2023—2025年）")
    assert p.doc_type == "action_plan" and p.plan_year == 2023
    assert [(i.section, i.ordinal, i.marker) for i in p.items] == [(1, 1, "——"), (1, 2, "——"), (2, 1, "——")]
    assert p.items[0].text == "到2025年，累计建设创新平台80个。"


def test_bullets_under_an_item_stay_inside_it():
    p = _items(["一、重点任务", "1.推进平台建设。重点做好：", "——建设实验室。", "——建设中试基地。", "2.培育企业。扩大规模。"])
    assert len(p.items) == 2 and "——建设中试基地。" in p.items[0].text


def test_nested_group_headings_are_not_items():
    p = _items(["一、推进基础教育扩优提质", "（一）学前教育", "1.推动普惠发展。新建幼儿园30所。", "2.推进托幼一体化。",
                "（二）义务教育", "1.推动扩优提质。新建中小学40所。", "二、强化保障", "（一）队伍建设", "1.加强教师队伍建设。"])
    assert [(i.section, i.ordinal, i.marker) for i in p.items] == [(1, 1, "1."), (1, 2, "2."), (1, 3, "1."), (2, 1, "1.")]
    assert not any(i.text == "学前教育" for i in p.items)
    # The group heading travels with its items (it resets with every section).
    assert [i.group for i in p.items] == ["（一）学前教育", "（一）学前教育", "（二）义务教育", "（一）队伍建设"]


def test_two_level_items_have_no_group(seed_parsed):
    assert {i.group for i in seed_parsed.items} == {None}


def test_prose_sections_have_no_items():
    p = _items(["2022年上半年，各项工作取得积极进展。", "一、公共服务供给持续扩大", "上半年新建幼儿园12所。",
                "二、下半年工作打算", "下半年将逐项梳理任务进度。"], title="市教育局2022年上半年工作总结")
    assert p.doc_type == "work_summary"
    assert [s.title for s in p.sections] == ["公共服务供给持续扩大", "下半年工作打算"] and p.items == []


def test_hard_line_breaks_are_joined_and_signature_dropped():
    p = _items(["一、扩大优质资源", "1.推动学前教育普惠优质发展。新建、改扩建", "幼儿园20所，新增学位", "7500个。",
                "2.推动中小学扩优提质。", "青岛市教育局", "2024年3月12日"])
    assert p.items[0].text == "推动学前教育普惠优质发展。新建、改扩建幼儿园20所，新增学位7500个。"
    assert [(t.object, t.value) for t in p.items[0].targets] == [("幼儿园", 20), ("学位", 7500)]
    assert p.items[1].text == "推动中小学扩优提质。"


def test_responsibility_notes_become_units():
    p = _items(["一、任务", "1.建设平台。新建平台20个。（牵头单位：市科技局，参与单位：市发展改革委、市财政局、市税务局）",
                "2.加强安全。开展检查。(责任单位:市教育局、市公安局)"])
    a, b = p.items
    assert a.lead_units == ["青岛市科学技术局"]
    assert a.partner_units == ["青岛市发展和改革委员会", "青岛市财政局", "市税务局"]
    assert a.text == "建设平台。新建平台20个。" and "牵头单位" in a.raw_text
    assert b.lead_units == ["青岛市教育局", "青岛市公安局"] and b.partner_units == []
    assert b.text == "加强安全。开展检查。"


# --------------------------------------------------------------------------- issue 12: shapes of real plans


def test_unnumbered_paragraphs_under_sections_are_items():
    p = _items(["2024年，市教育局将扎实推进各项工作。", "一、扩大优质教育资源供给",
                "推动学前教育普惠发展，新建幼儿园20所。",
                "推进中小学扩优提质，完成20个改扩建项目。", "（责任单位：市教育局）",
                "二、深化教育评价改革", "完善中小学教育质量评价体系。（牵头单位：市教育局，参与单位：市财政局）"])
    assert [(i.section, i.ordinal, i.marker) for i in p.items] == [(1, 1, ""), (1, 2, ""), (2, 1, "")]
    a, b, c = p.items
    assert a.headline == "推动学前教育普惠发展，新建幼儿园20所。"
    assert [(t.object, t.value) for t in a.targets] == [("幼儿园", 20)]
    assert b.text == "推进中小学扩优提质，完成20个改扩建项目。" and b.lead_units == ["青岛市教育局"]
    assert [(t.action, t.object, t.value) for t in b.targets] == [("完成", "改扩建项目", 20)]
    assert c.partner_units == ["青岛市财政局"]


def test_mixed_three_level_plan_keeps_numbered_items_under_groups():
    p = _items(["一、扩大优质资源", "（一）推动学前教育普惠发展。新建幼儿园20所。", "（二）推进中小学扩优提质。新增学位500个。",
                "二、深化改革", "（一）评价改革", "1.完善评价体系。推进综合素质评价。", "2.深化考试招生制度改革。",
                "3.推进中考改革。", "（二）管理改革", "1.推进集团化办学。组建教育集团10个。"])
    assert [(i.section, i.ordinal, i.marker, i.group) for i in p.items] == [
        (1, 1, "（一）", None), (1, 2, "（二）", None), (2, 1, "1.", "（一）评价改革"), (2, 2, "2.", "（一）评价改革"),
        (2, 3, "3.", "（一）评价改革"), (2, 4, "1.", "（二）管理改革")]
    assert all("\n" not in i.headline for i in p.items)


def test_text_after_the_body_does_not_leak_into_the_last_item():
    p = _items(["一、任务", "1.建设平台。新建平台20个。", "2.加强安全。开展检查。（责任单位：市教育局）",
                "附件：1.任务分解表", "2.进度安排表", "青岛市教育局", "2024年3月12日",
                "更正说明：2024年3月15日对第一部分第1项数据作了更正。"])
    assert [i.marker for i in p.items] == ["1.", "2."]
    assert p.items[1].text == "加强安全。开展检查。" and p.items[1].lead_units == ["青岛市教育局"]
    p = _items(["一、任务", "1.建设平台。新建平台20个。", "2.加强安全。开展检查。", "青岛市教育局", "2024年3月12日",
                "说明：本要点第2项有修改。"])
    assert p.items[1].text == "加强安全。开展检查。"


def test_a_dangling_marker_makes_no_empty_item():
    p = _items(["一、任务", "1.建设平台。新建平台20个。", "2.", "3.加强安全。开展检查。", "4."])
    assert [(i.marker, i.text) for i in p.items] == [("1.", "建设平台。新建平台20个。"), ("3.", "加强安全。开展检查。")]
    assert all(i.text for i in p.items)


@pytest.mark.parametrize("note, lead, partners", [
    ("（责任处室（单位）：基础教育处、市财政局）", ["基础教育处", "青岛市财政局"], []),
    ("(责任处室(单位):基础教育处)", ["基础教育处"], []),
    ("（牵头部门：市教育局；配合部门：市财政局、市人社局）", ["青岛市教育局"], ["青岛市财政局", "青岛市人力资源和社会保障局"]),
    ("\n责任部门：市教育局", ["青岛市教育局"], []),
    ("责任部门：市教育局", ["青岛市教育局"], []),
    ("\n牵头部门：市教育局\n配合部门：市财政局\n责任领导：张三", ["青岛市教育局"], ["青岛市财政局"]),
])
def test_responsibility_note_shapes(note, lead, partners):
    body = ["一、任务", "1.建设平台。新建平台20个。", *("2.加强安全。开展检查。" + note).split("\n")]
    item = _items(body).items[1]
    assert (item.text, item.lead_units, item.partner_units) == ("加强安全。开展检查。", lead, partners)


def test_untitled_capture_is_recognised_from_body_and_url():
    text = ("2024年，市教育局将坚持稳中求进，推进教育高质量发展。\n一、扩大优质资源\n1.推动学前教育发展。新建幼儿园20所。\n"
            "2.推进中小学扩优提质。\n二、深化改革\n1.完善评价体系。\n")
    p = parse_page(text.encode(), url="https://www.qingdao.gov.cn/zwgk/xxgk/jyj/gkml/ghjh/202403/t20240312_1.shtml")
    assert (p.title, p.doc_type, p.plan_year, p.department) == (None, "work_plan", 2024, "青岛市教育局")
    assert len(p.items) == 3
    # Without a plan column, the body still says what it is.
    p = parse_page(("市教育局2024年工作要点如下。\n" + text).encode())
    assert (p.doc_type, p.plan_year, len(p.items)) == ("work_plan", 2024, 3)
    # A titled notice stays a notice: the title wins.
    p = parse_page(page("关于开展2024年教师招聘的通知", text.split("\n")).encode(),
                   url="https://www.qingdao.gov.cn/zwgk/xxgk/jyj/gkml/ghjh/202403/t20240312_1.shtml")
    assert p.doc_type == "notice" and p.items == []


# --------------------------------------------------------------------------- variants


def test_simplified_html_page_with_meta():
    p = parse_page(page(TITLE, ["一、任务", "1.建设平台。新建平台20个。"], date="2024-03-12").encode(),
                   url="https://www.qingdao.gov.cn/zwgk/xxgk/jyj/gkml/ghjh/202403/t20240312_2407201.shtml")
    assert (p.title, p.published, p.department, p.column) == (TITLE, dt.date(2024, 3, 12), "青岛市教育局", "规划计划")
    assert p.warnings == []


def test_traditional_page_with_pinyin():
    body = ["一、建設(shè)優(yōu)質(zhì)資源", "1.推動學前教育發(fā)展。新建幼兒園20所。"]
    p = parse_page(page("市教育局2021年工作要點", body, source="青島市教育局").encode())
    assert p.title == "市教育局2021年工作要点" and p.department == "青岛市教育局"
    assert p.sections[0].title == "建设优质资源"
    assert p.items[0].text == "推动学前教育发展。新建幼儿园20所。"
    assert p.items[0].raw_text == "推動學前教育發(fā)展。新建幼兒園20所。"


def test_gbk_page_with_http_charset():
    body = page("市科技局2023年工作要点", ["一、平台建设", "（一）建设平台。新建省级以上创新平台25个。"],
                source="青岛市科学技术局", charset="gb2312").encode("gbk")
    p = parse_page(body, charset="gb2312")
    assert p.title == "市科技局2023年工作要点" and p.department == "青岛市科学技术局"
    assert p.items[0].targets[0].value == 25
    # The wrong HTTP charset (a fault the sample site injects) must not garble it either.
    assert parse_page(body, charset="utf-8").items[0].text == p.items[0].text


def test_utf8_page_misread_as_gbk_is_repaired():
    garbled = "推动学前教育普惠优质发展".encode().decode("gb18030", "replace")
    p = _items(["一、任务", f"1.{garbled}。新建幼儿园20所。"])
    assert p.items[0].text == "推动学前教育普惠优质发展。新建幼儿园20所。"
    w = [w for w in p.warnings if w.code == "mojibake_repaired"]
    assert len(w) == 1 and (w[0].section, w[0].item) == (1, 1)


def test_unrepairable_mojibake_is_kept_and_reported():
    p = _items(["一、任务", "1.加强安全。开展经\ufffd\ufffd校园安全自查。", "2.加强管理。"])
    assert "经\ufffd\ufffd校园" in p.items[0].text
    assert [(w.code, w.section, w.item) for w in p.warnings] == [("mojibake", 1, 1)]


def test_no_source_page_takes_department_from_title_or_url():
    body = page("市文化和旅游局2023年工作要点", ["一、任务", "——新建城市书房25处。"], source=None).encode()
    assert parse_page(body).department == "青岛市文化和旅游局"
    anonymous = page("2023年工作要点", ["一、任务", "——新建城市书房25处。"], source=None).encode()
    url = "https://www.qingdao.gov.cn/zwgk/xxgk/whly/gkml/gzxx/202303/t20230320_2307901.shtml"
    assert parse_page(anonymous, url=url).department == "青岛市文化和旅游局"
    assert any(w.code == "no_department" for w in parse_page(anonymous).warnings)


def test_navigation_debris_inside_the_container():
    p = _items(["导航", "首页 > 政务公开 > 政府信息公开", "我要收藏", "取消收藏", "2024年，市教育局将推进工作。",
                "一、任务", "1.建设平台。新建平台20个。"])
    assert "导航" not in p.body_text and "收藏" not in p.body_text
    assert len(p.items) == 1


def test_meta_less_page_uses_header_line_and_h1():
    p = parse_page(page(TITLE, ["一、任务", "1.建设平台。"], meta=False, date="2024-03-12").encode())
    assert (p.title, p.published, p.department) == (TITLE, dt.date(2024, 3, 12), "青岛市教育局")


def test_old_site_zoom2_container():
    p = parse_page(page(TITLE, ["一、任务", "1.建设平台。新建平台20个。"], container='id="Zoom2"').encode())
    assert len(p.items) == 1 and not any(w.code == "no_container" for w in p.warnings)


def test_text_capture_with_spam_title_before_the_real_one():
    text = "澳门最新资讯免费看\n市教育局2021年工作要点\n青岛政务网 发布日期 : 2021-03-05 来源 : 青岛市教育局\n" \
           "一、任务\n1.建设平台。新建平台20个。\n"
    p = parse_page(text)
    assert p.title == "市教育局2021年工作要点" and p.published == dt.date(2021, 3, 5)
    assert len(p.items) == 1


def test_notice_numbered_paragraphs_are_not_plan_items():
    p = parse_page(page("市教育局2024年公开招聘工作人员公告", ["根据规定，现将有关事项公告如下。", "一、招聘条件。具有良好的品行。",
                                                      "二、报名方式。网上报名。"]).encode())
    assert p.doc_type == "notice" and p.items == [] and p.plan_year is None


@pytest.mark.parametrize("title, doc_type", [
    ("市教育局2021年工作要点", "work_plan"), ("市科技局2022年重点工作任务", "work_plan"),
    ("市民政局2023年工作计划", "work_plan"), ("市教育局2022年上半年工作总结", "work_summary"),
    ("青岛市科技创新能力提升三年行动计划（2023—2025年）", "action_plan"), ("关于印发青岛市学前教育实施方案的通知", "action_plan"),
    ("关于召开全市文化惠民工作会议的通知", "notice"),
])
def test_doc_type_from_title(title, doc_type):
    assert parse_page(page(title, ["一、任务", "1.建设平台。"]).encode()).doc_type == doc_type


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("content, code", [
    (b"", "empty_page"), ("   \n\t ", "empty_page"), (bytes(range(256)) * 40, "not_html"),
    (b"\x00" * 64, "not_html"),
])
def test_empty_and_binary_pages(content, code):
    p = parse_page(content)
    assert p.doc_type == "other" and p.items == [] and [w.code for w in p.warnings] == [code]


def test_truncated_html_keeps_what_arrived():
    full = page(TITLE, ["一、任务", "1.建设平台。新建平台20个。", "2.培育企业。新增企业30家。"]).encode()
    cut = full[: full.index("2.培育".encode())]
    p = parse_page(cut)
    assert any(w.code == "truncated" for w in p.warnings)
    assert p.title == TITLE and len(p.items) == 1


def test_malformed_html_and_no_container():
    p = parse_page("<html><head><title>关于召开会议的通知_青岛市教育局</title><body><div><p>各单位：<p>经研究，"
                   "定于2024年6月3日召开会议。现将有关事项通知如下。<p>一、会议时间。<p>青岛市教育局")
    assert p.doc_type == "notice" and p.title == "关于召开会议的通知"
    assert {"truncated", "no_container"} <= {w.code for w in p.warnings}


def test_huge_page_is_cut_with_a_warning():
    line = "<p>新建幼儿园20所，完善体系。</p>"
    content = ("<html><body><div id='zoom'><p>一、任务</p><p>1.建设。</p>" + line * 400_000 + "</div></body></html>").encode()
    assert len(content) > 10_000_000
    p = parse_page(content)
    assert any(w.code == "too_large" for w in p.warnings)
    assert len(p.body_text) <= 600_000


def test_deeply_nested_markup_does_not_recurse():
    p = parse_page("<html><body><div id='zoom'>" + "<div>" * 5000 + "一、任务" + "</div>" * 5000 + "</div></body></html>")
    assert p.doc_type == "other"
