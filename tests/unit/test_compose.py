"""docker-compose.yml cannot run here (no Docker engine), so check its shape instead."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from etl.settings import ENV_VARS

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
SERVICES = COMPOSE["services"]
AIRFLOW_SERVICES = {
    "airflow-apiserver": "api-server",
    "airflow-scheduler": "scheduler",
    "airflow-dag-processor": "dag-processor",
    "airflow-triggerer": "triggerer",
    "airflow-worker": "celery worker",
}


def _env(service: dict) -> dict[str, str]:
    env = service.get("environment", {})
    return dict(env) if isinstance(env, dict) else dict(e.split("=", 1) for e in env)


def test_every_airflow_component_runs_on_the_project_image():
    for name, command in AIRFLOW_SERVICES.items():
        service = SERVICES[name]
        assert service["command"] == command, name
        assert service["image"].startswith("qingdao-plans-airflow"), name
        assert service["build"] == ".", name
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    base = re.search(r"^FROM\s+(\S+)", dockerfile, re.M).group(1)
    assert base.startswith("apache/airflow:3."), base
    assert "constraints.txt" in dockerfile  # the image installs the same pinned set as CI


def test_celery_executor_with_redis_broker_and_postgres_metadata():
    env = _env(SERVICES["airflow-scheduler"])
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://redis:") or \
        env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://:@redis:")
    assert "@airflow-db/" in env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql")
    assert SERVICES["redis"]["image"].startswith("redis:")
    for db in ("airflow-db", "warehouse-db"):
        assert SERVICES[db]["image"].startswith("postgres:"), db
        assert "healthcheck" in SERVICES[db]


def test_warehouse_is_a_separate_postgres_reached_through_qdp_settings():
    env = _env(SERVICES["airflow-worker"])
    assert "@warehouse-db:" in env["QDP_WAREHOUSE_URL"]
    assert env["QDP_WAREHOUSE_URL"].startswith("postgresql")
    assert env["QDP_WAREHOUSE_URL"] != env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]


def test_every_qdp_variable_set_is_one_the_code_reads():
    seen = set()
    for name, service in SERVICES.items():
        for key in _env(service):
            if key.startswith("QDP_"):
                assert key in ENV_VARS, f"{name} sets {key}, which etl/settings.py does not know"
                seen.add(key)
    assert {"QDP_SITE_URL", "QDP_DATA_DIR", "QDP_WAREHOUSE_URL"} <= seen


def test_init_creates_the_site_pool_the_dag_uses_and_migrates_the_warehouse():
    init = SERVICES["airflow-init"]
    script = "\n".join(init["command"]) if isinstance(init["command"], list) else init["command"]
    dag_source = (ROOT / "dags" / "qingdao_notices_etl.py").read_text(encoding="utf-8")
    pool = re.search(r'SITE_POOL = "([^"]+)"', dag_source).group(1)
    assert f"airflow pools set {pool}" in script
    assert "airflow db migrate" in script
    assert "qdp migrate" in script
