"""Alert messages, rendered safely for the format each destination speaks.

A notice's title and department come from a web page: they are text, never markup. Every value is
cleaned (control and bidi-override characters removed, whitespace collapsed, truncated at a
character boundary), URLs inside it are defanged so chat clients do not auto-link them, and only
then escaped for the target format (HTML, Markdown or plain text). Only the site's own URLs
become links. The message title holds no page text at all, just counts. Markdown follows
CommonMark (backslash escapes, ``[label](<url>)`` links), the dialect Apprise converts for Slack.

Apprise is told the body already is in the destination's format (``body_format`` equal to the
plugin's resolved format), so it does not convert it again (its Markdown to HTML conversion
would let raw HTML through).
"""

from __future__ import annotations

import datetime as dt
import html
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from ..settings import LIVE_HOST

TITLE_MAX = 160
DEPARTMENT_MAX = 40
DOC_TYPE_LABELS = {"work_plan": "工作计划", "work_summary": "工作总结", "action_plan": "行动计划",
                   "notice": "通知公告", "other": "其他"}
SITE_HOSTS = frozenset({LIVE_HOST})

# Markdown destinations (Slack, Teams workflows, ...) read CommonMark, where a backslash makes any
# ASCII punctuation literal: escape every character that can open or close a construct mid-line
# (links, emphasis, code, raw HTML, entities, tables, strikethrough).
_MD_TABLE = str.maketrans({c: "\\" + c for c in "\\`*_[]()~|!#<>&"})
_URLISH = re.compile(r"(?i)\b(https?|ftp|file|javascript|data)(:)(//)?|\bwww\.")


@dataclass(frozen=True, slots=True)
class NoticeLine:
    """What one line of an alert says about one notice (read from the warehouse)."""

    title: str | None
    department: str | None
    doc_type: str
    published: dt.date | None
    url: str


@dataclass(frozen=True, slots=True)
class Message:
    title: str
    body: str
    body_format: str  # an apprise.NotifyFormat value: "text", "markdown" or "html"


def clean_text(value: str | None, limit: int) -> str:
    """Printable, single-line text of at most ``limit`` characters (ending in … when cut)."""
    if not value:
        return ""
    out = []
    for ch in value:
        cat = unicodedata.category(ch)
        if ch in "\t\n\r\x0b\x0c\x85\u2028\u2029":
            out.append(" ")
        elif cat in ("Cc", "Cf", "Cs", "Co", "Cn"):
            continue  # NUL, ESC, bidi overrides, zero-width joiners, lone surrogates, unassigned
        else:
            out.append(ch)
    text = " ".join("".join(out).split())
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def defang(text: str) -> str:
    """Keep URL-looking text in a title from becoming a link: http://x → http[:]//x, www. → www[.]"""
    return _URLISH.sub(lambda m: "www[.]" if m.group(0).lower() == "www."
                       else f"{m.group(1)}[:]{m.group(3) or ''}", text)


def site_link(url: str | None) -> str | None:
    """``url`` when it is an http(s) URL of the site itself (percent-encoded), else None."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or (parts.hostname or "").lower() not in SITE_HOSTS:
        return None
    if parts.username or parts.password or any(ord(c) < 0x21 for c in url.strip()):
        return None
    # Quote everything that could end a Markdown link target or an HTML attribute.
    return quote(url.strip(), safe=":/?=&%#;,+-._~")


def escape(text: str, body_format: str) -> str:
    if body_format == "html":
        return html.escape(text, quote=True)
    if body_format == "markdown":
        return text.translate(_MD_TABLE)
    return text


def _fields(line: NoticeLine, body_format: str) -> tuple[str, str, str, str | None]:
    title = escape(defang(clean_text(line.title, TITLE_MAX)) or "(无标题)", body_format)
    dept = escape(defang(clean_text(line.department, DEPARTMENT_MAX)) or "部门未知", body_format)
    label = DOC_TYPE_LABELS.get(line.doc_type, "其他")
    meta = f"{dept}, {line.published.isoformat() if line.published else '日期未知'} ({label})"
    return title, dept, meta, site_link(line.url)


def render_notices(lines: Sequence[NoticeLine], body_format: str, *, total: int | None = None,
                   more_hint: str = "") -> Message:
    """One alert listing ``lines`` (newest first); ``total`` > len(lines) adds "and N more".

    ``more_hint`` (plain text, ours, e.g. the command to list the rest) follows the count.
    """
    total = len(lines) if total is None else total
    ordered = sorted(lines, key=lambda ln: ln.published or dt.date.min, reverse=True)
    title = "青岛政务网: 1 条新发布" if total == 1 else f"青岛政务网: {total} 条新发布"
    more = total - len(ordered)
    rows = []
    for line in ordered:
        text, _dept, meta, link = _fields(line, body_format)
        if body_format == "html":
            head = f'<a href="{html.escape(link, quote=True)}">{text}</a>' if link else text
            rows.append(f"<li>{head} — {meta}</li>")
        elif body_format == "markdown":
            head = f"[{text}](<{link}>)" if link else text  # the form Apprise's Slack conversion reads
            rows.append(f"- {head} — {meta}")
        else:
            rows.append(f"- {text} — {meta}" + (f"\n  {link}" if link else ""))
    tail = ""
    if more > 0:
        tail = f"……另有 {more} 条 / and {more} more" + (f" — {more_hint}" if more_hint else "")
        tail = escape(tail, body_format)
    if body_format == "html":
        body = "<ul>\n" + "\n".join(rows) + "\n</ul>" + (f"\n<p>{tail}</p>" if tail else "")
    else:
        body = "\n".join(rows) + (f"\n\n{tail}" if tail else "")
    return Message(title, body, body_format)
