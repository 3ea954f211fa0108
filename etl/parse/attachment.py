"""Attachments: find the documents a notice page links to, and read their text.

Many plans are published as a PDF or Word file (``P0<digits>.pdf`` beside the page) with a short
page around it; the page alone gives no items. This module does the two parse-side steps:

* ``find_attachment_links`` — the document links in a page's content area (by extension, since the
  site's file names carry no title; the link text usually does: 附件：…工作要点.pdf);
* ``extract_text`` — the text of one attachment body, sniffed by its bytes rather than trusted to
  its name or Content-Type, with an outcome that says why there is no text when there is none.

Readers: PDF through ``pypdf`` (pure Python; CJK through the fonts' ToUnicode/CID maps), DOCX through
``python-docx``, OFD (GB/T 33190, the Chinese fixed-layout format) as the zip of XML it is. Legacy
binary ``.doc``/``.wps`` have no maintained pure-Python reader: they are recorded as
``unsupported`` with that reason, never as empty plans. A PDF whose pages hold no text layer
(a scan) is ``no_text_layer``, not an empty document.
"""

from __future__ import annotations

import hashlib
import io
import posixpath
import re
import zipfile
from dataclasses import dataclass
from urllib.parse import unquote, urljoin, urlsplit

import lxml.etree
import lxml.html

from ..encoding import decode_body
from ..records import PLAN_DOC_TYPES, AttachmentRecord, ParsedNotice, ParseWarning, Section

DOCUMENT_EXTENSIONS: dict[str, str] = {
    ".pdf": "application/pdf",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".doc": "application/msword",
    ".wps": "application/vnd.ms-works",
    ".ofd": "application/ofd",
}
OUTCOMES = ("ok", "no_text_layer", "unsupported", "encrypted", "corrupt", "empty")

# Running page furniture in exported PDFs: "- 3 -", "— 3 —", "第 3 页 共 9 页", a bare page number.
_PAGE_FURNITURE = re.compile(r"^\s*(?:[-—–－]\s*\d{1,4}\s*[-—–－]|第\s*\d{1,4}\s*页(?:\s*[，,/]?\s*共\s*\d{1,4}\s*页)?|"
                             r"\d{1,4}\s*/\s*\d{1,4}|\d{1,4})\s*$")
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
MIN_TEXT_CHARS = 20  # fewer non-space characters than this over a whole PDF: no text layer


@dataclass(slots=True, frozen=True)
class AttachmentLink:
    url: str  # absolute URL
    filename: str  # last path segment, percent-decoded
    label: str  # the link text (often the document's title), whitespace folded
    media_type: str  # expected from the extension; the body is sniffed again when read


@dataclass(slots=True)
class AttachmentText:
    outcome: str  # one of OUTCOMES
    media_type: str | None  # what the bytes are, as sniffed
    text: str = ""
    pages: int | None = None  # PDF/OFD page count
    reason: str | None = None  # why there is no text, for anything but "ok"

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"


def link_extension(path: str) -> str:
    """Lower-case extension of a URL's or file name's last path segment (``.pdf``), or ``""``."""
    return posixpath.splitext(unquote(urlsplit(path).path).lower())[1]


_extension = link_extension


def filename_of(url: str) -> str:
    return posixpath.basename(unquote(urlsplit(url).path))


# Page furniture: a document linked from the site's header, footer or menus (a site-wide guide, an
# annual web report) is on every page and belongs to no notice.
_FURNITURE_TAGS = frozenset({"header", "footer", "nav"})
_FURNITURE_NAME = re.compile(r"(?:^|[-_\s])(?:header|footer|foot|nav|navbar|menu|breadcrumb|crumbs?)"
                             r"(?:$|[-_\s\d])", re.I)
_CONTENT_IDS = frozenset({"zoom", "Zoom2"})  # the article containers of etl.parse.page.CONTENT_SELECTORS
_CONTENT_CLASSES = frozenset({"TRS_Editor", "article-content"})


def _in_furniture(el: lxml.html.HtmlElement) -> bool:
    for anc in el.iterancestors():
        if anc.get("id") in _CONTENT_IDS or _CONTENT_CLASSES & set((anc.get("class") or "").split()):
            return False  # inside the article: whatever wraps it is not the link's context
        if anc.tag in _FURNITURE_TAGS:
            return True
        if _FURNITURE_NAME.search(f"{anc.get('id') or ''} {anc.get('class') or ''}"):
            return True
    return False


def find_attachment_links(page: bytes | str, page_url: str, charset: str | None = None) -> list[AttachmentLink]:
    """Document links (PDF, DOC/DOCX, WPS, OFD) on a notice page, in page order, each URL once;
    links in the page's header, footer and menus are not the notice's."""
    text = page if isinstance(page, str) else decode_body(page, charset)[0]
    if not text.strip():
        return []
    doc = lxml.html.document_fromstring(text.encode("utf-8"), parser=lxml.html.HTMLParser(encoding="utf-8"))
    out: list[AttachmentLink] = []
    seen: set[str] = set()
    for a in doc.iter("a"):
        href = (a.get("href") or "").strip()
        if not href or href.startswith(("javascript:", "mailto:", "#")):
            continue
        ext = _extension(href)
        if ext not in DOCUMENT_EXTENSIONS or _in_furniture(a):
            continue
        url = urljoin(page_url, href).split("#", 1)[0]
        if url in seen or urlsplit(url).scheme not in ("http", "https"):
            continue
        seen.add(url)
        filename = posixpath.basename(unquote(urlsplit(url).path))
        label = " ".join((a.text_content() or a.get("title") or "").split())
        out.append(AttachmentLink(url, filename, label, DOCUMENT_EXTENSIONS[ext]))
    return out


def sniff_media_type(body: bytes) -> str | None:
    """What a body is, by its bytes: PDF, DOCX, OFD, a legacy OLE document, or ``None``."""
    head = body[:1024]
    if b"%PDF-" in head:
        return DOCUMENT_EXTENSIONS[".pdf"]
    if body.startswith(_OLE_MAGIC):
        return DOCUMENT_EXTENSIONS[".doc"]
    if body.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(body)) as zf:
                names = set(zf.namelist())
        except zipfile.BadZipFile:
            return None
        if "word/document.xml" in names:
            return DOCUMENT_EXTENSIONS[".docx"]
        if "OFD.xml" in names:
            return DOCUMENT_EXTENSIONS[".ofd"]
    return None


def _clean_lines(lines: list[str]) -> str:
    kept = [ln.rstrip() for ln in lines if ln.strip() and not _PAGE_FURNITURE.match(ln)]
    return "\n".join(kept).strip()


def _pdf_text(body: bytes) -> AttachmentText:
    import pypdf  # imported here: only the parse stage of pages with attachments needs it
    from pypdf.errors import PdfReadError

    media = DOCUMENT_EXTENSIONS[".pdf"]
    try:
        reader = pypdf.PdfReader(io.BytesIO(body))
        if reader.is_encrypted:
            # Government PDFs are often "encrypted" only to forbid printing, with an empty user password.
            try:
                if not reader.decrypt(""):
                    return AttachmentText("encrypted", media, reason="PDF needs a password to open")
            except Exception as exc:  # missing crypto backend or an unknown scheme
                return AttachmentText("encrypted", media, reason=f"PDF cannot be decrypted: {exc}")
        pages = len(reader.pages)
        lines: list[str] = []
        for page in reader.pages:
            lines.extend((page.extract_text() or "").splitlines())
    except (PdfReadError, ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
        return AttachmentText("corrupt", media, reason=f"PDF cannot be read: {type(exc).__name__}: {exc}")
    text = _clean_lines(lines)
    if len(re.sub(r"\s", "", text)) < MIN_TEXT_CHARS:
        return AttachmentText("no_text_layer", media, pages=pages,
                              reason=f"{pages} page(s) without a text layer (a scan?); OCR is not attempted")
    return AttachmentText("ok", media, text=text, pages=pages)


def _docx_text(body: bytes) -> AttachmentText:
    import docx  # python-docx

    media = DOCUMENT_EXTENSIONS[".docx"]
    try:
        document = docx.Document(io.BytesIO(body))
    except Exception as exc:  # python-docx raises assorted zip/xml/KeyError types on broken files
        return AttachmentText("corrupt", media, reason=f"DOCX cannot be read: {type(exc).__name__}: {exc}")
    lines = [p.text for p in document.paragraphs]
    # Plans sometimes sit in a table (task | measures | lead unit): one line per row, cells joined.
    for table in document.tables:
        for row in table.rows:
            cells: list[str] = []
            for cell in row.cells:
                t = " ".join(cell.text.split())
                if t and (not cells or cells[-1] != t):  # merged cells repeat their text
                    cells.append(t)
            if cells:
                lines.append("　".join(cells))
    text = _clean_lines(lines)
    if not text:
        return AttachmentText("empty", media, reason="DOCX holds no text")
    return AttachmentText("ok", media, text=text)


def _ofd_text(body: bytes) -> AttachmentText:
    media = DOCUMENT_EXTENSIONS[".ofd"]
    try:
        with zipfile.ZipFile(io.BytesIO(body)) as zf:
            contents = sorted((n for n in zf.namelist() if re.search(r"Pages/Page_\d+/Content\.xml$", n)),
                              key=lambda n: [int(x) if x.isdigit() else x for x in re.split(r"(\d+)", n)])
            lines: list[str] = []
            for name in contents:
                root = lxml.etree.fromstring(zf.read(name), parser=lxml.etree.XMLParser(resolve_entities=False))
                # One TextObject is one run of text; its TextCodes continue the line.
                for obj in root.iter("{*}TextObject"):
                    lines.append("".join(code.text or "" for code in obj.iter("{*}TextCode")))
    except (zipfile.BadZipFile, lxml.etree.XMLSyntaxError, KeyError) as exc:
        return AttachmentText("corrupt", media, reason=f"OFD cannot be read: {type(exc).__name__}: {exc}")
    text = _clean_lines(lines)
    if not text:
        return AttachmentText("no_text_layer", media, pages=len(contents), reason="OFD pages hold no text objects")
    return AttachmentText("ok", media, text=text, pages=len(contents))


def extract_text(body: bytes, *, filename: str | None = None, content_type: str | None = None) -> AttachmentText:
    """The text of one attachment. Never raises on bad input: the outcome says what happened."""
    if not body:
        return AttachmentText("empty", None, reason="empty body")
    media = sniff_media_type(body)
    if media == DOCUMENT_EXTENSIONS[".pdf"]:
        return _pdf_text(body)
    if media == DOCUMENT_EXTENSIONS[".docx"]:
        return _docx_text(body)
    if media == DOCUMENT_EXTENSIONS[".ofd"]:
        return _ofd_text(body)
    claimed = (filename and _extension(filename)) or ""
    if media == DOCUMENT_EXTENSIONS[".doc"]:
        kind = "WPS" if claimed == ".wps" else "Word 97-2003 (.doc)"
        return AttachmentText("unsupported", media,
                              reason=f"legacy binary {kind} document: no maintained pure-Python reader")
    if body.lstrip()[:1] == b"<":
        return AttachmentText("corrupt", content_type,
                              reason="an HTML page where a document was expected (error page or login wall?)")
    return AttachmentText("unsupported", content_type,
                          reason=f"not a PDF, DOCX or OFD document ({claimed or 'no extension'}, "
                                 f"Content-Type {content_type or 'none'})")


# --------------------------------------------------------------------------- attachments of a notice
# How a notice's attachments join its page (ParsedNotice), as ``merge_attachments`` does it:
#
# * The page's own items win. A page that holds the plan and links the same plan as a PDF (or a
#   task table repeating it) would otherwise count every task twice; such attachments add their
#   text to ``body_text`` (search) and an ``attachment_items_ignored`` warning, not items.
# * A page without items (a cover note: 现将《…工作要点》印发给你们 + the link) takes the items of its
#   attachments, each tagged with the attachment URL (``PlanItem.source_attachment``), in page
#   order; a later attachment whose headlines mostly repeat items already taken adds none (the same
#   plan as PDF and DOCX). Its sections are numbered on after the ones before it.
# * The page's title decides the notice's type; an attachment that holds a plan turns a titled
#   notice without items into that plan type, and supplies the plan year and department when the
#   page has none.
# * A document without text (a scan: ``no_text_layer``; encrypted, corrupt, legacy .doc/.wps,
#   or gone for good: ``failed``) gives a warning naming the file and the reason. It never makes
#   an "empty plan": the validator holds back a plan with no items and an unread attachment.

ATTACHMENT_WARNINGS: dict[str, str] = {
    "attachment_no_text": "an attachment has no text layer (a scan); OCR is not attempted",
    "attachment_unreadable": "an attachment could not be read (encrypted, corrupt, legacy format, empty)",
    "attachment_failed": "an attachment could not be fetched (gone, refused or too large)",
    "attachment_items_ignored": "an attachment's items were not taken: the page or an earlier attachment has them",
}


def read_attachment(body: bytes, url: str, *, sha256: str | None, content_type: str | None = None,
                    ) -> tuple[AttachmentRecord, str]:
    """The record of one fetched attachment and its extracted text (``""`` unless the outcome is ok)."""
    filename = filename_of(url)
    got = extract_text(body, filename=filename, content_type=content_type)
    rec = AttachmentRecord(url=url, filename=filename, media_type=got.media_type, content_sha256=sha256,
                           bytes=len(body), text_length=len(got.text), outcome=got.outcome, reason=got.reason)
    return rec, got.text


def failed_attachment(url: str, reason: str | None) -> AttachmentRecord:
    """The record of an attachment that could not be fetched for good."""
    return AttachmentRecord(url=url, filename=filename_of(url), media_type=None, content_sha256=None, bytes=None,
                            text_length=None, outcome="failed", reason=reason)


def _warning_for(rec: AttachmentRecord) -> ParseWarning:
    code = {"no_text_layer": "attachment_no_text", "failed": "attachment_failed"}.get(rec.outcome,
                                                                                     "attachment_unreadable")
    return ParseWarning(code, f"attachment {rec.filename}: {rec.outcome}" + (f": {rec.reason}" if rec.reason else ""))


def merge_attachments(parsed: ParsedNotice, documents: list[tuple[AttachmentRecord, str]],
                      page_url: str | None = None) -> ParsedNotice:
    """Add the attachments' text and items to the page's ``parsed`` (in place; also returned) by the
    rule above. ``documents``: (record, extracted text) in page order."""
    from .page import parse_page  # page.py is the one parser; attachment text goes through it too

    page_has_items = bool(parsed.items)
    taken: set[str] = {i.headline for i in parsed.items}
    added = False
    for rec, text in documents:
        if rec.outcome != "ok":
            parsed.warnings.append(_warning_for(rec))
            continue
        doc = parse_page(text, url=page_url)
        if doc.body_text:
            parsed.body_text = f"{parsed.body_text}\n{doc.body_text}" if parsed.body_text else doc.body_text
        if not doc.items:
            continue
        if page_has_items:
            parsed.warnings.append(ParseWarning(
                "attachment_items_ignored", f"attachment {rec.filename}: {len(doc.items)} item(s) not taken; "
                                            "the page itself holds the items"))
            continue
        headlines = [i.headline for i in doc.items]
        if taken and sum(h in taken for h in headlines) * 2 >= len(headlines):
            parsed.warnings.append(ParseWarning(
                "attachment_items_ignored", f"attachment {rec.filename}: its items repeat those of an "
                                            "earlier attachment"))
            continue
        offset = len(parsed.sections)
        parsed.sections.extend(Section(s.ordinal + offset, s.marker, s.title) for s in doc.sections)
        loose = max((i.ordinal for i in parsed.items if i.section == 0), default=0)
        for item in doc.items:
            if item.section:
                item.section += offset
            else:
                item.ordinal += loose
            item.source_attachment = rec.url
            parsed.items.append(item)
            taken.add(item.headline)
        for w in doc.warnings:  # what the document's text itself says (mojibake, cut), located anew
            if w.code.startswith("mojibake") or w.code == "too_large":
                section = w.section + offset if w.section else w.section
                parsed.warnings.append(ParseWarning(w.code, f"attachment {rec.filename}: {w.message}", section,
                                                    w.item))
        if parsed.doc_type not in PLAN_DOC_TYPES and doc.doc_type in PLAN_DOC_TYPES | {"work_summary"}:
            parsed.doc_type = doc.doc_type
        parsed.plan_year = parsed.plan_year or doc.plan_year
        parsed.department = parsed.department or doc.department
        added = True
    if added:  # the page alone had no structure; with its attachment it has
        parsed.warnings = [w for w in parsed.warnings if w.code != "no_structure"]
    return parsed


def parse_document(body: bytes, *, url: str | None = None, filename: str | None = None,
                   ) -> tuple[ParsedNotice, AttachmentRecord]:
    """A document on its own (``qdp parse plan.pdf``): its text through the page parser, and its
    record. Items carry ``url`` as their source; an unreadable document gives an ``other`` notice
    with the warning saying why, never an empty plan."""
    from .page import parse_page

    name = url or filename or "document"
    rec, text = read_attachment(body, name, sha256=hashlib.sha256(body).hexdigest())
    if filename and not url:
        rec.filename = posixpath.basename(filename)
    if rec.outcome != "ok":
        return ParsedNotice(None, None, None, "other", None, warnings=[_warning_for(rec)]), rec
    parsed = parse_page(text, url=url)
    for item in parsed.items:
        item.source_attachment = url
    return parsed, rec
