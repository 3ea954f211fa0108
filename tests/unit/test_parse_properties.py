"""Property-based: parse_page never raises, whatever it is given, and its output keeps the contract."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from etl.parse import parse_page
from etl.parse.normalize import normalize_lines
from etl.parse.targets import extract_targets
from etl.records import DOC_TYPES, parsed_notice_from_dict

# Text drawn from the alphabet pages are made of, so the structure code is exercised, not only
# the "no structure" path.
_PIECES = st.sampled_from([
    "一、", "二、", "（一）", "(二)", "1.", "2、", "（1）", "①", "01", "第一，", "——", "。", "，", "\n", "\n\n",
    "新建", "幼儿园", "20所", "十五家", "达到", "3.2%", "第十四届", "100周年", "（牵头单位：市教育局，参与单位：市财政局）",
    "(责任单位:市公安局)", "網(wǎng)", "發(fā)", "?", "\ue205", "\ufffd", "鍙戝竷鏃ユ湡", "发布日期 : 2021-03-05", "来源 : 青岛市教育局",
    "市教育局2021年工作要点", "青岛市教育局", "2021年3月5日", " ", "\u3000", "<", ">", "&", "<p>", "</p>", "<br>",
    "<div id=\"zoom\">", "</div>", "<html>", "<meta name=\"ArticleTitle\" content=\"", "\">", "\x00", "\x1b",
])
_PAGEISH = st.lists(st.one_of(_PIECES, st.text(max_size=8)), max_size=60).map("".join)


def _check(notice):
    assert notice.doc_type in DOC_TYPES
    d = notice.to_dict()
    assert parsed_notice_from_dict(json.loads(json.dumps(d, ensure_ascii=False))).to_dict() == d
    for item in notice.items:
        assert item.ordinal >= 1 and item.section >= 0
        assert item.section == 0 or any(s.ordinal == item.section for s in notice.sections)
    for w in notice.warnings:
        assert w.code and w.message


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=400))
def test_arbitrary_text_never_raises(text):
    _check(parse_page(text))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_PAGEISH)
def test_page_like_text_never_raises(text):
    _check(parse_page(text))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_PAGEISH, st.sampled_from(["utf-8", "gbk"]), st.sampled_from([None, "gb2312", "utf-8", "bogus"]))
def test_arbitrary_bytes_never_raise(text, codec, declared):
    data = ("<html><body><div id='zoom'>" + text).encode(codec, "replace")
    _check(parse_page(data, charset=declared))


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=600))
def test_binary_never_raises(data):
    _check(parse_page(data, url="https://www.qingdao.gov.cn/zwgk/xxgk/jyj/gkml/ghjh/202103/t20210305_1.shtml"))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.text(max_size=30), max_size=8))
def test_normalize_lines_keeps_line_count(lines):
    out, _ = normalize_lines(lines)
    assert len(out) == len(lines)


@settings(max_examples=200, deadline=None)
@given(_PAGEISH)
def test_target_spans_are_in_the_text(text):
    for t in extract_targets(text):
        assert t.span in text and t.value >= 0 and t.unit


_TARGET_PIECES = st.sampled_from([
    "新建", "完成", "新增", "培育", "达到", "不低于", "力争", "累计", "各", "等", "（", "）", "总数", "16处", "20个",
    "1-2家", "10家以上", "左右", "万标准箱", "300万吨", "、", "，", "。", "幼儿园", "治理项目", "养护提升", "示范基地",
    "升级提质", "区市", "覆盖", "全市", "的", "和", "5", "二", "十", "%",
])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(_TARGET_PIECES, st.text(max_size=3)), max_size=30).map("".join))
def test_targets_never_have_empty_or_junk_objects(text):
    for t in extract_targets(text):
        assert t.span and t.span in text
        assert t.kind in ("target", "scope")
        if t.value_min is not None and t.value_max is not None:
            assert t.value_min <= t.value_max
        if t.object is None:
            continue
        assert t.object.strip() == t.object and t.object
        assert t.object not in ("等", "各", "的", "总数") and not t.object.endswith(("等", "各"))
        assert t.object[0] not in "（()）、，" and t.object.count("（") == t.object.count("）")
