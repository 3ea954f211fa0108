"""Attachments in the crawler: documents linked from notice pages fetched with the page's politeness,
gated by their bytes, recorded in the manifest beside their notice, retried like a failed page."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from etl.crawl import crawl
from etl.crawl.accept import check_attachment
from etl.crawl.landing import LandingZone
from etl.settings import Settings
from tests.fixtures.attachment_site import CHANNEL, ERROR_PAGE, HOST, AttachmentSite, Response
from tests.fixtures.documents import PLAN_LINES, make_docx, make_pdf

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _settings(site: AttachmentSite, data_dir: Path, **kw: object) -> Settings:
    base = Settings(site_url=site.url, data_dir=data_dir, rate_limit=0, retries=1, retry_backoff=0,
                    timeout=2.0, request_deadline=5.0)
    return dataclasses.replace(base, **kw)


def _doc_path(site: AttachmentSite, notice_id: int) -> str:
    """Path of the document a notice links to (on its own host)."""
    notice = next(n for n in site.notices if n.notice_id == notice_id)
    return next(p for p in site.routes if p.startswith(notice.folder()) and "/P0" in p)


def _pending(settings: Settings) -> dict[str, dict]:
    path = settings.landing_dir / "state" / f"channel-{CHANNEL.key}.json"
    return json.loads(path.read_text(encoding="utf-8"))["pending"]


def _attachment_rows(settings: Settings) -> list:
    return [r for r in LandingZone(settings.landing_dir).records() if r.kind == "attachment"]


@pytest.mark.parametrize("body, expected, code", [
    (make_pdf(), PDF, None),
    (make_docx(), DOCX, None),
    (make_pdf(), DOCX, None),  # the bytes decide which document it is; a mislabelled one is still one
    (ERROR_PAGE, PDF, "not_document"),
    (b"\x00\x01garbage" * 100, PDF, "not_document"),
    (make_pdf()[:-400], PDF, "truncated"),
    (make_docx()[:-300], DOCX, "truncated"),
    (b"", PDF, "empty"),
])
def test_attachment_gate_sniffs_bytes(body: bytes, expected: str, code: str | None) -> None:
    verdict = check_attachment(body, expected)
    assert verdict.accepted is (code is None) and verdict.code == code
    if code:
        assert verdict.reason


def test_attachment_gate_checks_content_length() -> None:
    pdf = make_pdf()
    verdict = check_attachment(pdf, PDF, {"Content-Length": str(len(pdf) + 10)})
    assert not verdict.accepted and verdict.code == "truncated" and "Content-Length" in verdict.reason


def test_first_crawl_lands_documents_and_holds_back_notices_whose_documents_failed(
        attachment_site: AttachmentSite, tmp_path: Path) -> None:
    settings = _settings(attachment_site, tmp_path)
    report = crawl(settings, [CHANNEL])
    c = report.counts
    assert c["new_notices"] == 7
    # pdf, docx, scan, and the PDF repeating a page's items; the off-host link is not followed
    assert c["attachments_fetched"] == 4 and c["attachments_rejected"] == 1 and c["attachments_failed"] == 2
    assert not any("other.example.org" in p for p in attachment_site.hits)
    zone = LandingZone(settings.landing_dir)
    latest = zone.latest()
    assert set(latest) == {(HOST, n.notice_id) for n in attachment_site.notices}  # documents are no versions
    page = latest[(HOST, 4100001)]
    assert page.attachments == [page.url.rsplit("/", 1)[0] + "/P020240220000000000001.pdf"]
    assert latest[(HOST, 4100007)].attachments == [page.url.rsplit("/", 1)[0].replace("202402", "202502")
                                                   + "/P020250220000000000007.pdf"]
    rows = {r.notice_id: r for r in _attachment_rows(settings)}
    assert rows[4100001].outcome == "stored" and rows[4100001].parent_url == page.url
    assert zone.get(rows[4100001].sha256) == attachment_site.routes[_doc_path(attachment_site, 4100001)].body
    assert rows[4100004].outcome == "rejected" and "HTML page" in rows[4100004].reason
    assert rows[4100004].etag is None  # never used for a conditional request
    assert rows[4100005].outcome == "failed" and "body read failed" in rows[4100005].reason
    assert rows[4100006].outcome == "failed" and rows[4100006].http_status == 404
    # The error page and the cut body are waited for (retried like a failed page); a 404 is final.
    pending = _pending(settings)
    assert set(pending) == {f"{HOST}/4100004", f"{HOST}/4100005"}
    assert pending[f"{HOST}/4100004"]["outcome"] == "attachment_rejected"
    status = report.details["channel_status"][CHANNEL.key]
    assert status["status"] == "incomplete" and "attachment_rejected" in status["reason"]


def test_retry_fetches_only_the_missing_documents_then_the_channel_is_whole(
        attachment_site: AttachmentSite, tmp_path: Path) -> None:
    settings = _settings(attachment_site, tmp_path)
    crawl(settings, [CHANNEL])
    good_pdf = _doc_path(attachment_site, 4100001)
    assert attachment_site.hits[good_pdf] == 1
    for nid in (4100004, 4100005):  # the site repairs its documents
        attachment_site.routes[_doc_path(attachment_site, nid)] = Response(body=make_pdf(), content_type=PDF,
                                                                         etag=True)
    report = crawl(settings, [CHANNEL])
    assert report.counts["retried_notices"] == 2 and report.counts["attachments_fetched"] == 2
    assert attachment_site.hits[good_pdf] == 1  # nothing fetched twice
    assert _pending(settings) == {}
    assert report.details["channel_status"][CHANNEL.key]["status"] == "ok"
    idle = crawl(settings, [CHANNEL])  # nothing new: the list page only
    assert idle.counts["requests"] == 1 and idle.counts["attachments_fetched"] == 0


def test_full_crawl_rechecks_documents_conditionally_and_keeps_a_replaced_one(
        attachment_site: AttachmentSite, tmp_path: Path) -> None:
    settings = _settings(attachment_site, tmp_path)
    crawl(settings, [CHANNEL])
    good_pdf = _doc_path(attachment_site, 4100001)
    replaced = make_pdf(per_page=5)
    attachment_site.routes[good_pdf] = Response(body=replaced, content_type=PDF, etag=True)
    report = crawl(settings, [CHANNEL], full=True)
    # Stored documents were asked for with their ETag: unchanged ones answer 304.
    assert attachment_site.conditional_hits[_doc_path(attachment_site, 4100002)] == 1
    assert report.counts["attachments_not_modified"] >= 3
    rows = [r for r in _attachment_rows(settings) if r.notice_id == 4100001 and r.outcome == "stored"]
    assert len(rows) == 2 and rows[-1].is_new_version
    assert LandingZone(settings.landing_dir).attachment_index()[(HOST, 4100001, rows[-1].url)].stored.sha256 \
        == rows[-1].sha256


def test_documents_have_their_own_size_cap(attachment_site: AttachmentSite, tmp_path: Path) -> None:
    big = make_pdf(PLAN_LINES * 80)
    attachment_site.routes[_doc_path(attachment_site, 4100001)] = Response(body=big, content_type=PDF, etag=True)
    largest_page = max(len(r.body) for p, r in attachment_site.routes.items() if "/P0" not in p)
    assert len(big) > max(len(r.body) for p, r in attachment_site.routes.items() if p != _doc_path(attachment_site,
                                                                                                   4100001))
    # Pages are capped by QDP_MAX_BODY_BYTES, documents by QDP_ATTACHMENT_MAX_BYTES.
    settings = _settings(attachment_site, tmp_path, max_body_bytes=largest_page, attachment_max_bytes=len(big))
    report = crawl(settings, [CHANNEL])
    assert report.counts["new_notices"] == 7 and report.counts["attachments_fetched"] == 4
    small = _settings(attachment_site, tmp_path / "small", attachment_max_bytes=len(big) - 1)
    report = crawl(small, [CHANNEL])
    assert report.counts["attachments_refused"] == 1 and report.counts["attachments_fetched"] == 3
    (refused,) = [r for r in _attachment_rows(small) if r.outcome == "refused"]
    assert refused.notice_id == 4100001 and "limit" in refused.reason
    # Refused by policy is final: the notice is not kept waiting for a document it will never take.
    assert f"{HOST}/4100001" not in _pending(small)


def test_attachment_max_bytes_setting() -> None:
    assert Settings.from_env({"QDP_ATTACHMENT_MAX_BYTES": "1234"}).attachment_max_bytes == 1234
    assert Settings().attachment_max_bytes == 20 * 1024 * 1024


def test_a_crawl_that_died_between_page_and_documents_fetches_them_next_time(
        attachment_site: AttachmentSite, tmp_path: Path) -> None:
    settings = _settings(attachment_site, tmp_path)
    for nid in (4100004, 4100005):  # a clean site: the channel ends complete, nothing pending
        attachment_site.routes[_doc_path(attachment_site, nid)] = Response(body=make_pdf(), content_type=PDF)
    assert crawl(settings, [CHANNEL]).details["channel_status"][CHANNEL.key]["status"] == "ok"
    # The process died after landing notice 4100001's page, before its document: no row for it.
    for path in LandingZone(settings.landing_dir).manifest_files():
        lines = path.read_text(encoding="ascii").splitlines(keepends=True)
        path.write_text("".join(line for line in lines if not (
            '"kind":"attachment"' in line and '"notice_id":4100001' in line)), encoding="ascii")
    pdf = _doc_path(attachment_site, 4100001)
    hits = attachment_site.hits[pdf]
    report = crawl(settings, [CHANNEL])  # incremental: would stop at the known first list page
    assert report.counts["attachments_fetched"] == 1 and attachment_site.hits[pdf] == hits + 1
    assert {r.notice_id for r in _attachment_rows(settings) if r.outcome == "stored"} >= {4100001}
