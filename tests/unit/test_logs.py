from __future__ import annotations

import logging

import pytest

from etl.logs import Heartbeat, library_level, quiet_libraries, setup_cli, task_preamble
from etl.settings import Settings


def test_heartbeat_logs_at_a_steady_rhythm_not_on_every_page(caplog):
    now = [0.0]
    beat = Heartbeat("crawl jyj-ghjh", every=30, clock=lambda: now[0])
    with caplog.at_level(logging.INFO, logger="etl"):
        for page in range(1, 301):  # 300 pages, one every 0.5 s: 150 s
            now[0] += 0.5
            beat.beat(done=page, left=300 - page, errors=page // 100)
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 5  # at 30, 60, 90, 120, 150 s
    assert lines[0] == "crawl jyj-ghjh: 60 pages done, 240 left, 0 errors (2.0 pages/s)"
    assert lines[-1].startswith("crawl jyj-ghjh: 300 pages done, 0 left, 3 errors")


def test_heartbeat_with_unknown_pages_left(caplog):
    beat = Heartbeat("crawl x", every=0)
    with caplog.at_level(logging.INFO, logger="etl"):
        assert beat.beat(done=3, left=None, errors=0)
    assert "3 pages done, ? left, 0 errors" in caplog.text


def test_libraries_are_quiet_unless_asked(monkeypatch):
    monkeypatch.delenv("QDP_LIBRARY_LOG_LEVEL", raising=False)
    gx = logging.getLogger("great_expectations")
    old = gx.level
    try:
        quiet_libraries()
        assert gx.getEffectiveLevel() == logging.WARNING
        assert not logging.getLogger("great_expectations.core.registry").isEnabledFor(logging.INFO)
        monkeypatch.setenv("QDP_LIBRARY_LOG_LEVEL", "info")
        quiet_libraries()
        assert gx.level == logging.INFO
        monkeypatch.setenv("QDP_LIBRARY_LOG_LEVEL", "LOUD")
        with pytest.raises(ValueError, match="QDP_LIBRARY_LOG_LEVEL"):
            library_level()
    finally:
        gx.setLevel(old)


def test_a_library_module_that_pins_its_own_level_is_quieted_too(monkeypatch):
    monkeypatch.delenv("QDP_LIBRARY_LOG_LEVEL", raising=False)
    pinned = logging.getLogger("great_expectations.data_context.types.base")
    pinned.setLevel(logging.INFO)  # what GX does at import
    try:
        quiet_libraries()
        assert not pinned.isEnabledFor(logging.INFO)
    finally:
        pinned.setLevel(logging.NOTSET)


def test_cli_verbose_turns_library_logging_up(monkeypatch):
    monkeypatch.setenv("QDP_LIBRARY_LOG_LEVEL", "WARNING")  # restored after the test: setup_cli sets it
    gx = logging.getLogger("great_expectations")
    old = gx.level
    try:
        setup_cli(verbose=True)
        assert gx.level == logging.DEBUG
        # ... and a stage re-applying the policy keeps it (the CLI set the setting).
        quiet_libraries()
        assert gx.level == logging.DEBUG
    finally:
        gx.setLevel(old)


def test_task_preamble_names_site_channel_and_data_dir_and_masks_the_password(tmp_path, caplog):
    settings = Settings.from_env({"QDP_SITE_URL": "http://127.0.0.1:8765", "QDP_DATA_DIR": str(tmp_path),
                                  "QDP_WAREHOUSE_URL": "postgresql://qdp:hunter2@db/qdp"})
    with caplog.at_level(logging.INFO, logger="etl"):
        line = task_preamble(settings, task="crawl_channel", channel="jyj-ghjh")
    assert line.startswith("crawl_channel: site http://127.0.0.1:8765, channel jyj-ghjh, data dir ")
    assert str(tmp_path) in line and "hunter2" not in caplog.text and "qdp:***@db" in line
