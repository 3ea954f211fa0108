"""Operational messages for the engineers, apart from the subscribers.

Engineers get ONE message per failed or degraded run, typed as a failure (Apprise
``NotifyType.FAILURE``), at ``QDP_OPS_ALERT_URLS``: the DAG, the Airflow run, the warehouse run,
the failing tasks with their errors and log URLs, the reasons and the stage summary. Subscribers'
URLs (``QDP_ALERT_URLS``, the subscriptions file) never receive operational messages.

Why our own setting and not the ``apache-airflow-providers-apprise`` notifier: the message is
about a *run*, and only ``etl.pipeline.finish_run`` knows the run's outcome, including for
``qdp run`` outside Airflow; the provider's notifier hangs off task or DAG callbacks, i.e. one
message per task try (and DAG-level callbacks do not fire on some Airflow 3.x releases). So the
per-task callback below only logs and records the failure (task, try, error, log URL) in a small
file under ``QDP_DATA_DIR/ops/``, and ``notify_run_outcome`` folds those records into the one
message when the run finishes.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import secrets
import sys
import time
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

from ..settings import Settings
from ..storage import Location
from .render import Message, clean_text

log = logging.getLogger(__name__)
ERROR_MAX = 500


def _failures_file(settings: Settings, dag_id: str, dag_run_id: str) -> Location:
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", f"{dag_id}__{dag_run_id}")
    return settings.location("ops", f"{safe}.jsonl")


def _record_failure(path: Location, entry: dict[str, Any]) -> None:
    line = json.dumps(entry, ensure_ascii=False) + "\n"
    if path.is_local:
        path.parent.mkdir()
        with open(path.local_path, "a", encoding="utf-8") as fh:
            fh.write(line)
        return
    # Object stores have no append: one object per failure beside where the file would be.
    (path.parent / f"{path.stem}" / f"{time.time_ns()}-{secrets.token_hex(4)}.json").write_text(line)


def _read_failures(path: Location) -> list[str]:
    if path.is_local:
        return path.read_text().splitlines() if path.exists() else []
    return [p.read_text().strip() for p in (path.parent / path.stem).glob("*.json")]


def task_failure_callback(context: Mapping[str, Any]) -> None:
    """Airflow ``on_failure_callback`` (per task): log the failure and record it for the run's
    one ops message. Sends nothing: neither subscribers nor engineers get a message per task."""
    ti = context.get("task_instance") or context.get("ti")
    dag_id = str(getattr(ti, "dag_id", None) or "?")
    dag_run_id = str(context.get("run_id") or getattr(ti, "run_id", None) or "?")
    exc = context.get("exception")
    try:
        log_url = str(ti.log_url) if ti is not None else None
    except Exception:  # no api.base_url configured, or an older TaskInstance
        log_url = None
    entry = {"task_id": getattr(ti, "task_id", "?"), "map_index": getattr(ti, "map_index", None),
             "try_number": getattr(ti, "try_number", None),
             "error": clean_text(f"{type(exc).__name__}: {exc}" if exc else "failed", ERROR_MAX),
             "log_url": log_url, "at": dt.datetime.now(dt.UTC).isoformat()}
    log.error("task failed: %s.%s run %s try %s: %s (log: %s)", dag_id, entry["task_id"], dag_run_id,
              entry["try_number"], entry["error"], log_url)
    try:
        _record_failure(_failures_file(Settings.from_env(), dag_id, dag_run_id), entry)
    except Exception:  # a callback must never raise
        log.exception("could not record the task failure for the run's ops message")


def recorded_task_failures(settings: Settings, dag_id: str | None, dag_run_id: str | None) -> list[dict[str, Any]]:
    """Failures the callback recorded for one Airflow run, last try per task."""
    if not dag_id or not dag_run_id:
        return []
    latest: dict[tuple[Any, Any], dict[str, Any]] = {}
    for line in _read_failures(_failures_file(settings, dag_id, dag_run_id)):
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        latest[(entry.get("task_id"), entry.get("map_index"))] = entry
    return list(latest.values())


def airflow_run_url(dag_id: str, dag_run_id: str) -> str:
    base = os.environ.get("AIRFLOW__API__BASE_URL", "http://localhost:8080/")
    return f"{base.rstrip('/')}/dags/{quote(dag_id)}/runs/{quote(dag_run_id)}"


def _run_row(settings: Settings, run_id: str) -> dict[str, Any]:
    try:
        import sqlalchemy as sa

        from .. import warehouse
        from ..warehouse import schema

        with warehouse.get_engine(settings.warehouse_url).connect() as conn:
            row = conn.execute(sa.select(schema.etl_run.c.dag_id, schema.etl_run.c.dag_run_id)
                               .where(schema.etl_run.c.run_id == run_id)).mappings().first()
        return dict(row) if row else {}
    except Exception:  # the warehouse itself may be what failed
        log.exception("could not read etl_run %s for the ops message", run_id)
        return {}


def _summary_lines(summary: Any) -> list[str]:
    if summary is None:
        return []
    if isinstance(summary, str):
        return [clean_text(summary, 2000)]
    items: Iterable[Any] = summary if isinstance(summary, list | tuple) else [summary]
    lines = []
    for r in items:
        stage = getattr(r, "stage", None) or (r.get("stage") if isinstance(r, Mapping) else None)
        counts = getattr(r, "counts", None) or (r.get("counts") if isinstance(r, Mapping) else None)
        if stage is None and isinstance(r, Mapping):
            counts, stage = r, "summary"
        if counts:
            lines.append(f"  {stage}: " + ", ".join(f"{k}={v}" for k, v in sorted(counts.items())))
    return lines


def compose_run_message(settings: Settings, run_id: str, status: str, reasons: Iterable[str] = (),
                        summary: Any = None, *, dag_id: str | None = None, dag_run_id: str | None = None,
                        failed_tasks: list[dict[str, Any]] | None = None, log_url: str | None = None) -> Message:
    if dag_id is None or dag_run_id is None:
        row = _run_row(settings, run_id)
        dag_id = dag_id or row.get("dag_id")
        dag_run_id = dag_run_id or row.get("dag_run_id")
    tasks = failed_tasks if failed_tasks is not None else recorded_task_failures(settings, dag_id, dag_run_id)
    reasons = [clean_text(str(r), ERROR_MAX) for r in reasons or ()]
    if not reasons and not tasks:
        _, exc, _ = sys.exc_info()  # finish_run called from a ``finally`` while an exception propagates
        if exc is not None:
            reasons = [clean_text(f"{type(exc).__name__}: {exc}", ERROR_MAX)]
    if log_url is None and dag_id and dag_run_id:
        log_url = airflow_run_url(dag_id, dag_run_id)
    where = dag_id or "qdp run (outside Airflow)"
    title = f"[qingdao-plans] run {status.upper()}: {where}"
    lines = [f"status: {status}", f"DAG: {dag_id or '-'}", f"Airflow run: {dag_run_id or '-'}",
             f"warehouse run: {run_id} (SELECT * FROM v_run_history WHERE run_id = '{run_id}')"]
    if tasks:
        lines.append("failing tasks:")
        for t in tasks:
            mapped = f"[{t['map_index']}]" if t.get("map_index") not in (None, -1) else ""
            error = clean_text(t.get("error"), ERROR_MAX)
            lines.append(f"  - {t.get('task_id')}{mapped} (try {t.get('try_number')}): {error}")
            if t.get("log_url"):
                lines.append(f"    log: {t['log_url']}")
    if reasons:
        lines.append("errors:")
        lines.extend(f"  - {r}" for r in reasons)
    if summary_lines := _summary_lines(summary):
        lines.append("summary:")
        lines.extend(summary_lines)
    if log_url:
        lines.append(f"Airflow log: {log_url}")
    return Message(title, "\n".join(lines), "text")


def notify_run_outcome(settings: Settings, run_id: str, status: str, reasons: Iterable[str] = (),
                       summary: Any = None, **context: Any) -> bool:
    """One failure message for a failed or degraded run to ``QDP_OPS_ALERT_URLS``; never raises.

    ``context``: dag_id, dag_run_id, failed_tasks, log_url (read from etl_run and the recorded
    task failures when not given). Returns True when every ops destination accepted it.
    """
    if status == "success":
        return True
    try:
        message = compose_run_message(settings, run_id, status, reasons, summary, **context)
    except Exception:
        log.exception("could not compose the ops message for run %s", run_id)
        message = Message(f"[qingdao-plans] run {status.upper()}", f"run {run_id}: {status}", "text")
    log.error("%s\n%s", message.title, message.body)
    if not settings.ops_alert_urls:
        log.warning("no QDP_OPS_ALERT_URLS configured: the %s run %s was only logged", status, run_id)
        return False
    from .deliver import send

    ok_all = True
    for url in settings.ops_alert_urls:
        try:
            ok, error = send(url, message, notify_type="failure")
        except Exception as exc:
            ok, error = False, f"{type(exc).__name__}: {exc}"
        if not ok:
            ok_all = False
            log.error("ops message for run %s not accepted by an ops destination: %s", run_id, error)
    return ok_all
