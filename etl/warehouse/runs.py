"""Run audit (``etl_run``, ``etl_run_stage``) and the quarantine of records held back."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import secrets
import socket
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ..records import StageReport
from . import _insert, schema, write_connection

log = logging.getLogger(__name__)

RUN_STATUSES = ("running", "success", "degraded", "failed", "abandoned")
FINISH_STATUSES = ("success", "degraded", "failed")
RECORD_TYPES = ("notice", "plan_item", "plan_target")
# A `running` run without a heartbeat for this long is taken for dead, whoever owned it. Stages
# beat when they start; the longest stage (a full crawl at 1 request/s) stays well below this.
STALE_AFTER = dt.timedelta(hours=6)
_VOLATILE_VALUES = ("fetched_at", "traceback")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def new_run_id(now: dt.datetime | None = None) -> str:
    """Sortable, unique run id: UTC start time plus a random tail."""
    now = now or _now()
    return f"{now.strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(3)}"


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True


def abandon_dead_runs(engine: Engine, *, dag_id: str | None = None, now: dt.datetime | None = None,
                      stale_after: dt.timedelta = STALE_AFTER) -> list[str]:
    """Close ``running`` runs that can no longer finish as ``abandoned``; return their ids.

    A run is dead when (1) its owning ``qdp run`` process on this host is gone, (2) it belongs to
    ``dag_id`` — the DAGs allow one active run (``max_active_runs=1``), so an earlier run of the same
    DAG still ``running`` when a new one begins was killed or timed out — or (3) nothing has beaten
    its heartbeat for ``stale_after``.
    """
    now = now or _now()
    host = socket.gethostname()
    r = schema.etl_run
    dead: dict[str, str] = {}
    with engine.connect() as conn:
        rows = conn.execute(sa.select(r.c.run_id, r.c.dag_id, r.c.hostname, r.c.pid, r.c.started_at,
                                      r.c.heartbeat_at, r.c.current_stage)
                            .where(r.c.status == "running")).all()
    for row in rows:
        beat = row.heartbeat_at or row.started_at
        beat = beat.replace(tzinfo=dt.UTC) if beat.tzinfo is None else beat
        where = f" during {row.current_stage}" if row.current_stage else ""
        if row.pid is not None and row.hostname == host and not _process_alive(row.pid):
            dead[row.run_id] = f"abandoned{where}: process {row.pid} on {host} is gone"
        elif dag_id is not None and row.dag_id == dag_id:
            dead[row.run_id] = f"abandoned{where}: a new run of {dag_id} began (one active run per DAG)"
        elif now - beat > stale_after:
            dead[row.run_id] = f"abandoned{where}: no heartbeat since {beat.isoformat()}"
    if dead:
        with write_connection(engine) as conn, conn.begin():
            for run_id, reason in dead.items():
                # status = 'running' again: the run may have finished since it was read.
                conn.execute(r.update().where(r.c.run_id == run_id, r.c.status == "running")
                             .values(status="abandoned", finished_at=now, health_reasons=[reason]))
        for run_id, reason in dead.items():
            log.warning("run %s %s", run_id, reason)
    return sorted(dead)


def start_run(engine: Engine, *, dag_id: str | None = None, dag_run_id: str | None = None,
              owner_pid: int | None = None) -> str:
    """Open a ``running`` run (after closing dead ones). ``owner_pid``: the process that will finish
    it, when one process runs every stage (``qdp run``), so that a later run can see it died."""
    abandon_dead_runs(engine, dag_id=dag_id)
    run_id = new_run_id()
    now = _now()
    with write_connection(engine) as conn, conn.begin():
        conn.execute(
            schema.etl_run.insert().values(
                run_id=run_id, dag_id=dag_id, dag_run_id=dag_run_id, started_at=now, status="running",
                heartbeat_at=now, current_stage="begin", pid=owner_pid,
                hostname=socket.gethostname() if owner_pid is not None else None,
            )
        )
    return run_id


def heartbeat(engine: Engine, run_id: str, stage: str) -> None:
    """Record that ``run_id`` is alive and has started ``stage``."""
    with write_connection(engine) as conn, conn.begin():
        conn.execute(schema.etl_run.update().where(schema.etl_run.c.run_id == run_id)
                     .values(heartbeat_at=_now(), current_stage=stage))


def finish_run(engine: Engine, run_id: str, *, status: str, reports: list[StageReport],
               reasons: list[str] | None = None) -> None:
    """Close a run with its status, the reasons it is not success, and per-stage counts/timings
    (a stage reported twice: last wins)."""
    if status not in FINISH_STATUSES:
        raise ValueError(f"finish status must be one of {FINISH_STATUSES}, not {status!r}")
    by_stage = {r.stage: r for r in reports}
    rows = [
        {
            "run_id": run_id,
            "stage": r.stage,
            "seconds": float(r.seconds or 0.0),
            "counts": {k: int(v) for k, v in r.counts.items()},
        }
        for r in by_stage.values()
    ]
    t = schema.etl_run_stage
    with write_connection(engine) as conn, conn.begin():
        updated = conn.execute(
            schema.etl_run.update()
            .where(schema.etl_run.c.run_id == run_id)
            .values(finished_at=_now(), heartbeat_at=_now(), current_stage=None, status=status,
                    health_reasons=list(reasons or []))
        ).rowcount
        if updated != 1:
            raise KeyError(f"no etl_run {run_id!r}: start_run it first")
        if rows:
            stmt = _insert(conn, t)
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=[t.c.run_id, t.c.stage],
                    set_={"seconds": stmt.excluded.seconds, "counts": stmt.excluded.counts},
                ),
                rows,
            )


def _jsonable(values: Any) -> Any:
    # Round-trip through JSON so dates, Decimals and the like are stored as text, never rejected.
    return json.loads(json.dumps(values, ensure_ascii=False, default=str))


def quarantine_content_key(values: Any) -> str:
    """What makes a held-back record "the same one again": the page's sha256 when the values carry
    it (notices, parse errors), else a hash of the values without per-fetch fields."""
    if isinstance(values, dict):
        sha = values.get("content_sha256") or values.get("sha256")
        if sha:
            return str(sha)
        values = {k: v for k, v in values.items() if k not in _VOLATILE_VALUES}
    text = json.dumps(values, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def record_quarantine(engine: Engine, run_id: str | None, rows: Iterable[dict[str, Any]]) -> int:
    """Store records held back by a check, with all their values: one row per record, content and
    check. Holding the same one back again (the same bad page on every run) updates its run,
    reason, values and ``last_seen_at`` and counts it, instead of adding a row. Returns the number
    of records written."""
    now = _now()
    out: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    for row in rows:
        missing = {"record_type", "record_key", "check", "reason", "values"} - set(row)
        if missing:
            raise ValueError(f"quarantine row lacks {sorted(missing)}: {row!r}")
        if row["record_type"] not in RECORD_TYPES:
            raise ValueError(f"record_type must be one of {RECORD_TYPES}, not {row['record_type']!r}")
        values = _jsonable(row["values"])
        rec = {
            "run_id": run_id,
            "record_type": row["record_type"],
            "record_key": str(row["record_key"]),
            "content_key": quarantine_content_key(values),
            "failed_check": str(row["check"]),
            "reason": str(row["reason"]),
            "record_values": values,
            "quarantined_at": now,
            "last_seen_at": now,
            "seen_count": 1,
        }
        # Twice in one call (one batch) is one sighting; ON CONFLICT cannot touch a row twice.
        out[(rec["record_type"], rec["record_key"], rec["content_key"], rec["failed_check"])] = rec
    if not out:
        return 0
    t = schema.quarantine
    with write_connection(engine) as conn, conn.begin():
        stmt = _insert(conn, t)
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=[t.c.record_type, t.c.record_key, t.c.content_key, t.c.failed_check],
                set_={
                    "run_id": stmt.excluded.run_id,
                    "reason": stmt.excluded.reason,
                    "record_values": stmt.excluded.record_values,
                    "last_seen_at": stmt.excluded.last_seen_at,
                    # The same run recording it again (a re-run stage) is not another sighting.
                    "seen_count": sa.case(
                        (t.c.run_id == stmt.excluded.run_id, t.c.seen_count),  # NULL ids: counted
                        else_=t.c.seen_count + 1,
                    ),
                },
            ),
            list(out.values()),
        )
    return len(out)


def run_summary(engine: Engine, run_id: str) -> dict[str, Any]:
    """The run row with its stages and quarantine counts (for the CLI report and tests)."""
    with engine.connect() as conn:
        run = (
            conn.execute(sa.select(schema.etl_run).where(schema.etl_run.c.run_id == run_id))
            .mappings()
            .first()
        )
        if run is None:
            raise KeyError(f"no etl_run {run_id!r}")
        stages = (
            conn.execute(
                sa.select(
                    schema.etl_run_stage.c.stage,
                    schema.etl_run_stage.c.seconds,
                    schema.etl_run_stage.c.counts,
                ).where(schema.etl_run_stage.c.run_id == run_id)
            )
            .mappings()
            .all()
        )
        q = schema.quarantine
        quarantined = conn.execute(
            sa.select(q.c.record_type, sa.func.count()).where(q.c.run_id == run_id).group_by(q.c.record_type)
        ).all()
    return {
        **dict(run),
        "stages": {s["stage"]: {"seconds": s["seconds"], "counts": s["counts"]} for s in stages},
        "quarantined": dict(quarantined),
    }
