"""Every DAG file imports cleanly, fast, and without the heavy libraries (GX, pandas)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DAG_FILES = sorted((ROOT / "dags").glob("*.py"))

PROBE = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("dag_under_test", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
from airflow.sdk import DAG
dags = [v for v in vars(module).values() if isinstance(v, DAG)]
print(json.dumps({
    "heavy": sorted(m for m in ("great_expectations", "pandas") if m in sys.modules),
    "dag_ids": [d.dag_id for d in dags],
}))
"""


def _import_in_fresh_interpreter(path: Path) -> dict:
    env = {**os.environ, "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
    out = subprocess.run([sys.executable, "-c", PROBE, str(path)], capture_output=True, text=True,
                         env=env, timeout=120, check=False)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.name)
def test_dag_file_imports_without_heavy_libraries(path):
    result = _import_in_fresh_interpreter(path)
    assert result["heavy"] == [], f"{path.name} imports {result['heavy']} at parse time"


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(ROOT / "dags"))
    assert bag.import_errors == {}
    return bag


def test_daily_full_pass_and_hourly_incremental_watch(dagbag):
    etl, watch = dagbag.dags["qingdao_notices_etl"], dagbag.dags["qingdao_notices_watch"]
    assert etl.params["full_crawl"] is True and watch.params["full_crawl"] is False
    # Backfill: a param of the daily DAG only (the hourly watch's timeout does not fit a full walk).
    assert etl.params["backfill_since"] is None and "backfill_since" not in watch.params
    assert (etl.schedule, watch.schedule) == ("@daily", "@hourly")
    assert {t.task_id for t in etl.tasks} == {t.task_id for t in watch.tasks}
    assert etl.max_active_runs == watch.max_active_runs == 1


@pytest.mark.parametrize("dag_id", ["qingdao_notices_etl", "qingdao_notices_watch"])
def test_dag_shape(dagbag, dag_id):
    dag = dagbag.dags[dag_id]
    assert dag.doc_md and "Qingdao" in dag.doc_md
    assert dag.default_args["retries"] >= 1
    assert dag.default_args["on_failure_callback"].__module__ == "etl.alert.ops"  # records, never messages
    assert "full_crawl" in dag.params
    tasks = {t.task_id: t for t in dag.tasks}
    assert {"begin_run", "list_channels", "crawl_channel", "parse", "validate", "load", "compare",
            "alert", "finish_run", "check_health", "publish_plan_items"} <= set(tasks)
    assert tasks["crawl_channel"].pool == "qingdao_site"
    # The asset is held by a task of its own that skips (no event) when the load changed nothing.
    assert [t for t, op in tasks.items() if op.outlets] == ["publish_plan_items"]
    assert [a.name for a in tasks["publish_plan_items"].outlets] == ["qingdao_plan_items"]
    assert tasks["publish_plan_items"].upstream_task_ids == {"load"}
    # finish_run records the health of every run; check_health turns a degraded run into a warning.
    assert tasks["finish_run"].trigger_rule == "all_done"
    assert tasks["check_health"].upstream_task_ids == {"finish_run"}
    assert not tasks["check_health"].downstream_task_ids
    # Stages run in order.
    assert "parse" in tasks["validate"].upstream_task_ids
    assert "validate" in tasks["load"].upstream_task_ids
    assert "load" in tasks["compare"].upstream_task_ids
