"""The README's operator commands, run as written (issue 11)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from etl import cli

pytestmark = pytest.mark.integration


def test_qdp_run_with_the_default_relative_data_dir(sample_site, tmp_path, monkeypatch, capsys):
    # QDP_DATA_DIR left at its default, "data", relative to where the operator stands.
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("QDP_DATA_DIR")
    monkeypatch.setenv("QDP_SITE_URL", sample_site.url)
    monkeypatch.setenv("QDP_RATE_LIMIT", "0")
    assert cli.main(["run", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "validate" in out
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'data' / 'warehouse.sqlite'}")
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT status FROM etl_run")).scalars().all() == ["success"]
        assert conn.execute(sa.text("SELECT COUNT(*) FROM plan_item")).scalar_one() > 0
    engine.dispose()
    assert (tmp_path / "data" / "data_docs" / "index.html").is_file()


def test_qdp_migrate_prints_no_password(warehouse_url, monkeypatch, capsys, caplog):
    url = sa.make_url(warehouse_url)
    if url.get_backend_name() == "postgresql":
        url = url.set(password="hunter2-secret")  # trust auth: any password is accepted
    monkeypatch.setenv("QDP_WAREHOUSE_URL", url.render_as_string(hide_password=False))
    assert cli.main(["migrate"]) == 0
    out, err = capsys.readouterr()
    assert "hunter2-secret" not in out + err + caplog.text
    assert url.render_as_string(hide_password=True) in out
