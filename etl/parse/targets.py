"""Numeric targets inside a plan item: 新建、改扩建幼儿园20所 -> (新建、改扩建, 幼儿园, 20, 所).

A target is a number with a counting unit, the action that sets it and the object it counts.
Three word orders occur in the plans:

- action, object, number: 新建省级以上创新平台20个 / 培育科技领军企业五十家;
- object, comparative verb, number: 技术合同成交额达到300亿元 / 覆盖率保持100%;
- action, number, object: 认定300所市示范（省一类）幼儿园 (object 市示范幼儿园).

An amount inside the object is a threshold, not a target (实施500万元以上工业技改项目800个 -> 800 个
of 500万元以上工业技改项目); a verb inside a compound noun (建设用地, 服务中心, 孵化器) is part of
the object; a verb carries across "，" to a clause that only names another object and count
(新培育…企业30家，省级…企业200家).

Only numbers with an action in their clause (or carried into it) count, so ordinals (第十四届), anniversaries
(100周年), dates, document numbers, quoted slogans (“十个一”) and proportions of a population named
as a group (后30%学生) never become targets. 万/亿 belong to the unit (2.5万人次 -> 2.5 万人次), as
in the corpus ground truth.
"""

from __future__ import annotations

import bisect
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
    "个百分点", "人次", "标准箱", "标箱", "千瓦时", "吨标准煤", "公斤", "千克", "艘次", "架次", "车次", "班次",
    "项次", "床", "千伏安", "平方公里", "平方米", "公顷", "公里", "千米", "千瓦", "兆瓦", "立方米", "吨", "亩",
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
# A range shares one unit: 1-2家, 10～15个, 二至三所.
_QUANTITY = re.compile(f"(?P<num>{_NUMBER})(?:(?P<sep>[-—～~至])(?P<num2>{_NUMBER}))?(?P<approx>余|多)?"
                       f"(?P<unit>{_UNIT})")

# Verbs that set a target, longest first so 新建、改扩建 and 引进培育 win over their parts.
ACTIONS = (
    "新建、改扩建", "新建改扩建", "改扩建", "新建", "扩建", "改建", "新增", "增加", "建设", "建成", "完成", "打造",
    "培训", "培育", "培养", "引进培育", "引进", "认定", "新认定", "创建", "推出", "举办", "开展", "发放",
    "接待", "公开招聘", "招聘", "组织实施", "实施", "建立", "设立", "开设", "改造", "提升改造", "新开工",
    "开工", "竣工", "帮扶", "资助", "救助", "扶持", "孵化", "组建", "遴选", "评选", "命名", "开通",
    "铺设", "种植", "整治", "治理", "提供", "筹集", "争取", "签约", "招引", "吸引", "服务", "覆盖", "惠及",
    "安置", "减少", "修订", "制定", "出台", "上线", "投入", "落地", "布局", "储备", "救治", "筛查", "检测",
    "提高", "达到", "达", "突破", "超过", "保持在", "保持", "稳定在", "控制在", "提高到", "提高至", "提升到", "提升至",
    "增长", "增长到", "降低到", "降至", "下降", "不低于", "不少于", "不超过", "实现",
    "培树", "选树", "创成", "推广", "改造提升", "新培育", "新引进", "引育", "修复", "修缮", "拆除", "清理",
    "新开", "开行", "供应", "出让", "招收", "招生", "新设", "挂牌", "选派", "派驻", "新改建", "提标改造",
    "升级", "打通", "贯通", "新开通", "建设改造", "造林", "植树", "绿化", "养护", "维修", "更新", "增设",
    "配备", "配置", "收储", "供给", "新增设", "攻关", "突破", "带动", "吸纳", "支持", "奖补", "淘汰", "关停",
    "取缔", "新建改造", "招录",
    # Digital: 推动企业上云5000家.
    "上云", "用云", "上平台", "接入",
    # Fiscal: 为市场主体减负200亿元, 兑现奖补资金, 撬动社会资本.
    "减负", "减税", "降费", "减税降费", "减免", "退税", "兑现", "拨付", "贴息", "融资", "授信", "撬动", "拉动",
    "募集", "筹措", "节约",
    # Land and assets: 盘活存量资产, 处置批而未供土地, 腾退低效用地.
    "盘活", "处置", "消化", "腾退", "征收", "复垦", "回收", "清退",
    # Training: 轮训民警6000人次.
    "轮训", "集训", "实训", "研修",
    # Registration and listing: 入库科技型中小企业2000家.
    "入库", "入统", "纳统", "入驻", "入选", "落户",
    # Planning documents: 编制国土空间分区规划10个.
    "编制", "修编", "印发", "起草", "制修订", "编写",
    # Cases and inspections: 办结信访事项, 化解矛盾纠纷, 排查隐患.
    "查处", "办理", "办结", "受理", "侦破", "破获", "化解", "排查", "抽检",
)
# Building verbs written together (新建改建, 新建、改建, 扩建、改造) are one action: the compound wins
# over its parts. Joined after matching, which keeps the verb pattern a plain list of words (a
# pattern opening with a group is tried at every position, ten times slower on long text).
_BUILD_VERBS = frozenset({"新建", "改建", "扩建", "改扩建", "新改建", "新建改扩建", "新建、改扩建", "改造", "升级",
                          "修缮", "改造提升", "提升改造", "新建改造", "建设改造", "提标改造"})
# Verbs that name who acts (支持企业实施…, 带动企业开展…): the verb after them sets the target.
_FRAMING = frozenset({"支持", "带动", "扶持", "帮扶", "资助", "吸引", "服务", "覆盖", "惠及"})
# Verbs that only say "more": a verb after them names what is added (新增上云企业5000家).
_ADDING = frozenset({"新增", "增加"})
# Verbs that name a status (入库企业, 上云企业): right after another verb they describe what it counts
# (培育入库科技型中小企业).
_STATUS = frozenset({"入库", "入统", "纳统", "入选", "上云", "用云", "落户", "入驻"})
# Words opening the object of a verb that follows it (推动企业上云, 为市场主体减负) that are no part of it.
_OBJECT_LEAD = re.compile(r"^(?:推动|推进|促进|引导|鼓励|帮助|指导|督促|组织|确保|力争|全年|年内|今年|为(?=..))+")
# A verb followed by one of these heads a noun (改造项目, 治理工程): not the target's action.
_NOUN_HEADS = ("项目", "工程", "任务", "能力", "资金", "计划", "行动", "机构", "平台", "单位", "设施", "试点",
               "用地", "中心", "基地", "器", "站", "体系", "面积")
# Of these, the heads of compound nouns (建设用地, 孵化器, 服务中心): a verb before one is part of a
# noun even as the clause's first verb, when a noun precedes it (省级孵化器) or a verb follows
# (受理中心新设窗口); 建设基地5个 keeps its verb.
_COMPOUND_HEADS = ("用地", "中心", "基地", "器", "站", "体系", "面积")
# Verbs that follow their object when the count opens the clause (5个示范基地升级提质).
_POST_VERBS = (*ACTIONS, "提质", "提升", "投用", "投入使用", "竣工", "完工", "达标", "运营", "开放", "启用",
               "通车", "整改", "销号", "验收", "交付", "投产", "创建", "认定", "挂牌")
_POST_VERB = re.compile("(?:" + "|".join(sorted(map(re.escape, set(_POST_VERBS)), key=len, reverse=True)) + ")+")
# Words before the quantity that do not belong to any object (推动5个示范基地升级提质).
_LEAD_WORDS = re.compile(r"^(?:推动|推进|促进|支持|确保|力争|全年|年内|今年|指导|督促|实现|累计|共|再|新|约)*$")
_QUALIFIER = re.compile(r"（[^（）]*）|\([^()]*\)")
# Modifiers: after the unit (10家以上), before the number (不低于80%, 各1家) or in the clause
# before the number (力争…, 累计…). value_min/value_max follow from floors, ceilings and ranges.
_AFTER_MODIFIERS = ("以上", "以下", "以内", "左右")
_BEFORE_MODIFIERS = ("不低于", "不少于", "不超过", "各")
_CLAUSE_MODIFIERS = ("力争", "累计")
_FLOORS = frozenset({"以上", "不低于", "不少于"})
_CEILINGS = frozenset({"以下", "以内", "不超过"})
# Object edges that are not part of what is counted.
_OBJECT_EDGE_START = re.compile(r"^(?:[、，,和及与的]|各(?![类级种项])|等|共|约|累计|再|新增?(?=$))+")
_OBJECT_EDGE_END = re.compile(r"(?:[、，,和及与的]|等|各|共|约|达到?|累计)+$")
# A count at the start of an object (16处积水点): the object is what follows it.
_LEADING_COUNT = re.compile(r"^[\d.]+[^\u4e00-\u9fff]{0,2}?[个处所家项条座名人户台套件]")
# The suffix object ends at the next number, a joiner or a clause-internal verb.
_SUFFIX_STOP = re.compile(r"[\d“《]|等|共|和|并|及|以上|以下|左右|的(?=[\u4e00-\u9fff]{1,3}$)")
_SCOPE_CLAUSE = re.compile(r"^(?:目前|现有|已有|共有)")
_ADMIN_AREA = re.compile(r"(?:区市|区县|区（市）|镇街|镇（街道）|街道|乡镇|社区|村庄?)(?=$|[^\u4e00-\u9fff])")
_TOTAL_WORDS = ("总数", "总量", "共计", "总计")

# Comparative verbs: the object comes before them (技术合同成交额达到300亿元).
_COMPARATIVES = frozenset({
    "提高", "保持在", "达到", "达", "突破", "超过", "保持", "稳定在", "控制在", "提高到", "提高至", "提升到", "提升至",
    "增长", "增长到", "降低到", "降至", "下降", "不低于", "不少于", "实现", "覆盖", "惠及",
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


def _suffix_object(clause: str, start: int, n: int) -> int:
    """End of the object that follows a quantity at ``start`` (认定300所市示范（省一类）幼儿园):
    up to the next number, joiner or verb, skipping bracketed qualifiers, and never past ``n``,
    where the next quantity starts (so that each stretch of text is scanned once)."""
    i = start
    while i < n:
        c = clause[i]
        if c in "（(":
            close = clause.find("）" if c == "（" else ")", i, n)
            if close < 0:
                return i
            i = close + 1
            continue
        if i > start and _SUFFIX_STOP.match(clause, i):
            return i
        if i - start >= 2 and (v := _POST_VERB.match(clause, i)):
            if not clause.startswith(_NOUN_HEADS, v.end()):
                return i
            i = v.end()  # 社区医院提质改造项目: a verb heading a noun is part of the object
            continue
        i += 1
    return n


def _balance(obj: str) -> str:
    """Drop bracket characters without a partner: （总数 -> 总数."""
    if not any(c in obj for c in "（）()"):
        return obj
    return re.sub(r"[（）()]", "", _QUALIFIER.sub("", obj)) if _QUALIFIER.search(obj) else re.sub(r"[（）()]", "", obj)


# Bracketed words that belong to a name, not a note: 区（市）, 镇（街道）, 县（市、区）.
_AREA_NAME = re.compile(r"([区县镇乡市])（((?:市|区|县|街道|乡|镇)(?:、(?:市|区|县|街道|乡|镇))?)）")
_EDGE_CHARS = frozenset("、，,和及与的各等共约累再新达 \t\n\u3000")
_DIRTY_CHARS = frozenset("（）()0123456789.")


def clean_object(obj: str) -> str:
    """The noun phrase counted, without qualifiers, stray brackets, edge words or a leading count."""
    if not obj or (obj[0] not in _EDGE_CHARS and obj[-1] not in _EDGE_CHARS and not _DIRTY_CHARS.intersection(obj)
                   and not obj[0].isspace() and not obj[-1].isspace()):
        return obj  # the common case: nothing to clean (checked per target, so kept cheap)
    protected = "（" in obj and _AREA_NAME.search(obj)
    if protected:
        obj = _AREA_NAME.sub(lambda m: f"{m.group(1)}\ue000{m.group(2)}\ue001", obj)
    obj = _QUALIFIER.sub("", obj) or obj
    obj = _balance(obj).strip(_JOINERS)
    obj = _LEADING_COUNT.sub("", obj)
    for _ in range(2):
        obj = _OBJECT_EDGE_END.sub("", _OBJECT_EDGE_START.sub("", obj.strip()))
    obj = obj.strip(_JOINERS).strip()
    return obj.replace("\ue000", "（").replace("\ue001", "）") if protected else obj


_MODIFIER_CHARS = frozenset("以左不力累各")


def _modifiers(masked: str, a_start: int, num_start: int, q_end: int, ranged: bool,
               clause_words: list[tuple[int, str]] | None) -> list[str]:
    """Modifier words of a quantity, in reading order. ``clause_words``: where 力争/累计 first
    occur in the clause (found once per clause: a clause may hold thousands of quantities), or
    None when the clause holds no modifier character at all."""
    if not ranged and clause_words is None:
        return []
    found: list[tuple[int, str]] = [(at, w) for at, w in clause_words or () if at < num_start]
    for word in _BEFORE_MODIFIERS:
        for at in (num_start - len(word), a_start - len(word)):
            if at >= 0 and masked.startswith(word, at) and not (
                    word == "各" and masked.startswith(("各类", "各级", "各种"), at)):
                found.append((at, word))
                break
    if ranged:
        found.append((num_start, "range"))
    for word in _AFTER_MODIFIERS:
        if masked.startswith(word, q_end):
            found.append((q_end, word))
            break
    found.sort()
    return list(dict.fromkeys(w for _, w in found))


def extract_targets(text: str) -> list[Target]:
    """Numeric targets of a plan item's normalised text, in reading order.

    Linear in the text: each clause's actions are walked with a pointer as its quantities are.
    """
    targets: list[Target] = []
    # Most clauses hold no quantity: find the quantities of the whole text once and look only at
    # the clauses they touch (a superset of the clauses with a quantity of their own).
    found = list(_QUANTITY.finditer(text)) if text else []
    if not found:
        return targets
    spans = [q.span() for q in found]
    k = 0
    last: Target | None = None  # the last target of the clause just read, if it ended at last_end
    last_end = -2
    for cm in _CLAUSE.finditer(text):
        c_start, c_end = cm.span()
        while k < len(spans) and spans[k][1] <= c_start:
            k += 1
        if k == len(spans):
            break
        if spans[k][0] >= c_end:
            continue
        clause = cm.group(0)
        # 新培育…企业30家，省级…企业200家: a clause right after "，" may share the last verb.
        carry = last if last is not None and c_start == last_end + 1 and text[last_end] in "，," else None
        if _QUOTE_CHARS.intersection(clause):
            got = _clause_targets(clause, carry=carry)
        else:
            # The quantities of the whole text found above, moved into the clause (the same
            # matches: clause boundaries never fall inside a quantity).
            j = k
            local: list[_Quantity] = []
            while j < len(found) and spans[j][1] <= c_end:
                local.append(_Quantity(found[j], c_start))
                j += 1
            got = _clause_targets(clause, local, carry)
        targets.extend(got)
        last, last_end = (got[-1] if got and got[-1].kind == "target" else None), c_end
    return targets


class _Quantity:
    """A quantity match seen from inside its clause (offsets shifted by the clause start)."""

    __slots__ = ("_m", "_shift")

    def __init__(self, m: re.Match[str], shift: int) -> None:
        self._m, self._shift = m, shift

    def start(self) -> int:
        return self._m.start() - self._shift

    def end(self) -> int:
        return self._m.end() - self._shift

    def group(self, name: str) -> str | None:
        return self._m.group(name)


# Clauses that break a total down or add to it (其中公办25所, 总投资50亿元) share no verb.
_NO_CARRY = re.compile(r"^(?:其中|含|包括|总|合计|共计|共|累计|占|另|分别|目前|现有|已有)")


def _clause_targets(clause: str, quantities: list | None = None, carry: Target | None = None) -> list[Target]:
    """Targets of one clause; ``carry``: the last target of the clause before it, across "，",
    whose verb a clause with none of its own shares when it counts in the same unit."""
    masked = _mask_quoted(clause)
    actions = [(a.start(), a.end(), a.group(0)) for a in _ACTION.finditer(masked)]
    if len(actions) > 1:
        actions = _join_build_verbs(masked, actions)
    if actions and masked.startswith(_COMPOUND_HEADS, actions[0][1]) and (
            len(actions) > 1 or not _LEAD_WORDS.match(masked[:actions[0][0]])):
        actions = actions[1:]
    if len(actions) > 1:
        # After a first verb, a verb heading a noun (…改造项目) is part of the object.
        actions = actions[:1] + [a for a in actions[1:] if not masked.startswith(_NOUN_HEADS, a[1])]
    out: list[Target] = []
    previous_end = 0  # end of the last target in this clause: the next object starts after it
    previous_obj: str | None = None
    ai = -1  # index of the last action ending at or before the current quantity
    scope_clause = bool(_SCOPE_CLAUSE.match(masked))
    clause_words = None
    if _MODIFIER_CHARS.intersection(masked):
        clause_words = [(at, w) for w in _CLAUSE_MODIFIERS if (at := masked.find(w)) >= 0]
    qs = list(_QUANTITY.finditer(masked)) if quantities is None else quantities
    # Where the next quantity starts after each one (一家一策 is a name, not a quantity): an object
    # read after a quantity stops there.
    next_starts = [len(masked)] * len(qs)
    for i in range(len(qs) - 2, -1, -1):
        nq = qs[i + 1]
        next_starts[i] = next_starts[i + 1] if nq.group("num") == "一" and not nq.group("num2") else nq.start()
    for qi, q in enumerate(qs):
        num_start, q_end = q.start(), q.end()
        unit = q.group("unit")
        if _excluded(masked, num_start, q_end, unit):
            continue
        if qi + 1 < len(qs) and "\u4e00" <= masked[q_end:q_end + 1] <= "\u9fff" \
                and _qualifies_next(masked, q, qs[qi + 1], actions):
            continue  # 实施500万元以上工业技改项目800个: the amount describes the projects counted
        next_start = next_starts[qi]
        num = q.group("num")
        value = parse_number(num)
        if value is None or (num == "一" and not q.group("num2")):  # 一批/一个: "a", not a count
            continue
        value_max = parse_number(q.group("num2")) if q.group("num2") else None
        if q.group("num2") and (value_max is None or value_max < value):
            continue
        while ai + 1 < len(actions) and actions[ai + 1][1] <= num_start:
            ai += 1
        post_action = None
        if ai < 0 and carry is not None and not actions and _carries(masked, previous_end, num_start, q, carry):
            # 新培育…企业30家，省级专精特新企业200家: the object, then the count, the verb shared.
            action, a_start = carry.action, num_start
            obj = clause[previous_end:num_start].strip(_JOINERS)
            span_start, span_end = previous_end, q_end
        elif ai < 0:
            # No verb before: a count opening the clause with its verb after the object
            # (5个示范基地升级提质, 推动20个项目开工).
            if not _LEAD_WORDS.match(masked[previous_end:num_start]) or previous_end:
                continue
            obj_end = _suffix_object(masked, q_end, next_start)
            vm = _POST_VERB.match(masked, obj_end)
            if not vm or obj_end == q_end:
                continue
            post_action = vm.group(0)
            a_start, a_end, action = num_start, num_start, post_action
            obj = clause[q_end:obj_end]
            span_start, span_end = num_start, vm.end()
        else:
            a_start, a_end, action = actions[ai]
            if a_end < previous_end:
                # Shares the action of the previous target (新建幼儿园20所、中小学30所).
                obj_start = previous_end
                while obj_start < num_start and clause[obj_start] in _JOINERS:
                    obj_start += 1
                obj = clause[obj_start:num_start]
                span_start, span_end = obj_start, q_end
                if not clean_object(obj) and previous_obj:
                    obj = previous_obj  # 新增吞吐能力50万标准箱、300万吨: the object is shared too
            elif a_end < num_start and ai > 0 and _POST_VERB.fullmatch(masked, a_start, num_start) \
                    and actions[ai - 1][1] >= previous_end:
                # 完成道路养护提升16处: the verb run before the number is the action, and the
                # noun between the earlier verb and it the object.
                p_start, p_end, _ = actions[ai - 1]
                action = masked[a_start:num_start]
                obj = clause[p_end:a_start]
                span_start, span_end = p_start, q_end
            elif a_end == num_start or (a_end < num_start and _is_modifier_gap(masked[a_end:num_start])):
                suffix_start = q_end + next((len(w) for w in _AFTER_MODIFIERS if masked.startswith(w, q_end)), 0)
                while suffix_start < len(clause) and clause[suffix_start].isspace():
                    suffix_start += 1
                if action not in _COMPARATIVES and CJK_LIKE.match(clause, suffix_start):
                    # 认定300所市示范幼儿园: the object follows the quantity.
                    while suffix_start < len(clause) and clause[suffix_start] in "的 ":
                        suffix_start += 1
                    obj_end = _suffix_object(masked, suffix_start, max(suffix_start, next_start))
                    obj = clause[suffix_start:obj_end]
                    span_start, span_end = a_start, obj_end
                else:
                    obj = clause[previous_end:a_start]
                    span_start, span_end = previous_end, q_end
                    if a_start > 0 and masked[a_start - 1] == "各":
                        obj = ""  # 每个区市各培育1家: what precedes 各 is who, not what
                    elif ai > 0 and actions[ai - 1][1] == a_start and actions[ai - 1][0] >= previous_end \
                            and action not in _COMPARATIVES:
                        # 新增造林1万亩 / 完成造林绿化1.5万亩: verbs in a row; the first sets the
                        # target, the rest name what is counted.
                        first = _chain_start(actions, ai, previous_end)
                        action, obj = actions[first][2], clause[actions[first][1]:a_end]
                        span_start = actions[first][0]
                    elif action in _BEFORE_MODIFIERS and (lead := _ACTION.match(masked, previous_end)) \
                            and lead.group(0) not in _COMPARATIVES and lead.end() < a_start:
                        # 新增就业岗位不少于7万个: the verb opening the object sets the target.
                        action, obj = lead.group(0), clause[lead.end():a_start]
                    elif action not in _COMPARATIVES:
                        first = _first_action(actions, ai, previous_end)
                        if first < ai and actions[first][2] not in _COMPARATIVES:
                            # 完成批而未供和闲置土地处置1.5万亩: the verb before the number names
                            # the work done; the verb opening the clause sets the target.
                            action, obj = actions[first][2], clause[actions[first][1]:a_end]
                            span_start = actions[first][0]
                        else:
                            # 推动企业上云5000家 / 支持企业上云: the verb before the number sets
                            # the target; verbs naming who acts and lead words are no part of the object.
                            first = _first_action(actions, ai, previous_end, framing=True)
                            if first < ai:
                                obj = clause[actions[first][1]:a_start]
                            obj = _OBJECT_LEAD.sub("", obj.strip(_JOINERS))
            elif masked.startswith("的", a_end) and ai > 0 and actions[ai - 1][1] == a_start \
                    and actions[ai - 1][0] >= previous_end:
                # 新增完成治理的行政村300个: the verbs before 的 describe the object; the first
                # verb of the chain sets the target.
                first = _chain_start(actions, ai, previous_end)
                action = actions[first][2]
                obj = clause[actions[first][1]:num_start]
                span_start, span_end = actions[first][0], q_end
            else:
                span_start, span_end = previous_end, q_end
                first = _first_action(actions, ai, previous_end)
                if first < ai and (actions[ai - 1][1] < a_start or actions[first][2] in _ADDING or action in _STATUS):
                    # 供应国有建设用地3万亩 / 新建社区卫生服务中心20个: a verb between nouns is part
                    # of the object (建设用地, 服务中心); the first verb sets the target. Verbs
                    # written together (整治修复岸线, 争取新增…) leave it to the last one, unless the
                    # first only says "more" (新增入库科技型中小企业: what is added is counted) or
                    # the last names a status (培育入库科技型中小企业).
                    action, obj = actions[first][2], clause[actions[first][1]:num_start]
                else:
                    obj = clause[a_end:num_start]
        obj = clean_object(obj)
        scope = scope_clause
        if obj in _TOTAL_WORDS:
            obj, scope = "", True  # （总数达到50所）: a running total beside the target, not a new one
        if obj in ("", "全市", "全部", "所有") and (area := _ADMIN_AREA.match(masked, q_end)):
            obj, scope = area.group(0), True  # 覆盖全市10个区市
            span_end = area.end()
        elif obj and _ADMIN_AREA.fullmatch(obj) and action in _COMPARATIVES:
            scope = True
        # A target with a Chinese numeral needs its object next to it: 五项管理 alone is a name.
        if not obj and not num[0].isdigit():
            continue
        # The span stays what it was before modifiers were read (stable across releases);
        # the modifier words are reported on their own.
        modifiers = _modifiers(masked, a_start, num_start, q_end, bool(q.group("num2")), clause_words)
        span = clause[span_start:span_end].strip(_JOINERS)
        if not span.startswith(action) and not span.startswith(tuple(_CLAUSE_MODIFIERS)):
            span = _TIME_PREFIX.sub("", span)
        span = span.strip(_JOINERS + "（(")
        value_min = value if (q.group("num2") or _FLOORS.intersection(modifiers)) else None
        if value_max is None and _CEILINGS.intersection(modifiers):
            value_max = value
        kind = "scope" if scope else "target"
        out.append(Target(action=action, object=obj or None, value=value, unit=unit, span=span,
                          modifier="、".join(modifiers) or None, value_min=value_min, value_max=value_max,
                          kind=kind))
        previous_end = span_end
        previous_obj = obj or previous_obj
    return out


# What may stand between an amount and the count it qualifies: 以上/以下 (的), then the noun counted.
_QUALIFIER_GAP = re.compile(r"(?:以上|以下|及以上|以内)?的?[\u4e00-\u9fff]{1,20}")


def _base_unit(unit: str) -> str:
    return unit.lstrip("千百万亿") or unit


def _qualifies_next(masked: str, q, nxt, actions: list[tuple[int, int, str]]) -> bool:
    """Whether quantity ``q`` is a threshold inside the object of the next quantity ``nxt``
    (500万元以上工业技改项目800个, 营业收入10亿元以上的企业20家): only a noun stands between
    them (no verb, no joiner), and they count in different units."""
    gap_start, gap_end = q.end(), nxt.start()
    if gap_end - gap_start > 26 or not _QUALIFIER_GAP.fullmatch(masked, gap_start, gap_end):
        return False
    if _base_unit(q.group("unit")) == _base_unit(nxt.group("unit")) or masked[gap_start] in _JOINERS:
        return False
    if any(c in "、和及与并" for c in masked[gap_start:gap_end]):
        return False
    if _excluded(masked, nxt.start(), nxt.end(), nxt.group("unit")):
        return False
    k = bisect.bisect_left(actions, (gap_start,))  # the first verb starting in the gap, if any
    return k == len(actions) or actions[k][0] >= gap_end


# Units that count things one by one (充电桩1000个，换电站20座): one verb may count them all, but
# not an amount beside them (项目100个，总投资500亿元).
_CLASSIFIERS = frozenset("个家所处座条项台套件部场张批间栋支位名户人艘架辆")


def _carries(masked: str, start: int, num_start: int, q, carry: Target) -> bool:
    """Whether the object-and-count at ``start``..``q`` shares the verb of ``carry``: same unit,
    a noun before the count, nothing but a modifier after it."""
    unit, before = _base_unit(q.group("unit")), _base_unit(carry.unit)
    if not carry.action or (unit != before and not (unit in _CLASSIFIERS and before in _CLASSIFIERS)):
        return False
    obj = masked[start:num_start].strip(_JOINERS)
    if not obj or not CJK_LIKE.match(obj) or _NO_CARRY.match(obj):
        return False
    i = q.end()
    i += next((len(w) for w in _AFTER_MODIFIERS if masked.startswith(w, i)), 0)
    return i >= len(masked) or masked[i] in _JOINERS


def _join_build_verbs(masked: str, actions: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """新建 改建 -> 新建改建, 新建 、 改建 -> 新建、改建: building verbs side by side are one action."""
    out = [actions[0]]
    building = actions[0][2] in _BUILD_VERBS  # whether out[-1] is a building verb or a run of them
    for a in actions[1:]:
        start, end, _ = out[-1]
        if building and a[2] in _BUILD_VERBS and (a[0] == end or (a[0] == end + 1 and masked[end] == "、")):
            out[-1] = (start, a[1], masked[start:a[1]])
        else:
            out.append(a)
            building = a[2] in _BUILD_VERBS
    return out


def _first_action(actions: list[tuple[int, int, str]], ai: int, floor: int, framing: bool = False) -> int:
    """Index of the first verb at or after ``floor`` up to ``actions[ai]`` (looking back at most
    eight verbs, so that a clause of thousands of verbs stays linear); verbs naming who acts
    (支持企业…) are skipped unless ``framing``."""
    first = ai
    while first > 0 and ai - first < 8 and actions[first - 1][0] >= floor:
        first -= 1
    if not framing:
        while first < ai and actions[first][2] in _FRAMING:
            first += 1
    return first


def _chain_start(actions: list[tuple[int, int, str]], ai: int, floor: int) -> int:
    """Index of the first of the verbs written back to back that end with ``actions[ai]``."""
    first = ai
    while first > 0 and actions[first - 1][1] == actions[first][0] and actions[first - 1][0] >= floor:
        first -= 1
    return first


def _is_modifier_gap(gap: str) -> bool:
    """Only modifier words between the action and the number (新增不少于20家)."""
    return gap in _BEFORE_MODIFIERS


CJK_LIKE = re.compile(r"[\u4e00-\u9fff（(“]")
