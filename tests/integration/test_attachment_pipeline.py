"""Attachments end to end: a local site of cover pages and documents crawled (also through the
fault-injecting proxy), parsed, validated and loaded; what is loaded equals a clean run's."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import sqlalchemy as sa

from etl import warehouse
from etl.crawl import crawl
from etl.crawl.fetch import Fetcher
from etl.crawl.landing import LandingZone
from etl.pipeline import begin_run, load_stage, parse_stage, validate_stage
from etl.settings import Settings
from etl.warehouse import schema
from tests.fixtures.attachment_site import CHANNEL, HOST, AttachmentSite, Response, build_site, serve
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
