"""Server plumbing without network traffic: the CLI entry point and the RunningSite lifecycle."""

from __future__ import annotations

import pytest

from etl.sample_site import server
from etl.sample_site.server import RequestStats, running, start


def test_serve_forever_prints_the_url_and_stops_on_ctrl_c(monkeypatch, capsys):
    started = []
    real_start = server.start

    def spy_start(*args, **kwargs):
        started.append(real_start(*args, **kwargs))
        return started[-1]

    def interrupt(_seconds):
        raise KeyboardInterrupt

    monkeypatch.setattr(server, "start", spy_start)
    monkeypatch.setattr(server.time, "sleep", interrupt)
    server.serve_forever(0, faults=0.1, seed=4)
    out = capsys.readouterr().out
    assert started[0].url in out and "faults=0.1, seed=4" in out
    assert "/zwgk/xxgk/jyj/gkml/ghjh/" in out
    assert not started[0]._thread.is_alive()


def test_running_site_is_a_context_manager_and_stop_is_idempotent():
    with running(faults=0.0) as site:
        assert site.url.startswith("http://127.0.0.1:") and site.port > 0
    assert not site._thread.is_alive()
    site.stop()
    other = start(0, faults=0.3, seed=9)
    assert other.faults.rate == 0.3 and other.faults.seed == 9
    other.stop()
    with pytest.raises(ValueError):
        start(0, faults=2.0)


def test_request_stats_counts_and_resets():
    stats = RequestStats()
    stats.record("list", "/a/", 200, None)
    stats.record("detail", "/a/1.shtml", None, "reset")
    stats.record("detail", "/a/1.shtml", 200, None)
    snap = stats.snapshot()
    assert snap["total"] == 3 and snap["by_kind"] == {"list": 1, "detail": 2}
    assert snap["by_path"]["/a/1.shtml"] == 2 and snap["faults"] == {"reset": 1}
    assert snap["by_status"] == {"200": 2}
    stats.reset()
    assert stats.total == 0 and stats.snapshot()["faults"] == {}
