"""The sample site's column trees beyond the departmental columns (issue 14): jhmb / jhwcqk / szfgw
lists, smhd year folders with department sub-folders, the pre-2020 /n172/ site, attachment-only
plans, the double-posted plan, and the ground truth that describes them (no HTTP here)."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections import defaultdict
from urllib.parse import urljoin

import pytest
from lxml import html as lxml_html

from etl.crawl.catalogue import build_catalogue
from etl.encoding import decode_body
from etl.parse.attachment import extract_text, find_attachment_links, sniff_media_type
from etl.sample_site import corpus, documents
from etl.sample_site.site import (
    OFFSITE_URL,
    OLD_STYLE_PATH,
    Site,
    load_channel_config,
    served_channel_config,
)

BASE = "https://www.qingdao.gov.cn"
SMHD_DETAIL = re.compile(r"^/ywdt/zwzl/smhd/smhd(\d{4})/([a-z]+)_(\d+)/(\d{6})/t(\d{8})_(\d{7})\.shtml$")
OLD_DETAIL = re.compile(r"^/n172/n24624151/n24627255/n(\d{8})/(\d{18})\.html$")


@pytest.fixture(scope="module")
def site() -> Site:
    return Site.build()


@pytest.fixture(scope="module")
def truth() -> dict:
    return corpus.derive_ground_truth()


def _tree(page):
    text, _ = decode_body(page.body, page.content_type)
    return lxml_html.fromstring(text)


def _entries(page) -> list[tuple[str, str, str]]:
    """(href, link text, date) of the list entries of a list page."""
    tree = _tree(page)
    return [(a.get("href"), a.text_content(), li.findtext("span"))
            for li in tree.xpath('//*[@id="listChangeDiv"]//li') for a in li.findall("a")]


def _walk(site: Site, channel_key: str, folder: str | None = None) -> list[str]:
    """Every detail path reached by following a list's pager from its first page, in order."""
    paths, index = [], 0
    while (page := site.list_page(channel_key, index, folder)) is not None:
        base = BASE + site.list_url_path(channel_key, index, folder)
        paths += [urljoin(base, href).removeprefix(BASE) for href, _, _ in _entries(page)]
        index += 1
    return paths


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


# --------------------------------------------------------------------------- channels


def test_watched_channels_are_unique_cover_every_tree_and_follow_the_catalogue():
    watched = load_channel_config()
    assert len({c.key for c in watched}) == len(watched)
    assert served_channel_config() == watched
    paths = [c.list_path for c in watched]
    for prefix in ("/zwgk/xxgk/", "/zwgk/zdgk/ghjh/jhmb/", "/zwgk/zdgk/ghjh/jhwcqk/", "/zwgk/zdgk/fgwj/zcwj/szfgw/",
                   "/ywdt/zwzl/smhd/smhd", "/n172/"):
        assert any(p.startswith(prefix) for p in paths), prefix
    catalogue = {e.channel.list_path: e for e in build_catalogue(first_year=2019, last_year=2024)}
    for ch in watched:
        if ch.key == "n172-zwgk":  # the pre-2020 site is no catalogue tree (CONTRACT.md 1.6)
            assert ch.department is None and ch.kind == "plans"
            continue
        entry = catalogue[ch.list_path]
        cat = entry.channel
        assert (ch.department, ch.department_code, ch.column) == (cat.department, cat.department_code, cat.column)
        if entry.tree != "xxgk":  # municipal-tree keys follow the catalogue (older xxgk keys keep their names)
            assert ch.key == cat.key
    keys = {c.key for c in watched}
    assert {"zdgk-jhmb", "zdgk-jhwcqk", "zdgk-szfgw", "zdgk-szfgw-2022", "smhd-2022", "smhd-2023", "smhd-2024",
            "n172-zwgk"} <= keys


def test_plan_channels_span_several_list_pages_and_the_pager_reaches_every_notice(site):
    multi = [c.key for c in site.channels if c.kind == "plans" and site.list_page_count(c.key) >= 2]
    assert len(multi) >= 6, multi
    for ch in site.channels:
        if site.folders(ch.key):
            continue  # a year page of folders, walked below
        walked = [p for p in _walk(site, ch.key) if p not in (OFFSITE_URL, OLD_STYLE_PATH)]
        assert walked == [n.path for n in site.notices(ch.key)], ch.key
        assert site.list_page(ch.key, site.list_page_count(ch.key)) is None


def test_municipal_trees_use_their_own_paths_and_name_the_department_on_the_page(site):
    for key, shape in (("zdgk-jhmb", r"^/zwgk/zdgk/ghjh/jhmb/\d{6}/t\d{8}_\d{7}\.shtml$"),
                       ("zdgk-jhwcqk", r"^/zwgk/zdgk/ghjh/jhwcqk/\d{6}/t\d{8}_\d{7}\.shtml$"),
                       ("zdgk-szfgw", r"^/zwgk/zdgk/fgwj/zcwj/szfgw/\d{6}/t\d{8}_\d{7}\.shtml$"),
                       ("zdgk-szfgw-2022", r"^/zwgk/zdgk/fgwj/zcwj/szfgw/2022/\d{6}/t2022\d{4}_\d{7}\.shtml$")):
        notices = site.notices(key)
        assert notices and all(re.match(shape, n.path) for n in notices), key
    gyxx = site.notice_by_doc_key("gyxx-2022")
    tree = _tree(gyxx.page())
    assert tree.xpath('//meta[@name="ContentSource"]/@content') == ["青岛市工业和信息化局"]
    assert tree.xpath('//meta[@name="ColumnName"]/@content') == ["计划目标"]
    # szfgw: the column itself and its year folder are separate lists
    root = {p for p in _walk(site, "zdgk-szfgw")}
    year = {p for p in _walk(site, "zdgk-szfgw-2022")}
    assert root and year and not root & year
    assert site.notice_by_doc_key("czj-2023").path in root and site.notice_by_doc_key("czj-2022").path in year
    assert site.resolve("/zwgk/zdgk/fgwj/zcwj/szfgw/2022/index.shtml").kind == "list"
    assert site.resolve("/zwgk/zdgk/fgwj/zcwj/szfgw/2021/index.shtml") is None


# --------------------------------------------------------------------------- smhd


def test_smhd_year_page_lists_department_folders_not_documents(site):
    for key in ("smhd-2022", "smhd-2023", "smhd-2024"):
        folders = site.folders(key)
        assert len(folders) >= 2
        assert site.list_page_count(key) == 1 and site.list_page(key, 1) is None
        entries = _entries(site.list_page(key, 0))
        assert sorted(href for href, _, _ in entries) == sorted(f"./{f}/index.shtml" for f in folders)
        for href, text, day in entries:
            slug = href.split("/")[1].split("_")[0]
            assert text == {"nync": "青岛市农业农村局", "gaj": "青岛市公安局", "kjj": "青岛市科学技术局",
                            "zygh": "青岛市自然资源和规划局", "jyj": "青岛市教育局"}[slug]
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", day)
        base = site.channel(key).list_path
        for folder in folders:
            assert site.resolve(f"{base}{folder}/") is site.resolve(f"{base}{folder}/index.shtml")
            walked = _walk(site, key, folder)
            assert walked and all(p.startswith(f"{base}{folder}/") for p in walked)
            for path in walked:
                m = SMHD_DETAIL.match(path)
                assert m and m.group(1) == key[-4:] and f"{m.group(2)}_{m.group(3)}" == folder, path
                assert site.resolve(path).kind == "detail"
        assert site.resolve(f"{base}nope_1/index.shtml") is None
    # a folder with its own pager
    paged = [(k, f) for k in ("smhd-2022", "smhd-2023", "smhd-2024") for f in site.folders(k)
             if site.list_page_count(k, f) >= 2]
    assert paged
    key, folder = paged[0]
    assert site.resolve(site.list_url_path(key, 1, folder)).kind == "list"
    assert site.list_url_path(key, 1, folder).endswith(f"/{folder}/index_1.shtml")


def test_smhd_plans_are_in_their_departments_folders(site):
    for key, folder in (("nync-2022", "nync_4471"), ("nync-2023", "nync_5208"), ("nync-2024", "nync_6135"),
                        ("gaj-2022", "gaj_4468"), ("zygh-2024", "zygh_6139")):
        n = site.notice_by_doc_key(key)
        assert n.folder == folder and f"/{folder}/" in n.path
        assert n.path in _walk(site, n.channel.key, folder)


# --------------------------------------------------------------------------- the pre-2020 site


def test_old_site_lists_page_from_index_2_html_and_serves_zoom2_pages(site):
    ch = site.channel("n172-zwgk")
    assert site.list_page_count(ch.key) >= 2
    assert site.list_url_path(ch.key, 0) == "/n172/n24624151/n24627255/index.html"
    assert site.list_url_path(ch.key, 1) == "/n172/n24624151/n24627255/index_2.html"
    assert site.resolve("/n172/n24624151/n24627255/index.html") is site.list_page(ch.key, 0)
    assert site.resolve("/n172/n24624151/n24627255/index_2.html") is site.list_page(ch.key, 1)
    assert site.resolve("/n172/n24624151/n24627255/index_1.html") is None
    assert site.resolve("/n172/n24624151/n24627255/index.shtml") is None
    first = _tree(site.list_page(ch.key, 0))
    assert first.xpath('//div[@class="fenye"]/a[text()="下一页"]/@href') == ["index_2.html"]
    paths = _walk(site, ch.key)
    assert len(paths) == len(site.notices(ch.key))
    years = set()
    for path in paths:
        m = OLD_DETAIL.match(path)
        assert m, path
        n = site.notice(int(m.group(2)))
        page = site.resolve(path)
        assert page.charset == "gb2312" and page.kind == "detail"
        zoom = _tree(page).get_element_by_id("Zoom2")
        assert [p.text_content() for p in zoom.findall("p")] == n.body
        years.add(n.published.year)
        assert n.published.year <= 2019
    plans = {n.doc_key for n in site.notices(ch.key) if n.doc_key}
    assert plans == {"kjj-2018", "hyfz-2019"}
    with pytest.raises(ValueError, match="pre-2020"):
        site.publish(ch.key, 1)


# --------------------------------------------------------------------------- attachments


def test_attachment_only_plans_link_their_file_beside_the_page(site):
    kinds = {}
    for a in site.attachments():
        n = next(x for x in site.notices() if x.attachment is a)
        kinds[a.kind] = n.doc_key
        page_dir = n.path.rsplit("/", 1)[0]
        assert re.fullmatch(rf"{re.escape(page_dir)}/P0{n.published:%Y%m%d}\d{{12}}\.(pdf|docx)", a.path)
        links = find_attachment_links(n.page().body, BASE + n.path, n.page().charset)
        assert [(lk.url, lk.label) for lk in links] == [(BASE + a.path, a.link_text)]
        assert a.link_text == f"{a.title}.{a.path.rsplit('.', 1)[1]}" and a.title.startswith("青岛市")
        zoom = _tree(n.page()).get_element_by_id("zoom").text_content()
        assert f"现将《{a.title}》印发给你们，请结合实际认真贯彻落实。" in zoom
        assert site.resolve(a.path) is a.page and a.page.kind == "attachment"
        assert a.page.content_type == a.media_type == sniff_media_type(a.page.body)
    assert set(kinds) == {"pdf", "docx", "scanned"}
    assert site.attachments()[0].page.content_type in (documents.PDF_MEDIA_TYPE, documents.DOCX_MEDIA_TYPE)


def test_attachment_bytes_are_the_same_in_every_build(site):
    other = Site.build()
    mine = {a.path: (a.page.body, a.page.etag) for a in site.attachments()}
    theirs = {a.path: (a.page.body, a.page.etag) for a in other.attachments()}
    assert mine == theirs and len(mine) == 3
    # Nothing in the files depends on when they were made (two builds within a second would agree
    # even with a clock in them, so look for one).
    today = dt.datetime.now()
    for a in site.attachments():
        body = a.page.body
        assert today.strftime("%Y%m%d").encode() not in body
        if a.kind == "docx":
            with zipfile.ZipFile(io.BytesIO(body)) as zf:
                assert {i.date_time for i in zf.infolist()} == {(2020, 1, 1, 0, 0, 0)}
                assert str(today.year).encode() not in zf.read("docProps/core.xml")


def test_scanned_plan_has_no_text_layer_and_the_ground_truth_says_so(site, truth):
    doc = next(d for d in truth["documents"] if d["key"] == "mzj-2023")
    assert doc["attachment"]["content"] == "scanned" and doc["items"] == [] and not doc["has_plan_items"]
    a = site.notice_by_doc_key("mzj-2023").attachment
    got = extract_text(a.page.body, filename=a.filename)
    assert got.outcome == "no_text_layer" and got.pages >= 1
    assert b"/Image" in a.page.body  # a picture, not an empty page


def test_generators_reject_nothing_and_round_trip_text():
    lines = ["青岛市测试局2024年工作要点", "一、第一部分", "1.新建城市书房20处。（责任单位：市测试局）"]
    pdf = extract_text(documents.make_pdf(lines))
    docx = extract_text(documents.make_docx(lines))
    assert pdf.ok and docx.ok
    assert _squash(pdf.text) == _squash("".join(lines)) and docx.text.splitlines() == lines
    assert documents.make_pdf(lines) == documents.make_pdf(lines)
    assert documents.make_docx(lines) == documents.make_docx(lines)


# --------------------------------------------------------------------------- ground truth


def test_every_item_is_in_the_served_page_or_attachment_text(site, truth):
    for doc in truth["documents"]:
        n = site.notice_by_doc_key(doc["key"])
        if doc["attachment"]:
            a = site.resolve(doc["attachment"]["url"])
            got = extract_text(a.body, filename=doc["attachment"]["filename"])
            if doc["attachment"]["content"] == "scanned":
                assert got.outcome == "no_text_layer"
                continue
            assert got.ok, doc["key"]
            text = _squash(got.text)
        else:
            tree = _tree(n.page())
            body = tree.xpath('//*[@id="zoom" or @id="Zoom2"]')[0]
            text = _squash(body.text_content())
        if not doc["synthetic"]:
            continue  # the seed is served as found (Traditional, pinyin); test_parse_corpus reads it
        for item in doc["items"]:
            assert _squash(item["raw_text"]) in text, item["key"]
            for t in item["targets"]:
                assert _squash(t["span"]) in text, (item["key"], t["span"])


def test_ground_truth_urls_resolve_and_name_their_documents(site, truth):
    for doc in truth["documents"]:
        assert doc["urls"] == [n.path for n in site.notices_by_doc_key(doc["key"])]
        for url in doc["urls"]:
            page = site.resolve(url)
            assert page is not None and page.kind == "detail", url
        if doc["attachment"]:
            page = site.resolve(doc["attachment"]["url"])
            assert page.kind == "attachment" and page.content_type == doc["attachment"]["media_type"]


def test_the_double_posted_plan_is_one_document_under_two_ids(site, truth):
    assert len(truth["double_posted"]) == 1
    first, second = truth["double_posted"][0]
    assert first.startswith("/zwgk/xxgk/gaj/gkml/ghjh/") and second.startswith("/zwgk/zdgk/ghjh/jhmb/")
    a, b = site.notices_by_doc_key("gaj-2024")
    assert (a.path, b.path) == (first, second) and a.primary and not b.primary
    assert a.notice_id != b.notice_id and a.title == b.title and a.body == b.body
    assert 0 < (b.published - a.published).days <= 1
    ta, tb = _tree(a.page()), _tree(b.page())
    assert ta.get_element_by_id("zoom").text_content() == tb.get_element_by_id("zoom").text_content()
    assert ta.xpath('//meta[@name="ColumnName"]/@content') != tb.xpath('//meta[@name="ColumnName"]/@content')
    assert site.notice_by_doc_key("gaj-2024") is a
    assert b.path in _walk(site, "zdgk-jhmb") and a.path in _walk(site, "gaj-ghjh")


def test_twelve_departments_have_plans_over_three_years_spread_over_the_trees(truth):
    years: dict[str, set[int]] = defaultdict(set)
    trees: dict[str, set[str]] = defaultdict(set)
    for d in truth["documents"]:
        if d["doc_type"] == "work_plan" and d["has_plan_items"]:
            years[d["department"]].add(d["plan_year"])
            trees[d["channel"].split("-")[0] if d["channel"].startswith(("smhd", "zdgk", "n172")) else "xxgk"].add(
                d["department"])
    assert len([dep for dep, ys in years.items() if len(ys) >= 3]) >= 12
    # Only crawling every tree finds them all: some departments publish nowhere but the municipal
    # trees and the yearly folders.
    xxgk_only = trees["xxgk"]
    assert len(set(years) - xxgk_only) >= 2, "every department would be found in its own column"
    assert {"zdgk", "smhd", "n172"} <= set(trees)
    summaries = [d for d in truth["documents"] if d["channel"] == "zdgk-jhwcqk"]
    assert summaries and all(d["doc_type"] == "work_summary" and not d["has_plan_items"] for d in summaries)


def test_the_site_stays_small_enough_for_the_demo(site):
    assert len(site.notices()) <= 220
    assert len(site.channels) >= 20
