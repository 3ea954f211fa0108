"""Parse one notice page into a ``ParsedNotice``: metadata, sections, plan items, numeric targets.

``parse_page`` is the one entry point (``qdp parse`` and the pipeline both call it). It accepts an
HTML page as the site serves it or a plain-text capture (the seed), in any of the variants mirrors
produce (Traditional Chinese, inline pinyin, hard line breaks, mojibake), and never raises on bad
input: an empty, binary, truncated, huge or structureless page gives a typed result with warnings.
The output is the public JSON contract documented in docs/parse-output.md.

Stages: read (HTML container or text lines) -> normalise (etl.parse.normalize) -> strip page debris,
header, title and signature -> join hard line breaks -> find numbering markers and their nesting
-> sections and items -> responsibility notes and targets -> classify.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import urlsplit

import lxml.etree

from ..dates import find_date
from ..departments import canonical_department, department_for_code, find_department
from ..encoding import decode_body
from ..records import PLAN_DOC_TYPES, ParsedNotice, ParseWarning, PlanItem, Section
from .normalize import count_control_chars, find_mojibake, normalize_lines
from .targets import extract_targets

# Content containers, most specific first: the site's TRS editor div (#zoom / .TRS_Editor), the
# pre-2020 site's #Zoom2, and the generic class some department subsites use.
CONTENT_SELECTORS: tuple[str, ...] = ("#zoom", ".TRS_Editor", "#Zoom2", ".article-content")
MAX_PAGE_BYTES = 16 * 1024 * 1024  # larger input is cut before parsing (warning too_large)
MAX_TEXT_CHARS = 500_000  # main text beyond this is cut (a real plan is 5-50 thousand characters)

# Stable warning codes (documented in docs/parse-output.md).
WARNING_CODES: dict[str, str] = {
    "empty_page": "the page holds no text",
    "not_html": "the content is binary data, neither HTML nor text",
    "malformed_html": "the HTML could not be parsed; read as text",
    "truncated": "the HTML ends before </html>: the page was cut off",
    "too_large": "the page or its text exceeds the size limit and was cut",
    "no_container": "no known content container; the main text comes from trafilatura",
    "no_title": "no title in the meta tags, the page header or the text",
    "no_date": "no publication date on the page",
    "no_department": "no department in the meta tags, header, title, URL or signature",
    "no_structure": "a plan document without recognisable numbered items",
    "mojibake": "garbled text that cannot be repaired reliably; kept as found",
    "mojibake_repaired": "UTF-8 text read in a legacy encoding, decoded back",
}

# --------------------------------------------------------------------------- patterns

_XML_DECL = re.compile(r"^\s*<\?xml[^>]*>", re.I)
_LOOKS_HTML = re.compile(r"<\s*(?:!doctype|html|head|body|meta|div|p|table|span|title|br)\b", re.I)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_HTML_END = re.compile(r"</\s*(?:html|body)\s*>", re.I)
_YEAR = re.compile(r"((?:19|20)\d{2})\s*年?")
_HEADER_DATE = re.compile(r"(?:发布日期|发布时间|发文日期|日期)\s*[:：]?\s*"
                          r"((?:19|20)\d{2}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2})")
_HEADER_SOURCE = re.compile(r"(?:来源|信息来源|发布机构|发文单位|发文机关)\s*[:：]\s*"
                            r"([^\s:：]+?)(?=\s|$|浏览|访问|字体|点击)")
_FORMAL_FIELD = re.compile(r"^(?:索引号|主题分类|成文日期|发布日期|发文字号|发文单位|发文机关|发布机构|有效性|年度期数|"
                           r"总期刊数|信息来源|来源)\s*[:：]")
_DEBRIS_WORDS = ("导航|首页|政务公开|政府信息公开|信息公开|我要收藏|取消收藏|收藏|打印本页|打印|关闭窗口|关闭|"
                 "字体大小|字号|默认|大|中|小|扫一扫在手机打开当前页|在手机打开当前页|扫一扫|分享到|返回顶部|"
                 "当前位置|您当前的位置|您所在的位置|位置|微信|微博|[【】>＞»|：:\\s]")
_DEBRIS = re.compile(f"^(?:{_DEBRIS_WORDS})+$")
_SIGN_DATE = re.compile(r"^(?:(?:19|20)\d{2}|[二〇一二三四五六七八九零]{4})年[\d〇一二三四五六七八九十]{1,3}月"
                        r"[\d〇一二三四五六七八九十]{1,3}日$")
_SIGN_ORG = re.compile(r"^[^，。；：,.;:！？\s]{2,30}"
                       r"(?:局|委员会|委|办公厅|办公室|人民政府|政府|中心|院|会|处|部|站|馆|厅|室)$")
_SENTENCE_END = ("。", "！", "？", "；", "：", "!", "?", ";", ":", "…")
_PLAN_TITLE = re.compile(r"工作要点|工作计划|重点工作|工作安排|工作任务|任务清单|要点")
_ACTION_TITLE = re.compile(r"行动计划|行动方案|实施方案|三年行动|攻坚行动")
_SUMMARY_TITLE = re.compile(r"总结|工作报告|(?:落实|完成|进展|执行|推进)情况")
_TITLE_LIKE = re.compile(r"(?:要点|计划|方案|通知|公告|通告|公示|总结|意见|报告|决定|办法|规划|安排)")
# Text after the body that ends the plan for good: correction notes appended later, attachment
# lists (whose 1. 2. lines are not items), the publication note.
_TRAILER = re.compile(r"^[（(]?(?:附件|更正|勘误|说明\s*[:：]|注\s*[:：]|备注\s*[:：]|此件公开发布|本文有修改)")
_CLOSING = re.compile(r"^(?:附件|特此|各单位要|各区市要|各部门要|请各|本(?:计划|方案|要点|通知)自|联系人|联系电话)")

# Numbering markers, tried in order on a normalised line. Styles name the numbering, not a level:
# the level of a style is decided per document by the order markers appear in.
_CN_NUM = "[一二三四五六七八九十]{1,3}"
_MARKERS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("cn", re.compile(f"^({_CN_NUM}\\s*[、，,．.])\\s*")),
    ("cn_paren", re.compile(f"^([（(]\\s*{_CN_NUM}\\s*[）)])\\s*")),
    ("di", re.compile(f"^(第{_CN_NUM}(?:[、，,：:．.]|\\s))\\s*")),
    ("num_paren", re.compile(r"^([（(]\s*\d{1,3}\s*[）)])\s*")),
    ("num_dot", re.compile(r"^(\d{1,3}\s*[.．])(?!\d)\s*")),
    ("num_comma", re.compile(r"^(\d{1,3}\s*、)\s*")),
    ("circled", re.compile(r"^([①-⑳])\s*")),
    ("block", re.compile(r"^(\d{1,3})$")),
    ("bullet", re.compile(r"^(——|－－|--|—|●|•|■|◆|▲)\s*")),
)
# Responsibility notes closing an item, in the shapes departments write: （牵头单位：…，参与单位：…）,
# （责任单位：…）, （责任处室（单位）：…）, （牵头部门：…；配合部门：…）, 责任领导：…, bracketed (full-width
# or ASCII) at the end of the item's last line, or unbracketed on a line of their own.
_ROLE = r"(?:牵头|责任|主责|主办|参与|配合|协办|协同)(?:单位|部门|处室|科室)(?:\s*[（(](?:单位|部门)[）)])?"
_NOTE_KEY = f"(?:{_ROLE}|责任领导|分管领导|牵头领导)"
_NOTE_OPEN = re.compile(f"[（(]\\s*{_NOTE_KEY}\\s*[:：]")
_NOTE_LINE = re.compile(f"(?:^|\\n|(?<=[。；;])){_NOTE_KEY}\\s*[:：][^\\n]*$")
_NOTE_KEY_START = re.compile(f"^{_NOTE_KEY}\\s*[:：]")
_NOTE_CLOSE = re.compile(r"[）)]\s*[。；;]?\s*$")
_NOTE_PART = re.compile(f"((?:牵头|责任|主责|主办|参与|配合|协办|协同)(?:单位|部门|处室|科室)|(?:责任|分管|牵头)领导)"
                        f"(?:\\s*[（(](?:单位|部门)[）)])?\\s*[:：]\\s*"
                        f"([^，,；;：:]*(?:[，,][^，,；;：:]*)*?)"
                        f"(?=[，,；;。\\s]?\\s*{_NOTE_KEY}|[。；;]?\\s*$)")
_LEAD_ROLES = ("牵头", "责任", "主责", "主办")
_NOTE_END = ("）", ")", "）。", ")。", "）；", ");")
_MARKER_START = frozenset("一二三四五六七八九十（(第0123456789①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳—－-●•■◆▲")
# The same markers in raw text, which may still hold ASCII punctuation and full-width digits.
_RAW_MARKER = re.compile(r"^\s*(?:[（(]\s*[一二三四五六七八九十\d０-９]{1,3}\s*[）)]|"
                         r"第?[一二三四五六七八九十]{1,3}\s*[、，,．.：:]|[\d０-９]{1,3}\s*[.．、]|[①-⑳]|"
                         r"——|－－|--|—|●|•|■|◆|▲|[\d０-９]{1,3}$)\s*")
_META_KEYS = ("articletitle", "pubdate", "contentsource", "columnname", "publishdate", "source")
_UNIT_SPLIT = re.compile(r"[、，,；;/\s]+|和(?=市)")
_HEADING_MAX = 40  # a heading line is short and has no full stop


# --------------------------------------------------------------------------- page reading


@dataclass(slots=True)
class _Page:
    lines: list[str] = field(default_factory=list)  # raw body lines, as found
    meta: dict[str, str] = field(default_factory=dict)  # meta name (lower case) -> content
    h1: str | None = None
    html_title: str | None = None
    info: str | None = None  # the header line above the body (发布日期 : … 来源 : …)
    is_html: bool = False


@lru_cache(maxsize=64)
def _selector(selector: str) -> Callable[[lxml.etree._Element], list]:
    """Compiled finder for a simple CSS selector: ``tag``, ``#id``, ``.class``, ``tag#id`` or
    ``tag.class`` (lxml has no CSS without the cssselect package; compiled once per selector)."""
    m = re.fullmatch(r"([A-Za-z][\w-]*)?(?:#([\w-]+)|\.([\w-]+))?", selector.strip())
    if not m or not any(m.groups()):
        raise ValueError(f"unsupported content selector {selector!r}: use tag, #id, .class, tag#id or tag.class")
    tag, ident, cls = m.groups()
    # libxml2 indexes HTML id attributes: id() is a hash lookup, //*[@id=…] a walk of the tree.
    xp = f"id('{ident}')" + (f"[self::{tag}]" if tag else "") if ident else f".//{tag or '*'}"
    if cls:
        # A substring test in XPath narrows the candidates; the class token test is exact.
        xp += f"[contains(@class, '{cls}')]"
    find = lxml.etree.XPath(xp)
    if not cls:
        return find
    return lambda root: [e for e in find(root) if cls in (e.get("class") or "").split()]


_BLOCK_TAGS = frozenset({
    "p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table", "section",
    "article", "blockquote", "pre", "dd", "dt", "dl", "center", "hr", "header", "footer", "tbody",
})
_SKIP_TAGS = frozenset({"script", "style", "noscript", "template", "head", "title", "select", "option"})


def _element_lines(element: lxml.etree._Element) -> list[str]:
    """Text of ``element`` split into lines at block boundaries and <br>.

    Done in C as far as possible (a Python walk over every element costs seconds on a page of
    200,000 spans): skipped elements are stripped, each block element gets a line break before
    its text and before its tail, then ``itertext`` joins the rest. Mutates ``element``.
    """
    lxml.etree.strip_elements(element, *_SKIP_TAGS, with_tail=False)
    for el in element.iter(*_BLOCK_TAGS):
        el.text = "\n" + el.text if el.text else "\n"
        if el is not element:
            el.tail = "\n" + el.tail if el.tail else "\n"
    return "".join(element.itertext()).split("\n")


def _text_of(element: lxml.etree._Element | None) -> str | None:
    if element is None:
        return None
    return " ".join(" ".join(element.itertext()).split()) or None


def _first_text(root: lxml.etree._Element, selector: str) -> str | None:
    found = _selector(selector)(root)
    return _text_of(found[0]) if found else None


# libxml2 checks every new attribute of an element against all earlier ones: a tag with tens of
# thousands of attributes takes minutes. No real tag is this long; such a tag keeps its name and
# its id and class (what the content selectors look at) and loses the rest.
_LONG_TAG = re.compile(r"<([A-Za-z][A-Za-z0-9]{0,15})(?=[\s/])[^<>]{4000,}>")
_KEPT_ATTR = re.compile(r"\s(id|class)\s*=\s*(\"[^\"<>]{0,200}\"|'[^'<>]{0,200}'|[^\s\"'<>]{1,200})")


def _shorten_tag(m: re.Match[str]) -> str:
    kept: dict[str, str] = {}
    for a in _KEPT_ATTR.finditer(m.group(0)):
        kept.setdefault(a.group(1), a.group(2))
    return "<" + m.group(1) + "".join(f" {k}={v}" for k, v in kept.items()) + ">"


def _info_text(element: lxml.etree._Element) -> str | None:
    """Text of the page header line (``.article-info``) at or under ``element``."""
    if type(element.tag) is not str:
        return None
    if "article-info" in (element.get("class") or "").split():
        return _text_of(element)
    return _first_text(element, ".article-info")


_HTML_PARSER = lxml.etree.HTMLParser()


def _read_html(text: str, selectors: Sequence[str], warnings: list[ParseWarning], controls: int = 1) -> _Page | None:
    text = _XML_DECL.sub("", text, count=1)
    if _LONG_TAG.search(text):
        text = _LONG_TAG.sub(_shorten_tag, text)
    if controls:
        text = _CONTROL.sub("", text)  # NUL becomes U+FFFD in libxml2, and the rest is no text either
    try:
        # A plain etree HTML parser: lxml.html's parser calls a Python class lookup for every
        # element touched, a third of the time on element-heavy pages; nothing here needs it.
        root = lxml.etree.fromstring(text, _HTML_PARSER)
        if root is None:
            raise lxml.etree.ParserError("Document is empty")
    except (lxml.etree.ParserError, ValueError) as exc:
        warnings.append(ParseWarning("malformed_html", f"HTML could not be parsed ({exc}); read as text"))
        return None
    page = _Page(is_html=True)
    # One pass over the few elements of these tags (filtered in C) instead of one search each.
    h1s: list[lxml.etree._Element] = []
    title_el = None
    for el in root.iter("meta", "h1", "title"):
        if el.tag == "meta":
            name = (el.get("name") or el.get("property") or "").strip().lower()
            content = el.get("content")
            if name and content and name not in page.meta:
                page.meta[name] = content.strip()
        elif el.tag == "h1":
            h1s.append(el)
        elif title_el is None:
            title_el = el
    titled = next((h for h in h1s if "article-title" in (h.get("class") or "").split()), None)
    page.h1 = _text_of(titled) or _text_of(h1s[0] if h1s else None)
    page.html_title = _text_of(title_el)
    for selector in selectors:
        found = _selector(selector)(root)
        if found:
            container = found[0]
            # The header line sits next to the body: look beside the container (not inside it,
            # which may be huge) before the whole page.
            page.info = next(filter(None, map(_info_text, container.itersiblings(preceding=True))), None) \
                or next(filter(None, map(_info_text, container.itersiblings())), None) \
                or _first_text(root, ".article-info")
            page.lines = _element_lines(container)
            return page
    page.info = _first_text(root, ".article-info")
    # No known container: a maintained main-content extractor, imported only when needed (slow).
    warnings.append(ParseWarning("no_container", WARNING_CODES["no_container"]))
    extracted = None
    try:
        import trafilatura

        extracted = trafilatura.extract(text, favor_recall=True, include_comments=False,
                                        include_tables=True, deduplicate=False)
    except Exception:  # trafilatura fails on some broken trees; the body text is the fallback
        extracted = None
    if extracted:
        page.lines = extracted.split("\n")
    else:
        body = root.find("body")
        page.lines = _element_lines(body if body is not None else root)
    return page


def _looks_binary(text: str, controls: int) -> bool:
    """Binary data read as text: control characters (``controls``) and U+FFFD past 5%."""
    return controls + text.count("\ufffd") > max(8, len(text) // 20)


# --------------------------------------------------------------------------- structure


@dataclass(slots=True)
class _Line:
    norm: str
    raw: str
    headline: bool = False  # a short headline line that followed a number alone on its line
    # (style, marker, rest) when the line opens with a numbering marker; matched once per line,
    # since every structure pass asks.
    marker: tuple[str, str, str] | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.marker = _match_marker(self.norm)


@dataclass(slots=True)
class _Entry:
    style: str
    marker: str
    norm: str  # text after the marker, normalised
    raw: str  # text after the marker, as found
    level: int = 0
    headline_line: str | None = None  # block style: the headline line
    body: list[_Line] = field(default_factory=list)  # unmarked lines that follow the entry

    def heading_only(self) -> bool:
        return "。" not in self.norm and len(self.norm) <= _HEADING_MAX and not self.norm.endswith(("；", ";"))


def _match_marker(line: str) -> tuple[str, str, str] | None:
    """(style, marker as written, rest of line) when ``line`` opens with a numbering marker."""
    if not line or line[0] not in _MARKER_START:
        return None
    for style, pattern in _MARKERS:
        m = pattern.match(line)
        if m:
            rest = line[m.end():]
            if style == "num_dot" and rest[:1].isdigit():
                return None  # 3.2% and 2021.3 are numbers, not markers
            if style == "bullet" and not rest:
                return None
            marker = m.group(1)
            return style, "".join(marker.split()) if " " in marker else marker, rest
    return None


def _raw_rest(raw: str, norm_rest: str) -> str:
    """The raw text after the marker: strip as many leading raw characters as the marker used."""
    raw = raw.strip()
    # The raw line may hold pinyin or ASCII punctuation inside the marker, so cut at the first
    # character after the marker token rather than by normalised length.
    m = _RAW_MARKER.match(raw)
    return raw[m.end():] if m and norm_rest != raw else raw


def _ends_sentence(line: str) -> bool:
    return line.endswith(_SENTENCE_END) or (line.endswith(_NOTE_END) and _note_start(line) is not None)


def _note_start(text: str) -> int | None:
    """Where a bracketed responsibility note closing ``text`` starts, if one does. The last
    opening of a note is taken (notes may hold brackets: 责任处室（单位）)."""
    if not _NOTE_CLOSE.search(text[-4:]):
        return None
    last = None
    for m in _NOTE_OPEN.finditer(text):
        last = m
    return last.start() if last else None


def _join_hard_breaks(lines: list[_Line]) -> list[_Line]:
    """Join lines broken inside a sentence (mirrors wrap text at a fixed width)."""
    out: list[_Line] = []
    i = 0
    n = len(lines)
    while i < n:
        cur = lines[i]
        norm_parts, raw_parts = [cur.norm], [cur.raw]
        marker = cur.marker
        joinable = not cur.headline and not (marker and (marker[0] == "block" or not marker[2])) \
            and not _SIGN_DATE.match(cur.norm) and not _NOTE_KEY_START.match(cur.norm)
        if marker and "。" not in cur.norm and len(marker[2]) <= _HEADING_MAX:
            joinable = False  # a heading line: 一、突出优质均衡，形成…
        while joinable and i + 1 < n and not _ends_sentence(norm_parts[-1]):
            nxt = lines[i + 1]
            if nxt.headline or nxt.marker or _SIGN_DATE.match(nxt.norm) or _SIGN_ORG.match(nxt.norm) \
                    or _TRAILER.match(nxt.norm) or _NOTE_KEY_START.match(nxt.norm):
                break
            norm_parts.append(nxt.norm)
            raw_parts.append(nxt.raw)
            i += 1
        out.append(_Line("".join(norm_parts), "".join(raw_parts), cur.headline) if len(norm_parts) > 1 else cur)
        i += 1
    return out


def _mark_headlines(lines: list[_Line]) -> None:
    """A number alone on its line, then a short headline line, then the body: mark the headline."""
    for i in range(len(lines) - 2):
        m = lines[i].marker
        if m and not m[2]:
            nxt = lines[i + 1].norm
            if nxt and "。" not in nxt and len(nxt) <= _HEADING_MAX and not lines[i + 1].marker \
                    and not lines[i + 2].marker:
                lines[i + 1].headline = True


def _entries(lines: list[_Line]) -> tuple[list[_Line], list[_Entry], list[_Line]]:
    """Split lines into preamble, numbered entries (with their body lines) and closing text."""
    preamble: list[_Line] = []
    entries: list[_Entry] = []
    closing: list[_Line] = []
    trailer = False
    i = 0
    n = len(lines)
    while i < n:
        line = lines[i]
        m = line.marker
        if entries and (trailer or _TRAILER.match(line.norm) or _SIGN_DATE.match(line.norm)
                        or (_SIGN_ORG.match(line.norm) and i + 1 < n and _SIGN_DATE.match(lines[i + 1].norm))):
            # Signature, date, correction note, attachments: nothing after them is an item.
            trailer = True
            closing.append(line)
            i += 1
            continue
        if m is None:
            if closing or (entries and _CLOSING.match(line.norm)):
                closing.append(line)
            elif entries:
                entries[-1].body.append(line)
            else:
                preamble.append(line)
            i += 1
            continue
        style, marker, rest = m
        entry = _Entry(style, marker, rest, _raw_rest(line.raw, rest))
        if not rest:
            nxt = lines[i + 1] if i + 1 < n else None
            if nxt is None or nxt.marker is not None or _TRAILER.match(nxt.norm) or _SIGN_DATE.match(nxt.norm):
                i += 1  # a dangling marker (nothing follows it): no entry, so no empty item
                continue
            # A number alone on its line (01 / 一、): the next line is its text or headline.
            entry.norm, entry.raw = nxt.norm, nxt.raw.strip()
            if nxt.headline:
                entry.headline_line = nxt.norm
            i += 1
        entries.append(entry)
        i += 1
    _assign_levels(entries)
    return preamble, entries, closing


def _assign_levels(entries: list[_Entry]) -> None:
    """Nesting by order of appearance: a style seen before returns to its level; a new style nests
    under the current entry. Bullets always nest under whatever precedes them, so —— directly
    under a section is an item and —— under an item is a sub-item."""
    stack: list[str] = []
    for e in entries:
        if e.style == "bullet":
            e.level = len(stack) + 1
            continue
        if e.style in stack:
            del stack[stack.index(e.style) + 1:]
        else:
            stack.append(e.style)
        e.level = len(stack)


def _title_of(text: str) -> str:
    """A heading's title: up to the first full stop, without closing punctuation."""
    head = text.split("。", 1)[0]
    return head.rstrip("：:；;，, ").strip()


def _headline(text: str, headline_line: str | None) -> str:
    if headline_line:
        return headline_line
    cut = text.find("。")
    if cut >= 0:
        return text[: cut + 1]
    return text.split("\n", 1)[0]


def _split_units(names: str) -> list[str]:
    # A dict keeps first-seen order with O(1) membership: a note naming thousands of units must
    # not cost a scan of the list per unit.
    out: dict[str, None] = {}
    for name in _UNIT_SPLIT.split(names):
        canon = canonical_department(name)
        if canon:
            out[canon] = None
    return list(out)


def _responsibility(text: str) -> tuple[str, list[str], list[str]]:
    """Remove the closing responsibility notes; return (text, lead units, partner units).

    Leaders (责任领导) are people, not units: removed from the text (raw_text keeps them) but not
    listed."""
    notes: list[str] = []
    for _ in range(4):  # a few stacked notes (牵头部门 / 配合部门 / 责任领导 lines); bounded: linear time
        at = _note_start(text)
        if at is not None:
            notes.append(_NOTE_CLOSE.sub("", text[at + 1:]))
            text = text[:at].rstrip()
            continue
        # Only the last line can hold an unbracketed note (searching it alone keeps this linear).
        m = _NOTE_LINE.search(text, max(0, text.rfind("\n"))) if "：" in text or ":" in text else None
        if m and m.start() > 0:
            notes.append(m.group(0).strip())
            text = text[:m.start()].rstrip()
            continue
        break
    lead: dict[str, None] = {}
    partners: dict[str, None] = {}
    found = False
    for note in reversed(notes):
        for role, names in _NOTE_PART.findall(note):
            found = True
            if role.endswith("领导"):
                continue
            target = lead if role.startswith(_LEAD_ROLES) else partners
            target.update(dict.fromkeys(_split_units(names)))
    if not found:
        return (text + "".join(notes)) if notes else text, [], []
    return text, list(lead), list(partners)


# --------------------------------------------------------------------------- metadata


_date = find_date


def _url_parts(url: str | None) -> tuple[str | None, dt.date | None]:
    """Department code and posting date from a detail URL."""
    if not url:
        return None, None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None, None
    code = None
    m = re.search(r"/zwgk/xxgk/([A-Za-z0-9_]+)/", parts.path or "")
    if m:
        code = m.group(1)
    elif parts.hostname and parts.hostname.endswith(".qingdao.gov.cn"):
        sub = parts.hostname.split(".", 1)[0]
        code = sub if sub != "www" else None
    posted = None
    m = re.search(r"/t(\d{4})(\d{2})(\d{2})_\d+\.s?html?", parts.path or "")
    if m:
        try:
            posted = dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            posted = None
    return code, posted


def classify(title: str | None, has_items: bool = False) -> str:
    """doc_type from the title: 行动计划/实施方案 -> action_plan; 工作要点/工作计划/重点工作 -> work_plan;
    总结/落实情况/完成情况 -> work_summary; any other titled or structured page -> notice; nothing -> other."""
    if title:
        # A report on how a plan went names the plan before the report word (工作要点落实情况); a
        # plan opening with a review names itself after it (2022年工作总结和2023年工作计划).
        reports = [m.end() for m in _SUMMARY_TITLE.finditer(title)]
        if reports and not (_ACTION_TITLE.search(title, reports[-1]) or _PLAN_TITLE.search(title, reports[-1])):
            return "work_summary"
        if _ACTION_TITLE.search(title):
            return "action_plan"
        if _PLAN_TITLE.search(title):
            return "work_plan"
        return "notice"
    return "notice" if has_items else "other"


_PLAN_COLUMN = re.compile(r"/(?:ghjh|jhmb|gzjh|jhzj|ghxx)/")


def _untitled_type(head: str, url: str | None, entries: list[_Entry]) -> str | None:
    """doc_type of a page without a title, from its opening lines, else its URL column and
    structure (sections over numbered items); None when neither says."""
    if head and (_ACTION_TITLE.search(head) or _PLAN_TITLE.search(head) or _SUMMARY_TITLE.search(head)):
        return classify(head)
    if url and _PLAN_COLUMN.search(url) and len({e.level for e in entries}) >= 2:
        return "work_plan"
    return None


def _plan_year(title: str | None, published: dt.date | None) -> int | None:
    if title:
        m = _YEAR.search(title)
        if m:
            return int(m.group(1))
    return published.year if published else None


# --------------------------------------------------------------------------- entry point


def parse_page(content: bytes | str, url: str | None = None, charset: str | None = None, *,
               selectors: Sequence[str] = CONTENT_SELECTORS) -> ParsedNotice:
    """Parse one page (HTML as served, or a plain-text capture) into a ``ParsedNotice``.

    ``url`` supplies the department code and a fallback date; ``charset`` is the HTTP charset
    of ``content`` when it is bytes. Never raises on bad input: problems become warnings.
    """
    warnings: list[ParseWarning] = []
    if content is None:
        content = b""
    if isinstance(content, bytes | bytearray | memoryview):
        data = bytes(content)
        if len(data) > MAX_PAGE_BYTES:
            warnings.append(ParseWarning("too_large", f"page of {len(data)} bytes cut to {MAX_PAGE_BYTES}"))
            data = data[:MAX_PAGE_BYTES]
        text, codec = decode_body(data, charset)
        # Counted on the bytes, which is cheaper: in UTF-8 and the GB encodings an ASCII control
        # byte only ever stands for itself (not so in UTF-16).
        controls = count_control_chars(text if codec == "utf-16" else data)
    else:
        text = content
        if len(text) > MAX_PAGE_BYTES:
            warnings.append(ParseWarning("too_large", f"page of {len(text)} characters cut to {MAX_PAGE_BYTES}"))
            text = text[:MAX_PAGE_BYTES]
        controls = count_control_chars(text)
    if not text.strip():
        warnings.append(ParseWarning("empty_page", WARNING_CODES["empty_page"]))
        return ParsedNotice(None, None, None, "other", None, warnings=warnings)
    if _looks_binary(text, controls):
        warnings.append(ParseWarning("not_html", WARNING_CODES["not_html"]))
        return ParsedNotice(None, None, None, "other", None, warnings=warnings)

    page: _Page | None = None
    if _LOOKS_HTML.search(text[:4096]):
        if not _HTML_END.search(text[-2048:]):
            warnings.append(ParseWarning("truncated", WARNING_CODES["truncated"]))
        page = _read_html(text, selectors, warnings, controls)
    if page is None:
        page = _Page(lines=text.split("\n"))
    return _build(page, url, warnings)


def _build(page: _Page, url: str | None, warnings: list[ParseWarning]) -> ParsedNotice:
    raw_lines = [line.strip() for line in page.lines]
    raw_lines = [line for line in raw_lines if line]
    total = sum(map(len, raw_lines))
    if total > MAX_TEXT_CHARS:
        warnings.append(ParseWarning("too_large", f"main text of {total} characters cut to {MAX_TEXT_CHARS}"))
        kept, size = [], 0
        for line in raw_lines:
            if size + len(line) > MAX_TEXT_CHARS:
                kept.append(line[: MAX_TEXT_CHARS - size])
                break
            kept.append(line)
            size += len(line)
        raw_lines = kept
    # Metadata strings are normalised together with the body: one pass, one OpenCC call.
    meta_keys = [k for k in _META_KEYS if page.meta.get(k)]
    extra_raw = [page.meta[k] for k in meta_keys] + [page.h1 or "", page.html_title or "", page.info or ""]
    norm_all, repairs = normalize_lines(raw_lines + extra_raw)
    norm_lines = norm_all[: len(raw_lines)]
    meta = dict(zip(meta_keys, norm_all[len(raw_lines):], strict=False))
    h1, html_title, info = norm_all[-3:]
    title = meta.get("articletitle") or h1 or None
    if not title and html_title:
        title = html_title.split("_", 1)[0].strip() or None
    published = _date(meta.get("pubdate") or meta.get("publishdate"))
    source = meta.get("contentsource") or meta.get("source")
    if info:
        published = published or _date(m.group(1) if (m := _HEADER_DATE.search(info)) else None)
        source = source or (m.group(1) if (m := _HEADER_SOURCE.search(info)) else None)

    # Page furniture inside the text: debris anywhere; header lines and the title before the body.
    lines: list[_Line] = []
    header_at: int | None = None
    marker_seen = False  # the page head ends at the first numbered line
    for norm, raw in zip(norm_lines, raw_lines, strict=True):
        if not norm or _DEBRIS.match(norm):
            continue
        in_head = len(lines) < 12 and not marker_seen
        if in_head and (_HEADER_DATE.search(norm) or _FORMAL_FIELD.match(norm)) and len(norm) <= 120:
            published = published or _date(m.group(1) if (m := _HEADER_DATE.search(norm)) else None)
            source = source or (m.group(1) if (m := _HEADER_SOURCE.search(norm)) else None)
            header_at = len(lines)
            lines.append(_Line("", raw))  # placeholder: everything up to the header is page head
            continue
        lines.append(line := _Line(norm, raw))
        marker_seen = marker_seen or line.marker is not None
    if header_at is not None:
        head = [x.norm for x in lines[:header_at] if x.norm]
        if not title and head:
            # The line right above the header is the title; lines before it are mirror spam.
            candidates = [h for h in head if not h.endswith(_SENTENCE_END)]
            titled = [h for h in candidates if _TITLE_LIKE.search(h)]
            title = (titled or candidates or [None])[-1]
        lines = [x for x in lines[header_at + 1:] if x.norm]
    else:
        lines = [x for x in lines if x.norm]
        if not title:
            for x in lines[:5]:
                if _TITLE_LIKE.search(x.norm) and not x.norm.endswith(_SENTENCE_END) and len(x.norm) <= 80 \
                        and not x.marker:
                    title = x.norm
                    break
    if title:
        # A body that repeats the title in its first lines: not part of the text.
        lines = [x for i, x in enumerate(lines) if not (i < 3 and x.norm == title)]

    # Signature and date at the end.
    signature: str | None = None
    while lines and (_SIGN_DATE.match(lines[-1].norm) or _SIGN_ORG.match(lines[-1].norm)):
        last = lines.pop()
        if _SIGN_DATE.match(last.norm):
            published = published or _date(last.norm)
        else:
            signature = signature or last.norm

    _mark_headlines(lines)
    lines = _join_hard_breaks(lines)
    body_text = "\n".join(x.norm for x in lines)
    preamble, entries, closing = _entries(lines)

    # Without a title (a repost, a text capture) the body's first lines, the URL's column and the
    # numbering say what the page is; a title, when there is one, always decides.
    head = " ".join(x.norm for x in preamble[:3])[:300]
    body_type = None if title else _untitled_type(head, url, entries)
    plan_like = (classify(title) if title else body_type) in PLAN_DOC_TYPES
    sections, items, group_lines = _structure(entries, paragraph_items=plan_like)
    doc_type = classify(title, bool(items)) if title or not body_type else body_type
    if doc_type not in PLAN_DOC_TYPES and doc_type != "work_summary":
        items = []  # numbered paragraphs of a notice (招聘条件, 报名方式) are not plan items

    # Metadata fallbacks and their warnings.
    code, posted = _url_parts(url)
    department = canonical_department(source) if source else None
    department = department or (find_department(title) if title else None) or department_for_code(code)
    department = department or (canonical_department(signature) if signature else None)
    if not title:
        warnings.append(ParseWarning("no_title", WARNING_CODES["no_title"]))
    if published is None:
        if posted:
            published = posted
            warnings.append(ParseWarning("no_date", "no publication date on the page; used the URL's posting date"))
        else:
            warnings.append(ParseWarning("no_date", WARNING_CODES["no_date"]))
    if not department:
        warnings.append(ParseWarning("no_department", WARNING_CODES["no_department"]))
    if doc_type in PLAN_DOC_TYPES and not items:
        warnings.append(ParseWarning("no_structure", WARNING_CODES["no_structure"]))
    if not title and not sections and not items and doc_type == "other":
        warnings.append(ParseWarning("no_structure", "no title and no numbered structure"))

    # Mojibake: name the item (or section) that holds it.
    for item in items:
        if bad := find_mojibake(item.text):
            warnings.append(ParseWarning("mojibake", f"unrepairable mojibake {' … '.join(bad)!r} in item "
                                         f"{item.marker} of section {item.section}", item.section, item.ordinal))
    for s in sections:
        if bad := find_mojibake(s.title):
            warnings.append(ParseWarning("mojibake", f"unrepairable mojibake {' … '.join(bad)!r} in section title",
                                         s.ordinal))
    outside = [x.norm for x in preamble + closing] + group_lines + ([title] if title else [])
    if bad := [b for text in outside for b in find_mojibake(text)]:
        warnings.append(ParseWarning("mojibake", f"unrepairable mojibake {' … '.join(bad)!r} outside the plan items"))
    for rep in dict.fromkeys(repairs):  # the title repeats in meta, <h1> and <title>: report a repair once
        holder = next((it for it in items if rep.after in it.text), None)
        warnings.append(ParseWarning("mojibake_repaired", f"repaired {rep.before!r} -> {rep.after!r}",
                                     holder.section if holder else None, holder.ordinal if holder else None))

    return ParsedNotice(
        title=title, published=published, department=department, doc_type=doc_type,
        plan_year=_plan_year(title or head, published) if doc_type in PLAN_DOC_TYPES | {"work_summary"} else None,
        sections=sections, items=items, warnings=warnings,
        column=meta.get("columnname") or None, body_text=body_text,
    )


def _is_group(entries: list[_Entry], k: int) -> bool:
    """A heading between section and item level: short, no body, and items numbered under it."""
    e = entries[k]
    return e.heading_only() and not e.body and k + 1 < len(entries) and entries[k + 1].level == e.level + 1


def _paragraphs(body: list[_Line]) -> list[_Line]:
    """Body lines of an unnumbered section as task paragraphs; a responsibility note on a line of
    its own belongs to the paragraph above it."""
    out: list[_Line] = []
    for x in body:
        if out and (_NOTE_OPEN.match(x.norm) or _NOTE_LINE.match(x.norm)):
            prev = out[-1]
            out[-1] = _Line(prev.norm + "\n" + x.norm, prev.raw + "\n" + x.raw)
        else:
            out.append(x)
    return out


def _structure(entries: list[_Entry], paragraph_items: bool = False) -> tuple[list[Section], list[PlanItem], list[str]]:
    """Sections and items from leveled entries; also the text of group headings (for mojibake checks).

    ``paragraph_items``: a plan document, whose unnumbered paragraphs under a section heading are
    its tasks when the section has no numbered items."""
    if not entries:
        return [], [], []
    levels = {e.level for e in entries}
    top = [e for e in entries if e.level == 1]
    group_lines: list[str] = []
    section_level = 1
    if levels == {1}:
        prose = sum(1 for e in top if e.heading_only() and e.body)
        # 一、 headings over prose paragraphs (01 / ① / —— never head sections): sections whose
        # paragraphs are items in a plan, and have no items in a summary.
        if not (top[0].style in ("cn", "di", "cn_paren") and prose * 2 >= len(top)):
            section_level = 0

    sections: list[Section] = []
    items: list[PlanItem] = []
    current: tuple[_Entry, list[str], list[str], str | None] | None = None
    ordinal = 0
    group: str | None = None  # the heading between section and item level in force, if any
    under_group = False  # the last entry one level under the section was a group heading
    section_body: list[_Line] = []

    def add_item(entry_marker: str, headline_line: str | None, norm_parts: list[str], raw_parts: list[str],
                 item_group: str | None) -> None:
        nonlocal ordinal
        text = "\n".join(p for p in norm_parts if p)
        text, lead, partners = _responsibility(text)
        if not text:
            return  # nothing but a marker or a note: no empty item
        ordinal += 1
        sec = sections[-1].ordinal if sections else 0
        items.append(PlanItem(
            section=sec, ordinal=ordinal, marker=entry_marker, headline=_headline(text, headline_line),
            text=text, lead_units=lead, partner_units=partners, targets=extract_targets(text),
            raw_text="\n".join(p for p in raw_parts if p), group=item_group,
        ))

    def close() -> None:
        if current is not None:
            entry, norm_parts, raw_parts, item_group = current
            add_item(entry.marker, entry.headline_line, norm_parts, raw_parts, item_group)

    def close_section() -> None:
        # A section of a plan without numbered items: each paragraph is one task.
        if paragraph_items and sections and ordinal == 0:  # ordinal restarts per section: no items yet
            for x in _paragraphs(section_body):
                add_item("", None, [x.norm], [x.raw], None)
        elif section_body:
            group_lines.extend(x.norm for x in section_body)

    item_level = 1 if section_level == 0 else 2
    for k, e in enumerate(entries):
        if section_level and e.level == section_level:
            close()
            current = None
            close_section()
            sections.append(Section(len(sections) + 1, e.marker, _title_of(e.norm)))
            ordinal = 0
            group = None
            under_group = False
            section_body = list(e.body)
        elif e.level == item_level and section_level and _is_group(entries, k):
            close()
            current = None
            group = e.marker + _title_of(e.norm)
            under_group = True
            group_lines.append(e.norm)
        elif e.level == item_level or (under_group and e.level == item_level + 1):
            close()
            if e.level == item_level:
                under_group = False
                group = None
            current = (e, [e.norm, *(x.norm for x in e.body)], [e.raw, *(x.raw for x in e.body)], group)
        elif e.level > item_level and current is not None:
            # Sub-items stay inside their item, marker and all.
            current[1].append(e.marker + e.norm)
            current[2].append(e.marker + e.raw)
            current[1].extend(x.norm for x in e.body)
            current[2].extend(x.raw for x in e.body)
        else:
            # A sub-item before any item: kept out of the items, checked for mojibake.
            group_lines.append(e.norm)
            group_lines.extend(x.norm for x in e.body)
    close()
    close_section()
    return sections, items, group_lines
