"""Crash hygiene on both warehouses: dead runs are closed as abandoned, migrations and loads are
serialised by a lock, and quarantine keeps one row per record, content and check."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import threading
import time

import pytest
import sqlalchemy as sa

from etl import warehouse
from etl.load import load_notices
from etl.records import StageReport
from etl.warehouse import runs, schema
from tests.fixtures.warehouse import make_notice_record

pytestmark = pytest.mark.integration


def _status(engine, run_id):
    with engine.connect() as conn:
        return conn.execute(sa.select(schema.etl_run.c.status, schema.etl_run.c.health_reasons)
                            .where(schema.etl_run.c.run_id == run_id)).one()


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_run_whose_process_died_is_abandoned_by_the_next_run(engine):
    dead = runs.start_run(engine, owner_pid=_dead_pid())
    runs.heartbeat(engine, dead, "load")
    alive = runs.start_run(engine, owner_pid=os.getpid())
    nxt = runs.start_run(engine)
    status, reasons = _status(engine, dead)
    assert status == "abandoned" and "during load" in reasons[0] and "is gone" in reasons[0]
    assert _status(engine, alive)[0] == "running"  # its process lives: left alone
    assert _status(engine, nxt)[0] == "running"


def test_an_earlier_run_of_the_same_dag_and_a_silent_run_are_abandoned(engine):
    daily = runs.start_run(engine, dag_id="qingdao_notices_etl", dag_run_id="a")
    hourly = runs.start_run(engine, dag_id="qingdao_notices_watch", dag_run_id="b")
    runs.start_run(engine, dag_id="qingdao_notices_etl", dag_run_id="c")
    assert _status(engine, daily)[0] == "abandoned"  # max_active_runs=1: the earlier one is dead
    assert _status(engine, hourly)[0] == "running"  # another DAG may run beside it
    later = dt.datetime.now(dt.UTC) + runs.STALE_AFTER + dt.timedelta(minutes=1)
    assert hourly in runs.abandon_dead_runs(engine, now=later)
    assert "no heartbeat since" in _status(engine, hourly)[1][0]


def test_finish_run_records_health_status_and_reasons(engine):
    run_id = runs.start_run(engine)
    runs.finish_run(engine, run_id, status="degraded", reports=[StageReport("crawl", {"failed": 1})],
                    reasons=["channel fgw failed: HTTP 503"])
    assert tuple(_status(engine, run_id)) == ("degraded", ["channel fgw failed: HTTP 503"])
    with pytest.raises(ValueError, match="finish status"):
        runs.finish_run(engine, run_id, status="abandoned", reports=[])


def test_the_same_bad_record_is_quarantined_once_with_a_count(engine):
    """Observed: the same bad page was quarantined again on every run, without bound."""
    row = {"record_type": "notice", "record_key": "www.qingdao.gov.cn/1", "check": "title_not_furniture",
           "reason": "title is the site name", "values": {"content_sha256": "a" * 64, "fetched_at": "x"}}
    run_ids = [runs.start_run(engine) for _ in range(3)]
    for run_id in run_ids:
        runs.record_quarantine(engine, run_id, [row, {**row, "values": {**row["values"], "fetched_at": "y"}}])
    runs.record_quarantine(engine, run_ids[-1], [row])  # the same run again: not another sighting
    # New content of the same notice is another row: both are kept.
    runs.record_quarantine(engine, run_ids[-1], [{**row, "values": {"content_sha256": "b" * 64}}])
    q = schema.quarantine
    with engine.connect() as conn:
        rows = conn.execute(sa.select(q.c.content_key, q.c.run_id, q.c.seen_count, q.c.quarantined_at,
                                      q.c.last_seen_at).order_by(q.c.content_key)).all()
    assert [(r.content_key[0], r.run_id, r.seen_count) for r in rows] == [
        ("a", run_ids[-1], 3), ("b", run_ids[-1], 1)]
    assert rows[0].quarantined_at < rows[0].last_seen_at
    assert runs.run_summary(engine, run_ids[-1])["quarantined"] == {"notice": 2}


def test_concurrent_upgrades_wait_for_each_other(warehouse_url):
    """Observed: two runs on a fresh warehouse raced on the migrations and one crashed."""
    errors: list[BaseException] = []

    def migrate():
        try:
            warehouse.upgrade(sa.make_url(warehouse_url))
        except BaseException as exc:
            errors.append(exc)

    # Separate engines (as separate processes would have): the cache would share one.
    threads = [threading.Thread(target=migrate) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    assert warehouse.current_revision(warehouse_url) == warehouse.head_revision()


def test_two_loads_of_the_same_staged_records_serialise(engine):
    """Observed: two loads of the same staged run collided on a unique key (PostgreSQL)."""
    records = [make_notice_record(3100000 + i) for i in range(40)]
    reports: list[StageReport] = []
    errors: list[BaseException] = []

    def load():
        try:
            with warehouse.exclusive(engine, "write"):
                reports.append(load_notices(engine, records, run_id=None, batch_size=10))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=load) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    assert sorted(r.counts["notices_new"] for r in reports) == [0, 40]
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM notice")).scalar_one() == 40


def test_the_lock_is_held_until_released_and_dropped_with_its_process(warehouse_url, tmp_path):
    engine = warehouse.get_engine(warehouse_url)
    code = ("import sys, time\nfrom etl import warehouse\n"
            "with warehouse.exclusive(sys.argv[1], 'write'):\n    print('locked', flush=True)\n"
            "    time.sleep(60)\n")
    holder = subprocess.Popen([sys.executable, "-c", code, warehouse_url], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        got = threading.Event()

        def wait_for_lock():
            with warehouse.exclusive(engine, "write"):
                got.set()

        waiter = threading.Thread(target=wait_for_lock, daemon=True)
        waiter.start()
        time.sleep(1.0)
        assert not got.is_set(), "the lock did not exclude a second holder"
        holder.kill()  # SIGKILL: no unlock runs; the OS / the server must drop the lock
        holder.wait()
        assert got.wait(30), "the lock of a killed process was never released"
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()


def test_a_bad_page_seen_by_every_run_stays_one_quarantine_row(warehouse_url, tmp_path):
    """The validate stage of three runs holding back the same furniture page: one row, counted."""
    from etl.pipeline import PARSED_FILE, begin_run, run_dir, validate_stage, write_records
    from etl.settings import Settings

    settings = Settings.from_env({"QDP_DATA_DIR": str(tmp_path / "data"), "QDP_WAREHOUSE_URL": warehouse_url})
    furniture = make_notice_record(3200001, items=0, sections=0, doc_type="notice", plan_year=None,
                                   title="青岛政务网")
    run_ids = []
    for _ in range(3):
        run_id = begin_run(settings)
        write_records(run_dir(settings, run_id) / PARSED_FILE, [furniture])
        report = validate_stage(settings, run_id)
        assert report.counts["notices_quarantined"] == 1
        run_ids.append(run_id)
    engine = warehouse.get_engine(warehouse_url)
    q = schema.quarantine
    with engine.connect() as conn:
        rows = conn.execute(sa.select(q.c.record_key, q.c.failed_check, q.c.seen_count, q.c.run_id)).all()
    assert [(r.record_key, r.failed_check, r.seen_count, r.run_id) for r in rows] == [
        ("www.qingdao.gov.cn/3200001", "title_not_site_furniture", 3, run_ids[-1])]


def test_a_missed_heartbeat_does_not_stop_the_stage(monkeypatch, tmp_path, caplog):
    from etl.pipeline import stage_started
    from etl.settings import Settings

    def locked(*args, **kwargs):
        raise sa.exc.OperationalError("UPDATE etl_run", {}, Exception("database is locked"))

    monkeypatch.setattr(runs, "heartbeat", locked)
    stage_started(Settings.from_env({"QDP_DATA_DIR": str(tmp_path)}), "r1", "load")
    assert "heartbeat before load not recorded" in caplog.text


def test_migration_0005_folds_existing_duplicate_quarantine_rows(warehouse_url):
    engine = warehouse.get_engine(warehouse_url)
    warehouse.upgrade(engine, "0004")
    t0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    with engine.begin() as conn:
        for k in range(3):
            conn.execute(sa.text("INSERT INTO etl_run (run_id, started_at, status) VALUES (:r, :t, 'failed')"),
                         {"r": f"run{k}", "t": t0})
            for key, sha in (("h/1", "a" * 64), ("h/2", "b" * 64)):
                conn.execute(sa.text(
                    "INSERT INTO quarantine (run_id, record_type, record_key, failed_check, reason, "
                    "record_values, quarantined_at) VALUES (:r, 'notice', :k, 'title', 'bad', :v, :t)"),
                    {"r": f"run{k}", "k": key, "v": f'{{"content_sha256": "{sha}", "fetched_at": "{k}"}}',
                     "t": t0 + dt.timedelta(days=k)})
    warehouse.upgrade(engine)
    q = schema.quarantine
    with engine.connect() as conn:
        rows = conn.execute(sa.select(q.c.record_key, q.c.run_id, q.c.seen_count, q.c.quarantined_at,
                                      q.c.last_seen_at).order_by(q.c.record_key)).all()
    assert [(r.record_key, r.run_id, r.seen_count) for r in rows] == [("h/1", "run2", 3), ("h/2", "run2", 3)]
    assert {(r.quarantined_at.day, r.last_seen_at.day) for r in rows} == {(1, 3)}
    warehouse.downgrade(engine, "0004")  # and back: one row per run, record and check again
    warehouse.upgrade(engine)
