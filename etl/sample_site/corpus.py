"""The sample site's plan corpus: the real seed page plus synthetic plans authored as YAML.

Each department file in ``corpus/*.yaml`` lists documents; each plan item has a stable key
(``<doc key>-<section>.<n>``, e.g. ``jyj-2022-1.1``) and may say which item of the previous year
it ``continues`` (verbatim: the text is copied from that item) or ``revises`` (own text).
From that one source this module builds the page body of every document (``PlanDoc.body``) and
the ground truth the parser and comparer are checked against (``derive_ground_truth``), so the
pages and the expectations cannot disagree.

The seed (a mirror capture of the real 2021 page, Traditional Chinese with pinyin artefacts and a
mojibake stretch) is served as found; its items are addressable as ``jyj-2021-<s>.<n>`` and the
structure/targets a careful reader gets from it are described in ``corpus/seed.yaml``.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from etl.departments import canonical_department, department_for_code

CORPUS_DIR = Path(__file__).parent / "corpus"
SEED_FILE = Path(__file__).parent / "seed" / "jyj_2021_work_points.txt"
GROUND_TRUTH_FILE = CORPUS_DIR / "ground_truth.json"

# Shapes of numbering the real site uses (SITE.md "Document shapes").
# "paragraphs": unnumbered task paragraphs under 一、 sections; "mixed": （一） items in sections
# without groups and （一） group headings over 1. 2. 3. items in sections with groups.
NUMBERINGS = ("sections", "running", "blocks", "bullets", "nested", "prose", "paragraphs", "mixed")
VARIANTS = ("gbk", "no_source", "tnull", "nav_debris", "offsite_links")
ATTACHMENTS = ("pdf", "docx", "scanned")
SCAN_LINES = 26  # lines of "text" a scanned page shows (grey bars where the type would be)
INDENT = "\u3000\u3000"  # two ideographic spaces open a paragraph on the real pages

_CN_DIGITS = "零一二三四五六七八九"


def chinese_number(n: int) -> str:
    """1..99 as written in section markers: 一, 十, 十一, 二十, 二十一."""
    if not 0 < n < 100:
        raise ValueError(f"section number out of range: {n}")
    tens, ones = divmod(n, 10)
    if tens == 0:
        return _CN_DIGITS[ones]
    head = "" if tens == 1 else _CN_DIGITS[tens]
    return head + "十" + (_CN_DIGITS[ones] if ones else "")


class CorpusError(ValueError):
    """The YAML corpus is inconsistent (unknown reference, duplicate key, target not in text)."""


# --------------------------------------------------------------------------- model


@dataclass(slots=True)
class TargetSpec:
    action: str | None
    object: str | None
    value: float
    unit: str
    span: str  # exact text of the item the target was read from
    modifier: str | None = None  # 以上, 左右, 力争, range, ... joined by 、 (see docs/parse-output.md)
    value_min: float | None = None
    value_max: float | None = None
    kind: str = "target"  # or "scope"

    def as_dict(self) -> dict[str, Any]:
        def num(v: float | None) -> float | int | None:
            return int(v) if v is not None and float(v).is_integer() else v

        return {"action": self.action, "object": self.object, "value": num(self.value), "unit": self.unit,
                "span": self.span, "modifier": self.modifier, "value_min": num(self.value_min),
                "value_max": num(self.value_max), "kind": self.kind}


@dataclass(slots=True)
class ItemSpec:
    key: str  # full key, e.g. "jyj-2022-1.1"
    text: str  # Simplified text without the responsibility note
    note: str = ""  # "（牵头单位：…）" as rendered, or ""
    lead_units: list[str] = field(default_factory=list)
    partner_units: list[str] = field(default_factory=list)
    targets: list[TargetSpec] = field(default_factory=list)
    continues: str | None = None
    revises: str | None = None
    # Labels for scoring the comparer: a revision that renames the headline and rewrites the task
    # (not just a changed number); further predecessors folded into this item; the predecessor this
    # item was split off (its main successor is another item, so one-to-one matching calls it new).
    paraphrased: bool = False
    merges: list[str] = field(default_factory=list)
    split_from: str | None = None
    marker: str = ""  # filled when the document is laid out
    section: int = 0
    ordinal: int = 0
    group: str | None = None  # （一） heading in 3-level documents

    @property
    def headline(self) -> str:
        head, sep, _ = self.text.partition("。")
        return head + sep

    @property
    def raw_text(self) -> str:
        return self.text + self.note


@dataclass(slots=True)
class SectionSpec:
    marker: str
    title: str
    items: list[ItemSpec] = field(default_factory=list)
    paragraphs: list[str] = field(default_factory=list)  # prose sections (summaries)


@dataclass(slots=True)
class PlanDoc:
    """One document of the corpus and everything needed to render its page."""

    key: str  # e.g. "jyj-2022"
    department_code: str
    department: str
    channel: str
    doc_type: str
    plan_year: int | None
    title: str
    published: dt.date
    numbering: str
    variants: tuple[str, ...] = ()
    synthetic: bool = True
    intro: list[str] = field(default_factory=list)
    sections: list[SectionSpec] = field(default_factory=list)
    closing: list[str] = field(default_factory=list)
    body: list[str] = field(default_factory=list)  # paragraphs inside the content container
    # Text shown outside the container, in the page's own script variant (the seed is Traditional).
    meta: dict[str, str] = field(default_factory=dict)
    folder: str | None = None  # smhd department sub-folder ("nync_5208") or /n172/ page folder
    # "pdf", "docx" or "scanned" (an image-only PDF): the plan lives in a file linked from a short page.
    attachment: str | None = None
    file_lines: list[str] = field(default_factory=list)  # the attachment's text, line by line
    also_posted: list[tuple[str, dt.date]] = field(default_factory=list)  # (channel, date) of re-postings

    @property
    def file_title(self) -> str:
        """The attachment's title as the link reads: the full department name, as on the file."""
        return self.title if self.title.startswith("青岛") else "青岛" + self.title

    @property
    def items(self) -> list[ItemSpec]:
        return [i for s in self.sections for i in s.items]


# --------------------------------------------------------------------------- seed

_PINYIN = re.compile(r"\([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]+\)")
_ASCII_TO_FULL = str.maketrans({",": "，", "(": "（", ")": "）", ":": "：", ";": "；"})
_SEED_SECTION = re.compile(r"^([一二三四五六七八九十]+)、(.+)$")
_SEED_ITEM = re.compile(r"^(\d+)\.(.+)$")


@functools.cache
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


def normalise_mirror_text(text: str) -> str:
    """What a careful reader makes of a mirror line: Simplified, no pinyin, full-width punctuation."""
    return _t2s().convert(_PINYIN.sub("", text)).translate(_ASCII_TO_FULL).strip()


@dataclass(slots=True)
class SeedPage:
    title: str  # as found (Traditional)
    header: str
    tools: str
    body: list[str]  # non-empty body lines as found
    qr: str


def read_seed() -> SeedPage:
    lines = SEED_FILE.read_text(encoding="utf-8").splitlines()
    non_empty = [ln for ln in lines if ln.strip()]
    if len(non_empty) < 5:
        raise CorpusError(f"seed {SEED_FILE} is too short")
    title, header, tools, *body, qr = non_empty
    return SeedPage(title=title.strip(), header=header.strip(), tools=tools.strip(), body=body, qr=qr.strip())


def _seed_doc(spec: dict[str, Any]) -> PlanDoc:
    """The seed as a PlanDoc: the body is served as found, the items are normalised for reference."""
    seed = read_seed()
    doc = PlanDoc(
        key=spec["key"], department_code="jyj", department="青岛市教育局", channel=spec["channel"],
        doc_type="work_plan", plan_year=2021, title=normalise_mirror_text(seed.title),
        published=_date(spec["published"]), numbering="sections", synthetic=False,
        body=list(seed.body),
        meta={"title": seed.title, "header": seed.header, "tools": seed.tools, "qr": seed.qr,
              "source": "青島市教育局", "column": "規劃計劃", "site_name": "青島政務網",
              "title_suffix": "青島市教育局", "pubdate": spec["published_time"]},
    )
    targets = spec.get("targets", {})
    section: SectionSpec | None = None
    for line in seed.body:
        text = normalise_mirror_text(line)
        if m := _SEED_SECTION.match(text):
            section = SectionSpec(marker=m.group(1) + "、", title=m.group(2))
            doc.sections.append(section)
        elif (m := _SEED_ITEM.match(text)) and section is not None:
            s = len(doc.sections)
            key = f"{doc.key}-{s}.{m.group(1)}"
            item = ItemSpec(key=key, text=m.group(2), marker=m.group(1) + ".", section=s,
                            ordinal=len(section.items) + 1,
                            targets=[_target(t, key) for t in targets.get(f"{s}.{m.group(1)}", [])])
            section.items.append(item)
        elif section is None:
            doc.intro.append(text)
    unknown = set(targets) - {i.key.removeprefix(doc.key + "-") for i in doc.items}
    if unknown:
        raise CorpusError(f"seed.yaml names targets for items the seed lacks: {sorted(unknown)}")
    return doc


# --------------------------------------------------------------------------- YAML documents


def _date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


_TARGET_EXTRAS = ("modifier", "value_min", "value_max", "kind")


def _target(raw: Any, item_key: str) -> TargetSpec:
    """[action, object, value, unit, span] with an optional sixth element {modifier, value_min,
    value_max, kind}, or the same as one mapping."""
    extra: dict[str, Any] = {}
    if isinstance(raw, dict):
        extra = {k: raw[k] for k in _TARGET_EXTRAS if k in raw}
        raw = [raw.get("action"), raw.get("object"), raw["value"], raw["unit"], raw["span"]]
    elif isinstance(raw, list) and len(raw) == 6 and isinstance(raw[5], dict):
        extra, raw = raw[5], raw[:5]
    if not isinstance(raw, list) or len(raw) != 5 or set(extra) - set(_TARGET_EXTRAS):
        raise CorpusError(f"{item_key}: a target is [action, object, value, unit, span(, extras)], got {raw!r}")
    action, obj, value, unit, span = raw
    bounds = {k: float(extra[k]) for k in ("value_min", "value_max") if extra.get(k) is not None}
    return TargetSpec(action=action, object=obj, value=float(value), unit=str(unit), span=str(span),
                      modifier=extra.get("modifier"), kind=extra.get("kind", "target"), **bounds)


# Shapes departments write their responsibility notes in (``style`` of a note):
#   default  （牵头单位：…，参与单位：…） / （责任单位：…）
#   dept     （牵头部门：…；配合部门：…） / （责任部门：…）
#   office   （责任处室（单位）：…）
#   ascii    (牵头单位:…,参与单位:…) as a text capture writes it
#   line     牵头部门：… / 配合部门：… / 责任领导：… on lines of their own under the item
NOTE_STYLES = ("default", "dept", "office", "ascii", "line")


def _note(raw: dict[str, Any]) -> tuple[str, list[str], list[str]]:
    """Render a responsibility note; returns (note, lead units, partner units)."""
    if not raw:
        return "", [], []
    style = raw.get("style", "default")
    if style not in NOTE_STYLES:
        raise CorpusError(f"unknown note style {style!r}")
    lead = list(raw.get("responsible") or raw.get("lead") or [])
    partners = list(raw.get("partners", []))
    role_lead = "责任" if "responsible" in raw else "牵头"
    if style == "office":
        if partners:
            raise CorpusError("an office note names responsible offices only")
        return f"（责任处室（单位）：{'、'.join(lead)}）", lead, []
    if style == "line":
        note = f"\n{role_lead}部门：{'、'.join(lead)}"
        if partners:
            note += f"\n配合部门：{'、'.join(partners)}"
        if raw.get("leader"):
            note += f"\n责任领导：{raw['leader']}"
        return note, lead, partners
    if style == "dept":
        note = f"（{role_lead}部门：{'、'.join(lead)}" + (f"；配合部门：{'、'.join(partners)}" if partners else "")
        return note + "）", lead, partners
    if style == "ascii":
        note = f"({role_lead}单位:{'、'.join(lead)}" + (f",参与单位:{'、'.join(partners)}" if partners else "")
        return note + ")", lead, partners
    note = f"（{role_lead}单位：{'、'.join(lead)}" + (f"，参与单位：{'、'.join(partners)}" if partners else "")
    return note + "）", lead, partners


def _marker(numbering: str, section_no: int, ordinal: int, running_no: int, grouped: bool = False) -> str:
    if numbering == "sections" or numbering == "nested" or (numbering == "mixed" and grouped):
        return f"{ordinal}."
    if numbering == "mixed":
        return f"（{chinese_number(ordinal)}）"
    if numbering == "paragraphs":
        return ""
    if numbering == "running":
        return f"（{chinese_number(running_no)}）"
    if numbering == "blocks":
        return f"{running_no:02d}"
    if numbering == "bullets":
        return "——"
    raise CorpusError(f"numbering {numbering!r} has no item markers")


def _build_item(raw: dict[str, Any], doc_key: str, known: dict[str, ItemSpec]) -> ItemSpec:
    key = f"{doc_key}-{raw['key']}"
    ref = raw.get("continues") or raw.get("revises")
    if raw.get("continues") and raw.get("revises"):
        raise CorpusError(f"{key}: an item either continues or revises, not both")
    merges, split_from = list(raw.get("merges", [])), raw.get("splits")
    for other in [ref, *merges, split_from]:
        if other and other not in known:
            raise CorpusError(f"{key}: refers to unknown item {other}")
    if (raw.get("paraphrased") or merges) and not raw.get("revises"):
        raise CorpusError(f"{key}: paraphrased: and merges: label a revision (revises:)")
    if split_from and ref:
        raise CorpusError(f"{key}: a part split off {split_from} has no predecessor of its own")
    if raw.get("continues"):
        if "text" in raw or "targets" in raw:
            raise CorpusError(f"{key}: a continued item copies its text; use revises: to change it")
        prev = known[ref]
        note_raw = raw.get("note")
        if note_raw is None:  # verbatim, note included
            note, lead, partners = prev.note, list(prev.lead_units), list(prev.partner_units)
        else:
            note, lead, partners = _note(note_raw)
        return ItemSpec(key=key, text=prev.text, note=note, lead_units=lead, partner_units=partners,
                        targets=[TargetSpec(**t.as_dict()) for t in prev.targets], continues=ref)
    if "text" not in raw:
        raise CorpusError(f"{key}: item needs text")
    note, lead, partners = _note(raw.get("note") or {})
    item = ItemSpec(key=key, text=str(raw["text"]).strip(), note=note, lead_units=lead, partner_units=partners,
                    targets=[_target(t, key) for t in raw.get("targets", [])], revises=raw.get("revises"),
                    paraphrased=bool(raw.get("paraphrased")), merges=merges, split_from=split_from)
    if item.revises and item.text == known[item.revises].text:
        raise CorpusError(f"{key}: revises {item.revises} but the text is identical; use continues:")
    return item


def _build_doc(raw: dict[str, Any], dept: dict[str, Any], known: dict[str, ItemSpec]) -> PlanDoc:
    numbering = raw.get("numbering", "sections")
    if numbering not in NUMBERINGS:
        raise CorpusError(f"{raw['key']}: unknown numbering {numbering!r}")
    variants = tuple(raw.get("variants", ()))
    if bad := set(variants) - set(VARIANTS):
        raise CorpusError(f"{raw['key']}: unknown variants {sorted(bad)}")
    doc = PlanDoc(
        key=raw["key"], department_code=dept["code"], department=dept["department"],
        channel=raw.get("channel", dept["channel"]), doc_type=raw["doc_type"], plan_year=raw.get("plan_year"),
        title=raw["title"], published=_date(raw["published"]), numbering=numbering, variants=variants,
        intro=[p.strip() for p in raw.get("intro", [])], closing=list(raw.get("closing", [])),
        folder=raw.get("folder"), attachment=raw.get("attachment"),
        also_posted=[(a["channel"], _date(a["published"])) for a in raw.get("also_posted", [])],
    )
    if doc.attachment is not None and doc.attachment not in ATTACHMENTS:
        raise CorpusError(f"{doc.key}: unknown attachment {doc.attachment!r}; known: {', '.join(ATTACHMENTS)}")
    if doc.attachment == "scanned" and raw.get("sections"):
        raise CorpusError(f"{doc.key}: a scanned plan has no readable sections")
    if doc.attachment != "scanned" and not raw.get("sections"):
        raise CorpusError(f"{doc.key}: a document needs sections")
    running = 0
    for s_no, s_raw in enumerate(raw.get("sections") or [], start=1):
        section = SectionSpec(marker=f"{chinese_number(s_no)}、", title=s_raw["title"],
                              paragraphs=[p.strip() for p in s_raw.get("paragraphs", [])])
        groups = s_raw.get("groups") or [{"title": None, "items": s_raw.get("items", [])}]
        if numbering == "nested" and not s_raw.get("groups"):
            raise CorpusError(f"{doc.key}: nested documents put items in groups")
        g_no = 0
        for g in groups:
            if g["title"] is not None:
                g_no += 1  # （一） group numbers restart in every section, as in the 3-level plans
            for ordinal_in_group, i_raw in enumerate(g["items"], start=1):
                item = _build_item(i_raw, doc.key, known)
                running += 1
                item.section = s_no
                item.ordinal = len(section.items) + 1
                item.marker = _marker(numbering, s_no, ordinal_in_group if g["title"] else item.ordinal, running,
                                      grouped=g["title"] is not None)
                item.group = f"（{chinese_number(g_no)}）{g['title']}" if g["title"] is not None else None
                if item.key in known:
                    raise CorpusError(f"duplicate item key {item.key}")
                known[item.key] = item
                section.items.append(item)
        doc.sections.append(section)
    _check_targets(doc)
    doc.body = render_body(doc)
    if doc.attachment:
        # The file holds the document (title, body, signature; no first-line indent, as exported
        # from a word processor); the page only forwards it, as departments' 印发 notices do.
        doc.file_lines = [doc.file_title, *(line.removeprefix(INDENT) for line in doc.body)]
        if doc.attachment == "scanned":
            doc.file_lines = [doc.file_title] + [""] * SCAN_LINES
        doc.body = [INDENT + raw.get("addressee", "各有关单位："),
                    f"{INDENT}现将《{doc.file_title}》印发给你们，请结合实际认真贯彻落实。", *doc.closing]
    return doc


def _check_targets(doc: PlanDoc) -> None:
    for item in doc.items:
        for t in item.targets:
            if t.span not in item.text:
                raise CorpusError(f"{item.key}: target span {t.span!r} is not in the item text")
            # Objects drop bracketed qualifiers (市示范（省一类）幼儿园 -> 市示范幼儿园).
            if t.object and t.object not in re.sub(r"（[^（）]*）|\([^()]*\)", "", t.span):
                raise CorpusError(f"{item.key}: target object {t.object!r} is not in its span {t.span!r}")


def render_body(doc: PlanDoc) -> list[str]:
    """Paragraphs of the content container, in reading order (no markup)."""
    lines: list[str] = []
    if "nav_debris" in doc.variants:
        # Newer pages start with navigation debris inside the captured body (SITE.md).
        lines += ["导航", "首页 > 政务公开 > 政府信息公开", "我要收藏", "取消收藏"]
    lines += [INDENT + p for p in doc.intro]
    for section in doc.sections:
        lines.append(f"{INDENT}{section.marker}{section.title}")
        lines += [INDENT + p for p in section.paragraphs]
        group = None
        for item in section.items:
            if item.group and item.group != group:
                group = item.group
                lines.append(INDENT + group)
            first, *rest = item.raw_text.split("\n")  # a note on lines of its own (style: line)
            if doc.numbering == "blocks":
                lines += [item.marker, INDENT + first]
            else:
                lines.append(f"{INDENT}{item.marker}{first}")
            lines += [INDENT + r for r in rest]
    lines += doc.closing
    return lines


@functools.cache
def _load_raw() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    seed_spec = yaml.safe_load((CORPUS_DIR / "seed.yaml").read_text(encoding="utf-8"))
    departments = []
    for path in sorted(CORPUS_DIR.glob("*.yaml")):
        if path.name == "seed.yaml":
            continue
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if department_for_code(data["code"]) != data["department"]:
            raise CorpusError(f"{path.name}: {data['department']} is not the canonical name of {data['code']}")
        departments.append(data)
    return seed_spec, departments


def load_corpus() -> list[PlanDoc]:
    """Every corpus document, seed first, in an order where a year follows its previous year."""
    seed_spec, departments = _load_raw()
    seed = _seed_doc(seed_spec)
    known: dict[str, ItemSpec] = {i.key: i for i in seed.items}
    docs = [seed]
    raws = [(raw, dept) for dept in departments for raw in dept["documents"]]
    # References point backwards in time: building in publication order resolves them.
    raws.sort(key=lambda rd: (_date(rd[0]["published"]), rd[0]["key"]))
    keys = {seed.key}
    for raw, dept in raws:
        if raw["key"] in keys:
            raise CorpusError(f"duplicate document key {raw['key']}")
        keys.add(raw["key"])
        docs.append(_build_doc(raw, dept, known))
    return docs


# --------------------------------------------------------------------------- ground truth


# How far back a plan looks for its predecessor: Y-1, or Y-2 when the department published no
# plan for Y-1 (the comparer's rule, etl/compare).
MAX_YEAR_GAP = 2


def previous_plan(doc: PlanDoc, docs: list[PlanDoc]) -> PlanDoc | None:
    """The department's latest annual work plan of the two years before, if the corpus has it."""
    if doc.doc_type != "work_plan" or doc.plan_year is None:
        return None
    for gap in range(1, MAX_YEAR_GAP + 1):
        for other in docs:
            if (other.department == doc.department and other.doc_type == "work_plan"
                    and other.plan_year == doc.plan_year - gap):
                return other
    return None


def derive_ground_truth(docs: list[PlanDoc] | None = None) -> dict[str, Any]:
    """Per document and per item expectations, derived from the corpus (see docs/sample-site.md)."""
    docs = load_corpus() if docs is None else docs
    from .site import served_locations  # the site lays the corpus out; it imports this module

    served = served_locations()
    out: dict[str, Any] = {"documents": []}
    for doc in docs:
        prev = previous_plan(doc, docs)
        referenced = {i.continues or i.revises for i in doc.items} - {None}
        merged = {m for i in doc.items for m in i.merges}
        items = []
        for item in doc.items:
            if prev is None:
                status, previous = None, None
            elif item.continues:
                status, previous = "continued", item.continues
            elif item.revises:
                status, previous = "revised", item.revises
            else:
                status, previous = "new", None
            for ref in filter(None, [previous, *item.merges, item.split_from]):
                if prev is None or not ref.startswith(prev.key + "-"):
                    raise CorpusError(f"{item.key} refers to {ref}, not an item of its previous plan")
            items.append({
                "key": item.key, "section": item.section, "ordinal": item.ordinal, "marker": item.marker,
                "group": item.group, "headline": item.headline, "text": item.text, "raw_text": item.raw_text,
                "lead_units": item.lead_units, "partner_units": item.partner_units,
                "lead_units_canonical": [canonical_department(u) for u in item.lead_units],
                "partner_units_canonical": [canonical_department(u) for u in item.partner_units],
                "targets": [t.as_dict() for t in item.targets],
                "status": status, "previous": previous,
                "paraphrased": item.paraphrased, "merged_from": list(item.merges), "split_from": item.split_from,
            })
        out["documents"].append({
            "key": doc.key, "synthetic": doc.synthetic, "channel": doc.channel, "title": doc.title,
            "published": doc.published.isoformat(), "doc_type": doc.doc_type, "plan_year": doc.plan_year,
            "department": doc.department, "numbering": doc.numbering, "variants": list(doc.variants),
            "has_plan_items": bool(doc.items),
            # Root-relative URLs (join with the site's base URL): the first is the notice's own,
            # further ones are re-postings of the same document in other columns.
            "urls": served[doc.key]["urls"],
            # Where the items live when the page only links a file: {url, filename, media_type,
            # content: "text" | "scanned"}; a scanned file has no text layer and no readable items.
            "attachment": served[doc.key]["attachment"],
            "sections": len(doc.sections),
            "section_titles": [s.title for s in doc.sections],
            "items_per_section": [len(s.items) for s in doc.sections],
            "previous_plan": prev.key if prev else None,
            "dropped": sorted((i.key for i in prev.items if i.key not in referenced | merged),
                              key=_item_sort_key) if prev else [],
            "merged": sorted(merged, key=_item_sort_key),
            "items": items,
        })
    out["double_posted"] = [d["urls"] for d in out["documents"] if len(d["urls"]) > 1]
    return out


def _item_sort_key(key: str) -> tuple[int, int]:
    s, _, n = key.rpartition("-")[2].partition(".")
    return int(s), int(n)


def ground_truth_json(docs: list[PlanDoc] | None = None) -> str:
    import json

    return json.dumps(derive_ground_truth(docs), ensure_ascii=False, indent=1) + "\n"


def write_ground_truth(path: Path = GROUND_TRUTH_FILE) -> Path:
    """Regenerate the committed ground truth after editing the YAML corpus."""
    path.write_text(ground_truth_json(), encoding="utf-8")
    return path


if __name__ == "__main__":  # python -m etl.sample_site.corpus
    print(write_ground_truth())
