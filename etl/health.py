"""Run health: one verdict per run, computed from the stage reports alone (no Airflow, no database).

* ``success``  — every stage reported and every channel and page was read;
* ``degraded`` — what could be read was loaded, but some channels, list pages or detail pages failed
  (or were rejected, or could not be parsed, or the alert was not delivered): the operator must look;
* ``failed``   — no channel could be read (site unreachable, every channel broken), or a stage
  crashed or left no report.

``qdp run`` turns the verdict into its exit code (``EXIT_CODES``), the DAG's ``finish_run`` task
fails on ``failed`` and its ``check_health`` task on ``degraded``, and ``etl_run`` keeps status and
reasons. The crawl report contract read here: ``details["channel_status"]`` maps each channel key
to ``{"status": "ok"|"incomplete"|"failed", "reason", "site_change"}``, ``details["site_unreachable"]``
is true when nothing answered at all, and counts ``pages_rejected``/``failed``/``refused``.  A crawl
report without ``channel_status`` (an older crawler) is judged from its counts: no list page read
and some request failed or was refused means no channel could be read; failed requests otherwise
mean degraded (refusals of off-site links in a list that was read are policy, not failure).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .records import StageReport

SUCCESS, DEGRADED, FAILED = "success", "degraded", "failed"
HEALTH_STATUSES = (SUCCESS, DEGRADED, FAILED)
# Exit codes of `qdp run` (2 is argparse's own "bad command line").
EXIT_CODES = {SUCCESS: 0, FAILED: 1, DEGRADED: 3}
PIPELINE_STAGES = ("crawl", "parse", "validate", "load", "compare", "alert")
_RANK = {SUCCESS: 0, DEGRADED: 1, FAILED: 2}


@dataclass(slots=True)
class RunHealth:
    """The verdict with the reasons an operator reads (empty for ``success``)."""

    status: str = SUCCESS
    reasons: list[str] = field(default_factory=list)
    channels: dict[str, dict[str, Any]] = field(default_factory=dict)

    def note(self, status: str, reason: str) -> None:
        if _RANK[status] > _RANK[self.status]:
            self.status = status
        self.reasons.append(reason)

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.status]

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "reasons": list(self.reasons), "channels": dict(self.channels)}

    def summary(self) -> str:
        return self.status if not self.reasons else f"{self.status}: " + "; ".join(self.reasons)


def _as_report(r: StageReport | Mapping[str, Any]) -> StageReport:
    if isinstance(r, StageReport):
        return r
    return StageReport(r["stage"], dict(r.get("counts") or {}), float(r.get("seconds") or 0.0),
                       dict(r.get("details") or {}))


def _judge_crawl(crawls: list[StageReport], health: RunHealth) -> None:
    counts: dict[str, int] = {}
    for r in crawls:
        for k, v in r.counts.items():
            counts[k] = counts.get(k, 0) + int(v)
    statuses: dict[str, dict[str, Any]] = {}
    for r in crawls:
        statuses.update(r.details.get("channel_status") or {})
    health.channels = statuses
    # One crawl report per channel task in the DAG: the site is unreachable only if none reached it.
    unreachable = bool(crawls) and all(r.details.get("site_unreachable") for r in crawls)
    failed_requests = counts.get("failed", 0) + counts.get("refused", 0)

    if unreachable:
        health.note(FAILED, "site unreachable: no answer from the site")
    if statuses:
        by = {s: sorted(k for k, v in statuses.items() if v.get("status") == s)
              for s in ("ok", "incomplete", "failed")}
        if not by["ok"] and not by["incomplete"] and not unreachable:
            health.note(FAILED, f"no channel could be read ({len(by['failed'])} failed)")
        for status in ("failed", "incomplete"):
            for key in by[status]:
                info = statuses[key]
                what = info.get("reason") or status
                if info.get("site_change"):
                    what += f" (site change: {info['site_change']})"
                health.note(DEGRADED, f"channel {key} {status}: {what}")
    elif not unreachable and failed_requests and counts.get("list_pages", 0) == 0:
        health.note(FAILED, f"no channel could be read: no list page answered ({failed_requests} "
                            "request(s) failed or refused)")
    elif counts.get("failed"):
        # Refusals alone are policy (off-site links in a list), not failures, once lists were read.
        health.note(DEGRADED, f"{counts['failed']} request(s) failed")
    if counts.get("pages_rejected"):
        health.note(DEGRADED, f"{counts['pages_rejected']} page(s) rejected by the acceptance gate")
    if statuses and counts.get("failed") and not any(
            v.get("status") != "ok" for v in statuses.values()):
        health.note(DEGRADED, f"{counts['failed']} detail page(s) failed")


def assess_run(reports: Iterable[StageReport | Mapping[str, Any]], *,
               crashed: Mapping[str, str] | None = None,
               expected: Iterable[str] = PIPELINE_STAGES) -> RunHealth:
    """The health of a run from its stage reports (crawl may be reported once per channel).

    ``crashed`` maps a stage to the error that stopped it; ``expected`` stages without a report
    (and not crashed) count as crashed too: a stage that left no report did not finish.
    """
    health = RunHealth()
    objs = [_as_report(r) for r in reports]
    crashed = dict(crashed or {})
    for stage, error in crashed.items():
        health.note(FAILED, f"stage {stage} crashed: {error}")
    seen = {r.stage for r in objs}
    missing = [s for s in expected if s not in seen and s not in crashed]
    if missing and crashed:
        health.note(FAILED, f"not run: {', '.join(missing)}")
    else:
        for stage in missing:
            health.note(FAILED, f"stage {stage} left no report")
    crawls = [r for r in objs if r.stage == "crawl"]
    if crawls:
        _judge_crawl(crawls, health)
    for r in objs:
        if r.stage == "parse" and r.counts.get("parse_errors"):
            health.note(DEGRADED, f"{r.counts['parse_errors']} page(s) could not be parsed (quarantined)")
        if r.stage == "parse" and r.counts.get("deferred_attachments"):
            health.note(DEGRADED, f"{r.counts['deferred_attachments']} notice(s) not parsed: waiting for their "
                                  "attachments (the crawler retries them)")
        if r.stage == "alert" and r.counts.get("delivery_failed"):
            health.note(DEGRADED, f"{r.counts['delivery_failed']} alert delivery(ies) failed; "
                                  "they stay pending and are retried by the next run")
        if r.stage == "alert" and r.counts.get("expired"):
            health.note(DEGRADED, f"{r.counts['expired']} alert delivery(ies) expired undelivered "
                                  "(QDP_ALERT_MAX_AGE_HOURS)")
    return health
