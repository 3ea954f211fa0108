"""The crawler against the sample site over real HTTP: completeness, faults, incrementality,
refusals, versions and parallel channel crawls into one landing zone."""

from __future__ import annotations

import dataclasses
import hashlib
import multiprocessing
from pathlib import Path

import pytest

from etl.crawl import crawl, crawl_channel, load_channels
from etl.crawl.fetch import Fetcher
from etl.crawl.landing import LandingZone
from etl.encoding import decode_body
from etl.sample_site.server import RunningSite
from etl.settings import Settings

pytestmark = pytest.mark.integration
HOST = "www.qingdao.gov.cn"


def _settings(site: RunningSite, data_dir: Path, **kw: object) -> Settings:
    return dataclasses.replace(Settings(site_url=site.url, data_dir=data_dir, rate_limit=0), **kw)


def _truth(site: RunningSite) -> dict[tuple[str, int], dict]:
    return {(HOST, n["notice_id"]): n for n in site.site.ground_truth()}


def _bodies(data_dir: Path) -> dict[tuple[str, int], bytes]:
    zone = LandingZone(data_dir / "landing")
    return {key: zone.get(rec.sha256) for key, rec in zone.latest().items()}


def test_full_crawl_finds_exactly_the_sites_notices(sample_site: RunningSite, tmp_path: Path) -> None:
    settings = _settings(sample_site, tmp_path)
    report = crawl(settings, full=True)
    truth = _truth(sample_site)
    zone = LandingZone(settings.landing_dir)
    latest = zone.latest()
    assert set(latest) == set(truth)
    assert report.counts["new_notices"] == report.counts["detail_fetched"] == len(truth)
    assert report.counts["failed"] == 0 and report.counts["retried"] == 0
    assert sorted(map(tuple, report.details["new"])) == sorted(truth)
    for key, rec in latest.items():
        notice = sample_site.site.notice(key[1])
        assert rec.url == f"https://{HOST}{notice.path}"  # the live URL, whatever the sample site's port
        assert zone.get(rec.sha256) == notice.page().body
        assert rec.channel == notice.channel.key and rec.list_date == notice.published
        assert rec.etag == notice.page().etag and rec.is_new_version
    # The bgt list page's off-site and old-scheme links were refused, not followed.
    refused = {r["url"]: r["reason"] for r in report.details["refused"]}
    assert any("www.gov.cn" in u and reason == "off-site link" for u, reason in refused.items())
    assert not any("www.gov.cn" in p for p in sample_site.stats.snapshot()["by_path"])


def test_crawl_under_20_percent_faults_equals_a_clean_crawl(sample_site: RunningSite, sample_site_factory,
                                                            tmp_path: Path) -> None:
    clean_dir, faulty_dir = tmp_path / "clean", tmp_path / "faulty"
    crawl(_settings(sample_site, clean_dir))
    faulty = sample_site_factory(faults=0.2, seed=7, slow_seconds=1.0)
    settings = _settings(faulty, faulty_dir, timeout=0.4, connect_timeout=1.0, retries=8)
    with Fetcher(settings, backoff_factor=0.02, backoff_jitter=0.02) as fetcher:
        report = crawl(settings, fetcher=fetcher)
    assert report.counts["failed"] == 0
    assert report.counts["retried"] > 0
    assert sum(faulty.stats.snapshot()["faults"].values()) > 0
    clean, faulted = _bodies(clean_dir), _bodies(faulty_dir)
    assert faulted == clean  # same notices, same bytes
    zone = LandingZone(settings.landing_dir)
    assert all(len(zone.versions(*key)) == 1 for key in faulted)  # no duplicate versions
    # Every object is a body of the clean crawl (pages and their attachments) or of a rejected fetch.
    clean_objects = {r.sha256 for r in LandingZone(clean_dir / "landing").records() if r.outcome == "stored"}
    objects = {p.name.removesuffix(".gz") for p in (settings.landing_dir / "objects").rglob("*.gz")}
    rejected = {r.sha256 for r in zone.records() if r.outcome == "rejected"}
    assert clean_objects <= objects and objects - clean_objects <= rejected
    assert {hashlib.sha256(b).hexdigest() for b in clean.values()} <= clean_objects
    # Some detail pages arrived with a lying HTTP charset; decoding still matches the clean text.
    site = faulty.site
    lied = [r for r in zone.latest().values() if r.charset != site.notice(r.notice_id).encoding]
    assert lied, "seed 7 should produce wrong-charset responses"
    for rec in lied:
        text, _ = decode_body(zone.get(rec.sha256), rec.charset)
        assert "\ufffd" not in text and site.notice(rec.notice_id).title.split("（")[0][:6] in text


def test_second_crawl_is_one_list_request_per_channel_then_exactly_the_new_ones(
        fresh_sample_site: RunningSite, tmp_path: Path) -> None:
    site = fresh_sample_site
    settings = _settings(site, tmp_path)
    channels = load_channels(settings)
    crawl(settings)
    site.stats.reset()
    report = crawl(settings)
    by_kind = site.stats.snapshot()["by_kind"]
    assert by_kind.get("list") == len(channels) and by_kind.get("detail", 0) == 0
    assert by_kind.get("robots", 0) == 0  # robots.txt is cached for a day
    assert report.counts["requests"] == len(channels) and report.counts["new_notices"] == 0

    added = site.site.publish("bgt-gzxx", 3)
    site.stats.reset()
    report = crawl(settings)
    snap = site.stats.snapshot()
    assert snap["by_kind"].get("detail") == 3
    assert {p for p in snap["by_path"] if p.endswith(".shtml") and "/index" not in p} == {n.path for n in added}
    assert sorted(n for _, n in report.details["new"]) == sorted(n.notice_id for n in added)
    assert report.counts["new_notices"] == 3 and report.counts["changed_notices"] == 0


def test_full_recrawl_uses_conditional_requests_and_keeps_revisions(fresh_sample_site: RunningSite,
                                                                    tmp_path: Path) -> None:
    site = fresh_sample_site
    settings = _settings(site, tmp_path)
    first = crawl(settings)
    revised = site.site.notices("kjj-gwfg")[-1]
    old_body = revised.page().body
    site.site.revise(revised.notice_id)
    report = crawl(settings, full=True)
    assert report.counts["changed_notices"] == 1 and report.counts["detail_fetched"] == 1
    assert report.details["changed"] == [[HOST, revised.notice_id]]
    assert report.counts["not_modified"] == first.counts["new_notices"] - 1
    zone = LandingZone(settings.landing_dir)
    versions = zone.versions(HOST, revised.notice_id)
    assert [zone.get(v.sha256) for v in versions] == [old_body, revised.page().body]
    assert zone.latest()[(HOST, revised.notice_id)].is_new_version


def test_offsite_redirect_oversize_and_failures_are_recorded(sample_site: RunningSite, tmp_path: Path) -> None:
    # Between a notice page (about 12 KB with the page frame; the list page is about 13 KB) and
    # the larger work plans (17-23 KB): some detail pages are fetched, some refused.
    limit = 16_000
    settings = _settings(sample_site, tmp_path, respect_robots=False, max_body_bytes=limit)
    with Fetcher(settings) as fetcher:
        redirect = fetcher.get(sample_site.url + "/__qdp__/redirect-offsite")
    assert redirect.outcome == "refused" and "www.gov.cn" in redirect.reason
    channel = next(c for c in load_channels(settings) if c.key == "jyj-ghjh")
    report = crawl_channel(settings, channel)
    notices = sample_site.site.notices("jyj-ghjh")
    big = [n for n in notices if len(n.page().body) > limit]
    assert big and len(big) < len(notices) and report.counts["refused"] == len(big)
    zone = LandingZone(settings.landing_dir)
    refused_rows = [r for r in zone.rows() if r["outcome"] == "refused"]
    assert {r["notice_id"] for r in refused_rows} == {n.notice_id for n in big}
    assert all("limit" in r["reason"] for r in refused_rows)
    # Refused fetches are not forgotten: the channel stays incomplete until they are fetched.
    assert report.details["channel_status"]["jyj-ghjh"]["status"] == "incomplete"
    assert not {(HOST, n.notice_id) for n in big} & set(zone.latest())
    assert {(HOST, n.notice_id) for n in notices if len(n.page().body) <= limit} <= set(zone.latest())


def _crawl_one(settings: Settings, key: str) -> None:
    channel = next(c for c in load_channels(settings) if c.key == key)
    crawl_channel(settings, channel)


def test_channels_crawled_in_parallel_processes_share_one_landing_zone(sample_site: RunningSite,
                                                                        tmp_path: Path) -> None:
    settings = _settings(sample_site, tmp_path)
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_crawl_one, args=(settings, c.key)) for c in load_channels(settings)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    zone = LandingZone(settings.landing_dir)
    assert set(zone.latest()) == set(_truth(sample_site))
    assert len(zone.manifest_files()) == len(procs)
    assert len([r for r in zone.records() if r.kind == "page"]) == len(_truth(sample_site))
