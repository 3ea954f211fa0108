"""List shapes beyond the plain column list: smhd folder lists (department sub-folders, each with
its own pager) and the pre-2020 /n172/ lists (index_2.html ... pagination, 18-digit ids), served
by a small local site of our own; idle watch runs stay one request per channel."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from collections.abc import Iterator

import pytest

from etl.crawl import crawl_channel, parse_list_page
from etl.crawl.crawler import detail_id, old_list_page_url
from etl.crawl.fetch import UrlPolicy
from etl.crawl.landing import LandingZone
from etl.records import Channel
from etl.settings import Settings
from tests.fixtures.local_http import LocalServer, QuietHandler

BASE = "http://127.0.0.1:8765"
SMHD = Channel(key="smhd-2023", department_code="smhd", column="smhd/smhd2023",
               list_path="/ywdt/zwzl/smhd/smhd2023/", kind="plans")
N172 = Channel(key="n172-zwgk", department_code="n172", column="n172", kind="plans",
               list_path="/n172/n24624151/n24627255/index.html")


def _list(entries: list[tuple[str, str, str]], pager: str = "", *, old: bool = False) -> str:
    items = "".join(f'<li><a href="{h}" title="{t}" target="_blank">{t}</a><span class="date">{d}</span></li>\n'
                    for h, t, d in entries)
    ul = f'<div id="listChangeDiv"><ul>{items}</ul></div>' if old else \
        f'<ul class="list-ul" id="listChangeDiv">{items}</ul>'
    return f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>列表</title></head><body>{ul}{pager}</body></html>'


def _pager(pages: int, index: int) -> str:
    return f'<div class="page"><script>createPageHTML({pages}, {index}, "index", "shtml");</script></div>'


def _detail(title: str, *, old: bool = False) -> str:
    body_id = "Zoom2" if old else "zoom"
    text = "".join(f"<p>{title}：第{i}项重点工作，推动全市相关工作取得新进展。</p>" for i in range(1, 8))
    return (f'<!DOCTYPE html><html><head><meta charset="utf-8"><meta name="ArticleTitle" content="{title}">'
            f'<title>{title}</title></head><body><h1>{title}</h1><div id="{body_id}">{text}</div>'
            + "<!-- " + "x" * 400 + " --></body></html>")


class Site:
    """Pages by path; ETag = hash of the body (conditional GETs answered 304); requests counted."""

    def __init__(self, pages: dict[str, str]):
        self.pages = dict(pages)
        self.hits: Counter[str] = Counter()
        site = self

        class Handler(QuietHandler):

            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                if path.endswith("/"):  # a folder URL is its index page
                    path += "index.shtml" if path + "index.shtml" in site.pages else "index.html"
                if path != "/robots.txt":
                    site.hits[path] += 1
                body = "" if path == "/robots.txt" else site.pages.get(path)
                if body is None:
                    out, status, etag = b"<html><body>not here</body></html>", 404, None
                else:
                    out = body.encode()
                    etag = '"' + hashlib.sha256(out).hexdigest()[:16] + '"'
                    status = 304 if etag and self.headers.get("If-None-Match") == etag else 200
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                if etag:
                    self.send_header("ETag", etag)
                if status == 304:
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

        self._local = LocalServer(Handler)
        self.server, self.url = self._local.server, self._local.url

    def stop(self) -> None:
        self._local.stop()


@pytest.fixture
def serve() -> Iterator:
    started: list[Site] = []

    def start(pages: dict[str, str]) -> Site:
        started.append(Site(pages))
        return started[-1]

    yield start
    for s in started:
        s.stop()


Y = "/ywdt/zwzl/smhd/smhd2023/"


def _smhd_pages() -> dict[str, str]:
    """A year page of two department folders; jyj's list has two pages."""
    return {
        Y + "index.shtml": _list([("./jyj_5611/index.shtml", "青岛市教育局", "2023-03-02"),
                                  ("./kjj_5612/", "青岛市科学技术局", "2023-02-10")], _pager(1, 0)),
        Y + "jyj_5611/index.shtml": _list([
            ("./202303/t20230302_7001002.shtml", "市教育局2023年工作要点", "2023-03-02"),
            ("./202302/t20230215_7001001.shtml", "市教育局2022年工作总结", "2023-02-15")], _pager(2, 0)),
        Y + "jyj_5611/index_1.shtml": _list([
            ("./202301/t20230105_7000900.shtml", "市教育局晒目标", "2023-01-05")], _pager(2, 1)),
        Y + "kjj_5612/index.shtml": _list([
            ("./202302/t20230210_7000950.shtml", "市科技局2023年工作要点", "2023-02-10")], _pager(1, 0)),
        Y + "jyj_5611/202303/t20230302_7001002.shtml": _detail("市教育局2023年工作要点"),
        Y + "jyj_5611/202302/t20230215_7001001.shtml": _detail("市教育局2022年工作总结"),
        Y + "jyj_5611/202301/t20230105_7000900.shtml": _detail("市教育局晒目标"),
        Y + "kjj_5612/202302/t20230210_7000950.shtml": _detail("市科技局2023年工作要点"),
    }


def _settings(site: Site, tmp_path, **kw) -> Settings:
    return Settings(site_url=site.url, data_dir=tmp_path, rate_limit=0, **kw)


def test_folder_list_page_yields_sub_folders_not_refusals() -> None:
    html = _smhd_pages()[Y + "index.shtml"]
    page = parse_list_page(html.encode(), "utf-8", BASE + Y + "index.shtml", SMHD, UrlPolicy(Settings(site_url=BASE)))
    assert page.entries == [] and page.refused == []
    assert page.folders == [(BASE + Y + "jyj_5611/index.shtml", "青岛市教育局", dt.date(2023, 3, 2)),
                            (BASE + Y + "kjj_5612/index.shtml", "青岛市科学技术局", dt.date(2023, 2, 10))]
    # A folder two levels down, or beside the page, is not a sub-folder of this list.
    other = _list([("./jyj_5611/sub_1/index.shtml", "深层", "2023-01-01"), ("../smhd2022/jyj_1/", "旁边", "2023-01-01")])
    page = parse_list_page(other.encode(), "utf-8", BASE + Y + "index.shtml", SMHD, UrlPolicy(Settings(site_url=BASE)))
    assert page.folders == [] and len(page.refused) == 2


def test_old_site_list_page_and_detail_ids() -> None:
    html = _list([("./n24627269/210305093012345678.html", "旧版年度报告", "2019-05-22"),
                  ("/n172/n24624151/n24627255/n24627270/190101093012345000.html", "旧版通知", "2019-01-01")],
                 old=True)
    url = BASE + "/n172/n24624151/n24627255/index.html"
    page = parse_list_page(html.encode(), "utf-8", url, N172, UrlPolicy(Settings(site_url=BASE)))
    assert [e.notice_id for e in page.entries] == [210305093012345678, 190101093012345000]
    assert page.entries[0].url == "https://www.qingdao.gov.cn/n172/n24624151/n24627255/n24627269/210305093012345678.html"
    assert page.old_site and page.page_count is None and page.next_url is None
    as_dir = parse_list_page(html.encode(), "utf-8", url.removesuffix("index.html"), N172,
                             UrlPolicy(Settings(site_url=BASE)))
    assert as_dir.old_site and len(as_dir.entries) == 2  # a list_path ending in "/" is the same list
    assert old_list_page_url(url, 1) == BASE + "/n172/n24624151/n24627255/index_2.html"
    assert old_list_page_url(url, 2) == BASE + "/n172/n24624151/n24627255/index_3.html"
    assert detail_id("https://h/n172/a/b/210305093012345678.html") == 210305093012345678
    assert detail_id("https://h/zwgk/x/202103/t20210305_2106401.shtml") == 2106401
    assert detail_id("https://h/n172/a/b/index_2.html") is None
    assert detail_id("https://h/zwgk/a/210305093012345678.html") is None  # 18 digits only on the old site


def test_smhd_year_is_descended_and_an_idle_run_costs_one_request(serve, tmp_path) -> None:
    site = serve(_smhd_pages())
    settings = _settings(site, tmp_path)
    first = crawl_channel(settings, SMHD)
    status = first.details["channel_status"]["smhd-2023"]
    assert status["status"] == "ok", status
    zone = LandingZone(settings.landing_dir)
    assert {k[1] for k in zone.latest()} == {7001002, 7001001, 7000900, 7000950}
    assert first.counts["list_pages"] == 4 and first.counts["folders"] == 2
    assert all(r.channel == "smhd-2023" for r in zone.latest().values())

    site.hits.clear()
    idle = crawl_channel(settings, SMHD)
    assert idle.details["channel_status"]["smhd-2023"]["status"] == "ok"
    assert idle.counts["requests"] == 1 and dict(site.hits) == {Y + "index.shtml": 1}
    assert idle.counts["list_not_modified"] == 1  # answered 304 to the stored ETag

    # A new notice in jyj_5611: the year page shows the folder's newer date; only that folder is read
    # (down to its first page whose notices are all known, as any list).
    pages = _smhd_pages()
    pages[Y + "index.shtml"] = pages[Y + "index.shtml"].replace("2023-03-02", "2023-04-01")
    pages[Y + "jyj_5611/index.shtml"] = pages[Y + "jyj_5611/index.shtml"].replace(
        "<li>", '<li><a href="./202304/t20230401_7001100.shtml" title="新">新</a>'
        '<span class="date">2023-04-01</span></li><li>', 1)
    pages[Y + "jyj_5611/202304/t20230401_7001100.shtml"] = _detail("市教育局一季度工作进展")
    site.pages = pages
    site.hits.clear()
    new = crawl_channel(settings, SMHD)
    assert new.counts["new_notices"] == 1 and new.details["new"] == [["www.qingdao.gov.cn", 7001100]]
    assert set(site.hits) == {Y + "index.shtml", Y + "jyj_5611/index.shtml", Y + "jyj_5611/index_1.shtml",
                              Y + "jyj_5611/202304/t20230401_7001100.shtml"}


def test_smhd_folder_without_date_is_rechecked_after_the_interval(serve, tmp_path) -> None:
    pages = _smhd_pages()
    pages[Y + "index.shtml"] = pages[Y + "index.shtml"].replace('<span class="date">2023-02-10</span>', "")
    site = serve(pages)
    crawl_channel(_settings(site, tmp_path), SMHD)
    site.hits.clear()
    assert crawl_channel(_settings(site, tmp_path), SMHD).counts["requests"] == 1
    site.hits.clear()
    every_run = crawl_channel(_settings(site, tmp_path, folder_recheck_hours=0), SMHD)
    assert every_run.counts["requests"] == 2 and Y + "kjj_5612/index.shtml" in site.hits


def test_a_failing_sub_folder_leaves_the_channel_incomplete_not_failed(serve, tmp_path) -> None:
    pages = _smhd_pages()
    del pages[Y + "kjj_5612/index.shtml"]
    site = serve(pages)
    report = crawl_channel(_settings(site, tmp_path, retries=0), SMHD)
    status = report.details["channel_status"]["smhd-2023"]
    assert status["status"] == "incomplete" and "kjj_5612" in status["reason"]
    assert report.counts["new_notices"] == 3
    # Incomplete: the next run reads every folder again (not just the year page).
    site.pages[Y + "kjj_5612/index.shtml"] = _smhd_pages()[Y + "kjj_5612/index.shtml"]
    site.hits.clear()
    again = crawl_channel(_settings(site, tmp_path), SMHD)
    assert again.details["channel_status"]["smhd-2023"]["status"] == "ok"
    assert again.counts["new_notices"] == 1 and Y + "jyj_5611/index.shtml" in site.hits


def test_a_year_page_that_lists_nothing_is_a_site_change(serve, tmp_path) -> None:
    site = serve({Y + "index.shtml": _list([("./about.shtml", "关于", "2023-01-01")])})
    status = crawl_channel(_settings(site, tmp_path), SMHD).details["channel_status"]["smhd-2023"]
    assert status["status"] == "failed" and "zero entries" in status["site_change"]


D = "/n172/n24624151/n24627255/"


def _old_pages(n_pages: int, *, next_links: bool) -> dict[str, str]:
    pages: dict[str, str] = {}
    for p in range(n_pages):
        ids = [190101093012340000 + 10 * p + k for k in range(2)]
        nav = ""  # probing: an old list that says nothing about its pages
        if next_links:
            nav = f'<div class="fenye">共{n_pages}页 当前第{p + 1}页' + (
                f' <a href="index_{p + 2}.html">下一页</a>' if p < n_pages - 1 else "") + "</div>"
        pages[D + ("index.html" if p == 0 else f"index_{p + 1}.html")] = _list(
            [(f"./n2462{p}/{i}.html", f"旧版通知{i}", "2019-01-01") for i in ids], nav, old=True)
        for i in ids:
            pages[f"{D}n2462{p}/{i}.html"] = _detail(f"旧版通知{i}", old=True)
    return pages


@pytest.mark.parametrize("next_links", [True, False], ids=["next-link", "probing"])
def test_old_site_list_is_walked_to_its_end(serve, tmp_path, next_links) -> None:
    site = serve(_old_pages(3, next_links=next_links))
    settings = _settings(site, tmp_path)
    report = crawl_channel(settings, N172)
    status = report.details["channel_status"]["n172-zwgk"]
    assert status["status"] == "ok", status  # the missing index_4.html is the end, not a failure
    assert report.counts["list_pages"] == 3 and report.counts["new_notices"] == 6
    ids = {k[1] for k in LandingZone(settings.landing_dir).latest()}
    assert ids == {190101093012340000 + 10 * p + k for p in range(3) for k in range(2)}
    assert (D + "index_4.html" in site.hits) is not next_links
    site.hits.clear()
    idle = crawl_channel(settings, N172)
    assert idle.counts["requests"] == 1 and list(site.hits) == [D + "index.html"]


def test_old_site_probe_ending_on_an_empty_page_is_the_end(serve, tmp_path) -> None:
    pages = _old_pages(2, next_links=False)
    pages[D + "index_3.html"] = _list([], old=True)
    site = serve(pages)
    report = crawl_channel(_settings(site, tmp_path), N172)
    assert report.details["channel_status"]["n172-zwgk"]["status"] == "ok"
    assert report.counts["new_notices"] == 4


# --------------------------------------------------------------------------- backfill walks

L = "/zwgk/xxgk/jyj/gkml/ghjh/"
PLAIN = Channel(key="jyj-ghjh", department_code="jyj", column="gkml/ghjh", list_path=L, department="青岛市教育局")


def _plain_pages(years: tuple[int, ...] = (2024, 2023, 2022)) -> dict[str, str]:
    """One list page per year, newest first, two notices each."""
    pages: dict[str, str] = {}
    for p, year in enumerate(years):
        entries = [(f"./{year}03/t{year}0301_{year}{k:03d}.shtml", f"{year}年通知{k}", f"{year}-03-01") for k in (1, 2)]
        pages[L + ("index.shtml" if p == 0 else f"index_{p}.shtml")] = _list(entries, _pager(len(years), p))
        for href, title, _ in entries:
            pages[L + href[2:]] = _detail(title)
    return pages


def test_backfill_since_skips_older_entries_and_stops_the_walk(serve, tmp_path) -> None:
    site = serve(_plain_pages())
    report = crawl_channel(_settings(site, tmp_path), PLAIN, walk_all=True, since=2023, session="s1")
    assert report.details["channel_status"]["jyj-ghjh"]["status"] == "ok"
    assert report.counts["new_notices"] == 4 and report.counts["before_since"] == 2
    assert L + "2022" + "03/t20220301_2022001.shtml" not in site.hits
    assert report.counts["list_pages"] == 3  # the 2022 page is read once, then the list stops


class Interrupt(BaseException):
    """Stands in for a kill: nothing below the crawler catches it."""


def test_an_interrupted_backfill_walk_resumes_after_its_checkpointed_pages(serve, tmp_path, monkeypatch) -> None:
    from etl.crawl import fetch

    site = serve(_plain_pages())
    settings = _settings(site, tmp_path)
    real_get = fetch.Fetcher.get

    def dying_get(self, url, **kw):
        if url.endswith("index_2.shtml"):
            raise Interrupt
        return real_get(self, url, **kw)

    monkeypatch.setattr(fetch.Fetcher, "get", dying_get)
    with pytest.raises(Interrupt):
        crawl_channel(settings, PLAIN, walk_all=True, since=2019, session="s1")
    monkeypatch.setattr(fetch.Fetcher, "get", real_get)
    assert len(LandingZone(settings.landing_dir).latest()) == 4
    site.hits.clear()
    resumed = crawl_channel(settings, PLAIN, walk_all=True, since=2019, session="s1")
    assert resumed.details["channel_status"]["jyj-ghjh"]["status"] == "ok"
    # Pages 1 and 2 were checkpointed: only page 3 and its notices are requested.
    assert sorted(site.hits) == sorted([L + "index_2.shtml", L + "202203/t20220301_2022001.shtml",
                                        L + "202203/t20220301_2022002.shtml"])
    site.hits.clear()
    done = crawl_channel(settings, PLAIN, walk_all=True, since=2019, session="s1")
    assert done.counts["requests"] == 0 and done.counts["channels_ok"] == 1  # this session walked it
    site.hits.clear()
    fresh = crawl_channel(settings, PLAIN, walk_all=True, since=2019, session="s2")  # a new backfill
    assert fresh.counts["list_pages"] == 3 and fresh.counts["detail_fetched"] == 0  # stored pages not refetched


def test_backfill_sessions_resume_only_the_same_recent_backfill(tmp_path) -> None:
    import json

    from etl.crawl import backfill_session, end_backfill_session

    settings = Settings(data_dir=tmp_path)
    first, resumed = backfill_session(settings, 2019, ["b", "a"])
    assert not resumed
    assert backfill_session(settings, 2019, ["a", "b"]) == (first, True)
    path = LandingZone(settings.landing_dir).root / "state" / "backfill.json"
    stale = json.loads(path.read_text())
    stale["started_at"] = (dt.datetime.now(dt.UTC) - dt.timedelta(days=8)).isoformat()
    path.write_text(json.dumps(stale))
    second, resumed = backfill_session(settings, 2019, ["a", "b"])
    assert not resumed and second != first  # a week-old session is not resumed
    other, resumed = backfill_session(settings, 2020, ["a", "b"])  # another year: a new backfill
    assert not resumed
    end_backfill_session(settings, other)
    assert not path.exists()
