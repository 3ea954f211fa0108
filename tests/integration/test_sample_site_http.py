"""The sample site over real HTTP: links resolve, validators, admin endpoints, injected faults."""

from __future__ import annotations

import http.client
import re
import socket
from urllib.parse import urljoin, urlsplit

import pytest
import requests
from lxml import html as lxml_html

from etl.encoding import decode_body
from etl.sample_site.faults import decide
from etl.sample_site.server import start
from etl.sample_site.site import OFFSITE_URL, SiteScale

pytestmark = pytest.mark.integration


def _links(url: str, session: requests.Session) -> tuple[list[str], list[str]]:
    tree = lxml_html.fromstring(session.get(url, timeout=5).content)
    items = [urljoin(url, h) for h in tree.xpath('//ul[@id="listChangeDiv"]/li/a/@href')]
    nxt = [urljoin(url, h) for h in tree.xpath('//div[@class="page"]/a[text()="下一页"]/@href')]
    return items, nxt


def test_every_list_link_resolves_to_a_listed_detail_page(sample_site):
    session = requests.Session()
    truth = {t["path"]: t for t in session.get(sample_site.url + "/__qdp__/ground-truth.json", timeout=5).json()}
    origin = urlsplit(sample_site.url).netloc
    reached, refused = set(), set()
    # Lists of notices; folder lists (smhd) and the pre-2020 site are walked in test_sample_site_trees.
    walked = [ch for ch in sample_site.site.channels
              if not sample_site.site.folders(ch.key) and not ch.list_path.startswith("/n172/")]
    for ch in walked:
        url: str | None = sample_site.url + ch.list_path  # the bare directory serves page 1
        pages = 0
        while url:
            pages += 1
            items, nxt = _links(url, session)
            for link in items:
                parts = urlsplit(link)
                if parts.netloc != origin or not parts.path.endswith(".shtml"):
                    refused.add(link)
                    continue
                r = session.get(link, timeout=5)
                assert r.status_code == 200, link
                assert int(r.headers["Content-Length"]) == len(r.content)
                text, _ = decode_body(r.content, r.headers["Content-Type"])
                assert truth[parts.path]["title"] in text or truth[parts.path]["doc_key"] == "jyj-2021"
                reached.add(parts.path)
            url = nxt[0] if nxt else None
        assert pages == sample_site.site.list_page_count(ch.key)
    assert reached == {p for p, t in truth.items() if t["channel"] in {ch.key for ch in walked}}
    assert OFFSITE_URL in refused and any("/n172/" in link for link in refused)
    old_style = next(link for link in refused if "/n172/" in link)
    assert session.get(old_style, timeout=5).status_code == 404


def test_conditional_requests_get_304(sample_site):
    path = sample_site.site.notice_by_doc_key("jyj-2023").path
    url = sample_site.url + path
    first = requests.get(url, timeout=5)
    assert first.status_code == 200 and first.headers["ETag"] and first.headers["Last-Modified"]
    by_etag = requests.get(url, headers={"If-None-Match": first.headers["ETag"]}, timeout=5)
    assert by_etag.status_code == 304 and by_etag.content == b""
    by_date = requests.get(url, headers={"If-Modified-Since": first.headers["Last-Modified"]}, timeout=5)
    assert by_date.status_code == 304
    stale = requests.get(url, headers={"If-None-Match": '"0000"'}, timeout=5)
    assert stale.status_code == 200
    listing = requests.get(sample_site.url + "/zwgk/xxgk/jyj/gkml/ghjh/index.shtml", timeout=5)
    again = requests.get(listing.url, headers={"If-None-Match": listing.headers["ETag"]}, timeout=5)
    assert again.status_code == 304


def test_gbk_page_is_declared_gb2312_over_http(sample_site):
    r = requests.get(sample_site.url + sample_site.site.notice_by_doc_key("kjj-2023").path, timeout=5)
    assert r.headers["Content-Type"] == "text/html; charset=gb2312"
    text, _ = decode_body(r.content, r.headers["Content-Type"])
    assert "市科技局2023年工作要点" in text


def test_robots_head_404_and_methods(sample_site):
    robots = requests.get(sample_site.url + "/robots.txt", timeout=5)
    assert robots.status_code == 200 and "Disallow: /__qdp__/" in robots.text
    head = requests.head(sample_site.url + "/zwgk/xxgk/bgt/gkml/gzxx/", timeout=5)
    assert head.status_code == 200 and int(head.headers["Content-Length"]) > 0 and head.content == b""
    assert requests.get(sample_site.url + "/zwgk/xxgk/jyj/gkml/ghjh/index_9.shtml", timeout=5).status_code == 404
    assert requests.post(sample_site.url + "/zwgk/xxgk/jyj/gkml/ghjh/", timeout=5).status_code == 405


def test_publish_and_revise_are_visible_over_http(fresh_sample_site):
    base = fresh_sample_site.url
    list_url = base + "/zwgk/xxgk/whly/gkml/gzxx/index.shtml"
    before = requests.get(list_url, timeout=5)
    added = requests.post(base + "/__qdp__/publish?channel=whly-gzxx&n=2&kind=plan", timeout=5).json()
    assert len(added) == 2 and all(a["doc_type"] == "work_plan" for a in added)
    after = requests.get(list_url, headers={"If-None-Match": before.headers["ETag"]}, timeout=5)
    assert after.status_code == 200
    tree = lxml_html.fromstring(after.content)
    top = [urlsplit(urljoin(list_url, h)).path for h in tree.xpath('//ul[@id="listChangeDiv"]/li/a/@href')[:2]]
    assert top == [added[1]["path"], added[0]["path"]]
    assert requests.get(base + added[0]["path"], timeout=5).status_code == 200

    target = fresh_sample_site.site.notice_by_doc_key("whly-2022")
    url = base + target.path
    old = requests.get(url, timeout=5)
    body = "　　第一段新内容。\n　　第二段新内容。".encode()
    revised = requests.post(base + f"/__qdp__/revise?id={target.notice_id}", data=body, timeout=5).json()
    assert revised["version"] == 2 and revised["path"] == target.path
    new = requests.get(url, headers={"If-None-Match": old.headers["ETag"]}, timeout=5)
    assert new.status_code == 200 and new.headers["ETag"] != old.headers["ETag"]
    assert new.headers["Last-Modified"] != old.headers["Last-Modified"]
    assert "第二段新内容" in new.text and "新建城市书房20处" not in new.text


def test_admin_endpoints(fresh_sample_site):
    base = fresh_sample_site.url
    requests.get(base + "/zwgk/xxgk/jyj/gkml/ghjh/", timeout=5)
    requests.get(base + fresh_sample_site.site.notices("jyj-ghjh")[0].path, timeout=5)
    stats = requests.get(base + "/__qdp__/stats", timeout=5).json()
    assert stats["by_kind"]["list"] == 1 and stats["by_kind"]["detail"] == 1
    assert fresh_sample_site.stats.snapshot()["by_path"]["/zwgk/xxgk/jyj/gkml/ghjh/"] == 1
    assert requests.post(base + "/__qdp__/reset-stats", timeout=5).json() == {"ok": True}
    assert fresh_sample_site.stats.snapshot()["by_kind"] == {"admin": 1}  # the reset request itself
    channels = requests.get(base + "/__qdp__/channels.yaml", timeout=5)
    assert "jyj-ghjh" in channels.text
    corpus_truth = requests.get(base + "/__qdp__/corpus-truth.json", timeout=5).json()
    assert any(d["key"] == "jyj-2021" for d in corpus_truth["documents"])
    assert requests.post(base + "/__qdp__/publish?channel=nope", timeout=5).status_code == 400
    assert requests.post(base + "/__qdp__/revise?id=12", timeout=5).status_code == 400
    assert requests.get(base + "/__qdp__/nothing", timeout=5).status_code == 404
    redirect = requests.get(base + "/__qdp__/redirect-offsite", allow_redirects=False, timeout=5)
    assert redirect.status_code == 302 and redirect.headers["Location"] == OFFSITE_URL


def test_admin_and_robots_are_never_faulted(sample_site_factory):
    site = sample_site_factory(faults=1.0, seed=1)
    for _ in range(10):
        assert requests.get(site.url + "/__qdp__/stats", timeout=5).status_code == 200
        assert requests.get(site.url + "/robots.txt", timeout=5).status_code == 200


def _raw_get(url: str, timeout: float = 5.0) -> tuple[int, dict[str, str], bytes]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        conn.request("GET", parts.path)
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()


def test_each_fault_kind_behaves_as_specified(sample_site_factory):
    seed = 5
    site = sample_site_factory(faults=1.0, seed=seed, slow_seconds=0.6)
    paths = [n.path for n in site.site.notices()]
    first_fault = {}
    for p in paths:  # the first request of each path gets decide(seed, path, 0)
        first_fault.setdefault(decide(seed, p, 0, 1.0), p)
    clean = {p: site.site.resolve(p).body for p in first_fault.values()}

    status, headers, _ = _raw_get(site.url + first_fault["500"])
    assert status == 500
    status, headers, _ = _raw_get(site.url + first_fault["503"])
    assert status == 503
    status, headers, _ = _raw_get(site.url + first_fault["429"])
    assert status == 429 and headers["Retry-After"] == "1"
    with pytest.raises((ConnectionError, http.client.RemoteDisconnected, socket.error)):
        _raw_get(site.url + first_fault["reset"])
    with pytest.raises(http.client.IncompleteRead):
        _raw_get(site.url + first_fault["truncate"])
    status, headers, body = _raw_get(site.url + first_fault["wrong_charset"])
    page = site.site.resolve(first_fault["wrong_charset"])
    assert status == 200 and body == clean[first_fault["wrong_charset"]]
    assert headers["Content-Type"] != page.content_type
    with pytest.raises(TimeoutError):
        _raw_get(site.url + first_fault["slow"], timeout=0.2)
    assert site.stats.snapshot()["faults"].keys() >= {"500", "503", "429", "reset", "truncate", "wrong_charset"}


def test_faults_occur_at_the_given_rate_and_reproducibly(sample_site_factory):
    def run(seed: int) -> list[str]:
        site = sample_site_factory(faults=0.25, seed=seed, slow_seconds=0.3)
        outcomes = []
        for n in site.site.notices()[:80]:
            try:
                status, _, body = _raw_get(site.url + n.path, timeout=0.15)
                outcomes.append(f"{status}:{len(body)}")
            except (OSError, http.client.HTTPException) as exc:
                outcomes.append(type(exc).__name__)
        return outcomes

    first, again, other = run(21), run(21), run(22)
    assert first == again
    assert first != other
    failed = sum(not o.startswith("200:") for o in first)
    assert 8 <= failed <= 35  # 25% of 80, wrong_charset responses counted as clean 200s


def test_retries_get_through(sample_site_factory):
    site = sample_site_factory(faults=0.5, seed=3, slow_seconds=0.3)
    for n in site.site.notices()[:20]:
        for _attempt in range(30):
            try:
                status, _, _body = _raw_get(site.url + n.path, timeout=0.15)
            except (OSError, http.client.HTTPException):
                continue
            if status == 200:
                break
        else:
            pytest.fail(f"{n.path} never succeeded")


def test_scaled_site_over_http(sample_site_factory):
    site = sample_site_factory(scale=SiteScale(channels=5, notices=250))
    ch = site.site.channels[0]
    items, nxt = _links(site.url + ch.list_path, requests.Session())
    assert len(items) == 20 and nxt
    assert requests.get(items[0], timeout=5).status_code == 200
    assert ch.list_path in requests.get(site.url + "/__qdp__/channels.yaml", timeout=5).text


# --------------------------------------------------------------------------- the full site (issue 14)


def test_every_tree_of_the_full_site_is_reachable_by_following_links(full_sample_site):
    """From each channel's first list page, by links alone: pagers (index_N.shtml, and the old
    site's index_2.html ...), smhd department folders, detail pages and their attachments."""
    session = requests.Session()
    base = full_sample_site.url
    truth = {t["path"] for t in session.get(base + "/__qdp__/ground-truth.json", timeout=5).json()}
    corpus_truth = session.get(base + "/__qdp__/corpus-truth.json", timeout=5).json()
    attachments = {d["attachment"]["url"] for d in corpus_truth["documents"] if d["attachment"]}
    origin = urlsplit(base).netloc
    details, files, lists = set(), set(), set()
    queue = [base + ch.list_path for ch in full_sample_site.site.channels]
    while queue:
        url = queue.pop()
        if url in lists:
            continue
        lists.add(url)
        r = session.get(url, timeout=5)
        assert r.status_code == 200, url
        tree = lxml_html.fromstring(r.content)
        for href in tree.xpath('//*[@id="listChangeDiv"]//li/a/@href'):
            link = urljoin(url, href)
            parts = urlsplit(link)
            if parts.netloc != origin:
                continue
            if parts.path.endswith("/index.shtml"):  # an smhd department folder
                queue.append(link)
            elif parts.path in truth:
                details.add(parts.path)
                page = session.get(link, timeout=5)
                for a in lxml_html.fromstring(page.content).xpath('//a[starts-with(@href, "./P0")]/@href'):
                    files.add(urlsplit(urljoin(link, a)).path)
        queue += [urljoin(url, h) for h in tree.xpath('//div[@class="page" or @class="fenye"]/a[text()="下一页"]/@href')]
    assert details == truth
    assert files == attachments and len(files) == 3
    assert any(u.endswith("/n172/n24624151/n24627255/index_2.html") for u in lists)
    assert any(re.search(r"/smhd\d{4}/[a-z]+_\d+/index_1\.shtml$", u) for u in lists)
    assert len(corpus_truth["double_posted"]) == 1


def test_attachments_are_served_with_validators_and_conditional_get(full_sample_site):
    site = full_sample_site.site
    seen = set()
    for a in site.attachments():
        url = full_sample_site.url + a.path
        r = requests.get(url, timeout=5)
        assert r.status_code == 200 and r.content == a.page.body
        assert r.headers["Content-Type"] == a.media_type
        assert int(r.headers["Content-Length"]) == len(r.content)
        assert r.headers["ETag"] and r.headers["Last-Modified"]
        seen.add(r.headers["Content-Type"])
        assert requests.get(url, headers={"If-None-Match": r.headers["ETag"]}, timeout=5).status_code == 304
        assert requests.get(url, headers={"If-Modified-Since": r.headers["Last-Modified"]},
                            timeout=5).status_code == 304
        head = requests.head(url, timeout=5)
        assert head.status_code == 200 and head.content == b"" and head.headers["ETag"] == r.headers["ETag"]
    assert seen == {"application/pdf",
                    "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}
    assert full_sample_site.stats.snapshot()["by_kind"]["attachment"] >= 3


def test_two_starts_serve_the_same_bytes(full_sample_site):
    with start(0) as other:
        for a in full_sample_site.site.attachments():
            mine = requests.get(full_sample_site.url + a.path, timeout=5)
            theirs = requests.get(other.url + a.path, timeout=5)
            assert mine.content == theirs.content and mine.headers["ETag"] == theirs.headers["ETag"]
        for key in ("gaj-2024", "kjj-2018", "nync-2023"):
            path = full_sample_site.site.notice_by_doc_key(key).path
            assert requests.get(full_sample_site.url + path, timeout=5).headers["ETag"] == \
                requests.get(other.url + path, timeout=5).headers["ETag"]
