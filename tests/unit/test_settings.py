from __future__ import annotations

from pathlib import Path

import pytest

from etl.settings import LIVE_SITE_URL, Settings


def test_defaults_point_at_the_live_site_and_sqlite_under_the_data_dir():
    s = Settings.from_env({})
    assert s.site_url == LIVE_SITE_URL
    assert s.warehouse_url == f"sqlite:///{(Path('data') / 'warehouse.sqlite').resolve()}"
    assert s.rate_limit == 1.0 and s.respect_robots


def test_environment_overrides(tmp_path):
    s = Settings.from_env({
        "QDP_SITE_URL": "http://127.0.0.1:8765/", "QDP_DATA_DIR": str(tmp_path),
        "QDP_RATE_LIMIT": "0", "QDP_ALERT_URLS": "json://a, json://b", "QDP_RESPECT_ROBOTS": "no",
    })
    assert s.site_url == "http://127.0.0.1:8765"
    assert s.warehouse_url == f"sqlite:///{tmp_path.resolve() / 'warehouse.sqlite'}"
    assert s.landing_dir == tmp_path / "landing"
    assert s.alert_urls == ("json://a", "json://b")
    assert s.rate_limit == 0 and not s.respect_robots
    # Sample site and mirrors stand in for the live host.
    assert s.site_host == "www.qingdao.gov.cn"


def test_explicit_warehouse_url_wins():
    assert Settings.from_env({"QDP_WAREHOUSE_URL": "postgresql://x/y"}).warehouse_url == "postgresql://x/y"


def test_a_misspelt_setting_is_an_error_not_silently_ignored():
    with pytest.raises(ValueError, match="QDP_SITEURL"):
        Settings.from_env({"QDP_SITEURL": "http://example"})
