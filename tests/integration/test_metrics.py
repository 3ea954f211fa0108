"""The pipeline's counts as StatsD metrics: a run against the sample site sends them to a local UDP
socket, and they are the counts the run recorded in ``etl_run_stage``."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import defaultdict

import pytest
import sqlalchemy as sa

from etl import warehouse
from etl.metrics import emit_run
from etl.pipeline import run_pipeline
from etl.records import StageReport
from etl.settings import Settings

pytestmark = pytest.mark.integration


class UdpReceiver:
    """A StatsD server stand-in: collects every datagram on 127.0.0.1:<port>."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.lines: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.sock.recv(65535)
            except TimeoutError:
                continue
            self.lines.extend(data.decode().splitlines())

    def close(self) -> list[str]:
        self._stop.set()
        self._thread.join()
        self.sock.close()
        return self.lines


@pytest.fixture
def statsd_receiver():
    receiver = UdpReceiver()
    yield receiver
    if not receiver._stop.is_set():
        receiver.close()


def _parse(lines: list[str]) -> tuple[dict[str, int], dict[str, int], dict[str, float]]:
    counters: dict[str, int] = defaultdict(int)
    gauges: dict[str, int] = {}
    timers: dict[str, float] = {}
    for line in lines:
        name, _, rest = line.partition(":")
        value, _, kind = rest.partition("|")
        if kind == "c":
            counters[name] += int(value)
        elif kind == "g":
            gauges[name] = int(value)
        elif kind == "ms":
            timers[name] = float(value)
        else:
            raise AssertionError(f"not a StatsD line: {line!r}")
    return counters, gauges, timers


def test_a_run_sends_its_recorded_counts_to_statsd(sample_site, tmp_path, statsd_receiver):
    settings = Settings.from_env({"QDP_SITE_URL": sample_site.url, "QDP_DATA_DIR": str(tmp_path / "data"),
                                  "QDP_RATE_LIMIT": "0", "QDP_STATSD_HOST": "127.0.0.1",
                                  "QDP_STATSD_PORT": str(statsd_receiver.port), "QDP_STATSD_PREFIX": "qdp_test"})
    result = run_pipeline(settings)
    assert result.health.status == "success"
    engine = warehouse.get_engine(settings.warehouse_url)
    with engine.connect() as conn:
        recorded = {stage: counts for stage, counts in conn.execute(sa.text(
            "SELECT stage, counts FROM etl_run_stage WHERE run_id = :r"), {"r": result.run_id})}
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not any(line.startswith("qdp_test.run.") for line in statsd_receiver.lines):
        time.sleep(0.05)
    counters, gauges, timers = _parse(statsd_receiver.close())

    assert counters["qdp_test.run.success"] == 1
    recorded = {stage: (counts if isinstance(counts, dict) else json.loads(counts))
                for stage, counts in recorded.items()}
    # What a dashboard needs: pages fetched, rejected, retried; items loaded; alerts pending.
    crawl, load, alert = recorded["crawl"], recorded["load"], recorded["alert"]
    assert crawl["detail_fetched"] > 0 and load["items_loaded"] > 0
    assert counters["qdp_test.stage.crawl.detail_fetched"] == crawl["detail_fetched"]
    assert counters["qdp_test.stage.crawl.retried"] == crawl["retried"]
    assert counters["qdp_test.stage.crawl.pages_rejected"] == crawl.get("pages_rejected", 0)
    assert counters["qdp_test.stage.load.items_loaded"] == load["items_loaded"]
    assert gauges["qdp_test.alert.pending"] == alert["pending"]
    # Every recorded count, no more and no less.
    sent = {name.removeprefix("qdp_test.stage."): v for name, v in counters.items()
            if name.startswith("qdp_test.stage.")}
    want = {f"{stage}.{key}": value for stage, counts in recorded.items() for key, value in counts.items()
            if not (stage == "alert" and key in ("pending", "baseline_unannounced"))}
    assert sent == want
    assert {t.split(".")[2] for t in timers} >= {"crawl", "parse", "validate", "load"}


def test_no_host_no_metrics_and_an_unresolvable_host_never_fails_a_run(statsd_receiver):
    report = StageReport("crawl", counts={"detail_fetched": 3})
    assert emit_run(Settings(), "r1", "success", [report]) == 0
    bad = Settings(statsd_host="no-such-host.invalid", statsd_port=statsd_receiver.port)
    assert emit_run(bad, "r1", "success", [report]) == 0
    ok = Settings(statsd_host="127.0.0.1", statsd_port=statsd_receiver.port, statsd_prefix="p")
    assert emit_run(ok, "r1", "degraded", [report]) == 2
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and len(statsd_receiver.lines) < 2:
        time.sleep(0.05)
    assert sorted(statsd_receiver.close()) == ["p.run.degraded:1|c", "p.stage.crawl.detail_fetched:3|c"]
