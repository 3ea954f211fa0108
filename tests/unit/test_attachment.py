"""Attachment text: PDF, DOCX and OFD read back to the plan they hold, through the same parser as
pages; scans, encrypted, legacy and broken files give a typed outcome with a reason, never a plan."""

from __future__ import annotations

import pytest

from etl.parse import parse_page
from etl.parse.attachment import extract_text, find_attachment_links, sniff_media_type
from tests.fixtures.documents import PLAN_LINES, make_docx, make_ofd, make_pdf

EXPECTED_HEADLINES = ["推进高速公路建设。", "实施农村公路提档升级。", "优化城市公交线网。"]


def _plan(text: str):
    return parse_page(text, url="https://www.qingdao.gov.cn/zwgk/xxgk/jtys/gkml/ghjh/202402/P020240220000000000001.pdf")


@pytest.mark.parametrize("make", [make_pdf, make_docx, make_ofd], ids=["pdf", "docx", "ofd"])
def test_documents_give_the_plan_they_hold(make):
    got = extract_text(make())
    assert got.ok, got.reason
    assert "- 1 -" not in got.text  # page furniture removed
    parsed = _plan(got.text)
    assert parsed.doc_type == "work_plan" and parsed.plan_year == 2024
    assert [s.title for s in parsed.sections] == ["加快综合交通基础设施建设", "提升运输服务品质"]
    assert [i.headline for i in parsed.items] == EXPECTED_HEADLINES
    assert parsed.items[0].lead_units == ["青岛市交通运输局"]
    assert "责任单位" not in parsed.items[0].text
    assert [(t.value, t.unit) for t in parsed.items[0].targets] == [(40, "公里")]


def test_pdf_across_pages_keeps_items_whole():
    got = extract_text(make_pdf(per_page=5))  # page breaks fall inside items
    assert got.ok and got.pages and got.pages > 2
    assert [i.headline for i in _plan(got.text).items] == EXPECTED_HEADLINES


def test_scanned_pdf_is_no_text_layer_not_an_empty_plan():
    got = extract_text(make_pdf(text=False))
    assert got.outcome == "no_text_layer" and got.pages == 1 and "OCR" in got.reason
    assert got.text == ""


def test_encrypted_pdfs():
    # Print-protected with an empty user password: readable.
    assert extract_text(make_pdf(owner_password="owner")).ok
    locked = extract_text(make_pdf(user_password="secret", owner_password="owner"))
    assert locked.outcome == "encrypted" and "password" in locked.reason


def test_docx_tables_become_lines():
    got = extract_text(make_docx(PLAN_LINES[:3], table_rows=[["序号", "任务", "责任单位"],
                                                                ["1", "新增公交线路30条", "市交通运输局"]]))
    assert got.ok and "1　新增公交线路30条　市交通运输局" in got.text


@pytest.mark.parametrize("body, filename, outcome, reason", [
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "plan.doc", "unsupported", "Word 97-2003"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "plan.wps", "unsupported", "WPS"),
    (b"%PDF-1.7\n garbage that ends early", "plan.pdf", "corrupt", "PDF cannot be read"),
    (b"<html><title>\xe7\xb3\xbb\xe7\xbb\x9f\xe7\xb9\x81\xe5\xbf\x99</title></html>", "plan.pdf", "corrupt", "HTML page"),
    (b"PK\x03\x04 not really a zip", "plan.docx", "unsupported", "not a PDF"),
    (b"", "plan.pdf", "empty", "empty"),
])
def test_bad_bodies_are_typed_outcomes(body, filename, outcome, reason):
    got = extract_text(body, filename=filename, content_type="application/octet-stream")
    assert got.outcome == outcome and reason in got.reason and got.text == ""


def test_sniffing_trusts_bytes_not_names():
    assert sniff_media_type(make_docx()).endswith("wordprocessingml.document")
    assert sniff_media_type(make_ofd()) == "application/ofd"
    assert extract_text(make_pdf(), filename="looks-like.docx").ok


def test_find_attachment_links_on_a_notice_page():
    page = """<html><body><div id="zoom"><p>现将《2024年工作要点》印发给你们。</p>
    <p>附件：<a href="./P020240220512345678901.pdf">青岛市交通运输局2024年工作要点.pdf</a></p>
    <p><a href="P020240220512345678902.docx" title="任务分工表">任务分工表</a></p>
    <p><a href="/files/%E8%AE%A1%E5%88%92.ofd">计划.ofd</a> <a href="./P020240220512345678901.pdf#page=2">again</a></p>
    <p><a href="t20240220_8123456.shtml">相关阅读</a> <a href="javascript:print()">打印</a>
    <a href="mailto:x@qingdao.gov.cn">x.pdf</a></p></div></body></html>"""
    links = find_attachment_links(page, "https://www.qingdao.gov.cn/zwgk/xxgk/jtys/gkml/ghjh/202402/t20240220_8123450.shtml")
    assert [(link.filename, link.label) for link in links] == [
        ("P020240220512345678901.pdf", "青岛市交通运输局2024年工作要点.pdf"),
        ("P020240220512345678902.docx", "任务分工表"),
        ("计划.ofd", "计划.ofd"),
    ]
    assert links[0].url == "https://www.qingdao.gov.cn/zwgk/xxgk/jtys/gkml/ghjh/202402/P020240220512345678901.pdf"
    assert links[2].media_type == "application/ofd"
    assert find_attachment_links(b"", "https://www.qingdao.gov.cn/") == []
