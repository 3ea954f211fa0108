"""Attachments joined to their notice: items from a cover note's document, no double counting, scans
and failures as warnings (never an empty plan), ``qdp parse`` on a document file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from etl.parse import parse_page
from etl.parse.attachment import failed_attachment, merge_attachments, parse_document, read_attachment
from tests.fixtures.attachment_site import DOCX_LINES, PAGE_ITEMS, Notice, cover_note, page_html
from tests.fixtures.documents import PLAN_LINES, make_docx, make_pdf

FOLDER = "https://www.qingdao.gov.cn/zwgk/xxgk/jtys/gkml/ghjh/202402/"
PAGE_URL = FOLDER + "t20240220_4100001.shtml"
PDF_URL = FOLDER + "P020240220000000000001.pdf"
DOCX_URL = FOLDER + "P020240220000000000002.docx"
TITLE = "青岛市交通运输局2024年工作要点"
HEADLINES = ["推进高速公路建设。", "实施农村公路提档升级。", "优化城市公交线网。"]


def _page(body_html: str, title: str = f"关于印发《{TITLE}》的通知"):
    return parse_page(page_html(Notice(4100001, title, "2024-02-20", body_html)), url=PAGE_URL)


def _cover():
    return _page(cover_note(TITLE, "./P020240220000000000001.pdf", f"{TITLE}.pdf"))


def test_cover_note_takes_the_items_of_its_document():
    parsed = _cover()
    assert parsed.items == [] and any(w.code == "no_structure" for w in parsed.warnings)
    rec, text = read_attachment(make_pdf(), PDF_URL, sha256="a" * 64)
    assert rec.outcome == "ok" and rec.filename == "P020240220000000000001.pdf" and rec.text_length == len(text)
    merge_attachments(parsed, [(rec, text)], PAGE_URL)
    assert [i.headline for i in parsed.items] == HEADLINES
    assert {i.source_attachment for i in parsed.items} == {PDF_URL}
    assert [s.title for s in parsed.sections] == ["加快综合交通基础设施建设", "提升运输服务品质"]
    assert parsed.doc_type == "work_plan" and parsed.plan_year == 2024 and parsed.department == "青岛市交通运输局"
    assert parsed.items[0].targets[0].value == 40
    assert not any(w.code == "no_structure" for w in parsed.warnings)
    assert "推进高速公路建设" in parsed.body_text and "印发给你们" in parsed.body_text


def test_page_items_win_over_an_attachment_repeating_them():
    parsed = _page("".join(f"<p>{line}</p>" for line in PAGE_ITEMS), title=TITLE)
    page_items = [i.headline for i in parsed.items]
    assert page_items == HEADLINES
    merge_attachments(parsed, [read_attachment(make_pdf(), PDF_URL, sha256="a" * 64)], PAGE_URL)
    assert [i.headline for i in parsed.items] == HEADLINES  # not doubled
    assert all(i.source_attachment is None for i in parsed.items)
    assert [w.code for w in parsed.warnings] == ["attachment_items_ignored"]


def test_the_same_plan_as_pdf_and_docx_is_taken_once_and_a_second_plan_is_added():
    parsed = _cover()
    merge_attachments(parsed, [read_attachment(make_pdf(), PDF_URL, sha256="a" * 64),
                               read_attachment(make_docx(PLAN_LINES), DOCX_URL, sha256="b" * 64)], PAGE_URL)
    assert [i.headline for i in parsed.items] == HEADLINES
    assert any(w.code == "attachment_items_ignored" and "docx" in w.message for w in parsed.warnings)
    other = _cover()
    merge_attachments(other, [read_attachment(make_pdf(), PDF_URL, sha256="a" * 64),
                              read_attachment(make_docx(DOCX_LINES), DOCX_URL, sha256="b" * 64)], PAGE_URL)
    assert len(other.items) == 5 and [s.ordinal for s in other.sections] == [1, 2, 3]
    assert [i.section for i in other.items[3:]] == [3, 3]
    assert {i.source_attachment for i in other.items[3:]} == {DOCX_URL}
    assert len({(i.section, i.ordinal) for i in other.items}) == 5  # keys stay unique


def test_scan_and_failure_are_warnings_not_an_empty_plan():
    parsed = _cover()
    scan, text = read_attachment(make_pdf(text=False), PDF_URL, sha256="a" * 64)
    gone = failed_attachment(DOCX_URL, "HTTP 404")
    merge_attachments(parsed, [(scan, text), (gone, "")], PAGE_URL)
    assert scan.outcome == "no_text_layer" and scan.text_length == 0 and scan.media_type == "application/pdf"
    assert gone.outcome == "failed" and gone.bytes is None and gone.filename == "P020240220000000000002.docx"
    codes = [w.code for w in parsed.warnings]
    assert "attachment_no_text" in codes and "attachment_failed" in codes and "no_structure" in codes
    assert parsed.items == [] and parsed.doc_type == "work_plan"


def test_a_notice_title_becomes_the_plan_of_its_document():
    parsed = _page(cover_note("有关工作安排", "./P020240220000000000001.pdf", "附件.pdf"), title="关于做好有关工作的通知")
    assert parsed.doc_type == "notice" and parsed.plan_year is None
    merge_attachments(parsed, [read_attachment(make_pdf(), PDF_URL, sha256="a" * 64)], PAGE_URL)
    assert parsed.doc_type == "work_plan" and parsed.plan_year == 2024 and len(parsed.items) == 3


def test_parse_document_and_the_cli_on_document_files(tmp_path: Path):
    parsed, rec = parse_document(make_docx(), url=DOCX_URL)
    assert rec.outcome == "ok" and [i.headline for i in parsed.items] == HEADLINES
    assert {i.source_attachment for i in parsed.items} == {DOCX_URL}
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(make_pdf(text=False))
    plan = tmp_path / "plan.pdf"
    plan.write_bytes(make_pdf())
    out = json.loads(subprocess.run([sys.executable, "-m", "etl.cli", "parse", str(plan), "--json"],
                                    capture_output=True, text=True, check=True).stdout)
    assert [i["headline"] for i in out["items"]] == HEADLINES and out["attachment"]["outcome"] == "ok"
    assert out["attachment"]["filename"] == "plan.pdf" and out["items"][0]["source_attachment"] is None
    out = json.loads(subprocess.run([sys.executable, "-m", "etl.cli", "parse", str(scan), "--json"],
                                    capture_output=True, text=True, check=True).stdout)
    assert out["items"] == [] and out["doc_type"] == "other" and out["attachment"]["outcome"] == "no_text_layer"
    assert out["warnings"][0]["code"] == "attachment_no_text"


def test_notices_waiting_for_their_documents_degrade_the_run():
    from etl.health import DEGRADED, SUCCESS, assess_run
    from etl.records import StageReport

    waiting = assess_run([StageReport("parse", {"pages_parsed": 3, "deferred_attachments": 2})], expected=["parse"])
    assert waiting.status == DEGRADED and any("waiting for their attachments" in r for r in waiting.reasons)
    assert assess_run([StageReport("parse", {"pages_parsed": 3})], expected=["parse"]).status == SUCCESS


def test_documents_linked_from_the_site_furniture_belong_to_no_notice():
    from etl.parse.attachment import find_attachment_links

    page = """<html><body><div class="header-nav"><a href="/guide.pdf">办事指南.pdf</a></div>
    <nav><a href="/menu.pdf">菜单.pdf</a></nav>
    <div class="main-nav-body"><div id="zoom"><p>附件：<a href="./P020240220000000000001.pdf">工作要点.pdf</a></p>
    </div></div>
    <div class="footer"><a href="/report2023.pdf">网站年度报表.pdf</a></div>
    <footer><a href="/about.docx">关于我们.docx</a></footer></body></html>"""
    assert [link.filename for link in find_attachment_links(page, PAGE_URL)] == ["P020240220000000000001.pdf"]


def test_attachment_outcomes_agree_across_extraction_records_and_schema():
    """The outcome list lives in three places (extraction, the record model, the table's CHECK);
    a new extraction outcome must reach all of them or a load would fail on the constraint."""
    from etl.parse.attachment import OUTCOMES
    from etl.records import ATTACHMENT_OUTCOMES
    from etl.warehouse import schema

    assert ATTACHMENT_OUTCOMES == (*OUTCOMES, "failed") == schema.ATTACHMENT_OUTCOMES
