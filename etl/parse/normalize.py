"""Text normalisation: one clean, comparable Simplified-Chinese form of whatever variant a page is in.

Mirror copies of the site convert text to Traditional Chinese, insert pinyin after characters
(網(wǎng)), write full-width punctuation as ASCII and sometimes garble a stretch into mojibake.
``normalize_text`` undoes all of that in a fixed order:

1. repair mojibake that can be repaired reliably (UTF-8 bytes read as GBK or as cp1252);
2. strip inline pinyin annotations;
3. full-width digits/letters to ASCII, ideographic spaces to spaces;
4. Traditional to Simplified (OpenCC ``t2s``);
5. ASCII punctuation in Chinese context to full-width, whitespace collapsed.

Mojibake that cannot be repaired (lost bytes, private-use characters, U+FFFD) is kept as found and
reported by ``find_mojibake`` so the caller can warn; text is never dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

# --------------------------------------------------------------------------- character classes

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
CJK_CHAR = re.compile(f"[{_CJK}]")

# Tone-marked vowels: a pinyin annotation always carries one (the seed's do; toneless syllables
# such as "(de)" are too easily real Latin text to strip on sight).
_TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹḿ"
_PINYIN_LETTERS = "a-zü" + _TONED
# Starts with the parenthesis (the engine skips ahead to it); the look-behind after it requires a
# Chinese character before the parenthesis. Bounded repeats: a syllable has at most six letters,
# and unbounded ones backtrack on long runs.
PINYIN_ANNOTATION = re.compile(
    f"[(（](?<=[{_CJK}][(（])\\s?[{_PINYIN_LETTERS}]{{0,5}}[{_TONED}][{_PINYIN_LETTERS}]{{0,5}}\\s?[)）]"
)

# Full-width ASCII digits and letters (U+FF10-FF19, FF21-FF3A, FF41-FF5A) -> ASCII; the
# ideographic space and NBSP become plain spaces. Full-width punctuation stays full-width.
_WIDTH_TABLE = {cp: cp - 0xFEE0 for r in ((0xFF10, 0xFF19), (0xFF21, 0xFF3A), (0xFF41, 0xFF5A))
                for cp in range(r[0], r[1] + 1)}
_WIDTH_TABLE.update({0x3000: 0x20, 0xA0: 0x20, 0x2002: 0x20, 0x2003: 0x20, 0x2009: 0x20,
                     0xFEFF: None, 0x200B: None, 0x200C: None, 0x200D: None, 0x2060: None})
# translate() looks every character up in a dict; only runs of affected characters are sent to it.
_WIDTH_CHARS = re.compile("[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a\u3000\xa0\u2002\u2003\u2009\ufeff"
                          "\u200b-\u200d\u2060]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACES = re.compile(r"[ \t\r\f\v]+")
_LINE_EDGE = re.compile(" \n ?|\n ")  # after _SPACES, a line edge holds at most one blank
# A space between two CJK characters is layout, not text (mirrors indent and wrap with spaces).
_CJK_CONTEXT = frozenset("，。；：、！？（）“”《》")
_CJK_CONTEXT_CLASS = f"[{_CJK}{''.join(sorted(_CJK_CONTEXT))}]"
# One space (runs are collapsed first) between two Chinese characters; literal first, as above.
_LAYOUT_SPACE = re.compile(f" (?<={_CJK_CONTEXT_CLASS} )(?={_CJK_CONTEXT_CLASS})")

# Punctuation written in ASCII by captured copies; converted when a neighbour is Chinese. The
# patterns start with the literal (fast scan); the neighbours are checked per match.
# " ?; ?" spelled as an alternation so the engine can skip ahead to a space or the mark (3x faster).
_ASCII_PUNCT = {ch: re.compile(f"(?: {re.escape(ch)}|{re.escape(ch)}) ?") for ch in ";:!"}
# A comma between ASCII letters or digits (1,000 / Hello, world). The comma comes first and the
# look-behind after it: a pattern that opens with a literal is scanned for at C speed.
_ASCII_COMMA_BACK = re.compile("，(?= ?[A-Za-z0-9])(?<=[A-Za-z0-9]，)")
_FULL_WIDTH = {",": "，", ";": "；", ":": "：", "!": "！"}
# ASCII parentheses around text holding a Chinese character become full-width.
_ASCII_PARENS = re.compile(f"\\(([^()\\n]*[{_CJK}][^()\\n]*)\\)")

# --------------------------------------------------------------------------- mojibake

# Bytes of UTF-8 CJK (E3-E9 lead, two continuation bytes) found in the GB18030 encoding of a
# text: the trace UTF-8 leaves when it is read as GBK.
_UTF8_CJK_BYTES = re.compile(rb"(?:[\xe3-\xe9][\x80-\xbf]{2}){2,}")
# Characters GBK can produce when it misreads UTF-8: hanzi, kana, Greek, Cyrillic, symbols, PUA.
_CJK_RUN = re.compile(
    f"[{_CJK}\u3000-\u30ff\u3100-\u312f\ufe30-\ufe4f\u0391-\u03c9\u0401-\u0451\u2010-\u26ff\ue000-\uf8ff\uff00-\uffef]{{4,}}"
)
# UTF-8 read as cp1252/latin-1: a lead byte letter followed by continuation-byte letters.
_LATIN_PAIR = ("[\u00c2-\u00ef][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc"
               "\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122]{1,2}")
# Spelled "pair, then more pairs" rather than "(?:pair){2,}": a pattern that opens with a
# character class lets the regex engine skip ahead to candidate characters (5x faster on clean text).
_LATIN_MOJIBAKE = re.compile(f"{_LATIN_PAIR}(?:{_LATIN_PAIR})+")
# What cannot be repaired: private-use characters (GBK user-defined area), U+FFFD, the classic
# 锟斤拷 (U+FFFD run through GBK), and an ASCII "?" wedged between Chinese characters (a byte
# that no decoder could place).
_UNREPAIRABLE = re.compile(
    f"[\ue000-\uf8ff\ufffd]+|(?:锟斤拷)+|(?:烫烫烫)+|(?:屯屯屯)+|(?<=[{_CJK}])\\?+(?=[{_CJK}A-Za-z@;:#$%^&*])"
)


_MOJIBAKE_HINT = re.compile("[\ue000-\uf8ff\ufffd锟烫屯?]")


def _gbk_class(leads: range, trails: range) -> str:
    chars = set()
    for lead in leads:
        for trail in trails:
            try:
                chars.add(bytes((lead, trail)).decode("gbk"))
            except UnicodeDecodeError:
                continue
    return "[" + "".join(sorted(re.escape(c) for c in chars)) + "]"


# Cheap screen for UTF-8 read as GBK: each pair of UTF-8 CJK characters (bytes L C C L C C, L a
# lead byte E3-E9, C a continuation byte 80-BF) becomes three GBK characters LC, CL, CC. Three
# pairs in a row is what the repair needs; clean text almost never shows it.
_LC = _gbk_class(range(0xE3, 0xEA), range(0x80, 0xC0))
_CL = _gbk_class(range(0x80, 0xC0), range(0xE3, 0xEA))
_CC = _gbk_class(range(0x81, 0xC0), range(0x80, 0xC0))
_GBK_MOJIBAKE_SCREEN = re.compile(f"{_LC}{_CL}{_CC}{_LC}{_CL}{_CC}")


@dataclass(frozen=True, slots=True)
class MojibakeRepair:
    """One stretch of mojibake that was repaired: ``before`` as found, ``after`` as restored."""

    before: str
    after: str


def _gbk_level(char: str) -> int:
    """1 for a common GB2312 level-1 hanzi, 2 for a rarer one, 0 for anything else."""
    try:
        b = char.encode("gb2312")
    except UnicodeEncodeError:
        return 2 if CJK_CHAR.match(char) else 0
    if len(b) != 2:
        return 0
    return 1 if 0xB0 <= b[0] <= 0xD7 else (2 if b[0] >= 0xD8 else 0)


def _plausible_repair(garbled: str, restored: str) -> bool:
    """UTF-8 read as GBK yields mostly rare level-2 hanzi; the restored text is mostly common ones.

    Real Chinese text almost never satisfies both, so a repair that passes is reliable.
    """
    if len(restored) < 2:
        return False
    g_rare = sum(1 for c in garbled if _gbk_level(c) != 1)
    r_common = sum(1 for c in restored if _gbk_level(c) == 1 or not CJK_CHAR.match(c))
    return g_rare * 2 >= len(garbled) and r_common * 10 >= len(restored) * 8


def _repair_gbk_run(run: str, repairs: list[MojibakeRepair]) -> str:
    """Restore the stretches of ``run`` whose GB18030 bytes are whole UTF-8 characters."""
    offsets = [0]
    for c in run:
        offsets.append(offsets[-1] + len(c.encode("gb18030")))
    data = run.encode("gb18030")
    out: list[str] = []
    i = 0
    n = len(run)
    while i < n:
        m = _UTF8_CJK_BYTES.match(data, offsets[i])
        best = 0
        if m:
            # The stretch must end on a character boundary and hold whole UTF-8 characters.
            j = i + 4  # fewer than four garbled characters is too little evidence
            while j <= n and offsets[j] <= m.end():
                if (offsets[j] - offsets[i]) % 3 == 0:
                    best = j
                j += 1
        if best:
            garbled = run[i:best]
            try:
                restored = data[offsets[i]:offsets[best]].decode("utf-8")
            except UnicodeDecodeError:
                restored = ""
            if restored and _plausible_repair(garbled, restored):
                repairs.append(MojibakeRepair(garbled, restored))
                out.append(restored)
                i = best
                continue
        out.append(run[i])
        i += 1
    return "".join(out)


def repair_mojibake(text: str) -> tuple[str, list[MojibakeRepair]]:
    """Repair stretches of UTF-8 that were read as GBK or cp1252, when the bytes are all there.

    Returns the text and what was repaired. A cheap whole-text check runs first, so clean text
    costs one encode and one byte-regex search.
    """
    repairs: list[MojibakeRepair] = []
    if _GBK_MOJIBAKE_SCREEN.search(text):
        text = _CJK_RUN.sub(lambda m: _repair_gbk_run(m.group(0), repairs), text)
    if _LATIN_MOJIBAKE.search(text):
        def _latin(m: re.Match[str]) -> str:
            try:
                restored = m.group(0).encode("cp1252").decode("utf-8")
            except (UnicodeEncodeError, UnicodeDecodeError):
                return m.group(0)
            repairs.append(MojibakeRepair(m.group(0), restored))
            return restored

        text = _LATIN_MOJIBAKE.sub(_latin, text)
    return text, repairs


def find_mojibake(text: str) -> list[str]:
    """Stretches of ``text`` that are mojibake no decoder can undo (kept as found; caller warns)."""
    if not _MOJIBAKE_HINT.search(text):  # one character-class scan: clean text exits here
        return []
    return [m.group(0) for m in _UNREPAIRABLE.finditer(text)]


# --------------------------------------------------------------------------- conversion


@lru_cache(maxsize=1)
def _opencc():
    import opencc  # one instance per process: building the converter costs milliseconds

    return opencc.OpenCC("t2s")


@lru_cache(maxsize=1)
def _traditional_screen() -> re.Pattern[str]:
    """A character class of every character t2s changes on its own, found by asking OpenCC once
    per process (about 40 ms), so it stays in step with OpenCC's dictionaries.

    Characters beyond the BMP are not listed one by one (a regex class of them is scanned
    linearly): any CJK character there counts as a hit and the text goes through OpenCC.
    """
    chars = [chr(c) for lo, hi in ((0x2E80, 0xD7FF), (0xF900, 0xFFFF)) for c in range(lo, hi + 1) if c != 0x0A]
    converted = _opencc().convert("\n".join(chars)).split("\n")
    if len(converted) != len(chars):  # OpenCC joined or split a line: screen nothing out
        return re.compile("[\\s\\S]")
    changed = "".join(re.escape(c) for c, s in zip(chars, converted, strict=True) if c != s)
    return re.compile(f"[{changed}\U00020000-\U0002FA1F]")


def to_simplified(text: str) -> str:
    """Traditional to Simplified Chinese (OpenCC t2s); Simplified text passes through unchanged.

    Most pages are Simplified already: a scan for characters t2s would change (about a tenth of
    the cost of the conversion) lets them skip OpenCC. Conversions that only a whole phrase
    triggers are not screened for; a Traditional text long enough to matter always holds some
    character that converts on its own, and the pipeline screens whole pages.
    """
    if not text or not _traditional_screen().search(text):
        return text
    return _opencc().convert(text)


def _is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf" or "\uf900" <= ch <= "\ufaff"


def strip_pinyin(text: str) -> str:
    """Remove pinyin annotations written after a character: 網(wǎng) -> 網."""
    if "(" not in text and "（" not in text:
        return text
    return PINYIN_ANNOTATION.sub("", text)


def unify_width(text: str) -> str:
    return _WIDTH_CHARS.sub(lambda m: m.group(0).translate(_WIDTH_TABLE), text)


def _chinese_context(ch: str) -> bool:
    return _is_cjk(ch) or ch in _CJK_CONTEXT


def unify_punctuation(text: str) -> str:
    """ASCII punctuation in Chinese context to its full-width form (captured copies write ,():;)."""
    if "(" in text:
        text = _ASCII_PARENS.sub(r"（\1）", text)
    if "," in text:
        # Commas are the bulk: convert all in one C-speed pass, then put back the few that sit
        # between ASCII letters or digits (1,000 / Hello, world).
        text = _ASCII_COMMA_BACK.sub(",", text.replace(",", "，"))
    for ch, pattern in _ASCII_PUNCT.items():
        if ch not in text:
            continue
        src = text

        def _punct(m: re.Match[str], ch: str = ch, src: str = src) -> str:
            start, end = m.start(), m.end()
            before = src[start - 1] if start else ""
            after = src[end] if end < len(src) else ""
            if ch == ":" and before.isdigit() and src[end:end + 2].isdigit():
                return m.group(0)  # a time: 9:00
            if ch == "!" and not _is_cjk(before):
                return m.group(0)
            if _chinese_context(before) or _chinese_context(after):
                return _FULL_WIDTH[ch]
            return m.group(0)

        text = pattern.sub(_punct, text)
    return text


_CONTROL_BYTES = bytes([*range(0, 9), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])  # what _CONTROL matches


def count_control_chars(text: str | bytes) -> int:
    """How many C0 control characters (other than tab and line breaks) ``text`` holds.

    Counted on UTF-8 bytes with ``bytes.translate``, a C loop several times faster than a regex
    scan of every character; in UTF-8 these bytes only ever stand for themselves.
    """
    data = text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass")
    return len(data) - len(data.translate(None, _CONTROL_BYTES))


def clean_whitespace(text: str) -> str:
    """Collapse runs of blanks, drop blanks between Chinese characters, strip each line."""
    if count_control_chars(text):
        text = _CONTROL.sub("", text)
    if "  " in text or "\t" in text or "\r" in text or "\f" in text or "\v" in text:
        text = _SPACES.sub(" ", text)
    if " " in text:
        text = _LAYOUT_SPACE.sub("", text)
        if " \n" in text or "\n " in text:
            text = _LINE_EDGE.sub("\n", text)
    return text.strip(" ")


def normalize_text(text: str) -> tuple[str, list[MojibakeRepair]]:
    """The normalised form of ``text`` (lines preserved) and the mojibake repairs made on the way."""
    if not text:
        return "", []
    text, repairs = repair_mojibake(text)
    text = strip_pinyin(text)
    text = unify_width(text)
    text = to_simplified(text)
    text = unify_punctuation(text)
    return clean_whitespace(text), repairs


def normalize(text: str) -> str:
    """``normalize_text`` without the repair report, for short strings (titles, meta values)."""
    return normalize_text(text)[0]


def normalize_lines(lines: list[str]) -> tuple[list[str], list[MojibakeRepair]]:
    """Normalise many lines in one pass (one OpenCC call), keeping the line count."""
    joined = "\n".join(line.replace("\n", " ") for line in lines)
    text, repairs = normalize_text(joined)
    out = text.split("\n") if lines else []
    if len(out) != len(lines):  # cannot happen: no step adds or removes newlines; be safe anyway
        out = [normalize_text(line)[0] for line in lines]
    return out, repairs


def has_traditional(text: str) -> bool:
    """True when ``text`` still holds anything t2s would change (the full conversion, unscreened)."""
    return bool(text) and _opencc().convert(text) != text
