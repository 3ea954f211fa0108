"""The stages in order, as plain functions: what ``qdp run`` calls in-process and what each Airflow
task calls in ``dags/qingdao_notices_etl.py``.

Stages hand over through files under ``QDP_DATA_DIR/staging/<run_id>/`` (JSON lines), never
through XCom: a task returns only counts, so the metadata database stays small and any stage can
be re-run from the files of an earlier one.
"""

from __future__ import annotations

import json
import logging
import os
import time
import traceback
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from .health import DEGRADED, PIPELINE_STAGES, SUCCESS, RunHealth, assess_run
from .records import (
    NoticeRecord,
    ParseWarning,
    StageReport,
    merge_reports,
    notice_record_from_dict,
    notice_record_to_dict,
)
from .settings import Settings

log = logging.getLogger(__name__)

PARSED_FILE = "parsed.jsonl"
VALID_FILE = "valid.jsonl"
QUARANTINE_FILE = "quarantine.jsonl"


# --------------------------------------------------------------------------- helpers


def _engine(settings: Settings):
    from . import warehouse

    return warehouse.get_engine(settings.warehouse_url)


def run_dir(settings: Settings, run_id: str) -> Path:
    path = settings.staging_dir / run_id
    path.mkdir(parents=True, exist_ok=True)
    return path


def write_records(path: Path, records: Iterable[NoticeRecord]) -> int:
    tmp = path.with_suffix(path.suffix + ".tmp")
    n = 0
    with tmp.open("w", encoding="utf-8") as fh:
        for rec in records:
            fh.write(json.dumps(notice_record_to_dict(rec), ensure_ascii=False) + "\n")
            n += 1
    tmp.replace(path)  # readers never see a half-written file
    return n


def read_records(path: Path) -> Iterator[NoticeRecord]:
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield notice_record_from_dict(json.loads(line))


# --------------------------------------------------------------------------- stages


def begin_run(settings: Settings, *, dag_id: str | None = None, dag_run_id: str | None = None,
              owner_pid: int | None = None) -> str:
    """Migrate the warehouse to the current schema, close runs that died (``abandoned``), and open
    an ``etl_run`` audit row. ``owner_pid``: the process that runs every stage (``qdp run``)."""
    from . import warehouse
    from .warehouse import runs

    engine = _engine(settings)
    warehouse.upgrade(engine)
    run_id = runs.start_run(engine, dag_id=dag_id, dag_run_id=dag_run_id, owner_pid=owner_pid)
    run_dir(settings, run_id)
    log.info("run %s started (warehouse %s)", run_id, engine.url.render_as_string(hide_password=True))
    return run_id


def stage_started(settings: Settings, run_id: str, stage: str) -> None:
    """Heartbeat: ``run_id`` is alive and in ``stage`` (a run silent for long is taken for dead)."""
    import sqlalchemy as sa

    from .warehouse import runs

    try:
        runs.heartbeat(_engine(settings), run_id, stage)
    except sa.exc.SQLAlchemyError as exc:  # a missed beat must not stop the stage itself
        log.warning("run %s: heartbeat before %s not recorded: %s", run_id, stage, exc)
    log.info("run %s: stage %s started", run_id, stage)


def select_channels(settings: Settings, channel_keys: list[str] | None = None) -> list[Any]:
    """The configured channels, or those named (unknown names are an error)."""
    from . import crawl

    channels = crawl.load_channels(settings)
    if channel_keys:
        unknown = set(channel_keys) - {c.key for c in channels}
        if unknown:
            raise ValueError(f"unknown channel(s): {', '.join(sorted(unknown))}")
        channels = [c for c in channels if c.key in channel_keys]
    return channels


def crawl_stage(settings: Settings, channel_keys: list[str] | None = None, *, full: bool = False,
                progress: bool = False, walk_all: bool = False, since: int | None = None,
                session: str | None = None) -> StageReport:
    """Discover and fetch new or changed notices into the landing zone. ``walk_all``, ``since`` and
    ``session``: a backfill (every list page, entries listed before ``since`` skipped, resumable)."""
    from . import crawl

    return crawl.crawl(settings, select_channels(settings, channel_keys), full=full, progress=progress,
                       walk_all=walk_all, since=since, session=session)


def parse_stage(settings: Settings, run_id: str, *, reparse: bool = False) -> StageReport:
    """Parse every notice's latest accepted page unless it is what the warehouse already holds
    as that notice's current revision or as the page last loaded from the notice's URL (a copy
    folded into another notice included; all pages if ``reparse``). Keyed by notice *and* content:
    identical bytes under two notices give two notices, and a good page for a notice whose current
    revision differs (even if it equals an older revision) is parsed and loaded as a new revision.

    A page the parser cannot handle is quarantined with the traceback, never dropped.
    """
    from . import load
    from .crawl.landing import LandingZone
    from .parse import parse_page

    started = time.perf_counter()
    report = StageReport("parse")
    zone = LandingZone(settings.landing_dir)
    loaded = {} if reparse else load.loaded_page_hashes(_engine(settings))
    out_dir = run_dir(settings, run_id)
    failed: list[dict[str, Any]] = []

    def records() -> Iterator[NoticeRecord]:
        for fetch in sorted(zone.latest().values(), key=lambda r: (r.host, r.notice_id)):
            if fetch.sha256 in loaded.get((fetch.host, fetch.notice_id), ()):
                report.add("skipped_already_loaded")
                continue
            try:
                parsed = parse_page(zone.get(fetch.sha256), url=fetch.url, charset=fetch.charset)
            except Exception as exc:  # one bad page must not stop the run
                log.exception("parser failed on %s", fetch.url)
                failed.append({"record_type": "notice", "record_key": f"{fetch.host}/{fetch.notice_id}",
                               "check": "parse_error", "reason": f"{type(exc).__name__}: {exc}",
                               "values": {"url": fetch.url, "sha256": fetch.sha256,
                                          "traceback": traceback.format_exc()}})
                report.add("parse_errors")
                continue
            if parsed.published is None and fetch.list_date is not None:
                # The list page's date is the web-posting date: a fallback, flagged as such.
                parsed.published = fetch.list_date
                parsed.warnings.append(ParseWarning("date_from_list", "publication date taken from the list page"))
            report.add("pages_parsed")
            report.add(f"doc_type_{parsed.doc_type}")
            report.add("items", len(parsed.items))
            report.add("targets", sum(len(i.targets) for i in parsed.items))
            report.add("warnings", len(parsed.warnings))
            yield NoticeRecord(host=fetch.host, notice_id=fetch.notice_id, url=fetch.url,
                               channel=fetch.channel, content_sha256=fetch.sha256,
                               fetched_at=fetch.fetched_at, parsed=parsed)

    write_records(out_dir / PARSED_FILE, records())
    if failed:
        from .warehouse import runs

        runs.record_quarantine(_engine(settings), run_id, failed)
    report.counts.setdefault("pages_parsed", 0)
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def validate_stage(settings: Settings, run_id: str) -> StageReport:
    """Run the Great Expectations suites; quarantine failing records, pass the rest on."""
    from .validate import validate_records
    from .warehouse import runs

    out_dir = run_dir(settings, run_id)
    records = list(read_records(out_dir / PARSED_FILE))
    outcome = validate_records(records, data_docs_dir=settings.data_docs_dir, run_name=run_id)
    write_records(out_dir / VALID_FILE, outcome.valid)
    rows = [q.to_row() for q in outcome.quarantined]
    with (out_dir / QUARANTINE_FILE).open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
    if rows:
        runs.record_quarantine(_engine(settings), run_id, rows)
    return outcome.report


def load_stage(settings: Settings, run_id: str, *, backfill: bool = False) -> StageReport:
    """Load validated records into the warehouse (idempotent, revisions kept).

    Loads are serialised by the warehouse's "write" lock: two runs loading the same notices at
    once would both see them missing and collide on the revision key. ``backfill``: the run's new
    notices are recorded as known, not announced (alert baseline).
    """
    from . import load, warehouse

    path = run_dir(settings, run_id) / VALID_FILE
    engine = _engine(settings)
    baseline = "all" if backfill else settings.alert_baseline
    with warehouse.exclusive(engine, "write"):
        return load.load_notices(engine, read_records(path), run_id=run_id, alert_baseline=baseline)


def compare_stage(settings: Settings, run_id: str | None = None) -> StageReport:
    """Recompute year-over-year item links for every department."""
    from . import warehouse
    from .compare import compare_warehouse

    engine = _engine(settings)
    with warehouse.exclusive(engine, "write"):  # replaces links wholesale: one writer at a time
        return compare_warehouse(engine)


def alert_stage(settings: Settings, run_id: str | None = None, load_report: Any = None, *,
                include_baseline: bool = False) -> StageReport:
    """Announce what the alert outbox holds: new notices of this run and anything still pending
    from earlier runs (failed deliveries are retried here, by either DAG). ``load_report`` is
    not needed (the outbox is the source of truth); it is accepted so the task graph shows the
    alert after the load."""
    from .alert.deliver import run_alerts

    return run_alerts(settings, include_baseline=include_baseline)


def finish_run(settings: Settings, run_id: str, reports: list[StageReport | dict[str, Any]], *,
               crashed: dict[str, str] | None = None, expected: Iterable[str] = PIPELINE_STAGES,
               status: str | None = None, reasons: Iterable[str] = ()) -> RunHealth:
    """Close the run: judge its health from the stage reports (``etl.health.assess_run``), record
    status, reasons and per-stage counts in ``etl_run``, log the verdict, tell the engineers
    (``QDP_OPS_ALERT_URLS``) once when it is not a success, and return it.

    ``crashed``: stage -> error for stages that raised; ``expected``: stages that should have
    reported (a missing one failed). ``status`` forces a verdict; ``reasons`` are added to the
    computed ones. Everything a run-end hook needs is here: ``health`` (status, reasons,
    channels) and ``merged`` (one report per stage).
    """
    from .warehouse import runs

    objs = [r if isinstance(r, StageReport) else StageReport(**r) for r in reports]
    health = assess_run(objs, crashed=crashed, expected=expected)
    if status is not None:
        health.status = status
    health.reasons.extend(reasons)
    merged = merge_reports(objs)
    try:
        runs.finish_run(_engine(settings), run_id, status=health.status, reports=merged,
                        reasons=health.reasons)
    finally:  # engineers hear once per run (also when recording it failed), never the subscribers
        if health.status != SUCCESS:
            from .alert.ops import notify_run_outcome

            notify_run_outcome(settings, run_id, health.status, health.reasons, objs)
    from .report import write_run_report  # reports/<run_id>.html and reports/latest.html; never raises

    write_run_report(settings, run_id)
    level = {SUCCESS: logging.INFO, DEGRADED: logging.WARNING}.get(health.status, logging.ERROR)
    log.log(level, "run %s %s", run_id, health.summary())
    return health


# --------------------------------------------------------------------------- whole pipeline


class RunResult(list):
    """The stage reports of a run (a list, as before) with the run's id and health."""

    def __init__(self, run_id: str, reports: Iterable[StageReport], health: RunHealth) -> None:
        super().__init__(reports)
        self.run_id = run_id
        self.health = health

    @property
    def exit_code(self) -> int:
        return self.health.exit_code


def run_pipeline(settings: Settings, *, full: bool = False, progress: bool = False,
                 dag_id: str | None = None, dag_run_id: str | None = None,
                 backfill: bool = False, since: int | None = None, session: str | None = None,
                 channel_keys: list[str] | None = None) -> RunResult:
    """Every stage in order, in this process (``qdp run``); never raises for a stage's failure.

    A crashed crawl still lets what was landed be parsed and loaded (the run is ``failed`` all the
    same); a later stage crashing stops the run there. The verdict is ``result.health``.
    ``since``/``session``/``channel_keys``: see ``run_backfill``.
    """
    run_id = begin_run(settings, dag_id=dag_id, dag_run_id=dag_run_id, owner_pid=os.getpid())
    reports: list[StageReport] = []
    crashed: dict[str, str] = {}

    def stage(name: str, fn, *args, **kw) -> StageReport | None:
        stage_started(settings, run_id, name)
        try:
            report = fn(*args, **kw)
        except Exception as exc:
            log.exception("run %s: stage %s crashed", run_id, name)
            crashed[name] = f"{type(exc).__name__}: {exc}"
            return None
        reports.append(report)
        return report

    try:
        stage("crawl", crawl_stage, settings, channel_keys, full=full, progress=progress,
              walk_all=session is not None, since=since, session=session)
        if (stage("parse", parse_stage, settings, run_id)
                and stage("validate", validate_stage, settings, run_id)
                and (load_report := stage("load", load_stage, settings, run_id, backfill=backfill))):
            stage("compare", compare_stage, settings, run_id)
            stage("alert", alert_stage, settings, run_id, load_report)
    except BaseException as exc:  # KeyboardInterrupt, SystemExit (SIGTERM): close the run, then go
        crashed.setdefault("run", f"interrupted: {type(exc).__name__}({exc})")
        finish_run(settings, run_id, reports, crashed=crashed)
        raise
    health = finish_run(settings, run_id, reports, crashed=crashed)
    for r in reports:
        r.details.setdefault("run_id", run_id)
    return RunResult(run_id, reports, health)


def run_backfill(settings: Settings, since: int, channel_keys: list[str] | None = None, *,
                 progress: bool = False) -> RunResult:
    """``qdp backfill``: one run that walks every list page of every channel (or of those named)
    once, at the configured rate limit, skipping entries listed before ``since``, and loads what
    it finds as the alert baseline (nothing is announced).

    Resumable: list pages walked are checkpointed under a session id kept in the landing zone
    until the backfill has finished, so after an interruption (even SIGKILL) the same command
    continues where it stopped; notices already stored are never fetched again. The session ends
    when the run was not ``failed`` and every channel was walked to its end.
    """
    from . import crawl

    keys = [c.key for c in select_channels(settings, channel_keys)]
    session, resumed = crawl.backfill_session(settings, since, keys)
    log.info("backfill since %d of %d channel(s): %s session %s", since, len(keys),
             "resuming" if resumed else "new", session)
    result = run_pipeline(settings, progress=progress, backfill=True, since=since, session=session,
                          channel_keys=channel_keys)
    crawled = next((r for r in result if r.stage == "crawl"), None)
    statuses = crawled.details.get("channel_status", {}) if crawled else {}
    if result.health.status != "failed" and statuses and all(s["status"] == "ok" for s in statuses.values()):
        crawl.end_backfill_session(settings, session)
    for r in result:
        r.details.update(backfill_session=session, resumed=resumed)
    return result
