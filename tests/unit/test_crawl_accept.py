"""The acceptance gate (etl/crawl/accept.py) on the sample site's pages and on what faulty
servers send instead: every real page passes, every impostor is rejected with its reason."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from etl.crawl.accept import SignatureError, check_detail, check_list, load_signatures, parse_signatures
from etl.sample_site.site import Site
from etl.settings import Settings
from tests.fixtures.fault_proxy import TEMPLATE_BODIES

SIG = load_signatures()


@pytest.fixture(scope="module")
def site() -> Site:
    return Site.build()


def test_every_page_of_the_sample_site_is_accepted(site: Site) -> None:
    for n in site.notices():
        page = n.page()
        verdict = check_detail(page.body, page.charset, SIG, {"Content-Length": str(len(page.body))})
        assert verdict.accepted, (n.path, verdict)
    for ch in site.channels:
        for i in range(site.list_page_count(ch.key)):
            page = site.list_page(ch.key, i)
            assert check_list(page.body, page.charset, SIG).accepted


@pytest.mark.parametrize(("kind", "code"), [
    ("error_200", "template:busy"), ("error_200_frame", "template:busy"), ("waf_200", "template:anti_bot"),
    ("notfound_200", "template:not_found"), ("furniture_200", "no_title"),
])
def test_templates_are_rejected_with_their_reason(kind: str, code: str) -> None:
    verdict = check_detail(TEMPLATE_BODIES[kind], "utf-8", SIG)
    assert not verdict.accepted and verdict.code == code and verdict.reason


def test_truncated_garbage_and_short_bodies_are_rejected(site: Site) -> None:
    body = site.notices()[0].page().body
    cut = body[: len(body) * 2 // 3]
    assert check_detail(cut, None, SIG).code == "truncated"  # consistent length, no closing marker
    assert check_detail(body[:-10], None, SIG, {"Content-Length": str(len(body))}).code == "truncated"
    assert check_detail(random.Random(1).randbytes(4096), None, SIG).code == "not_html"
    assert check_detail(b"<html><body>ok</body></html>", None, SIG).code == "too_small"
    # gzip-encoded answers: Content-Length counts the encoded bytes, so it is not compared
    assert check_detail(body, None, SIG, {"Content-Length": "10", "Content-Encoding": "gzip"}).accepted


def test_a_page_without_main_text_is_rejected_naming_the_selectors(site: Site) -> None:
    body = site.notices()[0].page().body.replace(b'id="zoom"', b'id="content"').replace(b"TRS_Editor", b"editor")
    verdict = check_detail(body, None, SIG)
    assert verdict.code == "no_main_text" and verdict.structural and "@id='zoom'" in verdict.selector


def test_a_notice_quoting_an_error_phrase_is_not_a_template(site: Site) -> None:
    n = site.notices()[0]
    body = n.page().body.decode(n.page().charset if n.page().charset != "gb2312" else "gb18030")
    body = body.replace("</h1>", "</h1><p>系统繁忙时请稍后再试，页面不存在的请拨打12345。</p>", 1)
    assert check_detail(body.encode("utf-8"), "utf-8", SIG).accepted


def test_a_list_of_titles_quoting_an_error_phrase_is_a_list(site: Site) -> None:
    page = site.list_page("bgt-gzxx", 0)
    body = page.body.replace(b"</ul>", "<li>系统繁忙，请稍后再试的说明</li></ul>".encode(), 1)
    assert check_list(body, "utf-8", SIG).accepted
    assert not check_list(TEMPLATE_BODIES["error_200_frame"], "utf-8", SIG).accepted


def test_signatures_are_configurable_and_checked(tmp_path: Path) -> None:
    path = tmp_path / "sig.yaml"
    path.write_text(
        "closing_markers: ['</html>']\ntitle_selectors: ['//h1']\nmain_text_selectors: ['//article']\n"
        "templates:\n  - name: maintenance\n    title: ['维护中']\n", encoding="utf-8")
    sig = load_signatures(Settings(page_signatures_file=path))
    page = b"<html><head><title>" + "系统维护中".encode() + b"</title></head><body>" + b"x" * 600 + b"</body></html>"
    assert check_detail(page, "utf-8", sig).code == "template:maintenance"
    with pytest.raises(SignatureError, match="bad XPath"):
        parse_signatures({"closing_markers": ["</html>"], "title_selectors": ["//h1["], "main_text_selectors": ["//p"]})
    with pytest.raises(SignatureError, match="unknown field"):
        parse_signatures({"closing_markers": ["</html>"], "title_selectors": ["//h1"],
                          "main_text_selectors": ["//p"], "templates": [{"name": "x", "body": []}]})
    with pytest.raises(SignatureError, match="does not exist"):
        load_signatures(Settings(page_signatures_file=tmp_path / "missing.yaml"))
