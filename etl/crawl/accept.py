"""The acceptance gate: is a fetched body really a page of the site, whole?

HTTP cannot tell a notice from the site's "系统繁忙" page served with status 200, a WAF challenge,
a frame without its article, or a body cut short with a consistent Content-Length. Everything
past this gate is parsed, loaded and announced, so a body is accepted only when it is:

* HTML (not garbage) and complete: a closing marker near its end, the size ``Content-Length``
  promised (when the body was not content-encoded), at least ``min_bytes``;
* no error / anti-bot / not-found template (signatures in ``page_signatures.yaml``, or the file
  named by ``QDP_PAGE_SIGNATURES``);
* for detail pages: a title and a non-empty main text (XPath selectors in the same file).

A verdict names the check that failed (``code``) and says why in words (``reason``); the crawler
records it in the landing manifest as outcome ``rejected``. ``selector`` names the selectors that
found nothing, so a site-change flag can say what no longer matches.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lxml.html
from lxml import etree

from ..encoding import decode_body
from ..settings import Settings
from .config import read_yaml_config

PACKAGED_SIGNATURES = Path(__file__).resolve().parent / "page_signatures.yaml"
_LOOKS_HTML = re.compile(rb"<\s*(?:!doctype\s+html|html|head|body)\b", re.I)
# Verdict codes that mean "the page's structure is not what the selectors expect" (site change?)
STRUCTURE_CODES = frozenset({"no_title", "no_main_text"})


class SignatureError(ValueError):
    """The signatures file is malformed; the message names the file and the entry."""


@dataclass(frozen=True, slots=True)
class Template:
    name: str
    reason: str
    title: tuple[re.Pattern[str], ...]
    text: tuple[re.Pattern[str], ...]


@dataclass(frozen=True, slots=True)
class Signatures:
    closing_markers: tuple[bytes, ...]
    min_bytes: int
    title_selectors: tuple[str, ...]
    main_text_selectors: tuple[str, ...]
    min_main_text_chars: int
    template_text_max_chars: int
    templates: tuple[Template, ...]


@dataclass(frozen=True, slots=True)
class Verdict:
    accepted: bool
    code: str | None = None  # not_html | truncated | too_small | template:<name> | no_title | no_main_text
    reason: str | None = None
    selector: str | None = None  # the selectors that matched nothing (no_title / no_main_text)

    @property
    def structural(self) -> bool:
        return self.code in STRUCTURE_CODES


ACCEPTED = Verdict(True)


def _patterns(values: Any, label: str) -> tuple[re.Pattern[str], ...]:
    if values is None:
        return ()
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise SignatureError(f"{label}: expected a list of regular expressions")
    try:
        return tuple(re.compile(v, re.I) for v in values)
    except re.error as exc:
        raise SignatureError(f"{label}: bad regular expression: {exc}") from exc


def _strings(data: dict[str, Any], key: str, source: str) -> tuple[str, ...]:
    values = data.get(key)
    if not isinstance(values, list) or not values or not all(isinstance(v, str) and v for v in values):
        raise SignatureError(f"{source}: {key} must be a non-empty list of strings")
    return tuple(values)


def parse_signatures(data: Any, source: str = "<signatures>") -> Signatures:
    if not isinstance(data, dict):
        raise SignatureError(f"{source}: expected a mapping")
    templates = []
    for i, t in enumerate(data.get("templates") or [], 1):
        label = f"{source}: template #{i}"
        if not isinstance(t, dict) or not isinstance(t.get("name"), str):
            raise SignatureError(f"{label}: expected a mapping with a name")
        unknown = set(t) - {"name", "reason", "title", "text"}
        if unknown:
            raise SignatureError(f"{label} ({t['name']}): unknown field(s) {', '.join(sorted(unknown))}")
        templates.append(Template(t["name"], str(t.get("reason") or t["name"]),
                                  _patterns(t.get("title"), f"{label} title"),
                                  _patterns(t.get("text"), f"{label} text")))
    for key in ("title_selectors", "main_text_selectors"):
        for sel in _strings(data, key, source):
            try:
                etree.XPath(sel)
            except etree.XPathSyntaxError as exc:
                raise SignatureError(f"{source}: {key}: bad XPath {sel!r}: {exc}") from exc
    try:
        return Signatures(
            closing_markers=tuple(m.lower().encode() for m in _strings(data, "closing_markers", source)),
            min_bytes=int(data.get("min_bytes", 0)),
            title_selectors=_strings(data, "title_selectors", source),
            main_text_selectors=_strings(data, "main_text_selectors", source),
            min_main_text_chars=int(data.get("min_main_text_chars", 1)),
            template_text_max_chars=int(data.get("template_text_max_chars", 400)),
            templates=tuple(templates),
        )
    except (TypeError, ValueError) as exc:
        raise SignatureError(f"{source}: {exc}") from exc


def load_signatures(settings: Settings | None = None) -> Signatures:
    path = (settings.page_signatures_file if settings else None) or PACKAGED_SIGNATURES
    data = read_yaml_config(path, "page signatures", SignatureError)
    return parse_signatures(data, source=str(path))


# --------------------------------------------------------------------------- checks


def _complete(body: bytes, sig: Signatures, headers: dict[str, str] | None) -> Verdict | None:
    if not _LOOKS_HTML.search(body[:4096]):
        return Verdict(False, "not_html", "the body is not an HTML page (garbage or another format)")
    h = {k.lower(): v for k, v in (headers or {}).items()}
    declared = h.get("content-length", "")
    if declared.isdigit() and not h.get("content-encoding") and int(declared) != len(body):
        return Verdict(False, "truncated", f"{len(body)} bytes received, Content-Length {declared}")
    tail = body[-2048:].lower()
    if not any(m in tail for m in sig.closing_markers):
        markers = ", ".join(m.decode() for m in sig.closing_markers)
        return Verdict(False, "truncated", f"truncated: no closing marker ({markers}) at the end "
                                           f"of the {len(body)}-byte body")
    return None


def _too_small(body: bytes, sig: Signatures) -> Verdict | None:
    if len(body) < sig.min_bytes:
        return Verdict(False, "too_small", f"{len(body)} bytes, below the {sig.min_bytes}-byte minimum of a page")
    return None


def _text(value: Any) -> str:
    if isinstance(value, str):
        return " ".join(value.split())
    return " ".join((value.text_content() or "").split())


def _first(doc: Any, selectors: tuple[str, ...]) -> str:
    for sel in selectors:
        for found in doc.xpath(sel):
            text = _text(found)
            if text:
                return text
    return ""


def _template(doc: Any, sig: Signatures, main_text: str, *, text: bool = True) -> Verdict | None:
    """The first template the page matches: by its <title>/first heading, or by its text. Text
    patterns are tried on the main text when it is short (an error message where the article would
    be), or on the whole visible text when the page has no main text at all; never on a page with
    a real article, which may quote any phrase."""
    heads = [_text(el) for el in doc.xpath("//title | (//h1)[1] | (//h2)[1]")]
    scope: str | None = None
    if text:
        if len(main_text) >= sig.min_main_text_chars:
            scope = main_text if len(main_text) <= sig.template_text_max_chars else None
        else:
            body = doc.find("body")
            scope = _visible_text(body if body is not None else doc)
    for t in sig.templates:
        if any(p.search(h) for p in t.title for h in heads if h):
            return Verdict(False, f"template:{t.name}", f"{t.reason} (title {heads[0] if heads else ''!r})")
        if scope is not None:
            for p in t.text:
                if m := p.search(scope):
                    return Verdict(False, f"template:{t.name}", f"{t.reason} (text {m.group(0)!r})")
    return None


def _visible_text(root: Any) -> str:
    parts = []
    for el in root.iter():
        if el.tag in ("script", "style") or not isinstance(el.tag, str):
            continue
        if el.text:
            parts.append(el.text)
        for child in el:
            if child.tail:
                parts.append(child.tail)
    return " ".join(" ".join(parts).split())


def _document(body: bytes, charset: str | None) -> Any:
    text, _codec = decode_body(body, charset)
    return lxml.html.document_fromstring(text.encode("utf-8"), parser=lxml.html.HTMLParser(encoding="utf-8"))


def check_detail(body: bytes, charset: str | None, sig: Signatures,
                 headers: dict[str, str] | None = None) -> Verdict:
    """Verdict on a detail (notice) page."""
    if (v := _complete(body, sig, headers)) is not None:
        return v
    try:
        doc = _document(body, charset)
    except (etree.ParserError, ValueError) as exc:
        return Verdict(False, "not_html", f"the body does not parse as HTML: {exc}")
    main_text = _first(doc, sig.main_text_selectors)
    if (v := _template(doc, sig, main_text) or _too_small(body, sig)) is not None:
        return v
    if not _first(doc, sig.title_selectors):
        return Verdict(False, "no_title", "no title: none of the title selectors matches",
                       selector=" | ".join(sig.title_selectors))
    if len(main_text) < sig.min_main_text_chars:
        return Verdict(False, "no_main_text",
                       f"no main text: none of the main-text selectors holds {sig.min_main_text_chars}+ characters",
                       selector=" | ".join(sig.main_text_selectors))
    return ACCEPTED


def check_list(body: bytes, charset: str | None, sig: Signatures,
               headers: dict[str, str] | None = None, *, empty: bool = False) -> Verdict:
    """Verdict on a list page: complete and not a template (entries are checked by the crawler).

    Template *text* patterns are tried only when the page listed nothing (``empty``): a list of
    notice titles may well quote a phrase of an error page."""
    if (v := _complete(body, sig, headers)) is not None:
        return v
    try:
        doc = _document(body, charset)
    except (etree.ParserError, ValueError) as exc:
        return Verdict(False, "not_html", f"the body does not parse as HTML: {exc}")
    return _template(doc, sig, "", text=empty) or ACCEPTED


# --------------------------------------------------------------------------- attachments

_PDF_EOF = b"%%EOF"
_ZIP_END = b"PK\x05\x06"  # end of central directory: the last record of a whole zip (DOCX, OFD)


def check_attachment(body: bytes, expected_media_type: str | None, headers: dict[str, str] | None = None) -> Verdict:
    """Verdict on an attachment body: a whole document of a kind we know, by its bytes.

    The link's extension and the Content-Type only say what was expected: a site answers a missing
    or blocked document with its HTML error page and status 200, and a cut connection can leave a
    body that ends early. Codes: empty | truncated | not_document."""
    from ..parse.attachment import sniff_media_type  # the parser's sniffing: one notion of "a PDF"

    expected = expected_media_type or "a document"
    if not body:
        return Verdict(False, "empty", "empty body where a document was expected")
    h = {k.lower(): v for k, v in (headers or {}).items()}
    declared = h.get("content-length", "")
    if declared.isdigit() and not h.get("content-encoding") and int(declared) != len(body):
        return Verdict(False, "truncated", f"{len(body)} bytes received, Content-Length {declared}")
    media = sniff_media_type(body)
    if media is None:
        if body.startswith(b"PK\x03\x04") and _ZIP_END not in body[-65_600:]:
            return Verdict(False, "truncated", f"zip package (DOCX/OFD) cut short: no end record in {len(body)} bytes")
        if _LOOKS_HTML.search(body[:4096]) or body.lstrip()[:1] == b"<":
            return Verdict(False, "not_document", f"an HTML page where {expected} was expected (error page?)")
        ctype = h.get("content-type") or "none"
        return Verdict(False, "not_document", f"not a PDF, Word or OFD document (Content-Type {ctype}; "
                                              f"expected {expected})")
    if media == "application/pdf" and _PDF_EOF not in body[-2048:]:
        return Verdict(False, "truncated", f"PDF cut short: no %%EOF at the end of {len(body)} bytes")
    return ACCEPTED
