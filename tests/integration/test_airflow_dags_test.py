"""One end-to-end run through Airflow itself: `airflow dags test qingdao_notices_etl` against the
sample site, in an isolated AIRFLOW_HOME with a SQLite metadata DB."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

pytestmark = [pytest.mark.integration, pytest.mark.airflow]
ROOT = Path(__file__).resolve().parents[2]
AIRFLOW = str(Path(sys.executable).with_name("airflow"))


def _airflow(args: list[str], env: dict[str, str], log: Path, *, check: bool = True) -> int:
    with log.open("w") as fh:
        proc = subprocess.run([AIRFLOW, *args], env=env, stdout=fh, stderr=subprocess.STDOUT,
                              timeout=300, check=False)
    if check:
        assert proc.returncode == 0, f"airflow {' '.join(args)} failed:\n{log.read_text()[-6000:]}"
    return proc.returncode


def _airflow_home(tmp_path: Path, site_url: str) -> tuple[dict[str, str], Path]:
    home = tmp_path / "airflow"
    data = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "QDP_"))}
    env.update({
        "AIRFLOW_HOME": str(home), "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False", "GX_ANALYTICS_ENABLED": "false",
        # The site comes from the Airflow connection qdp_site, not QDP_SITE_URL: both paths work.
        "AIRFLOW_CONN_QDP_SITE": site_url, "QDP_DATA_DIR": str(data), "QDP_RATE_LIMIT": "0",
        "QDP_TASK_RETRIES": "0",  # fail fast: a retry would wait minutes
    })
    home.mkdir()
    _airflow(["db", "migrate"], env, tmp_path / "migrate.log")
    _airflow(["pools", "set", "qingdao_site", "4", "requests to the Qingdao site"], env, tmp_path / "pool.log")
    return env, data


def _asset_events(tmp_path: Path) -> int:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'airflow' / 'airflow.db'}")
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text("SELECT COUNT(*) FROM asset_event")).scalar_one()
    finally:
        engine.dispose()


def test_airflow_dags_test_runs_the_etl_against_the_sample_site(sample_site, tmp_path):
    env, data = _airflow_home(tmp_path, sample_site.url)
    _airflow(["dags", "test", "qingdao_notices_etl"], env, tmp_path / "dags-test.log")

    log = (tmp_path / "dags-test.log").read_text()
    assert "state=success" in log
    for task in ("begin_run", "list_channels", "crawl_channel", "parse", "validate", "load", "compare", "alert"):
        assert f"task_id='{task}'" in log, task  # each pushed its report

    engine = sa.create_engine(f"sqlite:///{data / 'warehouse.sqlite'}")
    with engine.connect() as conn:
        notices = conn.execute(sa.text("SELECT COUNT(*) FROM notice WHERE is_current")).scalar_one()
        items = conn.execute(sa.text("SELECT COUNT(*) FROM plan_item")).scalar_one()
        run = conn.execute(sa.text("SELECT dag_id, dag_run_id, status FROM etl_run")).one()
        stages = set(conn.execute(sa.text("SELECT stage FROM etl_run_stage")).scalars())
        links = conn.execute(sa.text("SELECT COUNT(*) FROM plan_item_link")).scalar_one()
    engine.dispose()
    assert notices == len(sample_site.site.loaded_notice_ids())  # one per document; the scan held back
    assert items > 100 and links > 50
    assert run.dag_id == "qingdao_notices_etl" and run.dag_run_id and run.status == "success"
    assert stages == {"crawl", "parse", "validate", "load", "compare", "alert"}
    assert (data / "data_docs" / "index.html").exists()
    assert _asset_events(tmp_path) == 1  # the load changed the warehouse: one event


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_airflow_dags_test_fails_when_the_site_is_down(tmp_path):
    """Nothing listening at the site: the DAG run fails, etl_run says failed, no asset event."""
    env, data = _airflow_home(tmp_path, f"http://127.0.0.1:{_closed_port()}")
    env["QDP_RETRIES"] = "0"
    code = _airflow(["dags", "test", "qingdao_notices_etl"], env, tmp_path / "dags-test.log", check=False)
    log = (tmp_path / "dags-test.log").read_text()
    assert code != 0 or "state=failed" in log, log[-4000:]
    assert "state=success" not in log.split("DagRun Finished")[-1]

    engine = sa.create_engine(f"sqlite:///{data / 'warehouse.sqlite'}")
    with engine.connect() as conn:
        status, reasons = conn.execute(sa.text("SELECT status, health_reasons FROM etl_run")).one()
    engine.dispose()
    assert status == "failed", reasons
    assert "no channel could be read" in reasons or "site unreachable" in reasons
    assert _asset_events(tmp_path) == 0  # nothing changed in the warehouse: no event


def test_airflow_dags_test_backfill_since_param(sample_site, tmp_path):
    """`backfill_since` turns the daily DAG into a backfill: entries listed before the year are not
    fetched, the crawl is checkpointed under the DAG run, what is loaded is alert baseline."""
    env, data = _airflow_home(tmp_path, sample_site.url)
    _airflow(["dags", "test", "qingdao_notices_etl", "-c", '{"backfill_since": 2023}'], env,
             tmp_path / "dags-test.log")
    assert "state=success" in (tmp_path / "dags-test.log").read_text()
    engine = sa.create_engine(f"sqlite:///{data / 'warehouse.sqlite'}")
    with engine.connect() as conn:
        years = set(conn.execute(sa.text("SELECT DISTINCT CAST(strftime('%Y', published) AS INTEGER) "
                                         "FROM notice")).scalars())
        announced = conn.execute(sa.text("SELECT COUNT(*) FROM alert_outbox WHERE NOT is_baseline")).scalar_one()
        queued = conn.execute(sa.text("SELECT COUNT(*) FROM alert_outbox")).scalar_one()
        before = conn.execute(sa.text("SELECT counts FROM etl_run_stage WHERE stage = 'crawl'")).scalar_one()
    engine.dispose()
    assert queued > 0 and announced == 0
    assert min(years) >= 2023 and '"before_since"' in before
    states = list((data / "landing" / "state").glob("channel-*.json"))
    assert states and all('"session": "airflow:qingdao_notices_etl:' in p.read_text() for p in states)
