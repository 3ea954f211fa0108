"""Numeric targets inside a plan item: 新建、改扩建幼儿园20所 -> (新建、改扩建, 幼儿园, 20, 所).

A target is a number with a counting unit, the action that sets it and the object it counts.
Three word orders occur in the plans:

- action, object, number: 新建省级以上创新平台20个 / 培育科技领军企业五十家;
- object, comparative verb, number: 技术合同成交额达到300亿元 / 覆盖率保持100%;
- action, number, object: 认定300所市示范（省一类）幼儿园 (object 市示范幼儿园).

Only numbers with an action in their clause count, so ordinals (第十四届), anniversaries
(100周年), dates, document numbers, quoted slogans (“十个一”) and proportions of a population named
as a group (后30%学生) never become targets. 万/亿 belong to the unit (2.5万人次 -> 2.5 万人次), as
in the corpus ground truth.
"""

from __future__ import annotations

import re

from ..records import Target

# --------------------------------------------------------------------------- numerals

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
              "八": 8, "九": 9}
_CN_SMALL_UNITS = {"十": 10, "百": 100, "千": 1000}
_CN_BIG_UNITS = {"万": 10_000, "亿": 100_000_000}
CN_NUMERAL_CHARS = "零〇一二两三四五六七八九十百千万亿"


def chinese_to_number(text: str) -> int | None:
    """Value of a Chinese numeral (十五 -> 15, 二十五 -> 25, 三千 -> 3000, 一百零八 -> 108,
    三万五千 -> 35000); None when ``text`` is not a well-formed numeral."""
    if not text or any(c not in CN_NUMERAL_CHARS for c in text):
        return None
    total = 0  # completed 万/亿 groups
    section = 0  # current group below 万
    digit: int | None = None
    for c in text:
        if c in _CN_DIGITS:
            if digit:  # two digits in a row: 一二 is not a numeral (零 may precede one: 一百零八)
                return None
            digit = _CN_DIGITS[c]
        elif c in _CN_SMALL_UNITS:
            section += (1 if digit is None else digit) * _CN_SMALL_UNITS[c]
            digit = None
        else:
            section += digit or 0
            if section == 0 and total == 0:
                return None
            total = (total + section) * _CN_BIG_UNITS[c]
            section = 0
            digit = None
    return total + section + (digit or 0)


def parse_number(text: str) -> float | None:
    """Arabic (20, 2.5, 1,000) or Chinese (二十) numeral to a number."""
    text = text.replace(",", "")
    try:
        return float(text)
    except ValueError:
        v = chinese_to_number(text)
        return float(v) if v is not None else None


# --------------------------------------------------------------------------- vocabulary

# Base units that count things; 万/亿 (and 千万/百万) may precede any of them.
_BASE_UNITS = (
    "个百分点", "人次", "平方公里", "平方米", "公顷", "公里", "千米", "千瓦", "兆瓦", "立方米", "吨", "亩",
    "元", "人", "名", "户", "所", "个", "家", "项", "处", "部", "场", "条", "座", "套", "台", "辆", "张",
    "批", "次", "件", "篇", "门", "间", "栋", "册", "种", "辆", "艘", "架", "只", "头", "株", "棵", "米",
    "倍", "位", "支", "款", "届", "期", "年", "月", "日",
)
# Units that never make a target (届/期 are ordinals, 年/月/日 dates) but must be recognised so
# that their numbers are not read with a different unit.
_NOT_COUNTING = {"届", "期", "年", "月", "日"}
_UNIT = "(?:千万|百万|万|亿)?(?:" + "|".join(sorted(map(re.escape, _BASE_UNITS), key=len, reverse=True)) + ")|%|万|亿"
# Bounded: long digit runs must not backtrack quadratically. A number starts only where the
# character before is no numeral: inside a run of 100,000 digits every position would otherwise
# be tried (and fail after backtracking through every unit), which is linear but 100x slower.
# Spelled as "one numeral character, then the rest of an Arabic or a Chinese numeral" so that the
# pattern opens with a character class: the regex engine then skips ahead to candidate characters
# instead of trying the whole pattern at every position (about 4x faster on plan text). Same
# matches as \d{1,12}(?:,\d{3}){0,4}(?:\.\d{1,6})? | [零〇…千]{1,12}.
_CN_NUMERAL = "零〇一二两三四五六七八九十百千"
_NUMBER = (f"[\\d{_CN_NUMERAL}](?<![\\d{_CN_NUMERAL}][\\d{_CN_NUMERAL}])"
           f"(?:(?<=\\d)\\d{{0,11}}(?:,\\d{{3}}){{0,4}}(?:\\.\\d{{1,6}})?"
           f"|(?<=[{_CN_NUMERAL}])[{_CN_NUMERAL}]{{0,11}})")
_QUANTITY = re.compile(f"(?P<num>{_NUMBER})(?P<approx>余|多)?(?P<unit>{_UNIT})")

# Verbs that set a target, longest first so 新建、改扩建 and 引进培育 win over their parts.
ACTIONS = (
    "新建、改扩建", "新建改扩建", "改扩建", "新建", "扩建", "改建", "新增", "增加", "建设", "建成", "完成", "打造",
    "培训", "培育", "培养", "引进培育", "引进", "认定", "新认定", "创建", "推出", "举办", "开展", "发放",
    "接待", "公开招聘", "招聘", "组织实施", "实施", "建立", "设立", "开设", "改造", "提升改造", "新开工",
    "开工", "竣工", "帮扶", "资助", "救助", "扶持", "孵化", "组建", "遴选", "评选", "命名", "开通",
    "铺设", "种植", "整治", "治理", "提供", "筹集", "争取", "签约", "招引", "吸引", "服务", "覆盖", "惠及",
    "安置", "减少", "修订", "制定", "出台", "上线", "投入", "落地", "布局", "储备", "救治", "筛查", "检测",
    "达到", "达", "突破", "超过", "保持", "稳定在", "控制在", "提高到", "提高至", "提升到", "提升至",
    "增长", "增长到", "降低到", "降至", "下降", "不低于", "不少于", "实现",
)
_QUALIFIER = re.compile(r"（[^（）]*）|\([^()]*\)")

# Comparative verbs: the object comes before them (技术合同成交额达到300亿元).
_COMPARATIVES = frozenset({
    "达到", "达", "突破", "超过", "保持", "稳定在", "控制在", "提高到", "提高至", "提升到", "提升至", "增长",
    "增长到", "降低到", "降至", "下降", "不低于", "不少于", "实现", "覆盖", "惠及",
})
_ACTION = re.compile("|".join(sorted(map(re.escape, ACTIONS), key=len, reverse=True)))

# Clause boundaries: a target never spans one.
_CLAUSE = re.compile(r"[^。；;！？!?，,：:\n]+")
# Quoted names and titles (“十个一”项目, 《三年行动计划》) hold numbers that are names, not targets.
_QUOTED = re.compile(r"“[^”]{0,40}”|《[^》]{0,80}》|‘[^’]{0,40}’|「[^」]{0,40}」|\"[^\"]{0,40}\"")
# Time words that open a clause but belong to no target span (全年接待… -> 接待…).
_TIME_PREFIX = re.compile(r"^(?:全年|年内|今年|当年|上半年|下半年|\d{4}年(?:底|内|末)?|到\d{4}年(?:底|末)?)")
_JOINERS = "、和及与，, "
_QUOTE_CHARS = frozenset("“《‘「\"")


def _mask_quoted(clause: str) -> str:
    # Same length, so offsets stay valid; the mask character matches nothing in the patterns.
    if not _QUOTE_CHARS.intersection(clause):
        return clause
    return _QUOTED.sub(lambda m: "□" * len(m.group(0)), clause)


def _excluded(clause: str, start: int, end: int, unit: str) -> bool:
    before = clause[start - 1] if start > 0 else ""
    after = clause[end:end + 2]
    if before == "第":  # ordinal: 第十四届, 第4批
        return True
    if unit.endswith(tuple(_NOT_COUNTING)) or after.startswith("周年"):
        return True
    if unit == "%" and before and before in "前后":  # 后30%学生: a group of the population, not a target
        return True
    # Part of a code or a larger token (G20, 2-3, 2021.3.5).
    return bool(before) and (before in "-—～~/." or (before.isascii() and before.isalnum()))


def extract_targets(text: str) -> list[Target]:
    """Numeric targets of a plan item's normalised text, in reading order."""
    targets: list[Target] = []
    # Most clauses hold no quantity: find the quantities of the whole text once and look only at
    # the clauses they touch (a superset of the clauses with a quantity of their own).
    spans = [q.span() for q in _QUANTITY.finditer(text)] if text else []
    if not spans:
        return targets
    k = 0
    for cm in _CLAUSE.finditer(text):
        c_start, c_end = cm.span()
        while k < len(spans) and spans[k][1] <= c_start:
            k += 1
        if k == len(spans):
            break
        if spans[k][0] >= c_end:
            continue
        clause = cm.group(0)
        masked = _mask_quoted(clause)
        actions = [(a.start(), a.end(), a.group(0)) for a in _ACTION.finditer(masked)]
        if not actions:
            continue
        previous_end = 0  # end of the last target in this clause: the next object starts after it
        for q in _QUANTITY.finditer(masked):
            num_start, q_end = q.start(), q.end()
            unit = q.group("unit")
            if _excluded(masked, num_start, q_end, unit):
                continue
            value = parse_number(q.group("num"))
            if value is None or q.group("num") == "一":  # 一批/一个: "a", not a count
                continue
            before = [a for a in actions if a[1] <= num_start]
            if not before:
                continue
            a_start, a_end, action = before[-1]
            if a_end < previous_end:
                # Shares the action of the previous target (新建幼儿园20所、中小学30所).
                obj_start = previous_end
                while obj_start < num_start and clause[obj_start] in _JOINERS:
                    obj_start += 1
                obj = clause[obj_start:num_start]
                span_start = obj_start
                span_end = q_end
            elif a_end == num_start:
                suffix = clause[q_end:].strip()
                if action not in _COMPARATIVES and suffix and CJK_LIKE.match(suffix):
                    obj = suffix.lstrip("的")  # 认定300所市示范幼儿园: the object follows the quantity
                    span_start, span_end = a_start, len(clause.rstrip())
                else:
                    obj = clause[previous_end:a_start]
                    span_start, span_end = previous_end, q_end
            else:
                obj = clause[a_end:num_start]
                span_start, span_end = previous_end, q_end
            # A bracketed qualifier (市示范（省一类）幼儿园) stays in the span but not in the object,
            # so the same object compares across years however it is qualified.
            obj = (_QUALIFIER.sub("", obj) or obj).strip(_JOINERS)
            # A target with a Chinese numeral needs its object next to it: 五项管理 alone is a name.
            if not obj and not q.group("num")[0].isdigit():
                continue
            span = clause[span_start:span_end].strip(_JOINERS)
            if not span.startswith(action):
                span = _TIME_PREFIX.sub("", span)
            span = span.strip(_JOINERS)
            targets.append(Target(action=action, object=obj or None, value=value, unit=unit, span=span))
            previous_end = span_end
    return targets


CJK_LIKE = re.compile(r"[\u4e00-\u9fff（(“]")
