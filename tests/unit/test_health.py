"""Run health from stage reports alone (etl.health.assess_run): success, degraded, failed."""

from __future__ import annotations

import pytest

from etl.health import EXIT_CODES, PIPELINE_STAGES, assess_run
from etl.records import StageReport


def _later_stages() -> list[StageReport]:
    return [StageReport("parse", {"pages_parsed": 3}), StageReport("validate", {"notices_valid": 3}),
            StageReport("load", {"notices_new": 3}), StageReport("compare", {"links": 0}),
            StageReport("alert", {"sent": 0})]


def _crawl(channel_status=None, *, unreachable=False, **counts) -> StageReport:
    details = {}
    if channel_status is not None:
        details["channel_status"] = {k: {"status": s, "reason": r, "site_change": c}
                                     for k, (s, r, c) in channel_status.items()}
        details["site_unreachable"] = unreachable
    base = {"list_pages": 0, "failed": 0, "refused": 0, "detail_fetched": 0}
    return StageReport("crawl", {**base, **counts}, details=details)


def test_a_clean_run_is_success_with_exit_code_0():
    crawl = _crawl({"jyj": ("ok", None, None), "fgw": ("ok", None, None)}, list_pages=4,
                   channels_ok=2, channels_incomplete=0, channels_failed=0, pages_rejected=0)
    health = assess_run([crawl, *_later_stages()])
    assert (health.status, health.reasons, health.exit_code) == ("success", [], 0)
    assert set(health.channels) == {"jyj", "fgw"}


def test_one_failed_channel_among_good_ones_is_degraded_and_names_it():
    crawl = _crawl({"jyj": ("ok", None, None),
                    "fgw": ("failed", "list page 1: HTTP 503", None),
                    "kjj": ("incomplete", "list page 3 rejected", "ul.list-items li")},
                   list_pages=5, channels_ok=1, channels_failed=1, channels_incomplete=1)
    health = assess_run([crawl, *_later_stages()])
    assert health.status == "degraded" and health.exit_code == EXIT_CODES["degraded"] == 3
    text = " | ".join(health.reasons)
    assert "channel fgw failed: list page 1: HTTP 503" in text
    assert "channel kjj incomplete: list page 3 rejected (site change: ul.list-items li)" in text


def test_rejected_pages_and_unparseable_pages_and_undelivered_alerts_degrade():
    crawl = _crawl({"jyj": ("ok", None, None)}, list_pages=2, pages_rejected=2)
    reports = [crawl, *_later_stages()]
    reports[1].counts["parse_errors"] = 1
    reports[-1].counts["delivery_failed"] = 1
    health = assess_run(reports)
    assert health.status == "degraded"
    assert len(health.reasons) == 3, health.reasons


def test_site_unreachable_is_failed_and_says_so():
    crawl = _crawl({"jyj": ("failed", "connection refused", None)}, unreachable=True, failed=1)
    health = assess_run([crawl, *_later_stages()])
    assert health.status == "failed" and health.exit_code == 1
    assert health.reasons[0].startswith("site unreachable")
    assert not any("robots" in r for r in health.reasons)


def test_every_channel_failed_is_failed():
    crawl = _crawl({"jyj": ("failed", "HTTP 500", None), "fgw": ("failed", "HTTP 500", None)}, failed=2)
    health = assess_run([crawl, *_later_stages()])
    assert health.status == "failed"
    assert "no channel could be read (2 failed)" in health.reasons


def test_crawl_reported_per_channel_is_judged_as_a_whole():
    """The DAG maps crawl over channels: one report each; one dead channel of two is degraded."""
    ok = _crawl({"jyj": ("ok", None, None)}, list_pages=2)
    dead = _crawl({"fgw": ("failed", "HTTP 500", None)}, failed=1)
    assert assess_run([ok, dead, *_later_stages()]).status == "degraded"
    assert assess_run([dead, *_later_stages()]).status == "failed"


@pytest.mark.parametrize(("counts", "status"), [
    ({"list_pages": 0, "refused": 5}, "failed"),  # today's crawler, nothing listening: no list page
    ({"list_pages": 0, "failed": 5}, "failed"),
    ({"list_pages": 7, "failed": 1}, "degraded"),
    ({"list_pages": 7}, "success"),
    ({"list_pages": 7, "refused": 2}, "success"),  # off-site links in a list: policy, not failure
])
def test_a_crawl_report_without_channel_status_is_judged_from_counts(counts, status):
    assert assess_run([_crawl(None, **counts), *_later_stages()]).status == status


def test_a_crashed_or_missing_stage_is_failed():
    crawl = _crawl({"jyj": ("ok", None, None)}, list_pages=1)
    health = assess_run([crawl, StageReport("parse")], crashed={"validate": "RuntimeError: boom"})
    assert health.status == "failed"
    assert health.reasons == ["stage validate crashed: RuntimeError: boom", "not run: load, compare, alert"]
    health = assess_run([crawl, *_later_stages()[:-1]])
    assert health.status == "failed" and health.reasons == ["stage alert left no report"]


def test_reports_may_come_as_dicts_from_xcom():
    crawl = _crawl({"jyj": ("ok", None, None)}, list_pages=1).to_dict()
    health = assess_run([crawl, *(r.to_dict() for r in _later_stages())])
    assert health.status == "success"
    assert health.to_dict()["status"] == "success"
    assert set(PIPELINE_STAGES) == {"crawl", "parse", "validate", "load", "compare", "alert"}


def test_one_channel_task_without_answers_does_not_make_the_site_unreachable():
    """In the DAG each channel is its own crawl report: one unanswered channel degrades the run,
    it does not fail it, and merging the reports keeps every channel's status."""
    from etl.records import StageReport, merge_reports

    ok = StageReport("crawl", {"list_pages": 2, "channels_ok": 1},
                     details={"channel_status": {"a": {"status": "ok", "reason": None, "site_change": None}},
                              "site_unreachable": False})
    dead = StageReport("crawl", {"failed": 1, "channels_failed": 1},
                       details={"channel_status": {"b": {"status": "failed", "reason": "site unreachable",
                                                         "site_change": None}},
                                "site_unreachable": True})
    rest = [StageReport(s) for s in ("parse", "validate", "load", "compare", "alert")]
    health = assess_run([ok, dead, *rest])
    assert health.status == "degraded", health.reasons
    [crawl] = [r for r in merge_reports([ok, dead]) if r.stage == "crawl"]
    assert set(crawl.details["channel_status"]) == {"a", "b"} and crawl.details["site_unreachable"] is False
    assert assess_run([dead, *rest]).status == "failed"
