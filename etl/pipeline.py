"""The stages in order, as plain functions: what ``qdp run`` calls in-process and what each Airflow
task calls in ``dags/qingdao_notices_etl.py``.

Stages hand over through files under ``QDP_DATA_DIR/staging/<run_id>/`` (JSON lines), never
through XCom: a task returns only counts, so the metadata database stays small and any stage can
be re-run from the files of an earlier one.
"""

from __future__ import annotations

import json
import logging
import time
import traceback
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

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


def begin_run(settings: Settings, *, dag_id: str | None = None, dag_run_id: str | None = None) -> str:
    """Migrate the warehouse to the current schema and open an ``etl_run`` audit row."""
    from . import warehouse
    from .warehouse import runs

    engine = _engine(settings)
    warehouse.upgrade(engine)
    run_id = runs.start_run(engine, dag_id=dag_id, dag_run_id=dag_run_id)
    run_dir(settings, run_id)
    log.info("run %s started (warehouse %s)", run_id, engine.url.render_as_string(hide_password=True))
    return run_id


def crawl_stage(settings: Settings, channel_keys: list[str] | None = None, *, full: bool = False,
                progress: bool = False) -> StageReport:
    """Discover and fetch new or changed notices into the landing zone."""
    from . import crawl

    channels = crawl.load_channels(settings)
    if channel_keys:
        unknown = set(channel_keys) - {c.key for c in channels}
        if unknown:
            raise ValueError(f"unknown channel(s): {', '.join(sorted(unknown))}")
        channels = [c for c in channels if c.key in channel_keys]
    return crawl.crawl(settings, channels, full=full, progress=progress)


def parse_stage(settings: Settings, run_id: str, *, reparse: bool = False) -> StageReport:
    """Parse every landed page whose content is not in the warehouse yet (all pages if ``reparse``).

    A page the parser cannot handle is quarantined with the traceback, never dropped.
    """
    from . import load
    from .crawl.landing import LandingZone
    from .parse import parse_page

    started = time.perf_counter()
    report = StageReport("parse")
    zone = LandingZone(settings.landing_dir)
    loaded = set() if reparse else load.loaded_content_hashes(_engine(settings))
    out_dir = run_dir(settings, run_id)
    failed: list[dict[str, Any]] = []

    def records() -> Iterator[NoticeRecord]:
        for fetch in sorted(zone.latest().values(), key=lambda r: (r.host, r.notice_id)):
            if fetch.sha256 in loaded:
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


def load_stage(settings: Settings, run_id: str) -> StageReport:
    """Load validated records into the warehouse (idempotent, revisions kept)."""
    from . import load

    path = run_dir(settings, run_id) / VALID_FILE
    return load.load_notices(_engine(settings), read_records(path), run_id=run_id)


def compare_stage(settings: Settings, run_id: str | None = None) -> StageReport:
    """Recompute year-over-year item links for every department."""
    from .compare import compare_warehouse

    return compare_warehouse(_engine(settings))


def alert_stage(settings: Settings, run_id: str, load_report: StageReport | dict[str, Any]) -> StageReport:
    """Tell subscribers about the notices the load stage inserted as new."""
    from .alert import alert_new_notices

    details = load_report.details if isinstance(load_report, StageReport) else load_report.get("details", {})
    records = read_records(run_dir(settings, run_id) / VALID_FILE)
    return alert_new_notices(settings, records, details.get("new_notices", []))


def finish_run(settings: Settings, run_id: str, reports: list[StageReport | dict[str, Any]], *,
               status: str = "success") -> None:
    from .warehouse import runs

    objs = [r if isinstance(r, StageReport) else StageReport(**r) for r in reports]
    runs.finish_run(_engine(settings), run_id, status=status, reports=merge_reports(objs))
    from .report import write_run_report  # analyst hook: reports/<run_id>.html and reports/latest.html

    write_run_report(settings, run_id)


# --------------------------------------------------------------------------- whole pipeline


def run_pipeline(settings: Settings, *, full: bool = False, progress: bool = False,
                 dag_id: str | None = None, dag_run_id: str | None = None) -> list[StageReport]:
    """Every stage in order, in this process (``qdp run``)."""
    run_id = begin_run(settings, dag_id=dag_id, dag_run_id=dag_run_id)
    reports: list[StageReport] = []
    status = "failed"
    try:
        reports.append(crawl_stage(settings, full=full, progress=progress))
        reports.append(parse_stage(settings, run_id))
        reports.append(validate_stage(settings, run_id))
        load_report = load_stage(settings, run_id)
        reports.append(load_report)
        reports.append(compare_stage(settings, run_id))
        reports.append(alert_stage(settings, run_id, load_report))
        status = "success"
    finally:
        finish_run(settings, run_id, reports, status=status)
    for r in reports:
        r.details.setdefault("run_id", run_id)
    return reports
