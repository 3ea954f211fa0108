"""Evidence that runs tell the truth and survive crashes, with `qdp run` as a real process:

* site down → exit 1, ``etl_run.status = failed``; some requests failing → exit 3, ``degraded``;
* SIGKILL at several points of a run, then an ordinary run → the warehouse content of a clean run,
  and the killed run is closed as ``abandoned`` (none left ``running``);
* two ``qdp run`` started together on a fresh PostgreSQL warehouse → both finish, content of one run.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from etl import warehouse
from etl.cli import main
from etl.pipeline import run_pipeline
from etl.settings import Settings
from etl.warehouse import schema
from tests.fixtures.warehouse import content_of, postgres_schema_url

pytestmark = pytest.mark.integration
QDP = str(Path(sys.executable).with_name("qdp"))


def _env(site_url: str, data_dir: Path, warehouse_url: str | None = None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QDP_")}
    env.update({"QDP_SITE_URL": site_url, "QDP_DATA_DIR": str(data_dir), "QDP_RATE_LIMIT": "0",
                "GX_ANALYTICS_ENABLED": "false", **extra})
    if warehouse_url:
        env["QDP_WAREHOUSE_URL"] = warehouse_url
    return env


def _statuses(warehouse_url: str) -> dict[str, str]:
    engine = warehouse.get_engine(warehouse_url)
    with engine.connect() as conn:
        return dict(conn.execute(sa.text("SELECT run_id, status FROM etl_run")).all())


def _diff(got: dict[str, list], want: dict[str, list]) -> dict[str, dict[str, list]]:
    """Rows missing from / extra in ``got`` per table (empty when the contents are equal)."""
    out = {}
    for table in sorted(set(got) | set(want)):
        g, w = set(got.get(table, [])), set(want.get(table, []))
        if g != w:
            out[table] = {"missing": sorted(w - g, key=repr)[:3], "extra": sorted(g - w, key=repr)[:3],
                          "counts": [len(w - g), len(g - w)]}
    return out


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_site_down_exits_1_and_the_run_is_failed(tmp_path, monkeypatch, capsys):
    """Observed: nothing listening at QDP_SITE_URL, and `qdp run` exited 0 with status success."""
    data = tmp_path / "data"
    for k, v in _env(f"http://127.0.0.1:{_closed_port()}", data, QDP_RETRIES="0").items():
        monkeypatch.setenv(k, v)
    assert main(["run", "--quiet"]) == 1
    out = capsys.readouterr().out
    assert "FAILED" in out and "disallowed" not in out
    settings = Settings.from_env()
    engine = warehouse.get_engine(settings.warehouse_url)
    with engine.connect() as conn:
        status, reasons = conn.execute(sa.text("SELECT status, health_reasons FROM etl_run")).one()
    assert status == "failed", reasons


def test_some_failed_requests_exit_3_and_the_run_is_degraded(sample_site_factory, tmp_path, monkeypatch,
                                                               capsys):
    site = sample_site_factory(faults=0.15, seed=3)
    for k, v in _env(site.url, tmp_path / "data", QDP_RETRIES="0").items():
        monkeypatch.setenv(k, v)
    code = main(["run", "--quiet"])
    out = capsys.readouterr().out
    settings = Settings.from_env()
    (status, reasons), = _statuses_with_reasons(settings.warehouse_url)
    assert (code, status) == (3, "degraded"), out
    assert reasons and "DEGRADED" in out
    engine = warehouse.get_engine(settings.warehouse_url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM notice")).scalar_one() > 0  # the good part loaded


def test_a_crashed_stage_fails_the_run_but_what_landed_is_still_loaded(monkeypatch, tmp_path):
    """A crawl that raises (today: SiteChangedError for one channel after the others were crawled)
    is a failed run; the stages after it still run on what landed, so nothing good is held back."""
    from etl import pipeline

    def crawl_crashes(*args, **kwargs):
        raise RuntimeError("channel fgw: first list page is gone (HTTP 404)")

    monkeypatch.setattr(pipeline, "crawl_stage", crawl_crashes)
    settings = Settings.from_env({"QDP_DATA_DIR": str(tmp_path / "data")})
    result = run_pipeline(settings)
    assert result.health.status == "failed" and result.exit_code == 1
    assert result.health.reasons == ["stage crawl crashed: RuntimeError: channel fgw: first list page is gone "
                                     "(HTTP 404)"]
    assert [r.stage for r in result] == ["parse", "validate", "load", "compare", "alert"]
    (status, reasons), = _statuses_with_reasons(settings.warehouse_url)
    assert status == "failed" and reasons == result.health.reasons


def _statuses_with_reasons(warehouse_url: str):
    engine = warehouse.get_engine(warehouse_url)
    r = schema.etl_run
    with engine.connect() as conn:
        return conn.execute(sa.select(r.c.status, r.c.health_reasons)).all()


# --------------------------------------------------------------------------- SIGKILL


@pytest.fixture(scope="module")
def clean_dump(sample_site, tmp_path_factory):
    """The warehouse content of one clean run against the shared sample site."""
    data = tmp_path_factory.mktemp("clean")
    settings = Settings.from_env(_env(sample_site.url, data))
    result = run_pipeline(settings)
    assert result.health.status == "success", result.health.reasons
    engine = warehouse.get_engine(settings.warehouse_url)
    dump = content_of(engine)
    warehouse.dispose_engine(settings.warehouse_url)
    return dump


# Log lines of `qdp run` (stderr) after which it is killed: where in the run that is.
KILL_POINTS = {
    "during_crawl": "etl.crawl.crawler: crawl ",  # the first channel is done, the others not
    "after_parse": "stage validate started",
    "during_load": "stage load started",
    "after_load": "stage compare started",
}


def _run_until(env: dict[str, str], marker: str, timeout: float = 180, argv: tuple[str, ...] = ("run", "--quiet")
               ) -> int:
    """Start `qdp <argv>` (`qdp run` by default), SIGKILL it when ``marker`` appears in its log;
    return its pid."""
    proc = subprocess.Popen([QDP, *argv], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + timeout
    try:
        for line in proc.stderr:
            if marker in line:
                proc.send_signal(signal.SIGKILL)
                break
            assert time.monotonic() < deadline, "marker never seen"
        else:
            pytest.fail(f"`qdp {' '.join(argv)}` ended (code {proc.wait()}) before {marker!r}")
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    return proc.pid


@pytest.mark.parametrize("point", list(KILL_POINTS))
def test_a_run_killed_then_an_ordinary_run_equals_a_clean_run(point, sample_site, clean_dump, tmp_path):
    data = tmp_path / "data"
    env = _env(sample_site.url, data)
    _run_until(env, KILL_POINTS[point])
    settings = Settings.from_env(env)
    killed = _statuses(settings.warehouse_url)
    assert list(killed.values()) == ["running"]  # what a kill leaves behind
    engine = warehouse.get_engine(settings.warehouse_url)
    with engine.connect() as conn:
        loaded = conn.execute(sa.text("SELECT COUNT(*) FROM notice")).scalar_one()
    staged = {p.name for p in settings.staging_dir.glob("*/*.jsonl")}
    # The kill landed where it was meant to.
    if point in ("during_crawl", "after_parse"):
        assert loaded == 0
        assert ("parsed.jsonl" in staged) == (point == "after_parse")
    if point == "after_load":
        assert loaded == len(clean_dump["notice"])

    result = run_pipeline(settings)  # an ordinary (incremental) run
    assert result.health.status == "success", result.health.reasons
    assert _diff(content_of(engine), clean_dump) == {}
    statuses = _statuses(settings.warehouse_url)
    assert statuses[next(iter(killed))] == "abandoned"
    assert "running" not in statuses.values()


def test_a_terminated_run_closes_itself_as_failed(sample_site, tmp_path):
    """SIGTERM (a timeout): `qdp run` unwinds and records the run as failed, not left running."""
    env = _env(sample_site.url, tmp_path / "data")
    proc = subprocess.Popen([QDP, "run", "--quiet"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    try:
        for line in proc.stderr:
            if "stage parse started" in line:
                proc.send_signal(signal.SIGTERM)
                break
        proc.stderr.read()
        assert proc.wait(timeout=120) == 128 + signal.SIGTERM
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stderr.close()
    (status, reasons), = _statuses_with_reasons(Settings.from_env(env).warehouse_url)
    assert status == "failed" and "interrupted: SystemExit(143)" in reasons[0], reasons


# --------------------------------------------------------------------------- concurrency


@pytest.mark.postgres
def test_two_runs_started_together_on_a_fresh_postgres_warehouse(sample_site, clean_dump, tmp_path):
    """Observed: two runs on a fresh warehouse raced on the migrations and one crashed."""
    logs = [tmp_path / f"run{i}.log" for i in range(2)]
    with postgres_schema_url() as url:
        data = tmp_path / "data"  # one landing zone, as two workers sharing a volume would have
        with logs[0].open("w") as log0, logs[1].open("w") as log1:
            procs = [subprocess.Popen([QDP, "run", "--quiet"], env=_env(sample_site.url, data, url),
                                      stdout=subprocess.DEVNULL, stderr=fh) for fh in (log0, log1)]
            codes = [p.wait(timeout=300) for p in procs]
        assert codes == [0, 0], [log.read_text()[-3000:] for log in logs]
        assert sorted(_statuses(url).values()) == ["success", "success"]
        assert _diff(content_of(warehouse.get_engine(url)), clean_dump) == {}
