"""The whole pipeline against the sample site over HTTP, on SQLite and PostgreSQL.

Checked against the site's own ground truth: every notice it lists lands in the warehouse, every
plan has the items the corpus says, the year-over-year links agree with the corpus' lineage, and
a second run changes nothing.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from etl import warehouse
from etl.crawl import load_channels
from etl.pipeline import run_pipeline
from etl.settings import Settings
from tests.fixtures.warehouse import dump_warehouse

pytestmark = pytest.mark.integration
HOST = "www.qingdao.gov.cn"


def _settings(site, warehouse_url, data_dir) -> Settings:
    return Settings.from_env({"QDP_SITE_URL": site.url, "QDP_DATA_DIR": str(data_dir),
                              "QDP_WAREHOUSE_URL": warehouse_url, "QDP_RATE_LIMIT": "0"})


@pytest.fixture
def first_run(sample_site, warehouse_url, tmp_path):
    settings = _settings(sample_site, warehouse_url, tmp_path / "data")
    reports = {r.stage: r for r in run_pipeline(settings)}
    return settings, reports


def test_every_listed_notice_and_every_plan_item_is_loaded(first_run, sample_site):
    settings, reports = first_run
    site = sample_site.site
    truth = site.ground_truth()
    engine = warehouse.get_engine(settings.warehouse_url)
    with engine.connect() as conn:
        loaded = {(h, n): d for h, n, d in conn.execute(sa.text(
            "SELECT host, notice_id, doc_type FROM notice WHERE is_current"))}
        items = dict(conn.execute(sa.text(
            "SELECT notice_id, COUNT(*) FROM v_plan_items GROUP BY notice_id")).all())
        from_documents = dict(conn.execute(sa.text(
            "SELECT r.notice_id, COUNT(*) FROM plan_item i JOIN notice r ON r.notice_rev_id = i.notice_rev_id"
            " JOIN attachment a ON a.attachment_id = i.source_attachment_id WHERE r.is_current"
            " GROUP BY r.notice_id")).all())
        urls = {}
        for nid, url in conn.execute(sa.text("SELECT notice_id, url FROM notice_url")):
            urls.setdefault(nid, set()).add(url.removeprefix(f"https://{HOST}"))
        held_back = dict(conn.execute(sa.text(
            "SELECT record_key, failed_check FROM quarantine WHERE record_type = 'notice'")).all())
        runs = conn.execute(sa.text("SELECT status FROM etl_run")).scalars().all()
    # One notice per document: the second posting of a document posted twice is folded into the first.
    assert set(loaded) == {(HOST, i) for i in site.loaded_notice_ids()}
    assert {loaded[(HOST, t["notice_id"])] for t in truth if t["doc_type"] == "notice"} == {"notice"}
    corpus = site.corpus_truth()
    assert corpus["double_posted"], "the sample site posts one plan twice"
    for doc in corpus["documents"]:
        notice_id = site.notice_by_doc_key(doc["key"]).notice_id
        expected_items = sum(doc["items_per_section"]) if doc["has_plan_items"] else 0
        attachment = doc.get("attachment")
        if attachment and attachment["content"] == "scanned":
            # A plan whose only text is a scan is held back with the reason, never loaded as empty.
            assert (HOST, notice_id) not in loaded and expected_items == 0, doc["key"]
            assert any(str(notice_id) in k and c == "plan_attachment_unread" for k, c in held_back.items())
            continue
        assert loaded[(HOST, notice_id)] == doc["doc_type"], doc["key"]
        assert items.get(notice_id, 0) == expected_items, doc["key"]
        # Items read from an attachment point at it; items read from the page do not.
        assert from_documents.get(notice_id, 0) == (expected_items if attachment else 0), doc["key"]
        assert urls[notice_id] == set(doc["urls"]), doc["key"]
    non_plan_ids = {t["notice_id"] for t in truth if t["doc_type"] == "notice"}
    assert not non_plan_ids & set(items), "an ordinary notice yielded plan items"
    scans = sum(1 for d in corpus["documents"] if (d.get("attachment") or {}).get("content") == "scanned")
    assert reports["validate"].counts["notices_quarantined"] == scans == 1
    assert reports["load"].counts["notices_new"] == len(site.loaded_notice_ids())
    assert reports["load"].counts["notices_folded"] == len(corpus["double_posted"])
    assert runs == ["success"]
    with engine.connect() as conn:  # the bar: work plans of 12 departments over 3 years
        years = conn.execute(sa.text(
            "SELECT department, COUNT(DISTINCT plan_year) FROM v_plan_items WHERE doc_type = 'work_plan'"
            " GROUP BY department")).all()
    assert sum(1 for _, n in years if n >= 3) >= 12, years


def test_a_second_run_changes_nothing(first_run):
    settings, _ = first_run
    engine = warehouse.get_engine(settings.warehouse_url)
    before = dump_warehouse(engine)
    reports = {r.stage: r for r in run_pipeline(settings)}
    assert dump_warehouse(engine) == before
    assert reports["crawl"].counts["detail_fetched"] == 0
    # An idle watch run costs one request per channel, folder lists (smhd years) included.
    assert reports["crawl"].counts["requests"] == len(load_channels(settings))
    assert reports["load"].counts["notices_new"] == reports["load"].counts["notices_revised"] == 0
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM etl_run WHERE status = 'success'")).scalar_one() == 2


def test_year_over_year_links_agree_with_the_corpus_lineage(first_run, sample_site):
    """The compare stage against the corpus' ground truth (continued / revised / new / dropped)."""
    settings, _ = first_run
    site = sample_site.site
    uid_of = {}
    expected: dict[tuple[str | None, str | None], str] = {}
    for doc in sample_site.site.corpus_truth()["documents"]:
        nid = site.notice_by_doc_key(doc["key"]).notice_id
        for it in doc["items"]:
            uid_of[it["key"]] = f"{HOST}:{nid}:{it['section']}:{it['ordinal']}"
    for doc in sample_site.site.corpus_truth()["documents"]:
        if doc["doc_type"] != "work_plan" or not doc.get("previous_plan"):
            continue
        for it in doc["items"]:
            prev = uid_of.get(it["previous"]) if it.get("previous") else None
            expected[(uid_of[it["key"]], prev)] = it["status"]
        for key in doc["dropped"]:
            expected[(None, uid_of[key])] = "dropped"
    engine = warehouse.get_engine(settings.warehouse_url)
    with engine.connect() as conn:
        actual = {(r.item_uid, r.previous_item_uid): r.status for r in conn.execute(sa.text(
            "SELECT item_uid, previous_item_uid, status FROM plan_item_link"))}
    agree = sum(1 for k, v in expected.items() if actual.get(k) == v)
    assert len(expected) > 80
    # Every link right but at most 5%: a wrong pairing shows up twice (a false new + a false dropped).
    assert agree / len(expected) >= 0.95, sorted(set(expected.items()) ^ set(actual.items()))
