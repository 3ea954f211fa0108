"""The parser on adversarial inputs up to the 5 MB body cap (issue 9, item 10).

These check that the big inputs give sane output; the time each takes is printed by
benchmarks/bench_parse.py (worst-case section), since speed goals live in benchmarks. Before the
fix the first two took about 15 s each at 1 MB, so a regression also shows as a very slow test.
"""

from __future__ import annotations

import pytest

from etl.parse import parse_page
from tests.fixtures import worst_pages


def _one_item_page_ok(p) -> None:
    assert p.title == "市教育局2024年工作要点"
    assert p.doc_type == "work_plan"
    assert [s.title for s in p.sections][:1] == ["推动学前教育发展"]
    first = p.items[0]
    assert (first.marker, first.headline) == ("1.", "新建幼儿园20所。")
    assert [(t.value, t.unit, t.object) for t in first.targets][:1] == [(20, "所", "幼儿园")]


def test_a_tag_with_a_megabyte_of_attributes():
    p = parse_page(worst_pages.attributes(1_000_000))
    _one_item_page_ok(p)
    assert p.items[0].text == "新建幼儿园20所。"
    assert [(i.marker, i.text) for i in p.items[1:]] == [("2.", "新建中小学30所。")]


def test_a_responsibility_note_naming_40000_units():
    page = worst_pages.responsibility_note(480_000)
    p = parse_page(page)
    _one_item_page_ok(p)
    second = p.items[1]
    assert second.text == "新建中小学30所。"
    assert len(second.lead_units) == 40_000
    assert second.lead_units[:2] == ["单位0", "单位1"] and second.partner_units == ["青岛市财政局"]


def test_a_five_megabyte_page_is_cut_and_parsed():
    page = worst_pages.many_items(5_000_000)
    assert len(page) > 4_500_000
    p = parse_page(page)
    assert "too_large" in {w.code for w in p.warnings}
    _one_item_page_ok(p)
    # Items 1. to 999. (markers have at most three digits); later lines are body text of 999.
    assert [i.marker for i in p.items][-1] == "999."
    assert all(i.targets for i in p.items)


@pytest.mark.parametrize("name", ["digit_run", "chinese_numeral_run", "quantities", "markers", "elements",
                                  "one_long_line", "nested_brackets", "open_brackets", "signature_lines"])
def test_other_worst_shapes(name):
    p = parse_page(worst_pages.WORST[name](300_000))  # their 5 MB timings are in bench_parse.py
    _one_item_page_ok(p)
    for item in p.items:
        for t in item.targets:
            assert t.span and t.value is not None
