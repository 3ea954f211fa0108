"""The channel catalogue: every column of the site where municipal departments publish plans.

Annual work plans do not live in one place (shared/SITE.md). The catalogue spans five column trees:

``xxgk``    departmental disclosure columns ``/zwgk/xxgk/<dept>/gkml/<column>/`` (ghjh, gwfg, gzxx)
``jhmb``    the municipal key-disclosure plan tree ``/zwgk/zdgk/ghjh/jhmb/``
``jhwcqk``  its progress and summaries ``/zwgk/zdgk/ghjh/jhwcqk/``
``smhd``    the yearly folders ``/ywdt/zwzl/smhd/smhd<YYYY>/`` (one sub-folder per department)
``szfgw``   government documents ``/zwgk/zdgk/fgwj/zcwj/szfgw/`` and its year folders ``<YYYY>/``

It is generated from the department table (``etl.departments``) and a first year, so a new year
or department needs no hand-written entry. ``channels.yaml`` stays the list the crawler watches;
the catalogue is the map of what could be watched, and ``discover`` compares it with the site's
own navigation so the map can be kept current when the site adds a column.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

import lxml.html

from ..departments import CODES_SEEN, DEPARTMENTS, canonical_department
from ..encoding import decode_body
from ..records import Channel, Record
from ..settings import Settings
from .fetch import Fetcher, canonical_url

TREES: tuple[str, ...] = ("xxgk", "jhmb", "jhwcqk", "smhd", "szfgw")
FIRST_YEAR = 2019  # the yearly trees start with the 2020 site; one earlier year catches re-posts

# Departmental disclosure columns and what they mostly hold. Plans (工作要点) sit in ghjh for most
# departments, but some file them under gwfg or gzxx, so all three are catalogued.
XXGK_COLUMNS: dict[str, str] = {"ghjh": "plans", "gwfg": "plans", "gzxx": "notices"}
# Departments whose columns are known to sit one level deeper (fgw files its own documents
# under gwfg/bmgw).
XXGK_OVERRIDES: dict[tuple[str, str], str] = {("fgw", "gwfg"): "gwfg/bmgw"}

SHANGHAI = dt.timezone(dt.timedelta(hours=8))


@dataclass(slots=True, frozen=True)
class CatalogueEntry(Record):
    """One catalogued channel: a ``Channel`` plus where it comes from."""

    channel: Channel
    tree: str  # one of TREES
    year: int | None = None  # for year folders
    code_seen: bool = False  # the department's path code has been seen on the live site

    def to_row(self) -> dict[str, object]:
        c = self.channel
        return {"key": c.key, "department": c.department, "department_code": c.department_code,
                "column": c.column, "list_path": c.list_path, "kind": c.kind, "tree": self.tree,
                "year": self.year, "code_seen": self.code_seen}


def current_year(today: dt.date | None = None) -> int:
    return (today or dt.datetime.now(SHANGHAI).date()).year


def _entry(key: str, code: str, column: str, path: str, *, department: str | None, kind: str, tree: str,
           year: int | None = None) -> CatalogueEntry:
    return CatalogueEntry(Channel(key=key, department_code=code, column=column, list_path=path,
                                  department=department, kind=kind),
                          tree=tree, year=year, code_seen=code in CODES_SEEN)


def build_catalogue(*, first_year: int = FIRST_YEAR, last_year: int | None = None) -> list[CatalogueEntry]:
    """Every catalogued channel, year folders generated from ``first_year`` to ``last_year``
    (default: the current year in Asia/Shanghai)."""
    last_year = current_year() if last_year is None else last_year
    if first_year > last_year:
        raise ValueError(f"first year {first_year} is after the last year {last_year}")
    years = range(first_year, last_year + 1)
    out: list[CatalogueEntry] = []
    for d in DEPARTMENTS:
        for column, kind in XXGK_COLUMNS.items():
            column = XXGK_OVERRIDES.get((d.code, column), column)
            out.append(_entry(f"{d.code}-{column.replace('/', '-')}", d.code, f"gkml/{column}",
                              f"/zwgk/xxgk/{d.code}/gkml/{column}/", department=d.name, kind=kind, tree="xxgk"))
    # Municipal trees: documents of every department; the department comes from the page.
    out.append(_entry("zdgk-jhmb", "zdgk", "ghjh/jhmb", "/zwgk/zdgk/ghjh/jhmb/", department=None,
                      kind="plans", tree="jhmb"))
    out.append(_entry("zdgk-jhwcqk", "zdgk", "ghjh/jhwcqk", "/zwgk/zdgk/ghjh/jhwcqk/", department=None,
                      kind="plans", tree="jhwcqk"))
    out.append(_entry("zdgk-szfgw", "zdgk", "fgwj/zcwj/szfgw", "/zwgk/zdgk/fgwj/zcwj/szfgw/", department=None,
                      kind="plans", tree="szfgw"))
    for y in years:
        out.append(_entry(f"zdgk-szfgw-{y}", "zdgk", f"fgwj/zcwj/szfgw/{y}", f"/zwgk/zdgk/fgwj/zcwj/szfgw/{y}/",
                          department=None, kind="plans", tree="szfgw", year=y))
        out.append(_entry(f"smhd-{y}", "smhd", f"smhd/smhd{y}", f"/ywdt/zwzl/smhd/smhd{y}/", department=None,
                          kind="plans", tree="smhd", year=y))
    return out


def filter_catalogue(entries: Iterable[CatalogueEntry], department: str | None = None,
                     tree: str | None = None) -> list[CatalogueEntry]:
    """Entries of one department (any alias or path code) and/or one tree.

    Raises ``ValueError`` for a department name the table does not know, rather than returning
    an empty list that looks like "no channels".
    """
    entries = list(entries)
    if tree is not None and tree not in TREES:
        raise ValueError(f"unknown tree {tree!r}; known: {', '.join(TREES)}")
    name = None
    if department is not None:
        by_code = {d.code: d.name for d in DEPARTMENTS}
        name = by_code.get(department.lower()) or canonical_department(department)
        if name not in by_code.values():
            raise ValueError(f"unknown department {department!r}; give a name, an alias or a path code "
                             f"(e.g. 市教育局 or jyj)")
    return [e for e in entries
            if (name is None or e.channel.department == name) and (tree is None or e.tree == tree)]


# --------------------------------------------------------------------------- discovery

_DEPT_LINK = re.compile(r"/zwgk/xxgk/([a-z][a-z0-9]*)/?(?:index\.s?html?)?$")
_COLUMN_LINK = re.compile(r"/zwgk/xxgk/([a-z][a-z0-9]*)/gkml/([a-z0-9]+(?:/[a-z0-9]+)?)/?(?:index\.s?html?)?$")


@dataclass(slots=True, frozen=True)
class Proposal(Record):
    """A column the site's navigation shows: whether the catalogue has it, and what to add."""

    # "known" (catalogued), "new" (not catalogued), "unknown_department" (code not in the table),
    # "unreadable" (the department's column navigation could not be read; link_text says why)
    status: str
    department_code: str
    department: str | None
    column: str
    list_path: str
    link_text: str


def _links(body: bytes, charset: str | None, page_url: str) -> list[tuple[str, str]]:
    text, _ = decode_body(body, charset)
    doc = lxml.html.document_fromstring(text.encode("utf-8"), parser=lxml.html.HTMLParser(encoding="utf-8"))
    out = []
    for a in doc.iter("a"):
        href = (a.get("href") or "").strip()
        if not href or href.startswith(("javascript:", "mailto:", "#")):
            continue
        try:
            url = canonical_url(href, base=page_url)
        except ValueError:
            continue
        out.append((url, " ".join((a.text_content() or "").split())))
    return out


def _path(url: str) -> str:
    return re.sub(r"^[a-z]+://[^/]+", "", url).split("?", 1)[0]


def discover(settings: Settings, *, index_path: str = "/zwgk/xxgk/", fetcher: Fetcher | None = None,
             catalogue: list[CatalogueEntry] | None = None) -> list[Proposal]:
    """Read the department index and each department's column navigation; propose entries.

    Politeness is the crawler's (robots.txt, rate limit, retries). A page that cannot be read is
    an error naming it, not an empty proposal list.
    """
    catalogue = build_catalogue() if catalogue is None else catalogue
    known_paths = {e.channel.list_path for e in catalogue}
    codes = {d.code: d.name for d in DEPARTMENTS}
    own = fetcher is None
    fetcher = fetcher or Fetcher(settings)
    proposals: dict[str, Proposal] = {}

    def get(path: str) -> list[tuple[str, str]]:
        url = canonical_url(settings.site_url.rstrip("/") + path)
        res = fetcher.get(url)
        if res.outcome != "ok":
            raise RuntimeError(f"discover: {url} could not be read ({res.outcome}: {res.reason})")
        # Only the site's own pages describe its columns; a link to another host is not one.
        return [(u, t) for u, t in _links(res.body or b"", res.charset, res.url) if fetcher.policy.is_site(u)]

    try:
        departments: dict[str, str] = {}
        for url, text in get(index_path):
            if m := _DEPT_LINK.search(_path(url)):
                departments.setdefault(m.group(1), text)
        if not departments:
            raise RuntimeError(f"discover: the department index {index_path} links no department; "
                               "the site layout changed")
        for code, text in sorted(departments.items()):
            nav = f"/zwgk/xxgk/{code}/gkml/"
            try:
                links = get(nav)
            except RuntimeError as exc:  # one department's page must not hide the others' columns
                proposals[nav] = Proposal("unreadable", code, codes.get(code) or canonical_department(text),
                                          "gkml", nav, str(exc))
                continue
            for url, label in links:
                m = _COLUMN_LINK.search(_path(url))
                if not m or m.group(1) != code:
                    continue
                path = f"/zwgk/xxgk/{code}/gkml/{m.group(2)}/"
                status = "known" if path in known_paths else ("new" if code in codes else "unknown_department")
                proposals.setdefault(path, Proposal(status, code, codes.get(code) or canonical_department(text),
                                                    f"gkml/{m.group(2)}", path, label))
    finally:
        if own:
            fetcher.close()
    return sorted(proposals.values(), key=lambda p: (p.status != "new", p.list_path))
