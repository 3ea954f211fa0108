"""The parser against the sample site's ground truth (pages rendered in-process, no HTTP)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from etl.parse import parse_page
from etl.sample_site.site import Site

TRUTH = Path(__file__).resolve().parents[2] / "etl" / "sample_site" / "corpus" / "ground_truth.json"
DOCS = json.loads(TRUTH.read_text(encoding="utf-8"))["documents"]
LIVE = "https://www.qingdao.gov.cn"


@pytest.fixture(scope="module")
def site():
    return Site.build()


def _parse(notice):
    body = notice.page()
    return parse_page(body.body, url=LIVE + notice.path, charset=body.charset)


@pytest.mark.parametrize("doc", DOCS, ids=[d["key"] for d in DOCS])
def test_document_matches_ground_truth(site, doc):
    p = _parse(site.notice_by_doc_key(doc["key"]))
    assert (p.title, str(p.published), p.department, p.doc_type, p.plan_year) == (
        doc["title"], doc["published"], doc["department"], doc["doc_type"], doc["plan_year"])
    assert [s.title for s in p.sections] == doc["section_titles"]
    assert [sum(1 for i in p.items if i.section == s.ordinal) for s in p.sections] == doc["items_per_section"]
    for got, exp in zip(p.items, doc["items"], strict=True):
        assert (got.section, got.ordinal, got.marker, got.headline, got.group) == (
            exp["section"], exp["ordinal"], exp["marker"], exp["headline"], exp["group"]), exp["key"]
        if "mojibake" not in {w.code for w in p.warnings if (w.section, w.item) == (got.section, got.ordinal)}:
            assert got.text == exp["text"], exp["key"]
        assert (got.lead_units, got.partner_units) == (exp["lead_units_canonical"], exp["partner_units_canonical"])
        assert [(t.action, t.object, t.value, t.unit, t.span) for t in got.targets] == [
            (t["action"], t["object"], t["value"], t["unit"], t["span"]) for t in exp["targets"]], exp["key"]


def test_non_plan_notices_yield_no_items(site):
    notices = [n for n in site.notices() if n.doc_type == "notice"]
    assert notices
    for n in notices:
        p = _parse(n)
        assert p.items == [], n.title
        assert (p.title, p.published, p.doc_type) == (n.title, n.published, "notice")
        assert p.department, n.title
