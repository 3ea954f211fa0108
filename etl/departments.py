"""Qingdao municipal departments: path codes, canonical names and the aliases documents use.

A plan says 市教育局, a header says 青岛市教育局, a responsibility note says 教育局: analysts
need one name. ``canonical_department`` maps any of them (Simplified text) to the canonical name;
names it does not know are returned cleaned but unchanged, never dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Department:
    code: str  # path code on the site, e.g. "jyj" in /zwgk/xxgk/jyj/
    name: str  # canonical name
    aliases: tuple[str, ...] = ()


DEPARTMENTS: tuple[Department, ...] = (
    Department("bgt", "青岛市人民政府办公厅", ("市政府办公厅", "市政府办公室", "市府办")),
    Department("fgw", "青岛市发展和改革委员会", ("市发展改革委", "市发改委", "发展改革委", "发改委")),
    Department("jyj", "青岛市教育局", ("市教育局", "教育局")),
    Department("kjj", "青岛市科学技术局", ("市科技局", "科技局")),
    Department("gyxx", "青岛市工业和信息化局", ("市工业和信息化局", "市工信局", "工信局")),
    Department("gaj", "青岛市公安局", ("市公安局", "公安局")),
    Department("mzj", "青岛市民政局", ("市民政局", "民政局")),
    Department("sfj", "青岛市司法局", ("市司法局", "司法局")),
    Department("czj", "青岛市财政局", ("市财政局", "财政局")),
    Department("hrss", "青岛市人力资源和社会保障局", ("市人力资源社会保障局", "市人社局", "人社局")),
    Department("zygh", "青岛市自然资源和规划局", ("市自然资源和规划局", "市自然资源规划局", "自然资源规划局")),
    Department("sthj", "青岛市生态环境局", ("市生态环境局", "生态环境局")),
    Department("zjj", "青岛市住房和城乡建设局", ("市住房城乡建设局", "市住建局", "住建局")),
    Department("jtys", "青岛市交通运输局", ("市交通运输局", "交通运输局")),
    Department("swglj", "青岛市水务管理局", ("市水务管理局", "水务管理局")),
    Department("nync", "青岛市农业农村局", ("市农业农村局", "农业农村局")),
    Department("hyfz", "青岛市海洋发展局", ("市海洋发展局", "海洋发展局")),
    Department("bofcom", "青岛市商务局", ("市商务局", "商务局")),
    Department("whly", "青岛市文化和旅游局", ("市文化和旅游局", "市文化旅游局", "市文旅局", "文旅局")),
    Department("wjw", "青岛市卫生健康委员会", ("市卫生健康委", "市卫健委", "卫生健康委", "卫健委")),
    Department("yjj", "青岛市应急管理局", ("市应急局", "市应急管理局", "应急管理局")),
    Department("sjj", "青岛市审计局", ("市审计局", "审计局")),
    Department("amr", "青岛市市场监督管理局", ("市市场监管局", "市场监管局", "市市场监督管理局")),
    Department("tyj", "青岛市体育局", ("市体育局", "体育局")),
    Department("tjj", "青岛市统计局", ("市统计局", "统计局")),
    Department("ybj", "青岛市医疗保障局", ("市医保局", "市医疗保障局", "医保局")),
    Department("cgj", "青岛市城市管理局", ("市城市管理局", "市城管局", "城管局")),
    Department("xzspj", "青岛市行政审批服务局", ("市行政审批局", "市行政审批服务局", "行政审批局")),
    Department("dsj", "青岛市大数据发展管理局", ("市大数据局", "大数据局")),
    Department("mzzj", "青岛市民族宗教事务局", ("市民族宗教局", "市民宗局", "民族宗教局")),
    Department("tyjrj", "青岛市退役军人事务局", ("市退役军人局", "退役军人局")),
    Department("gzw", "青岛市人民政府国有资产监督管理委员会", ("市国资委", "国资委")),
    Department("jrj", "青岛市地方金融监督管理局", ("市地方金融监管局", "市金融局", "地方金融监管局")),
    Department("myjj", "青岛市民营经济发展局", ("市民营经济局", "民营经济局")),
    Department("ylj", "青岛市园林和林业局", ("市园林和林业局", "市园林林业局", "园林和林业局")),
    Department("wb", "青岛市人民政府外事办公室", ("市外办", "市政府外办", "外办")),
    Department("rfb", "青岛市人民防空办公室", ("市人防办", "人防办")),
    Department("xfj", "青岛市信访局", ("市信访局", "信访局")),
    Department("jgswj", "青岛市机关事务管理局", ("市机关事务局", "机关事务局")),
    Department("yjs", "青岛市人民政府研究室", ("市政府研究室",)),
)

# Path codes seen on the live site (shared/SITE.md); the others are the catalogue's best guess
# until `qdp channels discover` confirms them against the site's own department index.
CODES_SEEN: frozenset[str] = frozenset({
    "jyj", "kjj", "wjw", "whly", "sthj", "nync", "gyxx", "jtys", "hyfz", "fgw", "bgt", "gaj", "czj", "zygh",
})

BY_CODE: dict[str, Department] = {d.code: d for d in DEPARTMENTS}

_ALIASES: dict[str, str] = {}
for _d in DEPARTMENTS:
    _ALIASES[_d.name] = _d.name
    _ALIASES[_d.name.removeprefix("青岛市")] = _d.name
    _ALIASES["市" + _d.name.removeprefix("青岛市")] = _d.name
    for _a in _d.aliases:
        _ALIASES[_a] = _d.name
# Longest alias first, so 市市场监管局 wins over 市场监管局 when searching inside text.
_ALIAS_PATTERN = re.compile("|".join(sorted(map(re.escape, _ALIASES), key=len, reverse=True)))
_NOISE = re.compile(r"^[\s，,、；;：:]+|[\s，,、；;：:。]+$")


def canonical_department(name: str | None) -> str | None:
    """Canonical name for ``name`` (an alias, a full name, or text around one); unknown names
    are returned stripped but otherwise as given."""
    if not name:
        return None
    cleaned = _NOISE.sub("", name.strip())
    if not cleaned:
        return None
    if cleaned in _ALIASES:
        return _ALIASES[cleaned]
    if cleaned.startswith("青岛") and cleaned.removeprefix("青岛") in _ALIASES:
        return _ALIASES[cleaned.removeprefix("青岛")]
    return cleaned


def find_department(text: str) -> str | None:
    """First known department named anywhere in ``text`` (e.g. a title or a signature)."""
    m = _ALIAS_PATTERN.search(text or "")
    return _ALIASES[m.group(0)] if m else None


def department_for_code(code: str | None) -> str | None:
    d = BY_CODE.get((code or "").lower())
    return d.name if d else None
