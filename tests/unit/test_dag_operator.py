"""What an operator sees of the DAGs: mapped crawl tasks named by channel, and timeouts everywhere."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("dag_under_test", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
from airflow.sdk import DAG
out = {}
for dag in (v for v in vars(module).values() if isinstance(v, DAG)):
    out[dag.dag_id] = {
        "dagrun_timeout": dag.dagrun_timeout.total_seconds() if dag.dagrun_timeout else None,
        "tasks": {t.task_id: {"execution_timeout": t.execution_timeout.total_seconds() if t.execution_timeout else None,
                              "map_index_template": getattr(t, "map_index_template", None),
                              "mapped": any(c.__name__ == "MappedOperator" for c in type(t).__mro__)}
                  for t in dag.tasks},
    }
print(json.dumps(out))
"""


def _dags() -> dict:
    env = {**os.environ, "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
    out = subprocess.run([sys.executable, "-c", PROBE, str(ROOT / "dags" / "qingdao_notices_etl.py")],
                         capture_output=True, text=True, env=env, timeout=120, check=False)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_mapped_crawl_tasks_are_named_by_channel_and_every_task_and_run_has_a_timeout():
    dags = _dags()
    assert set(dags) >= {"qingdao_notices_etl", "qingdao_notices_watch"}
    for dag_id, dag in dags.items():
        assert dag["dagrun_timeout"], dag_id
        crawl = dag["tasks"]["crawl_channel"]
        assert crawl["mapped"] and crawl["map_index_template"] == "{{ channel_key }}", dag_id
        for task_id, task in dag["tasks"].items():
            assert task["execution_timeout"], f"{dag_id}.{task_id} has no execution_timeout"
            # No single task may outlive its whole run's budget by design, except a crawl, which
            # the hourly run's timeout cuts short anyway.
            if task_id != "crawl_channel":
                assert task["execution_timeout"] < dag["dagrun_timeout"], f"{dag_id}.{task_id}"
    assert dags["qingdao_notices_watch"]["dagrun_timeout"] < timedelta(hours=1).total_seconds()
