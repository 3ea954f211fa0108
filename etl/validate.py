"""Validate stage: check parsed records with Great Expectations before they reach the warehouse.

The suites are JSON files in ``expectations/`` (version-controlled, one per record type). Records
are flattened into three DataFrames (notice, plan_item, plan_target) with a ``record_key`` column
so that every failed row can be traced back: a failing notice is quarantined with its items, a
failing item or target is quarantined alone, everything else goes on to the load stage. Nothing is
dropped: quarantined records are returned whole, with the expectation that failed and why.

great_expectations and pandas are imported inside the functions (GX takes seconds to import), so
importing this module stays cheap for DAG parsing.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .logs import quiet_libraries
from .records import PLAN_DOC_TYPES, NoticeRecord, StageReport, notice_record_to_dict
from .storage import Location

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)

SUITES = ("notice", "plan_item", "plan_target")
SHANGHAI = dt.timezone(dt.timedelta(hours=8))  # publication dates are Asia/Shanghai (no DST)


def expectations_dir() -> Path:
    """The suites' folder: ``QDP_EXPECTATIONS_DIR`` or ``expectations/`` of the source tree."""
    env = os.environ.get("QDP_EXPECTATIONS_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[1] / "expectations"


def load_suite_configs(directory: Path | None = None) -> dict[str, dict[str, Any]]:
    directory = directory or expectations_dir()
    configs = {}
    for name in SUITES:
        path = directory / f"{name}.json"
        if not path.exists():
            raise FileNotFoundError(f"expectation suite {name!r} not found at {path} (set QDP_EXPECTATIONS_DIR)")
        configs[name] = json.loads(path.read_text(encoding="utf-8"))
    return configs


@dataclass(slots=True)
class QuarantinedRecord:
    record_type: str  # notice | plan_item | plan_target
    record_key: str
    check: str  # the expectation that failed (type and column)
    reason: str
    values: dict[str, Any]

    def to_row(self) -> dict[str, Any]:
        return {"record_type": self.record_type, "record_key": self.record_key, "check": self.check,
                "reason": self.reason, "values": self.values}


@dataclass(slots=True)
class ValidationOutcome:
    valid: list[NoticeRecord]
    quarantined: list[QuarantinedRecord]
    report: StageReport
    suite_results: dict[str, dict[str, Any]] = field(default_factory=dict)


# --------------------------------------------------------------------------- frames


def notice_key(rec: NoticeRecord) -> str:
    return f"{rec.host}/{rec.notice_id}"


def item_key(rec: NoticeRecord, section: int, ordinal: int) -> str:
    return f"{notice_key(rec)}/{section}.{ordinal}"


def _traditional_count(text: str, converter: Any) -> int:
    simplified = converter.convert(text)
    return sum(1 for a, b in zip(text, simplified, strict=False) if a != b)


def build_frames(records: Iterable[NoticeRecord], today: dt.date | None = None) -> dict[str, pd.DataFrame]:
    """Flatten records into the three frames the suites describe."""
    import opencc
    import pandas as pd

    today = today or dt.datetime.now(SHANGHAI).date()
    t2s = opencc.OpenCC("t2s")
    notices, items, targets = [], [], []
    for rec in records:
        p = rec.parsed
        nkey = notice_key(rec)
        notices.append({
            "record_key": nkey, "host": rec.host, "notice_id": rec.notice_id, "url": rec.url,
            "channel": rec.channel, "content_sha256": rec.content_sha256, "title": p.title,
            "published": p.published.isoformat() if p.published else None,
            "published_year": p.published.year if p.published else None,
            "days_in_future": (p.published - today).days if p.published else None,
            "department": p.department, "doc_type": p.doc_type, "plan_year": p.plan_year,
            "is_plan": p.doc_type in PLAN_DOC_TYPES, "section_count": len(p.sections),
            "item_count": len(p.items), "warning_count": len(p.warnings),
            # Characters of main text: page furniture and error templates have (next to) none.
            "body_chars": len("".join((p.body_text or "").split())),
            # Attachments whose text could not be read (a scan, a legacy .doc, gone for good).
            "attachments_unread": sum(1 for a in rec.attachments if a.outcome != "ok"),
        })
        for it in p.items:
            ikey = item_key(rec, it.section, it.ordinal)
            items.append({
                "record_key": ikey, "notice_key": nkey, "section": it.section, "ordinal": it.ordinal,
                "marker": it.marker, "headline": it.headline, "text": it.text,
                "traditional_chars": _traditional_count(it.text, t2s),
            })
            for n, tg in enumerate(it.targets):
                targets.append({
                    "record_key": f"{ikey}#{n}", "item_key": ikey, "action": tg.action,
                    "object": tg.object, "value": tg.value, "unit": tg.unit, "span": tg.span,
                    "modifier": tg.modifier, "value_min": tg.value_min, "value_max": tg.value_max, "kind": tg.kind,
                })
    frames = {
        "notice": pd.DataFrame(notices, columns=[
            "record_key", "host", "notice_id", "url", "channel", "content_sha256", "title", "published",
            "published_year", "days_in_future", "department", "doc_type", "plan_year", "is_plan",
            "section_count", "item_count", "warning_count", "body_chars", "attachments_unread"]),
        "plan_item": pd.DataFrame(items, columns=[
            "record_key", "notice_key", "section", "ordinal", "marker", "headline", "text",
            "traditional_chars"]),
        "plan_target": pd.DataFrame(targets, columns=[
            "record_key", "item_key", "action", "object", "value", "unit", "span", "modifier", "value_min",
            "value_max", "kind"]),
    }
    # Nullable integer columns keep "missing" distinct from 0 for the expectations.
    for name, cols in {"notice": ["notice_id", "published_year", "days_in_future", "plan_year",
                                  "section_count", "item_count", "warning_count", "body_chars",
                                  "attachments_unread"],
                       "plan_item": ["section", "ordinal", "traditional_chars"]}.items():
        for col in cols:
            frames[name][col] = frames[name][col].astype("Int64")
    for col in ("value", "value_min", "value_max"):
        frames["plan_target"][col] = frames["plan_target"][col].astype("float64")
    return frames


# --------------------------------------------------------------------------- GX


def _gx_context(data_docs_dir: Path | None):
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")  # no network from here
    quiet_libraries()  # GX logs every registration at INFO: hundreds of lines per task
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    quiet_libraries()  # again: some GX modules set their own level when imported

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    if data_docs_dir is not None:
        data_docs_dir.mkdir(parents=True, exist_ok=True)
        context.add_data_docs_site(site_name="qdp", site_config={
            "class_name": "SiteBuilder",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend",
                              "base_directory": str(data_docs_dir)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        })
    return gx, context


def _name_check(type_: str, kwargs: dict[str, Any], meta: dict[str, Any] | None) -> str:
    """``meta.check`` when the suite names the check (several checks of one type on one column),
    else ``type(column)``."""
    if meta and meta.get("check"):
        return str(meta["check"])
    target = kwargs.get("column") or ",".join(kwargs.get("column_list") or []) or "table"
    return f"{type_}({target})"


def _check_name(expectation_config: Any) -> str:
    return _name_check(expectation_config.type, expectation_config.kwargs, expectation_config.meta)


def run_suites(frames: dict[str, pd.DataFrame], *, suites: dict[str, dict[str, Any]] | None = None,
               data_docs_dir: Path | None = None, run_name: str | None = None,
               ) -> tuple[dict[str, dict[str, str]], dict[str, dict[str, Any]]]:
    """Run each suite on its frame. Returns ``(failures, summaries)``: ``failures[suite]`` maps a
    failing row's record_key to the first check it failed; ``summaries[suite]`` has counts."""
    suites = suites or load_suite_configs()
    gx, context = _gx_context(data_docs_dir)
    source = context.data_sources.add_pandas("qdp_records")
    definitions = []
    for name, config in suites.items():
        suite = context.suites.add(gx.ExpectationSuite(**config))
        batch = source.add_dataframe_asset(name).add_batch_definition_whole_dataframe("run")
        definitions.append(context.validation_definitions.add(
            gx.ValidationDefinition(name=name, data=batch, suite=suite)))
    failures: dict[str, dict[str, str]] = {name: {} for name in suites}
    summaries: dict[str, dict[str, Any]] = {}
    result_format = {"result_format": "COMPLETE", "unexpected_index_column_names": ["record_key"],
                     "partial_unexpected_count": 0}
    actions = ([gx.checkpoint.UpdateDataDocsAction(name="data_docs", site_names=["qdp"])]
               if data_docs_dir is not None else [])
    for definition in definitions:
        name = definition.name
        frame = frames[name]
        if frame.empty:
            summaries[name] = {"rows": 0, "success": True, "evaluated": 0, "failed_expectations": []}
            continue
        checkpoint = context.checkpoints.add(gx.Checkpoint(
            name=f"qdp_{name}", validation_definitions=[definition], actions=actions,
            result_format=result_format))
        # The run time is given: without one, GX parses the run name as a date, and a run id
        # such as 20261129T101404Z-97a20a reads as a -97 h offset and crashes.
        run_id = (gx.core.run_identifier.RunIdentifier(run_name=run_name, run_time=dt.datetime.now(dt.UTC))
                  if run_name else None)
        outcome = checkpoint.run(batch_parameters={"dataframe": frame}, run_id=run_id)
        result = next(iter(outcome.run_results.values()))
        failed_checks = []
        for er in result.results:
            if er.success:
                continue
            check = _check_name(er.expectation_config)
            failed_checks.append(check)
            if er.exception_info and er.exception_info.get("raised_exception"):
                raise RuntimeError(f"expectation {check} in suite {name} raised: "
                                   f"{er.exception_info.get('exception_message')}")
            index_list = er.result.get("unexpected_index_list")
            if index_list is None:
                # A table-level failure cannot be pinned on rows; stop rather than load bad data.
                raise RuntimeError(f"suite {name}: table-level expectation failed: {check}")
            for row in index_list:
                key = row["record_key"] if isinstance(row, dict) else frame.iloc[row]["record_key"]
                failures[name].setdefault(key, check)
        stats = result.statistics
        summaries[name] = {"rows": len(frame), "success": bool(result.success),
                           "evaluated": stats["evaluated_expectations"],
                           "failed_expectations": failed_checks, "failed_rows": len(failures[name])}
    return failures, summaries


# --------------------------------------------------------------------------- stage


def _reason(check: str, suites: dict[str, dict[str, Any]], suite: str) -> str:
    for exp in suites[suite]["expectations"]:
        if _name_check(exp["type"], exp["kwargs"], exp.get("meta")) == check:
            why = (exp.get("meta") or {}).get("why")
            return f"failed {check}" + (f": {why}" if why else "")
    return f"failed {check}"


@contextlib.contextmanager
def _local_docs_dir(docs: Location | None) -> Iterator[Path | None]:
    """A local folder for Great Expectations' Data Docs site (its filesystem store backend needs
    one): ``docs`` itself when it is local; for an object-storage ``docs``, a temporary folder
    (``TMPDIR``) whose files are copied to ``docs`` afterwards and then removed."""
    if docs is None or docs.is_local:
        yield None if docs is None else docs.local_path
        return
    with tempfile.TemporaryDirectory(prefix="qdp-gx-docs-") as tmp:
        yield Path(tmp)
        n = docs.upload_tree(tmp)
        log.info("Great Expectations Data Docs: %d file(s) copied to %s", n, docs)


def validate_records(records: list[NoticeRecord], *, data_docs_dir: Path | Location | None = None,
                     run_name: str | None = None, suites: dict[str, dict[str, Any]] | None = None,
                     ) -> ValidationOutcome:
    """Split ``records`` into valid records and quarantined ones, running the GX suites."""
    started = time.perf_counter()
    suites = suites or load_suite_configs()
    frames = build_frames(records)
    docs = None if data_docs_dir is None else Location.of(data_docs_dir)
    with _local_docs_dir(docs) as gx_docs:
        failures, summaries = run_suites(frames, suites=suites, data_docs_dir=gx_docs, run_name=run_name)
    report = StageReport("validate")
    quarantined: list[QuarantinedRecord] = []
    valid: list[NoticeRecord] = []
    for rec in records:
        nkey = notice_key(rec)
        report.add("notices_checked")
        report.add("items_checked", len(rec.parsed.items))
        if nkey in failures["notice"]:
            check = failures["notice"][nkey]
            quarantined.append(QuarantinedRecord("notice", nkey, check, _reason(check, suites, "notice"),
                                                 notice_record_to_dict(rec)))
            report.add("notices_quarantined")
            continue
        kept_items = []
        for it in rec.parsed.items:
            ikey = item_key(rec, it.section, it.ordinal)
            if ikey in failures["plan_item"]:
                check = failures["plan_item"][ikey]
                quarantined.append(QuarantinedRecord(
                    "plan_item", ikey, check, _reason(check, suites, "plan_item"),
                    {"notice": nkey, "url": rec.url, **it.to_dict()}))
                report.add("items_quarantined")
                continue
            kept_targets = []
            for n, tg in enumerate(it.targets):
                tkey = f"{ikey}#{n}"
                if tkey in failures["plan_target"]:
                    check = failures["plan_target"][tkey]
                    quarantined.append(QuarantinedRecord(
                        "plan_target", tkey, check, _reason(check, suites, "plan_target"),
                        {"item": ikey, **tg.to_dict()}))
                    report.add("targets_quarantined")
                else:
                    kept_targets.append(tg)
            kept_items.append(replace(it, targets=kept_targets) if len(kept_targets) != len(it.targets) else it)
        if len(kept_items) != len(rec.parsed.items):
            rec = replace(rec, parsed=replace(rec.parsed, items=kept_items))
        valid.append(rec)
    report.counts.setdefault("notices_quarantined", 0)
    report.counts.setdefault("items_quarantined", 0)
    report.counts.setdefault("targets_quarantined", 0)
    report.counts["notices_valid"] = len(valid)
    report.details["suites"] = summaries
    report.details["success"] = all(s["success"] for s in summaries.values())
    if docs is not None:  # offline Data Docs: failing keys per check, a history of runs
        from .data_docs import record_validation

        report.details["data_docs"] = str(record_validation(docs, run_name, summaries, quarantined))
    report.seconds = round(time.perf_counter() - started, 3)
    return ValidationOutcome(valid=valid, quarantined=quarantined, report=report, suite_results=summaries)
