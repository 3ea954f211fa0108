"""``qdp diff PREV CUR``: two plan pages compared directly, with the compare stage's matcher."""

from __future__ import annotations

import json
import re

import pytest

from etl.cli import main
from etl.compare.diff import DiffError, diff_pages
from etl.parse import parse_page
from etl.sample_site.corpus import derive_ground_truth
from etl.sample_site.site import Site

LIVE = "https://www.qingdao.gov.cn"


@pytest.fixture(scope="module")
def site():
    return Site.build()


@pytest.fixture(scope="module")
def truth():
    return {d["key"]: d for d in derive_ground_truth()["documents"]}


def _save(site, tmp_path, key):
    notice = site.notice_by_doc_key(key)
    path = tmp_path / f"{key}.html"
    path.write_bytes(notice.page().body)
    return path, LIVE + notice.path


def _expected(truth, prev_key, cur_key):
    """(item, previous item) -> status from the corpus, items named <section>.<ordinal>."""
    name = {it["key"]: f"{it['section']}.{it['ordinal']}" for k in (prev_key, cur_key) for it in truth[k]["items"]}
    out = {(name[it["key"]], name.get(it["previous"])): it["status"] for it in truth[cur_key]["items"]}
    out.update({(None, name[k]): "dropped" for k in truth[cur_key]["dropped"]})
    return out


@pytest.mark.parametrize(("prev_key", "cur_key"), [("jtys-2022", "jtys-2023"), ("jtys-2023", "jtys-2024"),
                                                   ("hyfz-2022", "hyfz-2024"), ("whly-2023", "whly-2024")])
def test_diff_json_agrees_with_the_corpus(site, truth, tmp_path, capsys, prev_key, cur_key):
    prev, prev_url = _save(site, tmp_path, prev_key)
    cur, cur_url = _save(site, tmp_path, cur_key)
    assert main(["diff", str(prev), str(cur), "--prev-url", prev_url, "--cur-url", cur_url, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["previous"]["plan_year"] < out["current"]["plan_year"] and out["notes"] == []
    for link in out["links"]:
        assert set(link) >= {"status", "score", "previous_headline", "headline", "previous_text", "text"}
        assert (link["score"] is None) == (link["status"] in ("new", "dropped"))
    got = {(lk["item"], lk["previous_item"]): lk["status"] for lk in out["links"]}
    expected = _expected(truth, prev_key, cur_key)
    # No wrong confirmed link; a corpus link may come out as "possible" (a candidate to check).
    for (item, prev_item), status in got.items():
        if status in ("continued", "revised"):
            assert expected.get((item, prev_item)) in ("continued", "revised"), (item, prev_item)
    agree = sum(1 for k, v in expected.items()
                if got.get(k) == v or (v == "revised" and got.get(k) == "possible"))
    assert agree >= len(expected) - 2, sorted(set(expected.items()) ^ set(got.items()))


def test_diff_text_output_for_people(site, tmp_path, capsys):
    prev, _ = _save(site, tmp_path, "jtys-2022")
    cur, _ = _save(site, tmp_path, "jtys-2023")
    assert main(["diff", str(prev), str(cur)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("市交通运输局2022年工作要点 [work_plan, 2022]  →  市交通运输局2023年工作要点 [work_plan, 2023]")
    assert re.search(r"^revised +\d+\.\d  1\.1 加快高速公路网络完善。  ←  1\.1 推进重点公路项目建设。$", out, re.M)
    assert re.search(r"^dropped +2\.2 推进城乡交通运输一体化。$", out, re.M)
    assert re.search(r"^continued 100\.0  2\.2 加强港口污染防治。$", out, re.M)


def test_diff_works_on_text_captures(site, tmp_path, capsys):
    """A plan pasted as text (no HTML) compares like its page."""
    pages = []
    for key in ("hyfz-2022", "hyfz-2024"):
        notice = site.notice_by_doc_key(key)
        parsed = parse_page(notice.page().body, url=LIVE + notice.path)
        path = tmp_path / f"{key}.txt"
        path.write_text(parsed.title + "\n" + parsed.body_text, encoding="utf-8")
        pages.append(path)
    assert main(["diff", str(pages[0]), str(pages[1]), "--json"]) == 0
    links = json.loads(capsys.readouterr().out)["links"]
    assert {(lk["item"], lk["previous_item"]) for lk in links if lk["status"] == "continued"} == {("3.1", "3.1")}
    assert ("2.2", "1.2") in {(lk["item"], lk["previous_item"]) for lk in links if lk["status"] == "revised"}


def test_unusual_pairs_are_compared_with_a_note(site, tmp_path, capsys):
    later, _ = _save(site, tmp_path, "jtys-2024")
    other, _ = _save(site, tmp_path, "kjj-2023-2025")
    assert main(["diff", str(later), str(other)]) == 0
    notes = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("note: ")]
    assert notes == ["note: the plans are from different departments: 青岛市交通运输局, 青岛市科学技术局",
                     "note: PREV (2024) is not earlier than CUR (2023)",
                     "note: CUR reads as action_plan: the compare stage only compares annual work plans"]


def test_a_page_without_plan_items_is_a_clear_error(site, tmp_path):
    notice = next(n for n in site.notices() if n.doc_type == "notice")
    other = tmp_path / "notice.html"
    other.write_bytes(notice.page().body)
    plan, _ = _save(site, tmp_path, "jtys-2022")
    with pytest.raises(SystemExit, match="previous page has no plan items"):
        main(["diff", str(other), str(plan)])
    with pytest.raises(SystemExit, match="no such file"):
        main(["diff", str(plan), str(tmp_path / "missing.html")])
    with pytest.raises(DiffError):
        diff_pages(plan.read_bytes(), b"")
