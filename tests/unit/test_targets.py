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


# --------------------------------------------------------------------------- sentences written like Qingdao plans


@pytest.mark.parametrize("text, expected", [
    # An amount inside the object qualifies it; the count after the object is the target.
    ("实施500万元以上工业技改项目800个。", [("实施", "500万元以上工业技改项目", 800, "个", None)]),
    ("培育营业收入10亿元以上的企业20家。", [("培育", "营业收入10亿元以上的企业", 20, "家", None)]),
    # One verb shared across "，" as across "、".
    ("新培育国家级专精特新“小巨人”企业30家，省级专精特新企业200家。",
     [("新培育", "国家级专精特新“小巨人”企业", 30, "家", None), ("新培育", "省级专精特新企业", 200, "家", None)]),
    ("新建幼儿园20所，中小学30所，其中公办学校25所。",
     [("新建", "幼儿园", 20, "所", None), ("新建", "中小学", 30, "所", None)]),
    ("新建充电桩1000个，换电站20座，总投资5亿元。", [("新建", "充电桩", 1000, "个", None), ("新建", "换电站", 20, "座", None)]),
    ("森林覆盖率达到40%，湿地保护率70%以上。", [("达到", "森林覆盖率", 40, "%", None), ("达到", "湿地保护率", 70, "%", "以上")]),
    # Verbs of the digital, fiscal, asset, training and registration kinds.
    ("推动企业上云5000家。", [("上云", "企业", 5000, "家", None)]),
    ("为市场主体减负200亿元。", [("减负", "市场主体", 200, "亿元", None)]),
    ("盘活存量资产收入50亿元。", [("盘活", "存量资产收入", 50, "亿元", None)]),
    ("轮训民警6000人次。", [("轮训", "民警", 6000, "人次", None)]),
    ("处置批而未供和闲置土地1.5万亩。", [("处置", "批而未供和闲置土地", 1.5, "万亩", None)]),
    ("入库科技型中小企业2000家。", [("入库", "科技型中小企业", 2000, "家", None)]),
    ("培育入库科技型中小企业5000家以上。", [("培育", "入库科技型中小企业", 5000, "家", "以上")]),
    ("新增减税降费120亿元。", [("新增", "减税降费", 120, "亿元", None)]),
    # Compound building verbs, with or without 、, are one action.
    ("新建改建农村公路500公里。", [("新建改建", "农村公路", 500, "公里", None)]),
    ("新建、改建城市绿道100公里。", [("新建、改建", "城市绿道", 100, "公里", None)]),
    ("改造提升老旧小区300个。", [("改造提升", "老旧小区", 300, "个", None)]),
    # A verb inside a compound noun (建设用地, 孵化器, 服务中心) is not the action.
    ("供应国有建设用地3万亩。", [("供应", "国有建设用地", 3, "万亩", None)]),
    ("完成重点建设用地报批调查40个。", [("完成", "重点建设用地报批调查", 40, "个", None)]),
    # A verb right before the number after the clause's own verb names the work done (as in the corpus:
    # 完成批而未供和闲置土地处置1.5万亩).
    ("全年完成建设用地供应3万亩。", [("完成", "建设用地供应", 3, "万亩", None)]),
    ("建设孵化器和众创空间10个。", [("建设", "孵化器和众创空间", 10, "个", None)]),
    ("新建社区卫生服务中心20个。", [("新建", "社区卫生服务中心", 20, "个", None)]),
    ("建设国家级孵化器10家，省级孵化器20家。", [("建设", "国家级孵化器", 10, "家", None), ("建设", "省级孵化器", 20, "家", None)]),
    ("受理中心新设窗口20个。", [("新设", "窗口", 20, "个", None)]),
    ("建设基地5个。", [("建设", "基地", 5, "个", None)]),
    ("开展应急处置演练100场。", [("开展", "应急处置演练", 100, "场", None)]),
    ("完成老旧小区改造200个。", [("完成", "老旧小区改造", 200, "个", None)]),
    ("支持企业上云1000家。", [("上云", "企业", 1000, "家", None)]),
    ("整治修复岸线10公里。", [("修复", "岸线", 10, "公里", None)]),
    # A verb that frames who acts leaves the action to the verb after it.
    ("支持企业实施技改项目100个。", [("实施", "技改项目", 100, "个", None)]),
    # Planning verbs; 区（市） is a name, not a bracketed note.
    ("编制区（市）国土空间分区规划10个。", [("编制", "区（市）国土空间分区规划", 10, "个", None)]),
    ("编制国土空间分区规划10个。", [("编制", "国土空间分区规划", 10, "个", None)]),
    ("新建镇（街道）综合文化站20个（含改建）。", [("新建", "镇（街道）综合文化站", 20, "个", None)]),
    # A line break opening the object is stripped like a space.
    ("新建\r幼儿园16处。", [("新建", "幼儿园", 16, "处", None)]),
])
def test_targets_of_department_plans(text, expected):
    assert [(t.action, t.object, t.value, t.unit, t.modifier) for t in extract_targets(text)] == expected
