"""Numeric targets: numerals, units, objects, actions, and what is not a target."""

from __future__ import annotations

import pytest

from etl.parse.targets import chinese_to_number, extract_targets, parse_number


@pytest.mark.parametrize("text, value", [
    ("十", 10), ("十五", 15), ("二十", 20), ("二十五", 25), ("三百", 300), ("三千", 3000), ("一百零八", 108),
    ("两百", 200), ("三万五千", 35000), ("一亿", 100_000_000),
])
def test_chinese_numerals(text, value):
    assert chinese_to_number(text) == value


def test_bad_numerals():
    assert chinese_to_number("一二") is None and chinese_to_number("万") is None and chinese_to_number("abc") is None
    assert parse_number("1,000") == 1000 and parse_number("2.5") == 2.5


def _t(text):
    return [(t.action, t.object, t.value, t.unit, t.span) for t in extract_targets(text)]


@pytest.mark.parametrize("text, expected", [
    ("新建、改扩建幼儿园20所。", [("新建、改扩建", "幼儿园", 20, "所", "新建、改扩建幼儿园20所")]),
    ("组织认定300所市示范（省一类）幼儿园。", [("认定", "市示范幼儿园", 300, "所", "认定300所市示范（省一类）幼儿园")]),
    ("技术合同成交额达到300亿元。", [("达到", "技术合同成交额", 300, "亿元", "技术合同成交额达到300亿元")]),
    ("新建市级重点实验室十五家。", [("新建", "市级重点实验室", 15, "家", "新建市级重点实验室十五家")]),
    ("培训教师2.5万人次。", [("培训", "教师", 2.5, "万人次", "培训教师2.5万人次")]),
    ("全年接待国内外游客1.1亿人次。", [("接待", "国内外游客", 1.1, "亿人次", "接待国内外游客1.1亿人次")]),
    ("到2025年，累计建设省级以上创新平台80个。", [("建设", "省级以上创新平台", 80, "个", "累计建设省级以上创新平台80个")]),
    ("覆盖率保持100%。", [("保持", "覆盖率", 100, "%", "覆盖率保持100%")]),
    ("研发经费投入强度达到3.2%。", [("达到", "研发经费投入强度", 3.2, "%", "研发经费投入强度达到3.2%")]),
    ("新增学位7500个，新建公里数12公里。", [("新增", "学位", 7500, "个", "新增学位7500个"),
                                         ("新建", "公里数", 12, "公里", "新建公里数12公里")]),
    ("新建幼儿园20所、中小学30所。", [("新建", "幼儿园", 20, "所", "新建幼儿园20所"), ("新建", "中小学", 30, "所", "中小学30所")]),
    ("发放文旅消费券5000万元。", [("发放", "文旅消费券", 5000, "万元", "发放文旅消费券5000万元")]),
    ("建设10平方米的展厅。", [("建设", "展厅", 10, "平方米", "建设10平方米的展厅")]),
])
def test_targets(text, expected):
    assert _t(text) == expected


@pytest.mark.parametrize("text", [
    "做好第十四届全国学生运动会赛事组织工作。",
    "组织建党100周年系列活动。",
    "关注学业成绩后30%学生的学业发展。",
    "精进实施《促进中小学生全面发展“十个一”项目行动计划》。",
    "推进2021年工作，印发〔2021〕5号文件。",
    "探索读物、体质五项管理改革。",
    "建设一批重点项目。",
    "支持有条件的幼儿园开设2至3岁托班。",
    "创建国家4A级旅游景区。",
    "",
])
def test_not_targets(text):
    assert _t(text) == []
