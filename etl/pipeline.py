"""The stages in order, as plain functions: what ``qdp run`` calls in-process and what each Airflow
task calls in ``dags/qingdao_notices_etl.py``.

Stages hand over through files under ``QDP_DATA_DIR/staging/<run_id>/`` (JSON lines), never
through XCom: a task returns only counts, so the metadata database stays small and any stage can
be re-run from the files of an earlier one. With an object-storage ``QDP_DATA_DIR`` those files
are objects (``etl.storage``), so each stage may run on another host.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
import traceback
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .health import DEGRADED, PIPELINE_STAGES, SUCCESS, RunHealth, assess_run
from .records import (
    AttachmentRecord,
    FetchRecord,
    NoticeRecord,
    ParseWarning,
    StageReport,
    merge_reports,
    notice_record_from_dict,
    notice_record_to_dict,
)
from .settings import Settings
from .storage import Location

log = logging.getLogger(__name__)

PARSED_FILE = "parsed.jsonl"
VALID_FILE = "valid.jsonl"
QUARANTINE_FILE = "quarantine.jsonl"


# --------------------------------------------------------------------------- helpers


def _engine(settings: Settings):
    from . import warehouse

    return warehouse.get_engine(settings.warehouse_url)


def run_dir(settings: Settings, run_id: str) -> Path | Location:
    """The staging folder of ``run_id``: a local ``Path`` (created), as before, or a ``Location``
    in the object store (see ``etl.storage``; no folder to create there)."""
    path = settings.location("staging", run_id)
    path.mkdir()
    return path.local_path if path.is_local else path


def write_lines(path: Path | Location, lines: Iterable[str]) -> int:
    """Write ``lines`` (each without its newline) as one JSON-lines file, atomically: a reader
    never sees a half-written file (temp file and rename locally, one PUT in an object store).
    Returns the number of lines."""
    n = 0
    with Location.of(path).open_write() as fh:
        for line in lines:
            fh.write((line + "\n").encode("utf-8"))
            n += 1
    return n


def write_records(path: Path | Location, records: Iterable[NoticeRecord]) -> int:
    return write_lines(path, (json.dumps(notice_record_to_dict(rec), ensure_ascii=False) for rec in records))


def read_records(path: Path | Location) -> Iterator[NoticeRecord]:
    with Location.of(path).open_read() as fh:
        for raw in fh:
            line = raw.decode("utf-8")
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
    from .crawl.landing import LandingError, LandingZone
    from .parse import parse_page

    started = time.perf_counter()
    report = StageReport("parse")
    zone = LandingZone(settings.landing_dir)
    loaded = {} if reparse else load.loaded_page_hashes(_engine(settings))
    out_dir = run_dir(settings, run_id)
    failed: list[dict[str, Any]] = []

    latest, attachment_index = zone.index()  # one read of the manifest

    def records() -> Iterator[NoticeRecord]:
        for fetch in sorted(latest.values(), key=lambda r: (r.host, r.notice_id)):
            if fetch.attachments is None and fetch.sha256 in loaded.get((fetch.host, fetch.notice_id), ()):
                # Landed and loaded before attachments were crawled: as before (not re-read every run);
                # a full crawl lists its documents, and it is parsed again with them.
                report.add("skipped_already_loaded")
                continue
            try:
                page_body = None if fetch.attachments is not None else zone.get(fetch.sha256)
                docs = _landed_attachments(zone, attachment_index, fetch, page_body)
            except LandingError as exc:  # a missing or corrupt object: held back like a parse error
                log.error("notice %s/%s: %s", fetch.host, fetch.notice_id, exc)
                failed.append(_parse_failure(fetch, exc))
                report.add("parse_errors")
                continue
            if isinstance(docs, str):
                # Not parsed until every attachment is landed or gone for good (the crawler retries it):
                # a plan whose items live in a document that failed for now must not load as empty.
                report.add("deferred_attachments")
                report.details.setdefault("deferred", []).append({"url": fetch.url, "reason": docs})
                log.warning("notice %s deferred: %s", fetch.url, docs)
                continue
            content_sha256 = notice_content_hash(fetch.sha256, docs)
            if content_sha256 in loaded.get((fetch.host, fetch.notice_id), ()):
                report.add("skipped_already_loaded")
                continue
            try:
                parsed = parse_page(page_body if page_body is not None else zone.get(fetch.sha256), url=fetch.url,
                                    charset=fetch.charset)
                attachments = _read_attachments(zone, docs, parsed, fetch.url)
            except Exception as exc:  # one bad page must not stop the run
                log.exception("parser failed on %s", fetch.url)
                failed.append(_parse_failure(fetch, exc))
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
            if attachments:
                report.add("attachments", len(attachments))
                report.add("attachment_items", sum(1 for i in parsed.items if i.source_attachment))
                for a in attachments:
                    report.add(f"attachment_{a.outcome}")
            # A revision is as new as the latest body it was read from (a PDF replaced under its page).
            fetched_at = max([fetch.fetched_at, *(rec.fetched_at for _, rec, _ in docs if rec is not None)])
            yield NoticeRecord(host=fetch.host, notice_id=fetch.notice_id, url=fetch.url,
                               channel=fetch.channel, content_sha256=content_sha256,
                               fetched_at=fetched_at, parsed=parsed, attachments=attachments)

    write_records(out_dir / PARSED_FILE, records())
    if failed:
        from .warehouse import runs

        runs.record_quarantine(_engine(settings), run_id, failed)
    report.counts.setdefault("pages_parsed", 0)
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def _parse_failure(fetch: FetchRecord, exc: BaseException) -> dict[str, Any]:
    """Quarantine row of a landed page that could not be parsed (parser bug, missing object)."""
    return {"record_type": "notice", "record_key": f"{fetch.host}/{fetch.notice_id}", "check": "parse_error",
            "reason": f"{type(exc).__name__}: {exc}",
            "values": {"url": fetch.url, "sha256": fetch.sha256, "traceback": traceback.format_exc()}}


# A landed attachment: (url, manifest row of its accepted body) or (url, None, why it is gone for good).
_Landed = tuple[str, "FetchRecord | None", "str | None"]


def _landed_attachments(zone: Any, index: dict[tuple[str, int, str], Any], fetch: Any,
                        page_body: bytes | None) -> list[_Landed] | str:
    """The attachments of a landed page, each with its accepted body or its final failure; or, when
    one is still missing or failed for now, why the notice must wait (a string).

    The crawler lists the page's document links in its manifest row; rows landed before it did
    (``attachments`` None) have their links read from the page itself."""
    from .crawl.landing import AttachmentState

    if fetch.attachments is not None:
        urls = fetch.attachments
    else:
        from .parse.attachment import find_attachment_links

        urls = [link.url for link in find_attachment_links(page_body or b"", fetch.url, fetch.charset)
                if urlsplit(link.url).netloc == fetch.host]
    out: list[_Landed] = []
    for url in urls:
        state = index.get((fetch.host, fetch.notice_id, url)) or AttachmentState()
        if state.stored is not None:
            out.append((url, state.stored, None))
        elif state.resolved:
            last = state.last
            out.append((url, None, last.reason or f"HTTP {last.http_status}"))
        elif state.last is None:
            if fetch.attachments is None:
                return (f"attachment {url} not fetched: the page was landed before attachments were crawled; "
                        "a full crawl (qdp crawl --full) fetches its documents")
            return f"attachment {url} not fetched yet"
        else:
            return (f"attachment {url} {state.last.outcome}"
                    + (f": {state.last.reason}" if state.last.reason else "") + "; waiting for a retry")
    return out


def notice_content_hash(page_sha256: str, docs: list[_Landed]) -> str:
    """``content_sha256`` of a notice revision: the page body's sha256 when the page links no
    documents (as before attachments were read), else a sha256 over the page's and each attachment's
    (its body's sha256, or its final failure), so a replaced PDF under an unchanged page is a new
    revision too."""
    if not docs:
        return page_sha256
    h = hashlib.sha256(f"page {page_sha256}\n".encode())
    for url, rec, why in docs:
        h.update(f"attachment {url} {rec.sha256 if rec is not None else 'failed ' + (why or '')}\n".encode())
    return h.hexdigest()


def _read_attachments(zone: Any, docs: list[_Landed], parsed: Any, page_url: str) -> list[AttachmentRecord]:
    """Extract each landed attachment's text and merge it into ``parsed`` (etl.parse.attachment)."""
    from .parse.attachment import failed_attachment, merge_attachments, read_attachment

    read: list[tuple[AttachmentRecord, str]] = []
    for url, rec, why in docs:
        if rec is None:
            read.append((failed_attachment(url, why), ""))
        else:
            read.append(read_attachment(zone.get(rec.sha256), url, sha256=rec.sha256, content_type=rec.content_type))
    merge_attachments(parsed, read, page_url)
    return [r for r, _ in read]


def validate_stage(settings: Settings, run_id: str) -> StageReport:
    """Run the Great Expectations suites; quarantine failing records, pass the rest on."""
    from .validate import validate_records
    from .warehouse import runs

    out_dir = run_dir(settings, run_id)
    records = list(read_records(out_dir / PARSED_FILE))
    outcome = validate_records(records, data_docs_dir=settings.location("data_docs"), run_name=run_id)
    write_records(out_dir / VALID_FILE, outcome.valid)
    rows = [q.to_row() for q in outcome.quarantined]
    write_lines(out_dir / QUARANTINE_FILE, (json.dumps(row, ensure_ascii=False, default=str) for row in rows))
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
        from .metrics import emit_run  # the same counts as StatsD metrics (QDP_STATSD_HOST); never raises

        emit_run(settings, run_id, health.status, merged)
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
