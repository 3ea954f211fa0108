"""The `qdp` command line: parse a file, refuse bad input and bad settings clearly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from etl.cli import main

SEED = Path(__file__).resolve().parents[2] / "etl" / "sample_site" / "seed" / "jyj_2021_work_points.txt"


def test_parse_json_prints_the_public_contract(capsys):
    assert main(["parse", str(SEED), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["title"] == "市教育局2021年工作要点"
    assert out["published"] == "2021-03-05" and out["department"] == "青岛市教育局"
    assert [sum(1 for i in out["items"] if i["section"] == s["ordinal"]) for s in out["sections"]] == [3, 3, 4, 5, 4]
    assert set(out) >= {"title", "published", "department", "doc_type", "plan_year", "sections", "items", "warnings"}
    assert "body_text" not in out


def test_parse_human_output_lists_sections_and_items(capsys):
    assert main(["parse", str(SEED)]) == 0
    out = capsys.readouterr().out
    assert "一、突出优质均衡" in out and "1.推动学前教育普惠优质发展。" in out
    assert "warning: mojibake (section 5, item 3)" in out


def test_missing_file_and_unknown_setting_are_clear_errors(monkeypatch, tmp_path):
    with pytest.raises(SystemExit, match="no such file"):
        main(["parse", str(tmp_path / "nope.html")])
    monkeypatch.setenv("QDP_WAREHOUSE", "sqlite://")
    with pytest.raises(SystemExit, match="QDP_WAREHOUSE"):
        main(["report"])


def test_every_stage_has_a_command():
    from etl.cli import build_parser

    commands = set(build_parser()._subparsers._group_actions[0].choices)
    assert {"run", "sample-site", "crawl", "parse", "validate", "load", "compare", "alert", "migrate"} <= commands


def test_report_on_an_empty_warehouse_says_what_to_do(monkeypatch, tmp_path):
    monkeypatch.setenv("QDP_DATA_DIR", str(tmp_path))
    with pytest.raises(SystemExit, match="qdp migrate"):
        main(["report"])


def test_run_that_cannot_begin_says_why_without_the_password(capsys, monkeypatch):
    """The warehouse URL in the failure message has its password masked; an object-storage data
    dir without QDP_WAREHOUSE_URL is a clear failure, not a traceback from the error handler."""
    monkeypatch.setenv("QDP_WAREHOUSE_URL", "postgresql+psycopg2://qdp:hunter2@127.0.0.1:1/qdp")
    monkeypatch.setenv("QDP_SITE_URL", "http://127.0.0.1:9")
    assert main(["run", "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "run FAILED before it began" in err and "hunter2" not in err and "***" in err

    monkeypatch.delenv("QDP_WAREHOUSE_URL")
    monkeypatch.setenv("QDP_DATA_DIR", "memory://qdp-cli-test/data")
    assert main(["run", "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "run FAILED before it began" in err and "set QDP_WAREHOUSE_URL" in err


def test_backfill_refuses_a_bad_year_and_unknown_channels(monkeypatch, tmp_path):
    monkeypatch.setenv("QDP_DATA_DIR", str(tmp_path))
    with pytest.raises(SystemExit, match="--since 19 is not a year"):
        main(["backfill", "--since", "19"])
    with pytest.raises(SystemExit, match="unknown channel"):
        main(["backfill", "--since", "2019", "--channel", "no-such-channel"])
    with pytest.raises(SystemExit) as exc:  # --since is required
        main(["backfill"])
    assert exc.value.code == 2
    assert not (tmp_path / "warehouse.sqlite").exists()  # nothing began
