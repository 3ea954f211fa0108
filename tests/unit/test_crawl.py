"""Crawler units: channel config validation, list-page parsing, pagination."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from etl.crawl import (
    ChannelConfigError,
    crawl,
    crawl_channel,
    list_page_url,
    load_channels,
    parse_channels,
    parse_list_page,
)
from etl.crawl.fetch import UrlPolicy
from etl.crawl.landing import LandingZone
from etl.records import Channel
from etl.settings import Settings
from tests.fixtures.local_http import LocalServer, QuietHandler

CHANNEL = Channel(key="jyj-ghjh", department_code="jyj", column="gkml/ghjh", list_path="/zwgk/xxgk/jyj/gkml/ghjh/",
                  department="青岛市教育局")
BASE = "http://127.0.0.1:8765"
PAGE_URL = BASE + "/zwgk/xxgk/jyj/gkml/ghjh/index_1.shtml"

LIST_HTML = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>规划计划</title></head><body>
<div class="header-nav"><a href="/">首页</a></div>
<ul class="list-ul" id="listChangeDiv">
  <li><a href="./202103/t20210305_2106401.shtml" title="市教育局2021年工作要点" target="_blank">市教育局2021年...</a>
      <span class="date">2021-03-05</span></li>
  <li><a href="../ghjh/tnull_2212001.shtml#x">市科技局工作要点</a><span class="date">2022/05/01</span></li>
  <li><a href="./202103/t20210305_2106401.shtml">duplicate</a></li>
  <li><a href="https://www.gov.cn/zhengce/content/2021-03/05/content_5590672.htm">国务院通知</a></li>
  <li><a href="/n172/n24624151/210305093012345678.html">旧版</a></li>
  <li><a href="https://www.qingdao.gov.cn/zwgk/xxgk/jyj/gkml/ghjh/202201/t20220110_2201001.shtml">绝对链接</a>
      <span class="date">2022-01-10</span></li>
</ul>
<div class="page"><script>createPageHTML(4, 1, "index", "shtml");</script>
<a href="index.shtml">首页</a> <a href="index_2.shtml">下一页</a></div></body></html>"""


def test_packaged_channels_load() -> None:
    channels = load_channels(Settings())
    assert {c.key for c in channels} >= {"jyj-ghjh", "kjj-gwfg", "whly-gzxx", "bgt-gzxx", "fgw-bmgw"}
    assert all(c.list_path.startswith(("/zwgk/", "/ywdt/zwzl/smhd/", "/n172/")) for c in channels)


@pytest.mark.parametrize(("entry", "message"), [
    ({"key": "a", "department_code": "jyj", "column": "gkml/x"}, r"channel #1 \(a\): missing field\(s\) list_path"),
    ({"key": "a", "department_code": "jyj", "column": "x", "list_path": "/x/", "colour": "red"}, "unknown field"),
    ({"key": "a", "department_code": "jyj", "column": "x", "list_path": "zwgk/x/"}, "list_path"),
    ({"key": "a", "department_code": "jyj", "column": "x", "list_path": "https://evil/x/"}, "list_path"),
    ({"key": "a", "department_code": "jyj", "column": "x", "list_path": "/x/", "kind": "blogs"}, "kind"),
    ({"key": "A B", "department_code": "jyj", "column": "x", "list_path": "/x/"}, "key must be"),
    ({"key": "a", "department_code": 5, "column": "x", "list_path": "/x/"}, "must be text"),
    ("just text", "not a mapping"),
])
def test_bad_channel_entries_are_named(entry: object, message: str) -> None:
    with pytest.raises(ChannelConfigError, match=message):
        parse_channels({"channels": [entry]}, source="test.yaml")


def test_duplicate_keys_and_bad_files(tmp_path: Path) -> None:
    entry = {"key": "a", "department_code": "jyj", "column": "x", "list_path": "/x/"}
    with pytest.raises(ChannelConfigError, match=r"#2 \(a\).*already used by channel #1"):
        parse_channels({"channels": [entry, entry]})
    with pytest.raises(ChannelConfigError, match="'channels' list"):
        parse_channels({"chanels": []})
    bad = tmp_path / "channels.yaml"
    bad.write_text("channels: [unclosed", encoding="utf-8")
    with pytest.raises(ChannelConfigError, match="not valid YAML"):
        load_channels(Settings(channels_file=bad))
    with pytest.raises(ChannelConfigError, match="does not exist"):
        load_channels(Settings(channels_file=tmp_path / "missing.yaml"))


def test_parse_list_page_entries_refusals_and_pager() -> None:
    page = parse_list_page(LIST_HTML.encode(), "utf-8", PAGE_URL, CHANNEL, UrlPolicy(Settings(site_url=BASE)))
    assert [(e.notice_id, e.host) for e in page.entries] == [
        (2106401, "www.qingdao.gov.cn"), (2212001, "www.qingdao.gov.cn"), (2201001, "www.qingdao.gov.cn")]
    first = page.entries[0]
    assert first.url == "https://www.qingdao.gov.cn/zwgk/xxgk/jyj/gkml/ghjh/202103/t20210305_2106401.shtml"
    assert first.title == "市教育局2021年工作要点"  # the title attribute, not the shortened text
    assert first.list_date == dt.date(2021, 3, 5) and first.channel == "jyj-ghjh"
    assert page.entries[1].url.endswith("/ghjh/tnull_2212001.shtml") and page.entries[1].list_date == dt.date(2022, 5, 1)
    reasons = dict(page.refused)
    assert reasons["https://www.gov.cn/zhengce/content/2021-03/05/content_5590672.htm"] == "off-site link"
    assert "pre-2020" in reasons[BASE + "/n172/n24624151/210305093012345678.html"]
    assert page.page_count == 4 and page.page_name == ("index", "shtml")
    assert page.next_url == BASE + "/zwgk/xxgk/jyj/gkml/ghjh/index_2.shtml"


def test_parse_list_page_gbk_and_unknown_layout() -> None:
    html = ('<html><head><meta charset="gb2312"></head><body><div class="news">'
            '<p><a href="./202301/t20230110_2301001.shtml">青岛市科学技术局2023年工作要点</a> 2023年01月10日</p>'
            '<p><a href="/about.html">关于我们</a></p></div></body></html>').encode("gbk")
    page = parse_list_page(html, "utf-8", PAGE_URL, CHANNEL, UrlPolicy(Settings(site_url=BASE)))  # charset lies
    (entry,) = page.entries
    assert entry.title == "青岛市科学技术局2023年工作要点" and entry.list_date == dt.date(2023, 1, 10)
    assert page.refused == [] and page.page_count is None and page.next_url is None


def test_list_page_urls() -> None:
    first = BASE + "/zwgk/xxgk/jyj/gkml/ghjh/"
    assert list_page_url(first, 0) == first
    assert list_page_url(first, 2) == first + "index_2.shtml"
    assert list_page_url(first + "index.shtml", 1, "index", "html") == first + "index_1.html"


class _ListServer:
    """Serves one list page body for every path (and robots.txt)."""

    def __init__(self, body: bytes, status: int = 200):
        class Handler(QuietHandler):

            def do_GET(self) -> None:
                out = b"" if self.path == "/robots.txt" else body
                self.send_response(200 if self.path == "/robots.txt" else status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

        self._local = LocalServer(Handler)
        self.server, self.url = self._local.server, self._local.url

    def stop(self) -> None:
        self._local.stop()


@pytest.fixture
def list_server() -> Iterator[type[_ListServer]]:
    started: list[_ListServer] = []

    class Factory(_ListServer):
        def __init__(self, *a: object, **kw: object):
            super().__init__(*a, **kw)
            started.append(self)

    yield Factory
    for s in started:
        s.stop()


def test_empty_first_list_page_fails_the_channel_and_names_the_selector(list_server, tmp_path: Path) -> None:
    server = list_server(b"<html><body><div class='redesigned'>new layout</div></body></html>")
    settings = Settings(site_url=server.url, data_dir=tmp_path, rate_limit=0)
    report = crawl_channel(settings, CHANNEL)  # never raises
    status = report.details["channel_status"]["jyj-ghjh"]
    assert status["status"] == "failed" and "/zwgk/xxgk/jyj/gkml/ghjh/" in status["reason"]
    assert "listChangeDiv" in status["site_change"] and "zero entries" in status["site_change"]
    assert report.counts["channels_failed"] == 1 and report.details["site_unreachable"] is False
    other = dataclasses.replace(CHANNEL, key="kjj-gwfg", list_path="/zwgk/xxgk/kjj/gkml/gwfg/")
    total = crawl(settings, [CHANNEL, other])  # every changed channel is named, none stops the other
    assert {k: v["status"] for k, v in total.details["channel_status"].items()} == {
        "jyj-ghjh": "failed", "kjj-gwfg": "failed"}
    assert all(v["site_change"] for v in total.details["channel_status"].values())
    assert total.counts["channels_failed"] == 2


def test_missing_first_list_page_fails_the_channel(list_server, tmp_path: Path) -> None:
    server = list_server(b"<html>gone</html>", status=404)
    report = crawl_channel(Settings(site_url=server.url, data_dir=tmp_path, rate_limit=0), CHANNEL)
    status = report.details["channel_status"]["jyj-ghjh"]
    assert status["status"] == "failed" and "404" in status["reason"] and "404" in status["site_change"]


def test_list_page_failure_is_counted_and_leaves_the_channel_incomplete(list_server, tmp_path: Path) -> None:
    server = list_server(b"<html>down</html>", status=500)
    settings = Settings(site_url=server.url, data_dir=tmp_path, rate_limit=0, retries=1)
    report = crawl_channel(settings, CHANNEL)
    assert report.counts["failed"] == 1 and report.counts["list_pages"] == 0
    assert report.details["failed"][0]["status"] == 500
    assert report.counts["retried"] == 1
    state = (LandingZone(settings.landing_dir).root / "state" / "channel-jyj-ghjh.json").read_text()
    assert '"complete": false' in state
