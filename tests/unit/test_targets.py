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


# --------------------------------------------------------------------------- issue 12: shapes of real plans


def _m(text):
    return [(t.action, t.object, t.value, t.unit, t.modifier, t.value_min, t.value_max, t.kind)
            for t in extract_targets(text)]


@pytest.mark.parametrize("text, expected", [
    # A count before the noun, with the verb before or after it.
    ("完成20个治理项目。", [("完成", "治理项目", 20, "个", None, None, None, "target")]),
    ("推动5个示范基地升级提质。", [("升级提质", "示范基地", 5, "个", None, None, None, "target")]),
    # An enumeration sharing one verb and one object; compound units whole.
    ("新增吞吐能力50万标准箱、300万吨。", [("新增", "吞吐能力", 50, "万标准箱", None, None, None, "target"),
                                         ("新增", "吞吐能力", 300, "万吨", None, None, None, "target")]),
    ("新增造林1万亩，森林覆盖率提高1个百分点。", [("新增", "造林", 1, "万亩", None, None, None, "target"),
                                              ("提高", "森林覆盖率", 1, "个百分点", None, None, None, "target")]),
    ("新建城市道路30公里。", [("新建", "城市道路", 30, "公里", None, None, None, "target")]),
    # Ranges, floors, ceilings and hedges.
    ("新增高新技术企业1-2家。", [("新增", "高新技术企业", 1, "家", "range", 1, 2, "target")]),
    ("建设二至三个产业园区。", [("建设", "产业园区", 2, "个", "range", 2, 3, "target")]),
    ("培育专精特新企业10家以上。", [("培育", "专精特新企业", 10, "家", "以上", 10, None, "target")]),
    ("每个区市各培育1家以上。", [("培育", None, 1, "家", "各、以上", 1, None, "target")]),
    ("力争新增国家级企业技术中心20家。", [("新增", "国家级企业技术中心", 20, "家", "力争", None, None, "target")]),
    ("空气优良天数比例达到80%左右。", [("达到", "空气优良天数比例", 80, "%", "左右", None, None, "target")]),
    ("城市生活污水集中收集率不低于75%。", [("不低于", "城市生活污水集中收集率", 75, "%", "不低于", 75, None, "target")]),
    ("新增就业岗位不少于7万个。", [("新增", "就业岗位", 7, "万个", "不少于", 7, None, "target")]),
    ("PM2.5平均浓度控制在30微克以内，重污染天数不超过3天。", []),
    ("累计建成5G基站3万个。", [("建成", "5G基站", 3, "万个", "累计", None, None, "target")]),
    # Junk objects never come out.
    ("完成道路养护提升16处。", [("养护提升", "道路", 16, "处", None, None, None, "target")]),
    ("新建学校、医院等20个。", [("新建", "学校、医院", 20, "个", None, None, None, "target")]),
    ("新建示范校10所（总数达到50所）。", [("新建", "示范校", 10, "所", None, None, None, "target"),
                                      ("达到", None, 50, "所", None, None, None, "scope")]),
    # Scope counts are flagged, not dropped.
    ("覆盖全市10个区市。", [("覆盖", "区市", 10, "个", None, None, None, "scope")]),
])
def test_target_shapes_of_real_plans(text, expected):
    assert _m(text) == expected
