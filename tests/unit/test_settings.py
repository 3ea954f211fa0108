from __future__ import annotations

from pathlib import Path

import pytest

from etl.settings import LIVE_SITE_URL, Settings


def test_defaults_point_at_the_live_site_and_sqlite_under_the_data_dir():
    s = Settings.from_env({})
    assert s.site_url == LIVE_SITE_URL
    assert s.warehouse_url == f"sqlite:///{Path('data').absolute() / 'warehouse.sqlite'}"
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


def test_a_relative_data_dir_is_made_absolute_when_read(tmp_path, monkeypatch):
    # Great Expectations rejects a relative base_directory; every stage gets the same folder.
    monkeypatch.chdir(tmp_path)
    for s in (Settings.from_env({}), Settings.from_env({"QDP_DATA_DIR": "sub/../data"}), Settings()):
        assert s.data_dir.is_absolute()
        assert s.data_dir == tmp_path / "data"
        assert s.staging_dir == tmp_path / "data" / "staging"
        assert s.data_docs_dir.is_absolute()
    home = Settings.from_env({"QDP_DATA_DIR": "~/qdp", "QDP_CHANNELS_FILE": "ch.yaml"})
    assert home.data_dir == Path.home() / "qdp"
    assert home.channels_file == tmp_path / "ch.yaml"


@pytest.mark.parametrize("url, secret", [
    ("postgresql+psycopg2://qdp:s3cr%40t@db.example:5432/qdp", "s3cr"),
    ("postgresql://qdp:hunter2@localhost/qdp", "hunter2"),
    ("mailtos://alerts:hunter2@smtp.example?to=ops@example.org", "hunter2"),
    ("https://user:hunter2@hooks.example/path", "hunter2"),
])
def test_urls_are_masked_for_output(url, secret):
    from etl.settings import mask_url

    masked = mask_url(url)
    assert secret not in masked
    assert "***" in masked
    s = Settings.from_env({"QDP_WAREHOUSE_URL": url, "QDP_ALERT_URLS": url})
    assert secret not in repr(s) and secret not in s.warehouse_url_masked
    assert s.warehouse_url == url  # the real value is still what the code connects with


def test_urls_without_a_password_are_unchanged():
    from etl.settings import mask_url

    for url in ("sqlite:////srv/qdp/warehouse.sqlite", "json://localhost:8080/hook", "postgresql://qdp@db/qdp"):
        assert mask_url(url) == url
