"""The crawler behind the fault-injecting proxy: each defect of issue 9 reproduced, then fixed.

Every test drives the real crawler over HTTP against the sample site through
tests/fixtures/fault_proxy.py, with the rate limit off and sub-second timeouts.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import socket
import time
from pathlib import Path

import pytest

from etl.crawl import crawl, crawl_channel, load_channels
from etl.crawl.fetch import Fetcher
from etl.crawl.landing import LandingZone
from etl.sample_site.server import RunningSite
from etl.settings import Settings
from tests.fixtures.fault_proxy import TEMPLATE_BODIES, FaultProxy

pytestmark = pytest.mark.integration
HOST = "www.qingdao.gov.cn"


def _settings(url: str, data_dir: Path, **kw: object) -> Settings:
    base = Settings(site_url=url, data_dir=data_dir, rate_limit=0, timeout=0.5, connect_timeout=1.0,
                    retries=1, request_deadline=1.5, retry_backoff=0)
    return dataclasses.replace(base, **kw)


def _fetcher(settings: Settings) -> Fetcher:
    return Fetcher(settings, backoff_factor=0.01, backoff_jitter=0.01, retry_after_max=0.05)


def _channel(settings: Settings, key: str):
    return next(c for c in load_channels(settings) if c.key == key)


def _stored(settings: Settings) -> dict[tuple[str, int], bytes]:
    zone = LandingZone(settings.landing_dir)
    return {k: zone.get(r.sha256) for k, r in zone.latest().items()}


def _truth_bodies(site: RunningSite, channel: str | None = None) -> dict[tuple[str, int], bytes]:
    return {(HOST, n.notice_id): n.page().body for n in site.site.notices(channel)}


def _is_detail(path: str) -> bool:
    return "/t20" in path or "/tnull_" in path


@pytest.mark.parametrize("kind", [*sorted(TEMPLATE_BODIES), "garbage", "truncate_etag"])
def test_http_200_error_pages_are_rejected_and_retried_by_the_next_incremental_run(
        sample_site: RunningSite, tmp_path: Path, kind: str) -> None:
    with FaultProxy(sample_site.url, rate=1.0, kinds=(kind,), list_faults="none") as proxy:
        settings = _settings(proxy.url, tmp_path)
        channel = _channel(settings, "jyj-ghjh")
        with _fetcher(settings) as f:
            report = crawl_channel(settings, channel, fetcher=f)
        assert proxy.injected[kind] == len(sample_site.site.notices("jyj-ghjh"))
        assert _stored(settings) == {}  # nothing rejected is ever a version of a notice
        zone = LandingZone(settings.landing_dir)
        rows = [r for r in zone.records() if r.outcome == "rejected"]
        assert len(rows) == report.counts["rejected"] == report.counts["pages_rejected"] == proxy.injected[kind]
        assert all(r.reason and r.etag is None and r.last_modified is None for r in rows)  # validators dropped
        status = report.details["channel_status"]["jyj-ghjh"]
        assert status["status"] == "incomplete" and "pending retry" in status["reason"]

        proxy.set_rate(0.0)
        with _fetcher(settings) as f:
            again = crawl_channel(settings, channel, fetcher=f)  # incremental, not full
    assert _stored(settings) == _truth_bodies(sample_site, "jyj-ghjh")
    assert again.details["channel_status"]["jyj-ghjh"] == {"status": "ok", "reason": None, "site_change": None}
    assert not any(_is_detail(p) for p in proxy.conditional)  # the retries were unconditional


def test_a_bad_list_page_beyond_the_first_leaves_the_channel_incomplete_until_walked_again(
        sample_site: RunningSite, tmp_path: Path) -> None:
    key = "bgt-gzxx"
    assert sample_site.site.list_page_count(key) > 2
    with FaultProxy(sample_site.url, rate=1.0, kinds=("error_200_frame",), list_faults="beyond_first",
                    only=lambda p: p.endswith("index_1.shtml")) as proxy:
        settings = _settings(proxy.url, tmp_path)
        with _fetcher(settings) as f:
            report = crawl_channel(settings, _channel(settings, key), fetcher=f)
        status = report.details["channel_status"][key]
        assert status["status"] == "incomplete" and "list page 2" in status["reason"]
        assert report.counts["list_rejected"] == 1 and report.counts["channels_incomplete"] == 1
        missing = set(_truth_bodies(sample_site, key)) - set(_stored(settings))
        assert missing  # the notices behind page 2 were not seen ...
        proxy.set_rate(0.0)
        with _fetcher(settings) as f:
            again = crawl_channel(settings, _channel(settings, key), fetcher=f)  # ... until the next run
    assert again.details["channel_status"][key]["status"] == "ok"
    assert _stored(settings) == _truth_bodies(sample_site, key)


def test_a_first_list_page_error_fails_that_channel_only(sample_site: RunningSite, tmp_path: Path) -> None:
    jyj = "/zwgk/xxgk/jyj/gkml/ghjh/"
    with FaultProxy(sample_site.url, rate=1.0, kinds=("503",), only=lambda p: p == jyj) as proxy:
        settings = _settings(proxy.url, tmp_path)
        with _fetcher(settings) as f:
            report = crawl(settings, fetcher=f)  # does not raise
    statuses = report.details["channel_status"]
    assert statuses["jyj-ghjh"]["status"] == "failed" and "503" in statuses["jyj-ghjh"]["reason"]
    assert {k for k, v in statuses.items() if v["status"] == "ok"} == {c.key for c in load_channels(settings)} - {
        "jyj-ghjh"}
    assert (report.counts["channels_ok"], report.counts["channels_failed"]) == (len(load_channels(settings)) - 1, 1)
    assert report.details["site_unreachable"] is False
    others = {k for k in _truth_bodies(sample_site) if k not in _truth_bodies(sample_site, "jyj-ghjh")}
    assert set(_stored(settings)) == others


def test_refused_fetches_are_not_forgotten(sample_site: RunningSite, tmp_path: Path) -> None:
    target = sample_site.site.notices("kjj-gwfg")[0].path
    with FaultProxy(sample_site.url, rate=1.0, kinds=("offsite_redirect",), only=lambda p: p == target) as proxy:
        settings = _settings(proxy.url, tmp_path)
        channel = _channel(settings, "kjj-gwfg")
        with _fetcher(settings) as f:
            report = crawl_channel(settings, channel, fetcher=f)
        assert report.counts["refused"] == 1
        assert report.details["channel_status"]["kjj-gwfg"]["status"] == "incomplete"
        state = json.loads((settings.landing_dir / "state" / "channel-kjj-gwfg.json").read_text())
        assert list(state["pending"]) == [f"{HOST}/{sample_site.site.notices('kjj-gwfg')[0].notice_id}"]
        proxy.set_rate(0.0)
        with _fetcher(settings) as f:
            again = crawl_channel(settings, channel, fetcher=f)
    assert again.details["channel_status"]["kjj-gwfg"]["status"] == "ok"
    assert _stored(settings) == _truth_bodies(sample_site, "kjj-gwfg")


def test_retry_backoff_defers_a_failed_notice(sample_site: RunningSite, tmp_path: Path) -> None:
    target = sample_site.site.notices("kjj-gwfg")[0].path
    with FaultProxy(sample_site.url, rate=1.0, kinds=("error_200",), only=lambda p: p == target) as proxy:
        settings = _settings(proxy.url, tmp_path, retry_backoff=3600)
        channel = _channel(settings, "kjj-gwfg")
        with _fetcher(settings) as f:
            crawl_channel(settings, channel, fetcher=f)
        proxy.set_rate(0.0)
        with _fetcher(settings) as f:
            again = crawl_channel(settings, channel, fetcher=f)
    assert again.counts["retry_waiting"] == 1 and again.counts["detail_fetched"] == 0
    assert again.details["channel_status"]["kjj-gwfg"]["status"] == "incomplete"  # still owed, honestly


def test_detail_pages_that_lose_their_title_and_body_flag_a_site_change(sample_site: RunningSite,
                                                                       tmp_path: Path) -> None:
    with FaultProxy(sample_site.url, rate=1.0, kinds=("furniture_200",), list_faults="none") as proxy:
        settings = _settings(proxy.url, tmp_path)
        with _fetcher(settings) as f:
            report = crawl_channel(settings, _channel(settings, "whly-gzxx"), fetcher=f)
    change = report.details["channel_status"]["whly-gzxx"]["site_change"]
    assert change and "ArticleTitle" in change and "none accepted" in change


def test_slow_answers_are_cut_at_the_request_deadline(sample_site: RunningSite, tmp_path: Path) -> None:
    path = sample_site.site.notices("jyj-ghjh")[0].path
    with FaultProxy(sample_site.url, rate=1.0, kinds=("slow_body",), trickle_bytes=64,
                    trickle_interval=0.1) as proxy:
        settings = _settings(proxy.url, tmp_path, retries=0, request_deadline=1.0, respect_robots=False)
        with _fetcher(settings) as f:
            started = time.perf_counter()
            result = f.get(proxy.url + path)
            elapsed = time.perf_counter() - started
    # The trickle would take minutes; every read is well inside the 0.5 s read timeout.
    assert result.outcome == "failed" and "deadline" in result.reason
    assert 0.9 < elapsed < 2.5


def test_site_down_is_site_unreachable_not_disallowed(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once the socket is closed
    settings = _settings(f"http://127.0.0.1:{port}", tmp_path)
    with _fetcher(settings) as f:
        report = crawl(settings, fetcher=f)
    statuses = report.details["channel_status"]
    assert statuses and all(v["status"] == "failed" for v in statuses.values())
    assert all("site unreachable" in v["reason"] and "disallowed" not in v["reason"] for v in statuses.values())
    assert report.details["site_unreachable"] is True and report.counts["channels_failed"] == len(statuses)


def test_a_full_crawl_heals_an_error_page_stored_before_the_gate(sample_site: RunningSite, tmp_path: Path) -> None:
    notice = sample_site.site.notices("jyj-ghjh")[0]
    with FaultProxy(sample_site.url, rate=0.0) as proxy:
        settings = _settings(proxy.url, tmp_path)
        channel = _channel(settings, "jyj-ghjh")
        with _fetcher(settings) as f:
            crawl_channel(settings, channel, fetcher=f)
        # A landing zone of the old crawler: the error page stored as the notice's version, with
        # the page's real ETag, so a conditional request would be answered 304 forever.
        zone = LandingZone(settings.landing_dir)
        good = zone.latest()[(HOST, notice.notice_id)]
        bad = dataclasses.replace(good, sha256=zone.put(TEMPLATE_BODIES["error_200_frame"]),
                                  fetched_at=good.fetched_at + dt.timedelta(milliseconds=1))
        zone.append(bad)
        zone.close()
        assert _stored(settings)[(HOST, notice.notice_id)] == TEMPLATE_BODIES["error_200_frame"]
        with _fetcher(settings) as f:
            report = crawl_channel(settings, channel, fetcher=f, full=True)
    assert _stored(settings)[(HOST, notice.notice_id)] == notice.page().body
    assert report.counts["changed_notices"] == 1
    assert report.counts["not_modified"] == len(sample_site.site.notices("jyj-ghjh")) - 1
