"""Issue 9's evidence: the whole pipeline behind a fault-injecting proxy converges to the
warehouse content of a clean run, and nothing that looks like an error page is ever current.

Bounded in time: rate limit off, sub-second timeouts and deadline, tiny backoff (the crawler's
Fetcher is built with test backoffs; Retry-After is capped), retries of failed notices due at once.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from etl import warehouse
from etl.crawl import crawler as crawler_mod
from etl.crawl.fetch import Fetcher
from etl.pipeline import run_pipeline
from etl.settings import Settings
from etl.warehouse import schema
from tests.fixtures.fault_proxy import RETRYABLE_KINDS, FaultProxy

pytestmark = pytest.mark.integration
log = logging.getLogger(__name__)
ERROR_TITLES = ("系统繁忙", "页面不存在", "安全验证", "访问被拦截", "提示信息")
SITE_NAME_TITLES = ("青岛政务网", "")


def _settings(site_url: str, warehouse_url: str, data_dir: Path) -> Settings:
    return Settings.from_env({
        "QDP_SITE_URL": site_url, "QDP_DATA_DIR": str(data_dir), "QDP_WAREHOUSE_URL": warehouse_url,
        "QDP_RATE_LIMIT": "0", "QDP_TIMEOUT": "0.5", "QDP_CONNECT_TIMEOUT": "1", "QDP_REQUEST_DEADLINE": "1.0",
        "QDP_RETRIES": "2", "QDP_RETRY_BACKOFF": "0"})


@pytest.fixture
def quick_fetcher(monkeypatch):
    """The pipeline's crawler with test-sized backoffs (the retry *logic* is unchanged)."""
    monkeypatch.setattr(crawler_mod, "Fetcher", functools.partial(
        Fetcher, backoff_factor=0.01, backoff_jitter=0.01, retry_after_max=0.05))


def current_content(url: str) -> dict[str, list[tuple]]:
    """Current notices, their items and targets, by content (no ids, revisions, times or run ids)."""
    engine = warehouse.get_engine(url)
    n, d, i, t = schema.notice, schema.department, schema.plan_item, schema.plan_target
    with engine.connect() as conn:
        notices = conn.execute(
            sa.select(n.c.host, n.c.notice_id, n.c.url, n.c.channel, n.c.title, n.c.published, d.c.name,
                      n.c.doc_type, n.c.plan_year, n.c.column_name, n.c.content_sha256, n.c.body_text)
            .select_from(n.outerjoin(d, d.c.department_id == n.c.department_id)).where(n.c.is_current)).all()
        items = conn.execute(
            sa.select(n.c.host, n.c.notice_id, i.c.section, i.c.ordinal, i.c.item_uid, i.c.marker, i.c.headline,
                      i.c.text, i.c.raw_text, i.c.lead_units, i.c.partner_units, i.c.item_group)
            .select_from(i.join(n, n.c.notice_rev_id == i.c.notice_rev_id)).where(n.c.is_current)).all()
        targets = conn.execute(
            sa.select(n.c.host, n.c.notice_id, t.c.section, t.c.ordinal, t.c.target_ordinal, t.c.action,
                      t.c.object, t.c.value, t.c.unit, t.c.span)
            .select_from(t.join(n, n.c.notice_rev_id == t.c.notice_rev_id)).where(n.c.is_current)).all()
    out = {"notice": notices, "plan_item": items, "plan_target": targets}
    return {k: sorted(tuple(str(v) for v in row) for row in rows) for k, rows in out.items()}


def _error_titled(url: str) -> list[tuple[Any, ...]]:
    engine = warehouse.get_engine(url)
    n = schema.notice
    with engine.connect() as conn:
        rows = conn.execute(sa.select(n.c.notice_id, n.c.title, n.c.is_current)).all()
    return [r for r in rows if (r.title or "") in SITE_NAME_TITLES or any(e in (r.title or "") for e in ERROR_TITLES)]


def _diff(a: dict[str, list[tuple]], b: dict[str, list[tuple]]) -> dict[str, tuple[int, int]]:
    """(missing, extra) rows of ``b`` against ``a`` per table."""
    return {k: (len(Counter(a[k]) - Counter(b[k])), len(Counter(b[k]) - Counter(a[k]))) for k in a}


@pytest.fixture(scope="module")
def clean_content(sample_site, tmp_path_factory) -> dict[str, list[tuple]]:
    data = tmp_path_factory.mktemp("clean")
    url = f"sqlite:///{data / 'wh.sqlite'}"
    run_pipeline(_settings(sample_site.url, url, data))
    return current_content(url)


def test_two_runs_at_25_percent_faults_then_two_clean_runs_equal_a_clean_run(
        sample_site, clean_content, quick_fetcher, warehouse_url, tmp_path) -> None:
    data = tmp_path / "data"
    started = time.perf_counter()
    with FaultProxy(sample_site.url, rate=0.25, seed=11, slow_seconds=1.0) as proxy:
        settings = _settings(proxy.url, warehouse_url, data)
        faulty = [run_pipeline(settings), run_pipeline(dataclasses.replace(settings), full=True)]
        injected = dict(proxy.injected)
        on = dict(proxy.injected_on)
        assert not _error_titled(warehouse_url), "an error page was loaded as a notice"
        proxy.set_rate(0.0)
        runs_to_converge = None
        for k in (1, 2):
            run_pipeline(settings)
            if runs_to_converge is None and current_content(warehouse_url) == clean_content:
                runs_to_converge = k
    seconds = time.perf_counter() - started
    final = current_content(warehouse_url)
    print(f"\nfaults injected by kind: {injected}\nby page kind: {on}\n"
          f"clean runs to converge: {runs_to_converge}; missing/extra per table: {_diff(clean_content, final)}; "
          f"{seconds:.1f} s")
    # Every kind of fault was really exercised, list pages beyond the first included.
    assert set(injected) >= {"reset", "truncate", "truncate_etag", "slow_headers", "slow_body", "500", "502",
                             "503", "503_retry_after", "429", "error_200", "error_200_frame", "waf_200",
                             "furniture_200", "notfound_200", "garbage", "offsite_redirect"}
    assert on.get("list_beyond_first", 0) > 0
    crawl_reports = [next(r for r in reps if r.stage == "crawl") for reps in faulty]
    for k, r in enumerate(crawl_reports, 1):
        print(f"faulty run {k}: " + ", ".join(f"{c}={r.counts[c]}" for c in (
            "channels_ok", "channels_incomplete", "channels_failed", "pages_rejected", "failed", "refused",
            "retried")))
    assert sum(r.counts["pages_rejected"] for r in crawl_reports) > 0
    assert any(s["status"] != "ok" for r in crawl_reports for s in r.details["channel_status"].values())
    assert final == clean_content
    assert not _error_titled(warehouse_url)


def test_retryable_faults_at_30_percent_lose_nothing(sample_site, clean_content, quick_fetcher, tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'wh.sqlite'}"
    with FaultProxy(sample_site.url, rate=0.3, seed=5, kinds=RETRYABLE_KINDS, slow_seconds=1.0) as proxy:
        settings = dataclasses.replace(_settings(proxy.url, url, tmp_path / "data"), retries=8)
        reports = {r.stage: r for r in run_pipeline(settings)}
        injected = sum(proxy.injected.values())
    assert injected > 0
    crawl = reports["crawl"]
    channels = len(crawl.details["channel_status"])
    assert crawl.counts["failed"] == 0 and crawl.counts["channels_ok"] == channels, crawl.details["channel_status"]
    final = current_content(url)
    assert len(final["notice"]) == len(sample_site.site.loaded_notice_ids())  # every notice the site serves
    assert final == clean_content
