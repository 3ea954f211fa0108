"""Sample-site model: rendering, URL scheme, pagination, encodings, mutations, faults (no HTTP)."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter

import pytest
from lxml import html as lxml_html

from etl.encoding import decode_body
from etl.sample_site import corpus
from etl.sample_site.faults import FAULT_KINDS, FaultPlan, decide
from etl.sample_site.site import (
    OFFSITE_URL,
    OLD_STYLE_PATH,
    PAGE_SIZE,
    SYNTHETIC_NOTE,
    Site,
    SiteScale,
    load_channel_config,
    served_channel_config,
)

# Detail pages of the current site: department columns, the municipal trees and the smhd folders.
DETAIL_PATH = re.compile(r"^(?:/zwgk/xxgk/[a-z]+/gkml/[a-z/]+|/zwgk/zdgk/[a-z/]+(?:/\d{4})?"
                         r"|/ywdt/zwzl/smhd/smhd\d{4}/[a-z]+_\d+)/(\d{6}/t(\d{8})_|tnull_)(\d{7})\.shtml$")
OLD_DETAIL_PATH = re.compile(r"^/n172/n24624151/n24627255/n\d{8}/(\d{18})\.html$")


@pytest.fixture(scope="module")
def site() -> Site:
    return Site.build()


def _tree(page):
    text, _ = decode_body(page.body, page.content_type)
    return lxml_html.fromstring(text)


def _meta(tree, name: str) -> str | None:
    found = tree.xpath(f'//meta[@name="{name}"]/@content')
    return found[0] if found else None


def test_site_serves_exactly_the_configured_channels(site):
    assert [c.key for c in site.channels] == [c.key for c in served_channel_config()]
    watched = [c.key for c in load_channel_config()]
    assert [c.key for c in site.channels][:len(watched)] == watched
    assert {c.kind for c in site.channels} == {"plans", "notices"}


def test_a_site_can_serve_only_some_channels():
    some = [c.key for c in load_channel_config() if not c.list_path.startswith("/zwgk/zdgk/")]
    small = Site.build(channels=some)
    assert [c.key for c in small.channels] == some
    assert {n.channel.key for n in small.notices()} <= set(some)
    served = {d["key"] for d in small.corpus_truth()["documents"]}
    assert "jyj-2022" in served and "gyxx-2022" not in served  # gyxx files its plans in jhmb only
    assert small.resolve("/zwgk/zdgk/ghjh/jhmb/") is None
    with pytest.raises(KeyError, match="unknown channel"):
        Site.build(channels=["nope"])


def test_every_corpus_document_is_a_notice(site):
    for doc in corpus.load_corpus():
        n = site.notice_by_doc_key(doc.key)
        assert n.channel.key == doc.channel and n.doc_type == doc.doc_type and n.published == doc.published


def test_detail_urls_follow_the_site_scheme(site):
    for n in site.notices():
        assert n.path.startswith(n.channel.list_path)
        if n.path.startswith("/n172/"):
            m = OLD_DETAIL_PATH.match(n.path)
            assert m and m.group(1) == str(n.notice_id), n.path
            continue
        m = DETAIL_PATH.match(n.path)
        assert m, n.path
        if m.group(2):
            assert m.group(2) == n.published.strftime("%Y%m%d") and m.group(1)[:6] == m.group(2)[:6]
        assert len(str(n.notice_id)) == 7
    tnull = [n for n in site.notices() if "/tnull_" in n.path]
    assert [n.doc_key for n in tnull] == ["kjj-2022"]


def test_ids_are_unique_and_grow_with_the_date(site):
    assert len({n.notice_id for n in site.notices()}) == len(site.notices())
    for old in (False, True):  # the pre-2020 CMS had its own 18-digit ids
        ordered = sorted((n for n in site.notices() if n.old_site is old), key=lambda n: n.notice_id)
        assert ordered
        assert [n.published for n in ordered] == sorted(n.published for n in ordered)


def test_synthetic_page_has_national_meta_tags_and_header_line(site):
    n = site.notice_by_doc_key("jyj-2022")
    tree = _tree(n.page())
    assert _meta(tree, "ArticleTitle") == "市教育局2022年工作要点"
    assert _meta(tree, "PubDate") == "2022-03-08 09:30"
    assert _meta(tree, "ContentSource") == "青岛市教育局"
    assert _meta(tree, "ColumnName") == "规划计划"
    assert _meta(tree, "SiteName") == "青岛政务网" and _meta(tree, "SiteDomain") == "www.qingdao.gov.cn"
    assert _meta(tree, "qdp:synthetic") == "true"
    assert tree.findtext(".//title") == "市教育局2022年工作要点_青岛市教育局"
    info = tree.xpath('//div[@class="article-info"]')[0].text_content()
    assert info == "青岛政务网 发布日期 : 2022-03-08 来源 : 青岛市教育局"
    assert tree.xpath('//h1[@class="article-title"]')[0].text_content() == "市教育局2022年工作要点"


def test_synthetic_note_and_chrome_stay_outside_the_content_container(site):
    for key in ("jyj-2022", "kjj-2023", "whly-2024"):
        tree = _tree(site.notice_by_doc_key(key).page())
        zoom = tree.get_element_by_id("zoom")
        assert "TRS_Editor" in zoom.get("class")
        text = zoom.text_content()
        assert SYNTHETIC_NOTE not in text and "扫一扫" not in text and "字体大小" not in text
        assert SYNTHETIC_NOTE in tree.text_content()


def test_each_body_line_is_one_paragraph(site):
    doc = next(d for d in corpus.load_corpus() if d.key == "kjj-2024")
    tree = _tree(site.notice_by_doc_key("kjj-2024").page())
    assert [p.text_content() for p in tree.get_element_by_id("zoom").findall("p")] == doc.body
    assert "01" in doc.body  # the "01"-on-its-own-line shape


def test_seed_page_is_served_as_found(site):
    seed = corpus.read_seed()
    n = site.notice_by_doc_key("jyj-2021")
    assert n.path.startswith("/zwgk/xxgk/jyj/gkml/ghjh/202103/t20210305_")
    assert not n.synthetic
    tree = _tree(n.page())
    assert _meta(tree, "ArticleTitle") == "市教育局2021年工作要點"
    assert _meta(tree, "PubDate").startswith("2021-03-05")
    assert _meta(tree, "ContentSource") == "青島市教育局"
    assert _meta(tree, "qdp:synthetic") is None
    assert tree.xpath('//div[@class="article-info"]')[0].text_content() == seed.header
    assert tree.xpath('//div[@class="article-tools"]')[0].text_content() == seed.tools
    assert tree.xpath('//div[@class="article-qr"]')[0].text_content() == seed.qr
    paragraphs = [p.text_content() for p in tree.get_element_by_id("zoom").findall("p")]
    assert paragraphs == seed.body
    assert "發(fā)布日期" not in tree.get_element_by_id("zoom").text_content()


def test_page_without_source(site):
    n = site.notice_by_doc_key("whly-2023")
    tree = _tree(n.page())
    assert _meta(tree, "ContentSource") is None
    info = tree.xpath('//div[@class="article-info"]')[0].text_content()
    assert "来源" not in info and "发布日期 : 2023-03-20" in info
    assert tree.get_element_by_id("zoom").findall("p")[-2].text_content() == "青岛市文化和旅游局"


def test_navigation_debris_opens_the_body_of_newer_pages(site):
    paragraphs = [p.text_content() for p in _tree(site.notice_by_doc_key("jyj-2024").page())
                  .get_element_by_id("zoom").findall("p")]
    assert paragraphs[0] == "导航" and "我要收藏" in paragraphs and "取消收藏" in paragraphs


def test_gbk_page_bytes_decode_correctly(site):
    n = site.notice_by_doc_key("kjj-2023")
    page = n.page()
    assert page.content_type == "text/html; charset=gb2312"
    assert b'<meta charset="gb2312">' in page.body
    with pytest.raises(UnicodeDecodeError):
        page.body.decode("utf-8")
    expected = page.body.decode("gbk")
    for declared in ("text/html; charset=gb2312", None, "text/html; charset=utf-8"):  # last: a lying header
        text, codec = decode_body(page.body, declared)
        assert text == expected and codec == "gb18030"
    assert "市科技局2023年工作要点" in expected and "新建省级以上创新平台25个" in expected


def test_list_pages_paginate_with_create_page_html_and_next_links(site):
    notices = site.notices("bgt-gzxx")
    pages = site.list_page_count("bgt-gzxx")
    assert pages >= 3 and pages == -(-len(notices) // PAGE_SIZE)
    seen = []
    for index in range(pages):
        page = site.list_page("bgt-gzxx", index)
        text = page.body.decode("utf-8")
        assert f'createPageHTML({pages}, {index}, "index", "shtml")' in text
        tree = lxml_html.fromstring(text)
        hrefs = tree.xpath('//ul[@id="listChangeDiv"]/li/a/@href')
        dates = tree.xpath('//ul[@id="listChangeDiv"]/li/span[@class="date"]/text()')
        assert len(dates) == len(hrefs)
        seen += [h for h in hrefs if h.startswith("./")]
        nxt = tree.xpath('//div[@class="page"]/a[text()="下一页"]/@href')
        assert nxt == ([f"index_{index + 1}.shtml"] if index < pages - 1 else [])
    base = site.channel("bgt-gzxx").list_path
    assert [base + h.removeprefix("./") for h in seen] == [n.path for n in notices]
    dates = [n.published for n in notices]
    assert dates == sorted(dates, reverse=True)


def test_refusable_links_are_on_a_list_page_and_a_detail_page(site):
    first = site.list_page("bgt-gzxx", 0).body.decode()
    assert OFFSITE_URL in first and OLD_STYLE_PATH in first
    detail = site.notice_by_doc_key("jyj-2022").page().body.decode()
    assert OFFSITE_URL in detail and OLD_STYLE_PATH in detail
    assert site.resolve(OLD_STYLE_PATH) is None


def test_resolve_list_aliases_and_unknown_paths(site):
    base = site.channel("jyj-ghjh").list_path
    assert site.resolve(base) is site.resolve(base + "index.shtml")
    assert site.resolve(base + "index_1.shtml").kind == "list"
    assert site.resolve(site.channel("fgw-bmgw").list_path + "index_1.shtml") is None  # a single page
    assert site.resolve(base + "index_01.shtml") is None
    assert site.resolve("/zwgk/xxgk/nope/") is None
    assert site.resolve(site.list_url_path("bgt-gzxx", 3)).kind == "list"


def test_publish_adds_newest_notices_at_the_top():
    site = Site.build()
    before_top = site.list_page("jyj-ghjh", 0)
    newest_id = max(n.notice_id for n in site.notices() if not n.old_site)
    added = site.publish("jyj-ghjh", n=3, kind="mixed")
    assert [n.notice_id for n in added] == [newest_id + 1, newest_id + 2, newest_id + 3]
    assert [n.doc_type for n in added] == ["notice", "work_plan", "notice"]
    top = [n.notice_id for n in site.notices("jyj-ghjh")[:3]]
    assert top == [newest_id + 3, newest_id + 2, newest_id + 1]
    after_top = site.list_page("jyj-ghjh", 0)
    assert after_top.etag != before_top.etag and after_top.last_modified > before_top.last_modified
    assert all(site.resolve(n.path) is not None for n in added)
    with pytest.raises(KeyError, match="unknown channel"):
        site.publish("nope", 1)
    with pytest.raises(ValueError):
        site.publish("jyj-ghjh", 0)


def test_revise_changes_content_and_validators_but_not_the_url():
    site = Site.build()
    n = site.notice_by_doc_key("whly-2022")
    path, old = n.path, n.page()
    site.revise(n.notice_id)
    new = site.resolve(path)
    assert new.etag != old.etag and new.last_modified > old.last_modified
    assert "更正" in new.body.decode() and n.version == 2
    site.revise(n.notice_id, body=["全新内容。"])
    assert "全新内容。" in site.resolve(path).body.decode()
    with pytest.raises(ValueError):
        site.revise(n.notice_id, body=["  "])
    with pytest.raises(KeyError):
        site.revise(1)


def test_ground_truth_lists_every_notice(site):
    truth = site.ground_truth()
    assert len(truth) == len(site.notices())
    assert {t["doc_type"] for t in truth} >= {"work_plan", "work_summary", "action_plan", "notice"}
    assert sum(not t["synthetic"] for t in truth) == 1
    assert set(truth[0]) >= {"path", "notice_id", "title", "date", "channel", "doc_type", "synthetic"}


def test_non_plan_notices_cover_the_usual_categories(site):
    categories = Counter(n.category for n in site.notices() if n.doc_type == "notice")
    assert set(categories) == {"公告", "招聘", "会议通知", "通知公告"}


def test_scaled_site_is_deterministic_and_consistent():
    scale = SiteScale(channels=7, notices=300)
    a, b = Site.build(scale), Site.build(scale)
    assert len(a.channels) == 7 and len(a.notices()) == 300
    assert [n.path for n in a.notices()] == [n.path for n in b.notices()]
    assert sum(a.list_page_count(c.key) for c in a.channels) == sum(-(-len(a.notices(c.key)) // PAGE_SIZE)
                                                                  for c in a.channels)
    assert "channels:" in a.channels_yaml() and a.channels[0].list_path in a.channels_yaml()
    assert a.resolve(a.notices()[0].path).kind == "detail"


# --------------------------------------------------------------------------- faults


def test_fault_decisions_are_reproducible():
    paths = [f"/zwgk/xxgk/bgt/gkml/gzxx/index_{i}.shtml" for i in range(50)]
    seq = [decide(7, p, n, 0.3) for p in paths for n in range(4)]
    assert seq == [decide(7, p, n, 0.3) for p in paths for n in range(4)]
    assert seq != [decide(8, p, n, 0.3) for p in paths for n in range(4)]


def test_fault_plan_counts_per_path_so_a_retry_is_decided_afresh():
    a, b = FaultPlan(0.5, seed=3), FaultPlan(0.5, seed=3)
    calls = ["/a", "/b", "/a", "/a", "/c", "/b"] * 20
    assert [a.next(p) for p in calls] == [b.next(p) for p in calls]
    plan = FaultPlan(0.5, seed=3)
    outcomes = [plan.next("/same") for _ in range(40)]
    assert None in outcomes and any(outcomes)  # retries of one path can succeed


def test_fault_rate_and_kinds():
    draws = [decide(11, f"/p{i}", 0, 0.2) for i in range(5000)]
    rate = sum(d is not None for d in draws) / len(draws)
    assert 0.17 < rate < 0.23
    assert set(draws) - {None} == set(FAULT_KINDS)
    assert all(decide(1, f"/p{i}", 0, 0.0) is None for i in range(100))
    assert all(decide(1, f"/p{i}", 0, 1.0) is not None for i in range(100))
    with pytest.raises(ValueError):
        FaultPlan(1.5)


def test_modified_times_are_timezone_aware(site):
    assert all(n.modified.tzinfo is dt.UTC for n in site.notices())
