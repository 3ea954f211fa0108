"""QDP_DATA_DIR on object storage, against a real local S3 server (moto's server mode).

The scale-out case of issue 11: every stage runs as its own ``qdp`` process with its own working
directory, HOME and TMPDIR (as if on its own host), sharing nothing but the bucket and the
warehouse. The warehouse it fills must equal the one a local-disk run fills, and nothing may be
written to local disk under the data directory's name.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from etl import warehouse
from etl.pipeline import run_pipeline
from etl.settings import Settings
from tests.fixtures.warehouse import content_of, postgres_schema_url

pytestmark = [pytest.mark.integration, pytest.mark.postgres]
QDP = str(Path(sys.executable).with_name("qdp"))
BUCKET = "qdp-test"
AWS = {"AWS_ACCESS_KEY_ID": "testing-key", "AWS_SECRET_ACCESS_KEY": "testing-secret",
       "AWS_DEFAULT_REGION": "us-east-1"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def s3_endpoint(monkeypatch) -> Iterator[str]:
    """A moto S3 server on a free port with an empty bucket; AWS_* set for this process too."""
    import boto3
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    try:
        for key, value in {**AWS, "AWS_ENDPOINT_URL": endpoint}.items():
            monkeypatch.setenv(key, value)
        boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=BUCKET)
        yield endpoint
    finally:
        server.stop()


def _stage_env(site_url: str, data_dir: str, warehouse_url: str, endpoint: str, home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("QDP_", "AWS_")) and k not in ("HOME", "TMPDIR", "PWD")}
    tmp = home / "tmp"
    tmp.mkdir(parents=True)
    env.update({"QDP_SITE_URL": site_url, "QDP_DATA_DIR": data_dir, "QDP_WAREHOUSE_URL": warehouse_url,
                "QDP_RATE_LIMIT": "0", "GX_ANALYTICS_ENABLED": "false", "HOME": str(home),
                "TMPDIR": str(tmp), "AWS_ENDPOINT_URL": endpoint, **AWS})
    return env


def _files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_stages_on_separate_hosts_sharing_only_s3_fill_the_warehouse_like_a_local_run(
        sample_site, s3_endpoint, tmp_path):
    import s3fs

    data_dir = f"s3://{BUCKET}/qdp/prod"
    hosts: dict[str, Path] = {}
    run_id = None
    with postgres_schema_url() as remote_url, postgres_schema_url() as local_url:
        stages = [["migrate"], ["crawl", "--quiet"], ["parse-landed"], ["validate"], ["load"], ["compare"]]
        for argv in stages:
            name = argv[0]
            host = tmp_path / f"host-{name}"  # its own disk: working directory, HOME, TMPDIR
            work = host / "work"
            work.mkdir(parents=True)
            hosts[name] = host
            if run_id and name in ("validate", "load"):
                argv = [*argv, "--run-id", run_id]
            proc = subprocess.run([QDP, *argv, "--json"] if name != "migrate" else [QDP, *argv], cwd=work,
                                  env=_stage_env(sample_site.url, data_dir, remote_url, s3_endpoint, host / "home"),
                                  capture_output=True, text=True, timeout=600)
            assert proc.returncode == 0, f"qdp {name} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
            if name == "parse-landed":
                run_id = proc.stderr.rsplit("run id: ", 1)[1].split()[0]
                parsed = json.loads(proc.stdout.strip().splitlines()[-1])
                assert parsed["counts"]["pages_parsed"] > 0
            if name == "load":
                loaded = json.loads(proc.stdout.strip().splitlines()[-1])
                assert loaded["counts"]["notices_new"] == len(sample_site.site.loaded_notice_ids())

        # The reference: the whole pipeline in this process, data directory on local disk.
        local_dir = tmp_path / "local-data"
        settings = Settings.from_env({"QDP_SITE_URL": sample_site.url, "QDP_DATA_DIR": str(local_dir),
                                      "QDP_WAREHOUSE_URL": local_url, "QDP_RATE_LIMIT": "0"})
        result = run_pipeline(settings)
        assert result.health.status == "success", result.health.reasons

        remote = content_of(warehouse.get_engine(remote_url))
        local = content_of(warehouse.get_engine(local_url))
        for table in ("notice", "plan_item", "plan_target"):
            assert remote[table], f"{table} is empty"
        assert remote == local

    # Everything the stages handed over is in the bucket ...
    fs = s3fs.S3FileSystem(endpoint_url=s3_endpoint)
    prefix = f"{BUCKET}/qdp/prod"
    objects = fs.find(prefix)
    assert any(p.startswith(f"{prefix}/landing/objects/") and p.endswith(".gz") for p in objects)
    assert any(p.startswith(f"{prefix}/landing/manifest/") for p in objects)
    assert any(p.startswith(f"{prefix}/landing/state/channel-") for p in objects)
    assert any(p.startswith(f"{prefix}/landing/robots/") for p in objects)
    for staged in ("parsed.jsonl", "valid.jsonl", "quarantine.jsonl"):
        assert f"{prefix}/staging/{run_id}/{staged}" in objects
    assert f"{prefix}/data_docs/index.html" in objects
    assert any(p.startswith(f"{prefix}/data_docs/runs/") for p in objects)
    # ... landed bodies equal the local run's, object for object ...
    local_objects = {p.name for p in (local_dir / "landing" / "objects").rglob("*.gz")}
    assert {p.rsplit("/", 1)[1] for p in objects if "/landing/objects/" in p} == local_objects
    # ... and nothing of the data directory touched a host's disk.
    for name, host in hosts.items():
        assert not _files_under(host / "work"), f"qdp {name} wrote into its working directory"
        leftovers = [p for p in _files_under(host) if p.suffix in (".gz", ".jsonl", ".html")
                     or "landing" in p.parts or "staging" in p.parts or "data_docs" in p.parts]
        assert not leftovers, f"qdp {name} left {leftovers[:5]} on local disk"


def test_a_whole_run_in_one_process_on_s3_matches_a_local_run_and_a_second_changes_nothing(
        sample_site, s3_endpoint, tmp_path, monkeypatch):
    """``qdp run``'s code path (run_pipeline) on S3: same warehouse, reports written to the bucket,
    and a second run finds everything already landed (the manifest and channel state are read back)."""
    import s3fs

    monkeypatch.chdir(tmp_path)
    with postgres_schema_url() as remote_url, postgres_schema_url() as local_url:
        remote = Settings.from_env({"QDP_SITE_URL": sample_site.url, "QDP_DATA_DIR": f"s3://{BUCKET}/one",
                                    "QDP_WAREHOUSE_URL": remote_url, "QDP_RATE_LIMIT": "0"})
        assert remote.data_is_remote
        first = run_pipeline(remote)
        assert first.health.status == "success", first.health.reasons
        local = Settings.from_env({"QDP_SITE_URL": sample_site.url, "QDP_DATA_DIR": str(tmp_path / "local"),
                                   "QDP_WAREHOUSE_URL": local_url, "QDP_RATE_LIMIT": "0"})
        assert run_pipeline(local).health.status == "success"
        engine = warehouse.get_engine(remote_url)
        before = content_of(engine)
        assert before == content_of(warehouse.get_engine(local_url))

        second = {r.stage: r for r in run_pipeline(remote)}
        assert second["crawl"].counts["detail_fetched"] == 0
        assert second["load"].counts["notices_new"] == second["load"].counts["notices_revised"] == 0
        assert content_of(engine) == before
    fs = s3fs.S3FileSystem(endpoint_url=s3_endpoint)
    assert fs.exists(f"{BUCKET}/one/reports/latest.html")
    assert fs.exists(f"{BUCKET}/one/reports/{first.run_id}.html")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["local"]  # nothing under ./data


@pytest.mark.airflow
def test_airflow_dags_test_runs_the_etl_with_the_data_dir_on_s3(sample_site, s3_endpoint, tmp_path):
    """The DAG itself (its tasks in Airflow's task runner) on an object-storage QDP_DATA_DIR."""
    import s3fs
    import sqlalchemy as sa

    from tests.integration.test_airflow_dags_test import _airflow, _airflow_home

    env, local_data = _airflow_home(tmp_path, sample_site.url)
    warehouse_file = tmp_path / "warehouse-host" / "warehouse.sqlite"
    warehouse_file.parent.mkdir()
    env.update({"QDP_DATA_DIR": f"s3://{BUCKET}/airflow", "QDP_WAREHOUSE_URL": f"sqlite:///{warehouse_file}",
                "AWS_ENDPOINT_URL": s3_endpoint, **AWS})
    _airflow(["dags", "test", "qingdao_notices_etl"], env, tmp_path / "dags-test.log")
    log = (tmp_path / "dags-test.log").read_text()
    assert "state=success" in log
    assert f"data dir s3://{BUCKET}/airflow" in log  # the task preamble names the store
    engine = sa.create_engine(f"sqlite:///{warehouse_file}")
    with engine.connect() as conn:
        notices = conn.execute(sa.text("SELECT COUNT(*) FROM notice WHERE is_current")).scalar_one()
        status = conn.execute(sa.text("SELECT status FROM etl_run")).scalar_one()
    engine.dispose()
    assert notices == len(sample_site.site.loaded_notice_ids()) and status == "success"
    fs = s3fs.S3FileSystem(endpoint_url=s3_endpoint)
    assert fs.exists(f"{BUCKET}/airflow/data_docs/index.html")
    assert fs.exists(f"{BUCKET}/airflow/reports/latest.html")
    assert fs.find(f"{BUCKET}/airflow/landing/manifest/")
    assert not local_data.exists()  # the default local data dir was never created


def test_a_crawl_killed_mid_way_on_s3_loses_nothing_the_next_run_cannot_recover(
        sample_site, s3_endpoint, tmp_path):
    """SIGKILL while crawling into S3 (bodies stored, manifest rows still buffered), then an
    ordinary run: the warehouse equals a clean local run's."""
    import signal
    import time

    import s3fs

    data_dir = f"s3://{BUCKET}/killed"
    fs = s3fs.S3FileSystem(endpoint_url=s3_endpoint)
    with postgres_schema_url() as remote_url, postgres_schema_url() as local_url:
        host = tmp_path / "host-crawl"
        (host / "work").mkdir(parents=True)
        env = _stage_env(sample_site.url, data_dir, remote_url, s3_endpoint, host / "home")
        env["QDP_RATE_LIMIT"] = "10"  # slow enough to be killed in the middle
        proc = subprocess.Popen([QDP, "crawl", "--quiet"], cwd=host / "work", env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 120
            landed: list[str] = []
            while time.monotonic() < deadline and len(landed) < 8 and proc.poll() is None:
                time.sleep(0.2)
                fs.invalidate_cache()
                landed = fs.find(f"{BUCKET}/killed/landing/objects/")
            assert proc.poll() is None, "the crawl finished before it could be killed"
            proc.send_signal(signal.SIGKILL)
        finally:
            proc.wait(timeout=30)
        assert len(landed) >= 8
        # The premise: bodies in the bucket whose manifest rows died with the process.
        from etl.crawl.landing import LandingZone

        recorded = {r.sha256 for r in LandingZone(f"{data_dir}/landing").records() if r.sha256}
        assert len(recorded) < len(landed)

        remote = Settings.from_env({"QDP_SITE_URL": sample_site.url, "QDP_DATA_DIR": data_dir,
                                    "QDP_WAREHOUSE_URL": remote_url, "QDP_RATE_LIMIT": "0"})
        assert run_pipeline(remote).health.status == "success"
        local = Settings.from_env({"QDP_SITE_URL": sample_site.url, "QDP_DATA_DIR": str(tmp_path / "local"),
                                   "QDP_WAREHOUSE_URL": local_url, "QDP_RATE_LIMIT": "0"})
        assert run_pipeline(local).health.status == "success"
        assert content_of(warehouse.get_engine(remote_url)) == content_of(warehouse.get_engine(local_url))
