"""Migrations, schema/model agreement, analyst SQL and run audit, on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from etl import warehouse
from etl.departments import DEPARTMENTS
from etl.load import load_notices
from etl.records import StageReport
from etl.warehouse import runs, schema
from tests.fixtures.warehouse import T0, make_notice_record

pytestmark = pytest.mark.integration


def _revisions() -> list[str]:
    script = ScriptDirectory(str(warehouse.MIGRATIONS_DIR))
    return [s.revision for s in reversed(list(script.walk_revisions()))]


def _objects(engine) -> set[str]:
    insp = sa.inspect(engine)
    return set(insp.get_table_names()) | set(insp.get_view_names())


def test_upgrade_downgrade_upgrade(warehouse_url):
    engine = warehouse.get_engine(warehouse_url)
    warehouse.upgrade(engine)
    assert warehouse.current_revision(engine) == warehouse.head_revision()
    full = _objects(engine)
    assert set(schema.metadata.tables) | set(schema.VIEWS) <= full
    warehouse.downgrade(engine, "base")
    assert warehouse.current_revision(engine) is None
    assert _objects(engine) <= {"alembic_version"}
    warehouse.upgrade(engine)
    assert _objects(engine) == full
    with engine.connect() as conn:
        names = set(conn.execute(sa.select(schema.department.c.name)).scalars())
    assert {d.name for d in DEPARTMENTS} <= names


def test_every_revision_upgrades_and_downgrades_with_data(warehouse_url):
    """From every earlier revision (holding data) up to head, and one step back down from each."""
    engine = warehouse.get_engine(warehouse_url)
    revisions = _revisions()
    assert revisions[0] == "0001" and revisions[-1] == warehouse.head_revision()
    for rev in revisions:
        warehouse.upgrade(engine, rev)
        assert warehouse.current_revision(engine) == rev
    load_notices(engine, [make_notice_record(3000001)])
    for lower in reversed(["base", *revisions[:-1]]):
        warehouse.downgrade(engine, lower)
        assert warehouse.current_revision(engine) == (None if lower == "base" else lower)
        warehouse.upgrade(engine)  # from `lower` straight to head
        assert warehouse.current_revision(engine) == warehouse.head_revision()
        warehouse.downgrade(engine, lower)
    warehouse.upgrade(engine)


def test_migrated_schema_matches_models(engine):
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, schema.metadata)
    assert diff == []


def test_one_current_revision_enforced_by_database(engine):
    load_notices(engine, [make_notice_record(3000001)])
    row = {"host": "www.qingdao.gov.cn", "notice_id": 3000001, "revision": 2, "url": "u", "channel": "c",
           "doc_type": "notice", "content_sha256": "x", "body_text": "", "parse_warnings": [], "fetched_at": T0,
           "first_seen_at": T0, "valid_from": T0, "valid_to": None, "is_current": True}
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(schema.notice.insert(), row)


def test_views_and_saved_queries_run_with_expected_rows(engine):
    run_id = runs.start_run(engine, dag_id="qingdao_notices_etl", dag_run_id="manual__1")
    old = make_notice_record(3000001, version="v1", items=2)
    new = make_notice_record(3000001, version="v2", items=3, fetched_at=T0 + dt.timedelta(days=1))
    other = make_notice_record(3000002, plan_year=2020, fetched_at=T0)  # backfilled: fetched now, published 2020
    other = dataclasses.replace(other, parsed=dataclasses.replace(other.parsed, published=dt.date(2020, 2, 1)))
    load = load_notices(engine, [old, other], run_id=run_id)
    load2 = load_notices(engine, [new], run_id=run_id)
    runs.record_quarantine(engine, run_id, [
        {"record_type": "plan_item", "record_key": "k1", "check": "text_not_empty", "reason": "empty",
         "values": {"text": "", "when": dt.date(2021, 1, 1)}},
        {"record_type": "plan_item", "record_key": "k2", "check": "text_not_empty", "reason": "empty",
         "values": {"text": ""}}])
    runs.finish_run(engine, run_id, status="success", reports=[load, load2, StageReport("parse", {"pages": 3}, 1.5)])

    with engine.connect() as conn:
        for view in schema.VIEWS:
            conn.execute(sa.text(f"SELECT * FROM {view}")).all()  # every view runs
        items = conn.execute(sa.text("SELECT department, plan_year, headline FROM v_plan_items "
                                     "ORDER BY plan_year, notice_id, section, ordinal")).all()
        targets = conn.execute(sa.text("SELECT department, plan_year, object, value FROM v_plan_targets")).all()
        history = conn.execute(sa.text("SELECT * FROM v_run_history")).mappings().one()
        qsum = conn.execute(sa.text("SELECT * FROM v_quarantine_summary")).mappings().one()
    assert len(items) == 3 + 3 and {i.department for i in items} == {"青岛市教育局"}
    assert [i.plan_year for i in items] == [2020] * 3 + [2021] * 3
    assert all("v2" in i.headline for i in items if i.plan_year == 2021)
    assert len(targets) == 6 and {t.object for t in targets} == {"幼儿园0"}
    assert history["status"] == "success" and history["stage_count"] == 2
    assert history["revisions_loaded"] == 3 and history["records_quarantined"] == 2
    assert history["stage_seconds"] >= 1.5 and history["dag_run_id"] == "manual__1"
    assert (qsum["record_type"], qsum["failed_check"], qsum["records"]) == ("plan_item", "text_not_empty", 2)

    by_year = warehouse.run_saved_query(engine, "items_by_department_year", department="青岛市教育局", plan_year=2021)
    assert [r["ordinal"] for r in by_year] == [1, 2, 1]
    totals = warehouse.run_saved_query(engine, "targets_by_department_object_year")
    assert [(t["doc_type"], t["plan_year"], t["targets"], t["total_value"]) for t in totals] == [
        ("work_plan", 2020, 3, 60.0), ("work_plan", 2021, 3, 60.0)]
    recent = warehouse.run_saved_query(engine, "new_notices_since", since=dt.date(2021, 1, 1))
    # Published decides: the 2020 plan fetched by the same backfill is not recent; the revision of
    # 3000001 is the same notice, listed once.
    assert [r["notice_id"] for r in recent] == [3000001]
    hist = warehouse.run_saved_query(engine, "notice_revision_history", host="www.qingdao.gov.cn", notice_id=3000001)
    assert [(h["revision"], h["item_count"], h["previous_item_count"]) for h in hist] == [(2, 3, 2), (1, 2, None)]
    board = warehouse.run_saved_query(engine, "run_history", limit=5)
    assert [(b["run_id"], b["records"]) for b in board] == [(run_id, 2)]


def test_run_audit_and_quarantine_are_idempotent(engine):
    run_id = runs.start_run(engine)
    row = {"record_type": "notice", "record_key": "www.qingdao.gov.cn/1", "check": "parse_error",
           "reason": "boom", "values": {"url": "u"}}
    runs.record_quarantine(engine, run_id, [row])
    runs.record_quarantine(engine, run_id, [{**row, "reason": "boom again"}])
    runs.finish_run(engine, run_id, status="failed", reports=[StageReport("load", {"notices_new": 1}, 0.2)])
    summary = runs.run_summary(engine, run_id)
    assert summary["status"] == "failed" and summary["finished_at"] is not None
    assert summary["stages"] == {"load": {"seconds": 0.2, "counts": {"notices_new": 1}}}
    assert summary["quarantined"] == {"notice": 1}
    with engine.connect() as conn:
        assert conn.execute(sa.select(schema.quarantine.c.reason)).scalars().all() == ["boom again"]
    with pytest.raises(ValueError, match="record_type"):
        runs.record_quarantine(engine, run_id, [{**row, "record_type": "page"}])
    with pytest.raises(ValueError, match="lacks"):
        runs.record_quarantine(engine, run_id, [{"record_type": "notice"}])
    with pytest.raises(KeyError):
        runs.finish_run(engine, "no-such-run", status="success", reports=[])


def test_analyst_sql_is_sqlfluff_clean():
    repo = Path(__file__).resolve().parents[2]
    sqlfluff = Path(sys.executable).with_name("sqlfluff")
    result = subprocess.run([str(sqlfluff), "lint", "sql/"], cwd=repo, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
