"""`make airflow-ui` as an operator uses it: scripts/airflow-ui.sh on a free port, started with a
PATH that does not hold the venv, must reach a healthy scheduler, create the site pool, print where
the admin password is, and run the DAG against the sample site (SITE=sample) to the end, with each
mapped crawl task named by its channel. Ctrl-C (SIGINT to its process group) must stop all of it
in bounded time: no component and no port left behind."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.airflow]
ROOT = Path(__file__).resolve().parents[2]
DAG_ID = "qingdao_notices_etl"
START_TIMEOUT = 300
RUN_TIMEOUT = 420
STOP_TIMEOUT = 60  # the script gives Airflow 20 s to stop, then kills what is left


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _request(url: str, *, method: str = "GET", body: dict | None = None, token: str | None = None) -> dict:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, headers=headers, method=method)
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read() or b"{}")


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


class _Stack:
    def __init__(self, proc: subprocess.Popen, log: Path, port: int) -> None:
        self.proc, self.log, self.port = proc, log, port
        self.api = f"http://127.0.0.1:{port}"

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for(self, what: str, check, timeout: float):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"airflow-ui exited ({self.proc.returncode}) while waiting for {what}:\n"
                            f"{self.output()[-6000:]}")
            try:
                result = check()
            except (OSError, urllib.error.URLError, ValueError, KeyError):
                result = None
            if result:
                return result
            time.sleep(1)
        pytest.fail(f"no {what} after {timeout:.0f}s:\n{self.output()[-6000:]}")

    def stop(self) -> bool:
        """Ctrl-C, as in a terminal (SIGINT to the foreground group); True if that was enough."""
        if self.proc.poll() is not None:
            return True
        os.killpg(self.proc.pid, signal.SIGINT)
        try:
            self.proc.wait(timeout=STOP_TIMEOUT)
            return True
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
            return False


@pytest.fixture
def airflow_ui(tmp_path):
    port, site_port = _free_port(), _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "QDP_", "VIRTUAL_ENV"))}
    # A fresh shell: the venv is not on PATH (standalone used to die with FileNotFoundError: 'airflow').
    env["PATH"] = "/usr/local/bin:/usr/bin:/bin"
    env.update({"AIRFLOW_HOME": str(tmp_path / "airflow"), "QDP_DATA_DIR": str(tmp_path / "data"),
                "PORT": str(port), "SITE": "sample", "SITE_PORT": str(site_port), "QDP_TASK_RETRIES": "0"})
    log = tmp_path / "airflow-ui.log"
    with log.open("w") as fh:
        # Own process group, as a terminal's foreground job; SIGINT handled as in a terminal even
        # when this test process inherited it ignored.
        proc = subprocess.Popen(["bash", str(ROOT / "scripts" / "airflow-ui.sh")], cwd=tmp_path, env=env,
                                stdout=fh, stderr=subprocess.STDOUT, start_new_session=True,
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    stack = _Stack(proc, log, port)
    stack.site_port = site_port
    stack.home = tmp_path / "airflow"
    try:
        yield stack
    finally:
        stopped = stack.stop()
    assert stopped, f"Ctrl-C did not stop airflow-ui within {STOP_TIMEOUT}s:\n{stack.output()[-3000:]}"
    deadline = time.monotonic() + 15  # a killed process releases its socket shortly after
    while (_port_open(port) or _port_open(site_port)) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not _port_open(port), "the API server outlived its process group"
    assert not _port_open(site_port), "the sample site outlived its process group"


def test_airflow_ui_from_a_bare_path_runs_the_dag_against_the_sample_site(airflow_ui):
    stack = airflow_ui

    def scheduler_healthy():
        health = _request(f"{stack.api}/api/v2/monitor/health")
        return health if health["scheduler"]["status"] == "healthy" else None

    health = stack.wait_for("healthy scheduler", scheduler_healthy, START_TIMEOUT)
    assert health["metadatabase"]["status"] == "healthy"

    # The pool exists (created by the script, not by hand).
    with sqlite3.connect(stack.home / "airflow.db") as db:
        slots = db.execute("SELECT slots FROM slot_pool WHERE pool = 'qingdao_site'").fetchone()
    assert slots is not None and slots[0] >= 1

    # The banner names the URL and the password file, and that file logs us in.
    out = stack.output()
    assert f"http://localhost:{stack.port}" in out
    password_file = Path(re.search(r"password in (\S+?),?\s", out).group(1))
    assert password_file.parent == stack.home
    passwords = stack.wait_for("generated password file", lambda: json.loads(password_file.read_text()), 30)
    token = _request(f"{stack.api}/auth/token", method="POST",
                     body={"username": "admin", "password": passwords["admin"]})["access_token"]
    pool = _request(f"{stack.api}/api/v2/pools/qingdao_site", token=token)
    assert pool["name"] == "qingdao_site"

    # SITE=sample started the sample site and pointed the DAGs at it. Unpausing the DAG starts
    # its scheduled run, which goes to the end on this non-default port (tasks reach the
    # execution API at the right address).
    assert f"http://127.0.0.1:{stack.site_port}" in out
    stack.wait_for("parsed DAG", lambda: _request(f"{stack.api}/api/v2/dags/{DAG_ID}", token=token), START_TIMEOUT)
    _request(f"{stack.api}/api/v2/dags/{DAG_ID}", method="PATCH", body={"is_paused": False}, token=token)

    def finished():
        runs = _request(f"{stack.api}/api/v2/dags/{DAG_ID}/dagRuns", token=token)["dag_runs"]
        return runs[0] if runs and runs[0]["state"] in ("success", "failed") else None

    run = stack.wait_for("finished DAG run", finished, RUN_TIMEOUT)
    state = run["state"]
    run_url = f"{stack.api}/api/v2/dags/{DAG_ID}/dagRuns/{run['dag_run_id']}"
    tis = _request(f"{run_url}/taskInstances?limit=100", token=token)["task_instances"]
    assert state == "success", [(t["task_id"], t["map_index"], t["state"]) for t in tis]

    # Mapped crawl tasks are named by channel in the UI.
    from etl.crawl import load_channels
    from etl.settings import Settings

    channels = {c.key for c in load_channels(Settings.from_env({}))}
    crawls = [t for t in tis if t["task_id"] == "crawl_channel"]
    assert {t["rendered_map_index"] for t in crawls} == channels

    # Each crawl task's log starts with the site, channel and data dir.
    logs = list((stack.home / "logs").rglob("*.log"))
    crawl_logs = [p.read_text(errors="replace") for p in logs
                  if "task_id=crawl_channel" in str(p) and f"run_id={run['dag_run_id']}" in str(p)]
    assert len(crawl_logs) == len(channels)
    for text in crawl_logs:
        assert re.search(rf"crawl_channel: site http://127.0.0.1:{stack.site_port}, channel \S+, data dir /", text)
