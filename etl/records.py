"""Typed records shared by every stage.

One vocabulary for the whole pipeline: the crawler produces ``ListEntry`` and ``FetchRecord``,
the parser turns a page into a ``ParsedNotice`` (sections, plan items, numeric targets), the
validator and the loader consume ``NoticeRecord`` (a parsed notice plus where it came from), and
the comparer emits ``ItemLink`` rows.  Plain dataclasses keep them cheap to build by the million
and trivial to serialise; ``to_dict`` gives the JSON shape that is a public contract
(``qdp parse --json``, see docs/parse-output.md).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

DocType = Literal["work_plan", "work_summary", "action_plan", "notice", "other"]
DOC_TYPES: tuple[str, ...] = ("work_plan", "work_summary", "action_plan", "notice", "other")
PLAN_DOC_TYPES: frozenset[str] = frozenset({"work_plan", "action_plan"})

# "possible": the best candidate predecessor, below the evidence for "revised" (etl/compare/match.py).
LinkStatus = Literal["continued", "revised", "possible", "new", "dropped"]
LINK_STATUSES: tuple[str, ...] = ("continued", "revised", "possible", "new", "dropped")


def _plain(value: Any) -> Any:
    """JSON-friendly form of a record field (dates as ISO strings, nested records as dicts)."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


class Record:
    """Mixin: ``to_dict`` for JSON output."""

    def to_dict(self) -> dict[str, Any]:
        return _plain(self)


# --------------------------------------------------------------------------- discovery / fetch


@dataclass(slots=True, frozen=True)
class Channel(Record):
    """A list column of the site that the crawler watches (configured in etl/crawl/channels.yaml)."""

    key: str  # stable name, e.g. "jyj-ghjh"
    department_code: str  # path code, e.g. "jyj"
    column: str  # column path below the department, e.g. "gkml/ghjh"
    list_path: str  # list page path relative to the base URL, e.g. "/zwgk/xxgk/jyj/gkml/ghjh/"
    department: str | None = None  # canonical department name when the channel implies one
    kind: str = "plans"  # "plans" or "notices": what the column mostly holds


@dataclass(slots=True, frozen=True)
class ListEntry(Record):
    """One link on a list page."""

    url: str  # canonical absolute URL of the detail page
    host: str
    notice_id: int
    title: str
    list_date: dt.date | None
    channel: str  # Channel.key


@dataclass(slots=True)
class FetchRecord(Record):
    """One row of the landing-zone manifest: a fetch of a detail page and where its body lives."""

    url: str
    host: str
    notice_id: int
    channel: str
    fetched_at: dt.datetime
    http_status: int
    sha256: str | None  # None when nothing was stored (304, failure)
    bytes: int = 0
    content_type: str | None = None
    charset: str | None = None  # charset declared by HTTP, if any
    etag: str | None = None
    last_modified: str | None = None
    list_title: str | None = None
    list_date: dt.date | None = None
    is_new_version: bool = False  # body differs from the last stored version of this notice
    # stored | not_modified | rejected (the acceptance gate said no: never parsed, validators not
    # kept) | failed | refused (by policy). Only "stored" rows are versions of a notice.
    outcome: str = "stored"
    reason: str | None = None  # why it was rejected, failed or refused
    # Added with attachments (issue 14); rows written before read as pages with attachments unknown.
    kind: str = "page"  # "page" (a notice's detail page) or "attachment" (a document it links to)
    parent_url: str | None = None  # attachment rows: the notice page that links to the document
    # page rows: the document links (stored URLs) found on the page, [] when none; None when unknown
    # (rows written before attachments were crawled, and rows without a body).
    attachments: list[str] | None = None


# --------------------------------------------------------------------------- parse


@dataclass(slots=True)
class Target(Record):
    """A numeric target inside a plan item, e.g. 新建 幼儿园 20 所."""

    action: str | None
    object: str | None
    value: float  # the number as written; for a range (1-2家) its lower bound
    unit: str  # with 万/亿 and compound units whole: 万标准箱, 亿元, 个百分点
    span: str  # the exact normalised text the target was read from
    # Added with issue 12; readers of older output treat missing keys as None / "target".
    modifier: str | None = None  # 以上/以下/以内/左右/不低于/不少于/不超过/力争/累计/各/range, joined by 、
    value_min: float | None = None  # floor: 10家以上, 不低于80%, the low end of 1-2家
    value_max: float | None = None  # ceiling: 以下/以内/不超过, the high end of 1-2家
    kind: str = "target"  # "target" (a commitment) or "scope" (a count of what is covered: 覆盖10个区市)


@dataclass(slots=True)
class Section(Record):
    ordinal: int  # 1-based position in the document
    marker: str  # as written, e.g. "一、"
    title: str


@dataclass(slots=True)
class PlanItem(Record):
    section: int  # Section.ordinal (0 when the document has no sections)
    ordinal: int  # 1-based position within its section
    marker: str  # as written, e.g. "1." or "（六）"
    headline: str  # leading short sentence (up to the first 。)
    text: str  # normalised Simplified text, responsibility note removed
    lead_units: list[str] = field(default_factory=list)
    partner_units: list[str] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    raw_text: str = ""  # the item's text exactly as found on the page
    group: str | None = None  # three-level documents: the （一） heading the item sits under, as written
    source_attachment: str | None = None  # URL of the attachment the item was read from; None: the page


@dataclass(slots=True)
class ParseWarning(Record):
    code: str  # machine-readable, e.g. "mojibake", "no_structure", "empty_page"
    message: str
    section: int | None = None
    item: int | None = None  # PlanItem.ordinal within `section`


@dataclass(slots=True)
class ParsedNotice(Record):
    """What the parser reads from one page. ``to_dict`` is the ``qdp parse --json`` contract."""

    title: str | None
    published: dt.date | None
    department: str | None
    doc_type: str  # one of DOC_TYPES
    plan_year: int | None
    sections: list[Section] = field(default_factory=list)
    items: list[PlanItem] = field(default_factory=list)
    warnings: list[ParseWarning] = field(default_factory=list)
    column: str | None = None  # ColumnName meta, when the page has it
    body_text: str = ""  # normalised main text, for search and re-parsing

    def to_dict(self) -> dict[str, Any]:
        out = _plain(self)
        out.pop("body_text", None)
        return out


# Outcome of one attachment of a notice: what text extraction said (etl.parse.attachment.OUTCOMES), or
# "failed" when the document could not be fetched for good (HTTP 404/410, refused by policy or size).
ATTACHMENT_OUTCOMES: tuple[str, ...] = ("ok", "no_text_layer", "unsupported", "encrypted", "corrupt", "empty",
                                        "failed")


@dataclass(slots=True)
class AttachmentRecord(Record):
    """A document (PDF, DOCX, OFD, DOC/WPS) linked from a notice page, and what reading it gave."""

    url: str  # canonical URL on the live site
    filename: str  # last path segment, percent-decoded
    media_type: str | None  # sniffed from the bytes (None when nothing arrived or nothing matched)
    content_sha256: str | None  # landing-zone object of the body (None when it could not be fetched)
    bytes: int | None
    text_length: int | None  # characters of extracted text (None when not read)
    outcome: str  # one of ATTACHMENT_OUTCOMES
    reason: str | None = None  # why there is no text, for anything but "ok"


# --------------------------------------------------------------------------- pipeline


@dataclass(slots=True)
class NoticeRecord(Record):
    """A parsed notice plus its provenance: the unit validated and loaded into the warehouse."""

    host: str
    notice_id: int
    url: str
    channel: str
    content_sha256: str
    fetched_at: dt.datetime
    parsed: ParsedNotice
    attachments: list[AttachmentRecord] = field(default_factory=list)  # in page order

    @property
    def key(self) -> tuple[str, int]:
        return (self.host, self.notice_id)


@dataclass(slots=True)
class ItemLink(Record):
    """Year-over-year relation of a plan item to the previous annual plan of the same department
    (the plan of Y-1, or of Y-2 when the department published none for Y-1)."""

    department: str
    plan_year: int
    status: str  # one of LinkStatus
    item_uid: str | None  # this year's item (None for "dropped")
    previous_item_uid: str | None  # the previous plan's item (None for "new")
    similarity: float | None = None  # match score 0-100 of a linked pair (continued/revised/possible)
    previous_plan_year: int | None = None  # year of the plan compared with (plan_year - 1 or - 2)
    notice_id: int | None = None  # the two plans compared (notice ids on the same host)
    previous_notice_id: int | None = None


@dataclass(slots=True)
class StageReport(Record):
    """Counts a stage returns to its caller (CLI, DAG task, etl_run audit row)."""

    stage: str
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    details: dict[str, Any] = field(default_factory=dict)

    def add(self, name: str, n: int = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + n


def merge_reports(reports: list[StageReport]) -> list[StageReport]:
    """One report per stage: counts and seconds of a stage reported several times (e.g. crawl,
    once per mapped channel task) are summed, in first-seen order. Details are combined too:
    mappings (per-channel status) merged, lists joined, flags true only when every part says so
    (the site is unreachable only if no channel task reached it)."""
    merged: dict[str, StageReport] = {}
    for r in reports:
        if r.stage not in merged:
            merged[r.stage] = StageReport(r.stage, dict(r.counts), r.seconds, dict(r.details))
            continue
        m = merged[r.stage]
        for k, v in r.counts.items():
            m.add(k, v)
        m.seconds = round(m.seconds + r.seconds, 3)
        for k, v in r.details.items():
            cur = m.details.get(k)
            if k not in m.details:
                m.details[k] = v
            elif isinstance(cur, dict) and isinstance(v, dict):
                m.details[k] = {**cur, **v}
            elif isinstance(cur, list) and isinstance(v, list):
                m.details[k] = cur + v
            elif isinstance(cur, bool) and isinstance(v, bool):
                m.details[k] = cur and v
    return list(merged.values())


# --------------------------------------------------------------------------- (de)serialisation
# Stages hand records to each other through JSON-lines staging files (Airflow passes only paths
# and counts through XCom), so every record read back must equal the one written.


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def parsed_notice_from_dict(d: dict[str, Any]) -> ParsedNotice:
    return ParsedNotice(
        title=d.get("title"),
        published=_date(d.get("published")),
        department=d.get("department"),
        doc_type=d.get("doc_type") or "other",
        plan_year=d.get("plan_year"),
        sections=[Section(**s) for s in d.get("sections", [])],
        items=[
            PlanItem(**{**i, "targets": [Target(**t) for t in i.get("targets", [])]})
            for i in d.get("items", [])
        ],
        warnings=[ParseWarning(**w) for w in d.get("warnings", [])],
        column=d.get("column"),
        body_text=d.get("body_text", ""),
    )


def notice_record_to_dict(rec: NoticeRecord) -> dict[str, Any]:
    out = {f.name: _plain(getattr(rec, f.name)) for f in dataclasses.fields(rec) if f.name != "parsed"}
    parsed = _plain(rec.parsed)  # keeps body_text, unlike the public parse contract
    out["parsed"] = parsed
    return out


def notice_record_from_dict(d: dict[str, Any]) -> NoticeRecord:
    return NoticeRecord(
        host=d["host"],
        notice_id=int(d["notice_id"]),
        url=d["url"],
        channel=d["channel"],
        content_sha256=d["content_sha256"],
        fetched_at=dt.datetime.fromisoformat(d["fetched_at"]),
        parsed=parsed_notice_from_dict(d["parsed"]),
        attachments=[AttachmentRecord(**a) for a in d.get("attachments") or []],
    )
