"""Run audit (``etl_run``, ``etl_run_stage``) and the quarantine of records held back."""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ..records import StageReport
from . import _insert, schema, write_connection

RUN_STATUSES = ("running", "success", "failed")
RECORD_TYPES = ("notice", "plan_item", "plan_target")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def new_run_id(now: dt.datetime | None = None) -> str:
    """Sortable, unique run id: UTC start time plus a random tail."""
    now = now or _now()
    return f"{now.strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(3)}"


def start_run(engine: Engine, *, dag_id: str | None = None, dag_run_id: str | None = None) -> str:
    run_id = new_run_id()
    with write_connection(engine) as conn, conn.begin():
        conn.execute(
            schema.etl_run.insert().values(
                run_id=run_id, dag_id=dag_id, dag_run_id=dag_run_id, started_at=_now(), status="running"
            )
        )
    return run_id


def finish_run(engine: Engine, run_id: str, *, status: str, reports: list[StageReport]) -> None:
    """Close a run with its status and per-stage counts/timings (a stage reported twice: last wins)."""
    if status not in RUN_STATUSES or status == "running":
        raise ValueError(f"finish status must be 'success' or 'failed', not {status!r}")
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
            .values(finished_at=_now(), status=status)
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


def record_quarantine(engine: Engine, run_id: str | None, rows: Iterable[dict[str, Any]]) -> int:
    """Store records held back by a check, with all their values. Re-recording the same record and
    check in the same run updates it (idempotent). Returns the number of rows written."""
    now = _now()
    out = []
    for row in rows:
        missing = {"record_type", "record_key", "check", "reason", "values"} - set(row)
        if missing:
            raise ValueError(f"quarantine row lacks {sorted(missing)}: {row!r}")
        if row["record_type"] not in RECORD_TYPES:
            raise ValueError(f"record_type must be one of {RECORD_TYPES}, not {row['record_type']!r}")
        out.append(
            {
                "run_id": run_id,
                "record_type": row["record_type"],
                "record_key": str(row["record_key"]),
                "failed_check": str(row["check"]),
                "reason": str(row["reason"]),
                "record_values": _jsonable(row["values"]),
                "quarantined_at": now,
            }
        )
    if not out:
        return 0
    t = schema.quarantine
    with write_connection(engine) as conn, conn.begin():
        if run_id is None:
            conn.execute(t.insert(), out)  # NULL run ids never conflict: plain insert
        else:
            stmt = _insert(conn, t)
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=[t.c.run_id, t.c.record_type, t.c.record_key, t.c.failed_check],
                    set_={
                        "reason": stmt.excluded.reason,
                        "record_values": stmt.excluded.record_values,
                        "quarantined_at": stmt.excluded.quarantined_at,
                    },
                ),
                out,
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
