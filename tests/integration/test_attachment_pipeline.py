"""Attachments end to end: a local site of cover pages and documents crawled (also through the
fault-injecting proxy), parsed, validated and loaded; what is loaded equals a clean run's."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from etl import warehouse
from etl.crawl import crawl
from etl.crawl.fetch import Fetcher
from etl.crawl.landing import LandingZone
from etl.load import load_notices
from etl.parse import parse_page
from etl.pipeline import begin_run, load_stage, parse_stage, validate_stage
from etl.records import NoticeRecord
from etl.settings import Settings
from etl.warehouse import schema
from tests.fixtures.attachment_site import CHANNEL, DOCX_LINES, HOST, AttachmentSite, Response, build_site, serve
from tests.fixtures.documents import make_pdf
from tests.fixtures.fault_proxy import FaultProxy

pytestmark = pytest.mark.integration
PDF = "application/pdf"
HEADLINES = ["推进高速公路建设。", "实施农村公路提档升级。", "优化城市公交线网。"]


def _settings(url: str, data_dir: Path, warehouse_url: str | None = None, **kw: object) -> Settings:
    base = Settings(site_url=url, data_dir=data_dir, rate_limit=0, retries=1, retry_backoff=0, timeout=1.0,
                    connect_timeout=1.0, request_deadline=3.0, warehouse_url_override=warehouse_url)
    return dataclasses.replace(base, **kw)


def _run(settings: Settings, fetcher: Fetcher | None = None) -> dict[str, dict[str, int]]:
    crawled = crawl(settings, [CHANNEL], fetcher=fetcher)
    run_id = begin_run(settings)
    reports = {"crawl": crawled.counts, "parse": parse_stage(settings, run_id).counts}
    reports["validate"] = validate_stage(settings, run_id).counts
    reports["load"] = load_stage(settings, run_id).counts
    return reports


def _loaded(settings: Settings) -> dict[int, dict]:
    """Per current notice: doc type, items with the file they came from, attachments and outcomes."""
    n, i, a = schema.notice, schema.plan_item, schema.attachment
    engine = warehouse.get_engine(settings.warehouse_url)
    out: dict[int, dict] = {}
    with engine.connect() as conn:
        for row in conn.execute(sa.select(n.c.notice_rev_id, n.c.notice_id, n.c.doc_type, n.c.revision)
                                .where(n.c.is_current)):
            items = conn.execute(sa.select(i.c.headline, a.c.filename)
                                 .outerjoin(a, a.c.attachment_id == i.c.source_attachment_id)
                                 .where(i.c.notice_rev_id == row.notice_rev_id)
                                 .order_by(i.c.section, i.c.ordinal)).all()
            atts = conn.execute(sa.select(a.c.filename, a.c.outcome, a.c.media_type)
                                .where(a.c.notice_rev_id == row.notice_rev_id).order_by(a.c.ordinal)).all()
            out[row.notice_id] = {"doc_type": row.doc_type, "revision": row.revision,
                                  "items": [tuple(r) for r in items], "attachments": [tuple(r) for r in atts]}
    return out


def _quarantined(settings: Settings) -> dict[str, str]:
    q = schema.quarantine
    with warehouse.get_engine(settings.warehouse_url).connect() as conn:
        return dict(conn.execute(sa.select(q.c.record_key, q.c.failed_check).where(q.c.record_type == "notice")).all())


def test_attachment_notices_load_once_whole(attachment_site: AttachmentSite, tmp_path: Path, warehouse_url: str):
    settings = _settings(attachment_site.url, tmp_path, warehouse_url)
    first = _run(settings)
    assert first["parse"]["deferred_attachments"] == 2 and first["parse"]["attachment_no_text_layer"] == 1
    loaded = _loaded(settings)
    # Cover notes give the items of their PDF / DOCX, each pointing at its file.
    assert loaded[4100001]["items"] == [(h, "P020240220000000000001.pdf") for h in HEADLINES]
    assert loaded[4100001]["attachments"] == [("P020240220000000000001.pdf", "ok", PDF)]
    assert [f for _, f in loaded[4100002]["items"]] == ["P020230210000000000002.docx"] * 2
    # A page that holds its items keeps them; its PDF repeating them adds none.
    assert loaded[4100007]["items"] == [(h, None) for h in HEADLINES]
    assert loaded[4100007]["attachments"] == [("P020250220000000000007.pdf", "ok", PDF)]
    # The scan and the plan whose document is gone are held back with the reason, not loaded empty;
    # the two whose documents failed for now wait for the crawler's retry.
    assert set(loaded) == {4100001, 4100002, 4100007}
    quarantined = _quarantined(settings)
    assert quarantined == {f"{HOST}/4100003": "plan_attachment_unread", f"{HOST}/4100006": "plan_attachment_unread"}

    for nid in (4100004, 4100005):  # the site repairs its documents
        notice = next(n for n in attachment_site.notices if n.notice_id == nid)
        path = next(p for p in attachment_site.routes if p.startswith(notice.folder()) and "/P0" in p)
        attachment_site.routes[path] = Response(body=make_pdf(), content_type=PDF, etag=True)
    second = _run(settings)
    assert second["parse"].get("deferred_attachments", 0) == 0 and second["load"]["notices_new"] == 2
    assert second["crawl"]["attachments_fetched"] == 2
    loaded = _loaded(settings)
    assert [h for h, _ in loaded[4100004]["items"]] == HEADLINES and loaded[4100005]["revision"] == 1
    third = _run(settings)  # nothing new anywhere
    assert third["load"]["notices_new"] == 0 and third["load"]["notices_revised"] == 0
    assert third["parse"]["skipped_already_loaded"] == 5 and third["crawl"]["requests"] == 1


def test_faults_on_documents_converge_to_the_clean_load(tmp_path: Path):
    """Every document answer faulted once (error pages with status 200, garbage, cut bodies with and
    without a consistent Content-Length, 5xx, resets): nothing wrong is loaded, and runs converge to
    what a clean run loads."""
    site = build_site()
    stop = serve(site)
    try:
        clean = _settings(site.url, tmp_path / "clean")
        _run(clean)
        expected = _loaded(clean)
        kinds = ("error_200", "garbage", "truncate_etag", "truncate", "503", "reset", "waf_200")
        with FaultProxy(site.url, rate=1.0, seed=5, kinds=kinds, list_faults="none",
                        only=lambda p: p.endswith((".pdf", ".docx"))) as proxy:
            settings = _settings(proxy.url, tmp_path / "faulted")
            fetcher = Fetcher(settings, backoff_factor=0.01, backoff_jitter=0.01, retry_after_max=0.05)
            first = _run(settings, fetcher)
            fetcher.close()
            assert sum(proxy.injected.values()) >= 5
            assert first["crawl"]["attachments_rejected"] >= 3  # the gate caught the 200 answers
            assert first["load"]["notices_new"] < len(expected)
            assert all(expected[k] == v for k, v in _loaded(settings).items())  # nothing wrong loaded
            proxy.set_rate(0.0)
            for _ in range(2):
                fetcher = Fetcher(settings, backoff_factor=0.01, backoff_jitter=0.01, retry_after_max=0.05)
                _run(settings, fetcher)
                fetcher.close()
        assert _loaded(settings) == expected
        zone = LandingZone(settings.landing_dir)
        rejected = [r for r in zone.records() if r.kind == "attachment" and r.outcome == "rejected"]
        assert rejected and all(r.etag is None for r in rejected)
    finally:
        stop()


def _strip_to_legacy_manifest(settings: Settings) -> None:
    """Rewrite the manifest as a crawler before attachments wrote it: no document rows, page rows
    without kind, parent_url or attachments."""
    for path in LandingZone(settings.landing_dir).manifest_files():
        rows = [json.loads(line) for line in path.read_text(encoding="ascii").splitlines() if line.strip()]
        kept = [{k: v for k, v in r.items() if k not in ("kind", "parent_url", "attachments")}
                for r in rows if r.get("kind", "page") == "page"]
        path.write_text("".join(json.dumps(r) + "\n" for r in kept), encoding="ascii")
    # ... and its channel state: the walk finished, nothing pending (documents were never waited for).
    state = settings.landing_dir / "state" / f"channel-{CHANNEL.key}.json"
    state.write_text(json.dumps({"complete": True, "status": "ok", "pending": {}}), encoding="utf-8")


def test_a_landing_zone_from_before_attachments_heals_on_a_full_crawl(attachment_site: AttachmentSite,
                                                                      tmp_path: Path):
    settings = _settings(attachment_site.url, tmp_path)
    crawl(settings, [CHANNEL])
    _strip_to_legacy_manifest(settings)
    # An old pipeline loaded the cover note from its page alone: an empty plan, keyed by the page's hash.
    begin_run(settings)
    zone = LandingZone(settings.landing_dir)
    page = zone.latest()[(HOST, 4100001)]
    assert page.attachments is None
    old = NoticeRecord(host=HOST, notice_id=4100001, url=page.url, channel=page.channel, content_sha256=page.sha256,
                       fetched_at=page.fetched_at, parsed=parse_page(zone.get(page.sha256), url=page.url))
    load_notices(warehouse.get_engine(settings.warehouse_url), [old])
    idle = _run(settings)  # an incremental run neither re-reads nor re-fetches what was loaded
    assert idle["crawl"]["attachments_fetched"] == 0 and idle["crawl"]["requests"] == 1
    # Old pages not loaded yet wait for their documents rather than load without them.
    assert idle["parse"]["skipped_already_loaded"] == 1 and idle["parse"]["deferred_attachments"] == 6
    assert _loaded(settings)[4100001]["items"] == []
    crawl(settings, [CHANNEL], full=True)  # lists and fetches the documents of the old pages
    assert LandingZone(settings.landing_dir).latest()[(HOST, 4100001)].attachments
    healed = _run(settings)
    assert healed["load"]["notices_revised"] >= 1
    loaded = _loaded(settings)[4100001]
    assert loaded["revision"] == 2 and [h for h, _ in loaded["items"]] == HEADLINES


def test_a_document_replaced_under_an_unchanged_page_is_a_new_revision(attachment_site: AttachmentSite,
                                                                       tmp_path: Path):
    settings = _settings(attachment_site.url, tmp_path)
    _run(settings)
    notice = next(n for n in attachment_site.notices if n.notice_id == 4100001)
    path = next(p for p in attachment_site.routes if p.startswith(notice.folder()) and "/P0" in p)
    attachment_site.routes[path] = Response(body=make_pdf(DOCX_LINES), content_type=PDF, etag=True)
    assert _run(settings)["load"]["notices_revised"] == 0  # incremental: the page did not change
    crawl(settings, [CHANNEL], full=True)
    again = _run(settings)
    assert again["load"]["notices_revised"] == 1 and again["load"]["notices_new"] == 0
    loaded = _loaded(settings)[4100001]
    assert loaded["revision"] == 2 and [h for h, _ in loaded["items"]] == ["推进地铁建设。", "建设公交专用道。"]
    n = schema.notice
    with warehouse.get_engine(settings.warehouse_url).connect() as conn:
        revs = conn.execute(sa.select(n.c.valid_from, n.c.valid_to).where(n.c.notice_id == 4100001)
                            .order_by(n.c.revision)).all()
    assert revs[1].valid_from > revs[0].valid_from and revs[0].valid_to == revs[1].valid_from
