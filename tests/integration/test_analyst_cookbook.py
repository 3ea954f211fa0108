"""The analyst layer on the sample corpus, on SQLite and PostgreSQL: the cookbook of
docs/warehouse.md returns the expected rows, ``qdp report --json`` carries the same content, and
the HTML report renders in headless Chromium with its charts drawn and no request leaving the machine.

The corpus is loaded the way production loads it: the pipeline crawls the sample site over HTTP,
then a notice is revised on the site and a second (full) run picks the revision up.
"""

from __future__ import annotations

import contextlib
import json
import re
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from etl import warehouse
from etl.cli import main
from etl.pipeline import run_pipeline
from etl.sample_site.server import start
from etl.settings import Settings
from etl.warehouse import runs
from tests.fixtures.sample_site import WATCHED
from tests.fixtures.warehouse import postgres_schema_url

SERVED: dict[str, int] = {}  # what the corpus fixture's sample site served

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("analyst_corpus")]
REPO = Path(__file__).resolve().parents[2]
COOKBOOK = re.compile(r"<!-- cookbook:(\w+) -->\s*```sql\n(.*?)```", re.S)
JYJ = "青岛市教育局"
WHLY = "青岛市文化和旅游局"  # its 2024 plan gets revised


def cookbook() -> dict[str, str]:
    return dict(COOKBOOK.findall((REPO / "docs" / "warehouse.md").read_text(encoding="utf-8")))


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def corpus(request, tmp_path_factory):
    """Settings of a warehouse holding the sample corpus after two runs (one notice revised)."""
    data = tmp_path_factory.mktemp(f"corpus-{request.param}")
    with contextlib.ExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite:///{data / 'warehouse.sqlite'}"
            stack.callback(warehouse.dispose_engine, url)
        else:
            url = stack.enter_context(postgres_schema_url())
        with start(0, channels=WATCHED) as site:
            SERVED["notices"] = len(site.site.notices())
            SERVED["loaded"] = len(site.site.loaded_notice_ids())  # one per document, the scan held back
            SERVED["scan"] = site.site.notice_by_doc_key("mzj-2023").notice_id
            settings = Settings.from_env({"QDP_SITE_URL": site.url, "QDP_DATA_DIR": str(data),
                                          "QDP_WAREHOUSE_URL": url, "QDP_RATE_LIMIT": "0"})
            run_pipeline(settings)
            engine = warehouse.get_engine(url)
            with engine.connect() as conn:
                revised = conn.execute(sa.text(
                    "SELECT notice_id FROM v_plan_items WHERE department = :d AND plan_year = 2024 "
                    "AND doc_type = 'work_plan'"), {"d": WHLY}).scalars().first()
            site.site.revise(revised)  # a dated correction paragraph, as the real site does
            run_pipeline(settings, full=True)
        # A page the parser gave up on, quarantined as the parse stage does (the corpus has none).
        last = runs.start_run(engine)
        runs.record_quarantine(engine, last, [{
            "record_type": "notice", "record_key": "www.qingdao.gov.cn/9999999", "check": "parse_error",
            "reason": "ValueError: no body", "values": {"url": "https://www.qingdao.gov.cn/x.shtml"}}])
        runs.finish_run(engine, last, status="failed", reports=[])
        yield settings, revised



def _run(settings: Settings, name: str) -> list[dict]:
    engine = warehouse.get_engine(settings.warehouse_url)
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.text(cookbook()[name].strip().rstrip(";")))]


def test_the_cookbook_has_nine_questions():
    assert list(cookbook()) == ["target_changes", "new_items", "counts_per_department_year", "items_on_topic",
                                "lead_vs_partner", "recent_notices", "revision_history", "quarantine",
                                "run_history"]


def test_cookbook_target_changes_and_new_items(corpus):
    settings, _ = corpus
    moves = _run(settings, "target_changes")
    assert len(moves) == 15
    lowered = [(m["plan_year"], m["object"], m["previous_value"], m["value"]) for m in moves
               if m["movement"] == "lowered"]
    assert lowered == [(2024, "学位", 9000.0, 6000.0), (2024, "幼儿园", 30.0, 20.0)]
    new = _run(settings, "new_items")
    assert [(r["plan_year"], r["headline"]) for r in new] == [
        (2022, "深入落实“双减”工作要求。"), (2023, "推进托幼一体化发展。"), (2023, "加强学生心理健康工作。"),
        (2024, "支持驻青高校高质量发展。"), (2024, "提升师生数字素养。"), (2024, "加强教育经费保障。")]
    assert all(r["url"].startswith("https://www.qingdao.gov.cn/") for r in new)


def test_cookbook_counts_topic_and_units(corpus):
    settings, _ = corpus
    counts = {(r["department"], r["plan_year"], r["doc_type"]): r["items"]
              for r in _run(settings, "counts_per_department_year")}
    assert counts[("青岛市科学技术局", 2023, "action_plan")] == 12
    assert counts[("青岛市科学技术局", 2023, "work_plan")] == 14
    assert counts[(JYJ, 2021, "work_plan")] == 19 and counts[(JYJ, 2024, "work_plan")] == 15
    topic = _run(settings, "items_on_topic")
    wjw = "青岛市卫生健康委员会"
    assert [(r["department"], r["plan_year"]) for r in topic] == [(wjw, 2022), (wjw, 2023), (wjw, 2024), (JYJ, 2023),
                                                                   (JYJ, 2024)]
    roles = [(r["department"], r["role"], r["items"]) for r in _run(settings, "lead_vs_partner")]
    assert roles == [(JYJ, "lead", 30), ("青岛市科学技术局", "partner", 1), ("青岛市财政局", "partner", 1)], roles


def test_cookbook_recent_notices_revisions_quarantine_runs(corpus):
    settings, revised = corpus
    recent = _run(settings, "recent_notices")
    assert [str(r["published"]) for r in recent] == ["2024-11-21", "2024-11-20", "2024-11-11", "2024-11-09",
                                                     "2024-11-02"], \
        [(str(r["published"]), r["title"]) for r in recent]
    revisions = _run(settings, "revision_history")
    assert [(r["notice_id"], r["revision"], r["previous_revision"]) for r in revisions] == [(revised, 2, 1)]
    assert bool(revisions[0]["content_changed"]) and revisions[0]["item_count"] == 12
    quarantine = _run(settings, "quarantine")
    assert [(q["record_type"], q["record_key"], q["failed_check"]) for q in quarantine] == [
        ("notice", "www.qingdao.gov.cn/9999999", "parse_error"),
        ("notice", f"www.qingdao.gov.cn/{SERVED['scan']}", "plan_attachment_unread")]
    history = _run(settings, "run_history")
    assert [(h["run_rank"], h["status"]) for h in history] == [(1, "failed"), (2, "success"), (3, "success")]
    # Every page the sample site serves is fetched once; one revision per document is loaded.
    assert history[2]["pages_fetched"] == SERVED["notices"] and history[2]["revisions_loaded"] == SERVED["loaded"]
    assert history[1]["revisions_loaded"] == 1 and history[0]["records_quarantined"] == 1


def test_report_json_has_the_same_content_and_resolves_aliases(corpus, capsys, monkeypatch):
    settings, _ = corpus
    monkeypatch.setenv("QDP_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("QDP_WAREHOUSE_URL", settings.warehouse_url)
    assert main(["report", "--json", "--department", "市教育局"]) == 0
    report = json.loads(capsys.readouterr().out)
    (dept,) = report["departments"]
    assert dept["department"] == JYJ
    assert len(dept["target_moves"]) == 15  # all of them, the two decreases included
    assert {m["movement"] for m in dept["target_moves"]} == {"raised", "lowered"}
    assert [y["plan_year"] for y in dept["years"]] == [2021, 2022, 2023, 2024]
    # 2024: one task has only a candidate predecessor (possible), so it is neither new nor dropped.
    latest = dept["years"][-1]
    assert (latest["new"], latest["dropped"], latest["possible"]) == (2, 2, 1)
    assert len(dept["new_items"]) == 5 and len(dept["dropped_items"]) == 9
    series = {(t["object"], t["unit"]): [p["value"] for p in t["points"]] for t in dept["target_trends"]}
    assert series[("幼儿园", "所")] == [20.0, 25.0, 30.0, 20.0]
    assert report["run_health"]["runs"][0]["status"] == "failed"

    assert main(["report", "--department", "市教育局"]) == 0
    text = capsys.readouterr().out
    assert "numeric targets that moved (15)" in text and "… and 3 more" in text

    with pytest.raises(SystemExit, match="unknown department '市魔法局'"):
        main(["report", "--department", "市魔法局"])

    page = settings.data_dir / "one-department.html"
    assert main(["report", "--html", str(page), "--department", "市文旅局"]) == 0
    text = page.read_text(encoding="utf-8")
    assert "<h2>青岛市文化和旅游局</h2>" in text and "<h2>青岛市教育局</h2>" not in text


def test_every_run_writes_the_html_report(corpus):
    settings, _ = corpus
    reports = settings.data_dir / "reports"
    assert (reports / "latest.html").stat().st_size > 100_000
    assert len(list(reports.glob("2*.html"))) == 2  # one per pipeline run


def test_html_report_renders_offline_in_chromium(corpus, chromium, recording_proxy, tmp_path):
    settings, _ = corpus
    page = settings.data_dir / "reports" / "latest.html"
    started = time.perf_counter()
    dom = chromium(page, proxy=recording_proxy)
    seconds = time.perf_counter() - started
    charts = len(re.findall(r'class="chart"', page.read_text(encoding="utf-8")))
    assert charts >= 7  # run health + two per department
    assert dom.count('data-rendered="ok"') == charts, "a chart did not draw"
    assert 'data-rendered="error"' not in dom and 'data-charts="done"' in dom
    assert dom.count("<svg") >= charts and "<text" in dom
    assert "青岛市教育局" in dom and "推进托幼一体化发展" in dom
    assert recording_proxy.page_requests() == [], f"the page made requests: {recording_proxy.requests}"
    print(f"report {page.stat().st_size} bytes, rendered in {seconds:.1f}s")


def test_the_offline_check_can_fail(chromium, recording_proxy, tmp_path):
    """Control: a page that does load something remote is caught by the proxy."""
    page = tmp_path / "leaky.html"
    page.write_text('<html><body><img src="http://example.invalid/pixel.png"></body></html>', encoding="utf-8")
    chromium(page, proxy=recording_proxy)
    assert any("example.invalid" in r for r in recording_proxy.page_requests())
