"""Text normalisation: pinyin, t2s, width, whitespace, punctuation, mojibake."""

from __future__ import annotations

import pytest

from etl.parse.normalize import (
    find_mojibake,
    has_traditional,
    normalize,
    normalize_lines,
    repair_mojibake,
    strip_pinyin,
    to_simplified,
    unify_punctuation,
)


def test_strip_pinyin_after_characters_only():
    assert strip_pinyin("青島政務網(wǎng) 發(fā)布") == "青島政務網 發布"
    assert strip_pinyin("優（yōu）質") == "優質"
    # Real parentheticals stay: Chinese, toneless Latin, abbreviations.
    assert strip_pinyin("市示範(省一類)幼兒園 青島教育e平台(AI) 工作(de)") == "市示範(省一類)幼兒園 青島教育e平台(AI) 工作(de)"


def test_traditional_to_simplified():
    assert to_simplified("市教育局2021年工作要點") == "市教育局2021年工作要点"
    assert not has_traditional(to_simplified("構建教育發展新格局"))
    assert has_traditional("學前教育")


def test_simplified_text_skips_opencc_with_the_same_result():
    """The screen that lets Simplified text skip OpenCC never changes the outcome."""
    import opencc

    from etl.sample_site.site import Site

    full = opencc.OpenCC("t2s").convert
    seed_like = "市教育局2021年工作要點：新建、改擴建幼兒園20所，𠮷野家"
    texts = [seed_like, full(seed_like), "乾隆年間", "著手推進", "只有一隻"]
    texts += ["\n".join(n.body) for n in Site.build().notices()]
    for text in texts:
        assert to_simplified(text) == full(text), text[:40]


def test_width_whitespace_and_punctuation():
    assert normalize("\u3000\u3000２０２１年，新建ＡＢ类学校") == "2021年，新建AB类学校"
    assert normalize("2021年,市教育局将(省一类)幼儿园:完善;推进!") == "2021年，市教育局将（省一类）幼儿园：完善；推进！"
    # Numbers, times and Latin text keep their ASCII punctuation.
    assert unify_punctuation("定于9:00召开,共1,000人(GDP)") == "定于9:00召开，共1,000人(GDP)"
    assert normalize("青岛  政务网 \t 发布") == "青岛政务网发布"


def test_normalize_lines_keeps_line_count():
    lines = ["市教育局2021年工作要點", "", "網(wǎng)站"]
    out, repairs = normalize_lines(lines)
    assert out == ["市教育局2021年工作要点", "", "网站"] and repairs == []


@pytest.mark.parametrize("original", ["发布日期和教育局", "推动学前教育普惠优质发展", "新建改扩建幼儿园"])
def test_utf8_read_as_gbk_is_repaired(original):
    garbled = original.encode("utf-8").decode("gb18030", "replace")
    text, repairs = repair_mojibake(f"青岛市{garbled}工作")
    assert original in text
    assert repairs and repairs[0].after in original


def test_odd_length_mojibake_repairs_what_is_whole():
    # Nine UTF-8 characters are 27 bytes: the last byte pairs with the next character and is lost.
    garbled = "新建、改扩建幼儿园".encode().decode("gb18030", "replace")
    text, repairs = repair_mojibake(garbled + "工作")
    assert text.startswith("新建、改扩建幼儿") and find_mojibake(text) and len(repairs) == 1


def test_utf8_read_as_cp1252_is_repaired():
    garbled = "北京市".encode().decode("cp1252")
    assert repair_mojibake(garbled)[0] == "北京市"


def test_clean_chinese_is_never_repaired():
    text = "市教育局2021年工作要点。推动学前教育普惠优质发展，新建、改扩建幼儿园20所。加快建设高质量教育体系。"
    assert repair_mojibake(text) == (text, [])


def test_unrepairable_mojibake_is_found_not_removed():
    text = normalize("開展經(jīng)?;\ue205\ue5cd@安全自查")
    assert "\ue205\ue5cd" in text and text.startswith("开展经?")
    assert find_mojibake(text) == ["?", "\ue205\ue5cd"]
    assert find_mojibake("数据\ufffd\ufffd丢失 锟斤拷") == ["\ufffd\ufffd", "锟斤拷"]
    assert find_mojibake("是否完成?") == [] and find_mojibake("正常文本。") == []
