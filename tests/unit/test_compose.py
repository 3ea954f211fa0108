"""docker-compose.yml cannot run here (no Docker engine): check its shape, let the compose CLI
interpolate and validate it (`docker compose config`), and check the image's files."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
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
    assert base == "apache/airflow:${AIRFLOW_VERSION}-python3.11", base


def test_image_installs_against_the_official_constraints_of_its_airflow_version():
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    version = re.search(r"^ARG AIRFLOW_VERSION=(\S+)", dockerfile, re.M).group(1)
    # The same Airflow as the pinned development set (constraints.txt) ...
    pinned = re.search(r"^apache-airflow==(\S+)$", (ROOT / "constraints.txt").read_text(), re.M).group(1)
    assert version == pinned
    # ... but installed against the image's own official constraints (~/constraints.txt), with
    # apache-airflow named at that version so that pip cannot move it or its providers.
    install = " ".join(re.search(r"^RUN pip install (.*?)(?<!\\)$", dockerfile, re.M | re.S).group(1).split())
    assert '--constraint "${HOME}/constraints.txt"' in install
    assert re.search(r'"apache-airflow\[[^]]*\bfab\b[^]]*\]==\$\{AIRFLOW_VERSION\}"', install), install
    assert "statsd" in install  # the metrics client the stack switches on
    assert "-c /opt/qdp/constraints.txt" not in dockerfile


def test_docker_build_context_leaves_out_environments_data_and_secrets():
    ignored = {line.strip().rstrip("/") for line in (ROOT / ".dockerignore").read_text().splitlines()
               if line.strip() and not line.startswith("#")}
    assert {".venv", "data", ".airflow", ".env"} <= ignored
    assert "!.env.example" in ignored
    assert ".env" in (ROOT / ".gitignore").read_text().splitlines()


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


def _init_script() -> str:
    init = SERVICES["airflow-init"]
    return "\n".join(init["command"]) if isinstance(init["command"], list) else init["command"]


def test_init_uses_the_official_entrypoint_creates_the_site_pool_and_migrates_the_warehouse():
    script = _init_script()
    env = _env(SERVICES["airflow-init"])
    dag_source = (ROOT / "dags" / "qingdao_notices_etl.py").read_text(encoding="utf-8")
    pool = re.search(r'SITE_POOL = "([^"]+)"', dag_source).group(1)
    # The official entrypoint migrates the metadata DB and creates the admin user.
    assert "/entrypoint airflow version" in script
    assert env["_AIRFLOW_DB_MIGRATE"] == "true" and env["_AIRFLOW_WWW_USER_CREATE"] == "true"
    assert "airflow db check-migrations" in script  # the entrypoint swallows a failed migrate
    assert f"airflow pools set {pool}" in script
    assert "qdp migrate" in script
    assert script.index("/entrypoint") < script.index("airflow pools set") < script.index("qdp migrate")
    assert "set -euo pipefail" in script


def test_volumes_are_handed_to_airflow_uid():
    for name in AIRFLOW_SERVICES:
        assert SERVICES[name]["user"].startswith("${AIRFLOW_UID:?"), name
    script = _init_script()
    assert SERVICES["airflow-init"]["user"] == "0:0"
    mounts = {v.split(":")[1] for v in SERVICES["airflow-init"]["volumes"] if not v.startswith(".")}
    assert {"/opt/airflow/data", "/opt/airflow/logs"} <= mounts
    assert re.search(r'chown -R "\$\{AIRFLOW_UID:\?[^}]*\}:0" /opt/airflow/logs /opt/airflow/data', script)
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "chown airflow:0 /opt/airflow/data" in dockerfile


SECRET = re.compile(r"PASSWORD|SECRET|FERNET|JWT|_KEY$")


def _secret_values() -> list[tuple[str, str, str]]:
    found = []
    for name, service in SERVICES.items():
        for key, value in _env(service).items():
            value = str(value)
            if SECRET.search(key) or re.search(r"://[^/@:]+:[^@]+@", value):
                found.append((name, key, value))
    return found


def test_every_secret_comes_from_the_env_file_and_is_required():
    secrets = _secret_values()
    assert len(secrets) >= 8
    for name, key, value in secrets:
        if key in ("_AIRFLOW_DB_MIGRATE", "_AIRFLOW_WWW_USER_CREATE"):
            continue
        # No literal and no default: `${VAR:?message}` makes compose refuse to start without it.
        password = re.search(r"://[^/@:]+:([^@]*)@", value)
        secret = password.group(1) if password else value
        assert re.fullmatch(r"\$\{[A-Z_]+:\?[^}]+\}", secret), f"{name}: {key}={value}"
    required = set(re.findall(r"\$\{([A-Z_]+):\?", (ROOT / "docker-compose.yml").read_text()))
    example = {line.split("=", 1)[0] for line in (ROOT / ".env.example").read_text().splitlines()
               if re.match(r"^[A-Z_]+=", line)}
    assert required <= example, f"not in .env.example: {required - example}"


def test_published_ports_bind_localhost_only():
    published = [(name, p) for name, s in SERVICES.items() for p in s.get("ports", [])]
    assert {name for name, _ in published} >= {"warehouse-db", "airflow-apiserver"}
    for name, port in published:
        assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} on all interfaces"


def test_airflow_metrics_go_to_a_statsd_exporter():
    env = _env(SERVICES["airflow-scheduler"])
    assert env["AIRFLOW__METRICS__STATSD_ON"] == "true"
    exporter = SERVICES[env["AIRFLOW__METRICS__STATSD_HOST"]]
    assert exporter["image"].startswith("prom/statsd-exporter:")
    assert f"--statsd.listen-udp=:{env['AIRFLOW__METRICS__STATSD_PORT']}" in exporter["command"]
    # The pipeline's own counts go to the same exporter (etl/metrics.py).
    assert env["QDP_STATSD_HOST"] == env["AIRFLOW__METRICS__STATSD_HOST"]
    assert env["QDP_STATSD_PORT"] == env["AIRFLOW__METRICS__STATSD_PORT"]
    assert env["QDP_STATSD_PREFIX"] != env["AIRFLOW__METRICS__STATSD_PREFIX"]


def test_object_store_is_minio_shared_by_every_airflow_service():
    """QDP_DATA_DIR defaults to a MinIO bucket: workers on several hosts share landing zone and
    staging files. The bucket and the pipeline's own (non-root) account are made before Airflow starts."""
    minio, init = SERVICES["minio"], SERVICES["minio-init"]
    for image in (minio["image"], init["image"]):
        assert re.fullmatch(r"minio/(minio|mc):RELEASE\.\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ", image), image
    assert "healthcheck" in minio
    assert init["depends_on"]["minio"]["condition"] == "service_healthy"
    script = "\n".join(init["command"])
    bucket = re.search(r"QDP_DATA_DIR: s3://\$\{OBJECT_STORE_BUCKET:-([a-z0-9-]+)\}/", (ROOT / "docker-compose.yml").read_text())
    assert bucket, "QDP_DATA_DIR is not an s3:// URL of the OBJECT_STORE_BUCKET bucket"
    assert _env(init)["OBJECT_STORE_BUCKET"] == f"${{OBJECT_STORE_BUCKET:-{bucket.group(1)}}}"
    assert 'mc mb --ignore-existing "store/$${OBJECT_STORE_BUCKET}"' in script
    assert 'mc admin user add store "$${OBJECT_STORE_ACCESS_KEY}"' in script
    assert "readwrite" in script
    for name in AIRFLOW_SERVICES:
        env = _env(SERVICES[name])
        assert env["QDP_DATA_DIR"].startswith("s3://"), name
        assert env["AWS_ENDPOINT_URL"] == "http://minio:9000", name
        assert env["AWS_ACCESS_KEY_ID"].startswith("${OBJECT_STORE_ACCESS_KEY:?"), name  # not MinIO's root
        assert SERVICES[name]["depends_on"]["minio-init"]["condition"] == "service_completed_successfully"
    assert all(not str(p).startswith("9000") for p in minio.get("ports", []))  # S3 API stays internal


# --------------------------------------------------------------------------- the compose CLI


def _compose_cli() -> list[str] | None:
    """`docker compose` (v2 plugin) or `docker-compose` (Debian's package), whichever exists."""
    if shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True,
                                                 check=False).returncode == 0:
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


@pytest.fixture
def compose():
    cli = _compose_cli()
    if cli is None:
        message = "no compose CLI (apt-get install docker-compose; .ci/run installs it)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)

    def run(env_file: Path, *args: str) -> subprocess.CompletedProcess:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "QDP_", "WAREHOUSE_"))}
        return subprocess.run([*cli, "--project-directory", str(ROOT), "-f", str(ROOT / "docker-compose.yml"),
                               "--env-file", str(env_file), *args],
                              capture_output=True, text=True, env=env, timeout=60, check=False)

    return run


def _filled_env(tmp_path: Path) -> Path:
    lines = []
    for line in (ROOT / ".env.example").read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep and re.fullmatch(r"[A-Z_]+", key) and not value:
            value = f"test-{key.lower().replace('_', '-')}"
        lines.append(f"{key}{sep}{value}")
    path = tmp_path / ".env"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_compose_config_is_valid_with_the_example_env_filled_in(compose, tmp_path):
    proc = compose(_filled_env(tmp_path), "config")
    assert proc.returncode == 0, proc.stderr
    config = yaml.safe_load(proc.stdout)
    env = config["services"]["airflow-worker"]["environment"]
    assert env["AIRFLOW__CORE__FERNET_KEY"] == "test-airflow-fernet-key"
    assert env["QDP_WAREHOUSE_URL"] == "postgresql+psycopg2://qdp:test-warehouse-db-password@warehouse-db:5432/qdp"
    assert config["services"]["airflow-init"]["user"] == "0:0"
    assert config["services"]["airflow-scheduler"]["user"] == "50000:0"
    assert 'chown -R "50000:0"' in "\n".join(config["services"]["airflow-init"]["command"])
    assert env["QDP_DATA_DIR"] == "s3://qdp/data"
    assert env["AWS_SECRET_ACCESS_KEY"] == "test-object-store-secret-key"
    assert config["services"]["minio"]["environment"]["MINIO_ROOT_PASSWORD"] == "test-minio-root-password"
    init = config["services"]["minio-init"]
    assert init["environment"]["OBJECT_STORE_BUCKET"] == "qdp"
    assert init["environment"]["OBJECT_STORE_SECRET_KEY"] == "test-object-store-secret-key"
    # The script's variables are the container's ($$ escapes compose's interpolation; v1 keeps it).
    assert re.search(r'mc mb --ignore-existing "store/\$\$?\{OBJECT_STORE_BUCKET\}"', "\n".join(init["command"]))


def test_compose_refuses_to_start_without_the_env_file(compose, tmp_path):
    empty = tmp_path / "empty.env"
    empty.write_text("")
    proc = compose(empty, "config")
    assert proc.returncode != 0
    assert "in .env (see .env.example)" in proc.stderr
    # One secret missing is enough to refuse.
    partial = tmp_path / "partial.env"
    partial.write_text("".join(line + "\n" for line in _filled_env(tmp_path).read_text().splitlines()
                               if not line.startswith("AIRFLOW_JWT_SECRET=")))
    proc = compose(partial, "config")
    assert proc.returncode != 0 and "AIRFLOW_JWT_SECRET" in proc.stderr


def test_the_constraints_stand_in_is_for_the_image_install_line():
    # scripts/check-image-deps.sh falls back to this file when the official constraints of the
    # image's Airflow version cannot be downloaded; it must describe the same install.
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    version = re.search(r"^ARG AIRFLOW_VERSION=(\S+)", dockerfile, re.M).group(1)
    extras = re.search(r"apache-airflow(\[[^]]*\])", dockerfile).group(1)
    text = (ROOT / "scripts" / "airflow-constraints.derived.txt").read_text(encoding="utf-8")
    assert f"apache-airflow{extras}=={version} resolved alone" in text
    pins = dict(line.split("==", 1) for line in text.splitlines() if line and not line.startswith("#"))
    assert pins["apache-airflow"] == version
    assert "apache-airflow-providers-fab" in pins and "statsd" in pins and "psycopg2-binary" in pins
    assert all(re.fullmatch(r"[A-Za-z0-9_.\-]+", name) and pin for name, pin in pins.items())
