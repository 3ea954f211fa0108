"""The storage layer (etl/storage.py) and its users on fsspec's in-memory filesystem (``memory://``):
the same code paths as S3 (one object per write, listing by prefix, no rename, no append)."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
import secrets
import threading
from pathlib import Path

import pytest

from etl.crawl import landing
from etl.crawl.landing import LandingError, LandingZone
from etl.records import FetchRecord
from etl.settings import Settings
from etl.storage import Location

HOST = "www.qingdao.gov.cn"


@pytest.fixture
def mem() -> Location:
    """A fresh folder of the process-wide in-memory filesystem, removed afterwards."""
    loc = Location.of(f"memory://qdp-{secrets.token_hex(6)}/data")
    yield loc
    if loc.fs.exists(loc.path):
        loc.fs.rm(loc.path, recursive=True)


def _rec(notice_id: int, sha: str | None, minute: int = 0) -> FetchRecord:
    return FetchRecord(url=f"https://{HOST}/zwgk/t20210305_{notice_id}.shtml", host=HOST, notice_id=notice_id,
                       channel="jyj-ghjh", fetched_at=dt.datetime(2024, 1, 1, 9, minute, tzinfo=dt.UTC),
                       http_status=200 if sha else 503, sha256=sha, bytes=0, charset="utf-8")


# --------------------------------------------------------------------------- Location


def test_location_reads_writes_lists_and_times_objects(mem: Location) -> None:
    f = mem / "a" / "b.json"
    assert not f.exists() and not f.is_file()
    with pytest.raises(FileNotFoundError):
        f.read_bytes()
    with pytest.raises(FileNotFoundError):
        f.mtime()
    f.write_text('{"x": "青岛"}')
    (mem / "a" / "c.txt").write_bytes(b"c")
    (mem / "z" / "d.json").write_bytes(b"d")
    assert f.is_file() and json.loads(f.read_text()) == {"x": "青岛"}
    assert f.name == "b.json" and f.stem == "b" and f.parent == mem / "a"
    assert str(f) == f"memory://{mem.path}/a/b.json" and not f.is_local
    assert [p.name for p in mem.glob("*/*.json")] == ["b.json", "d.json"]
    assert [p.name for p in mem.glob("*")] == ["a", "z"]
    assert abs(f.mtime() - dt.datetime.now(dt.UTC).timestamp()) < 60
    f.unlink()
    assert not f.exists()
    f.unlink(missing_ok=True)
    with pytest.raises(FileNotFoundError):
        f.unlink()


def test_streamed_write_appears_whole_or_not_at_all(mem: Location, tmp_path: Path) -> None:
    for loc in (mem / "s.jsonl", Location.of(tmp_path) / "s.jsonl"):
        with loc.open_write() as fh:
            fh.write(b"one\n")
            fh.write(b"two\n")
        assert loc.read_bytes() == b"one\ntwo\n"
        with pytest.raises(RuntimeError), loc.open_write() as fh:
            fh.write(b"half")
            raise RuntimeError("stage crashed")
        assert loc.read_bytes() == b"one\ntwo\n"  # the old content, not half of the new
        with loc.open_read() as fh:
            assert list(fh) == [b"one\n", b"two\n"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.jsonl"]  # no temp file left


def test_local_paths_and_file_urls_are_local_and_absolute(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert Location.of("data").local_path == tmp_path / "data"
    assert Location.of(f"file://{tmp_path}/x").local_path == tmp_path / "x"
    (Location.of("data") / "n" / "f.txt").write_text("local")
    assert (tmp_path / "data" / "n" / "f.txt").read_text() == "local"


def test_read_many_fetches_several_objects_and_leaves_out_missing_ones(mem: Location, tmp_path: Path) -> None:
    from etl.storage import read_many

    files = [mem / f"m/{i}.jsonl" for i in range(5)]
    for i, f in enumerate(files):
        f.write_bytes(f"row {i}".encode())
    local = Location.of(tmp_path) / "l.txt"
    local.write_bytes(b"local")
    got = read_many([*files, mem / "m" / "gone.jsonl", local, Location.of(tmp_path) / "gone"])
    assert got == {**{f: f"row {i}".encode() for i, f in enumerate(files)}, local: b"local"}


def test_upload_tree_copies_a_local_folder(mem: Location, tmp_path: Path) -> None:
    (tmp_path / "static" / "css").mkdir(parents=True)
    (tmp_path / "static" / "css" / "a.css").write_text("a")
    (tmp_path / "index.html").write_text("<p>")
    assert mem.upload_tree(tmp_path) == 2
    assert (mem / "static" / "css" / "a.css").read_text() == "a"
    assert (mem / "index.html").read_text() == "<p>"
    (tmp_path / "index.html").write_text("<p>new")
    assert mem.upload_tree(tmp_path) == 1  # the unchanged asset is not copied again
    assert (mem / "index.html").read_text() == "<p>new"


# --------------------------------------------------------------------------- settings


def test_settings_keep_urls_and_make_paths_absolute(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    s3 = Settings.from_env({"QDP_DATA_DIR": "s3://bucket/prefix/", "QDP_WAREHOUSE_URL": "sqlite:///:memory:",
                            "QDP_STORAGE_OPTIONS": '{"key": "AKIA", "secret": "s3cr3t", "client_kwargs": '
                                                   '{"region_name": "us-east-1", "aws_session_token": "tok"}}'})
    assert s3.data_is_remote and str(s3.data_dir) == "s3://bucket/prefix"
    assert str(s3.landing_dir) == "s3://bucket/prefix/landing"
    assert s3.location("staging", "r1").url == "s3://bucket/prefix/staging/r1"
    assert s3.location().options["secret"] == "s3cr3t"  # passed to fsspec ...
    shown = repr(s3)
    assert "s3cr3t" not in shown and "AKIA" not in shown and "'tok'" not in shown  # ... never printed
    assert "us-east-1" in shown
    local = Settings.from_env({"QDP_DATA_DIR": "data"})
    assert not local.data_is_remote and local.data_dir == tmp_path / "data"
    assert Settings.from_env({"QDP_DATA_DIR": f"file://{tmp_path}/d"}).data_dir == tmp_path / "d"
    assert Settings().data_dir == tmp_path / "data"


def test_object_storage_needs_an_explicit_warehouse_and_bad_options_are_errors() -> None:
    settings = Settings.from_env({"QDP_DATA_DIR": "s3://bucket/x"})
    with pytest.raises(ValueError, match="QDP_WAREHOUSE_URL"):
        _ = settings.warehouse_url
    assert "QDP_WAREHOUSE_URL" in settings.warehouse_url_masked
    with pytest.raises(ValueError, match="QDP_STORAGE_OPTIONS is not JSON"):
        Settings.from_env({"QDP_STORAGE_OPTIONS": "{key: 1"})
    with pytest.raises(ValueError, match="JSON object"):
        Settings.from_env({"QDP_STORAGE_OPTIONS": "[1]"})


def test_credentials_in_a_data_dir_url_are_masked() -> None:
    settings = Settings.from_env({"QDP_DATA_DIR": "s3://AKIA:s3cr3t@bucket/x", "QDP_WAREHOUSE_URL": "sqlite://"})
    assert "s3cr3t" not in repr(settings) and "s3cr3t" not in str(settings.masked("data_dir"))


# --------------------------------------------------------------------------- landing zone


def test_landing_zone_on_object_storage_keeps_its_api(mem: Location) -> None:
    zone = LandingZone(mem / "landing")
    body = "<html>市教育局2021年工作要点</html>".encode()
    sha = zone.put(body)
    assert sha == hashlib.sha256(body).hexdigest() and zone.has(sha) and zone.get(sha) == body
    obj = mem / "landing" / "objects" / sha[:2] / f"{sha}.gz"
    assert gzip.decompress(obj.read_bytes()) == body
    assert zone.put(body) == sha
    obj.write_bytes(gzip.compress(b"tampered"))
    with pytest.raises(LandingError, match="does not match"):
        zone.get(sha)
    with pytest.raises(LandingError, match="no object"):
        zone.get("0" * 64)
    with pytest.raises(LandingError, match="not stored"):
        zone.append(_rec(1, "f" * 64))


def test_remote_manifest_is_written_in_segments_and_merged_by_readers(mem: Location, monkeypatch) -> None:
    monkeypatch.setattr(landing, "REMOTE_FLUSH_ROWS", 3)
    zone = LandingZone(str(mem / "landing"))
    shas = [zone.put(f"v{i}".encode()) for i in range(7)]
    for i, sha in enumerate(shas):
        zone.append(_rec(100 + i, sha, minute=i), note="extra key")
    assert len(zone.manifest_files()) == 2  # 6 rows flushed as two segments, 1 row buffered
    zone.append(_rec(200, None, minute=30))
    zone.close()
    segments = zone.manifest_files()
    assert len(segments) == 3
    assert segments[0].name.endswith("-000001.jsonl") and segments[2].name.endswith("-000003.jsonl")
    reread = LandingZone(mem / "landing")
    assert [r.notice_id for r in reread.records()] == [*range(100, 107), 200]
    assert set(reread.latest()) == {(HOST, 100 + i) for i in range(7)}
    assert all(row["note"] == "extra key" for row in list(reread.rows())[:7])


def test_remote_manifest_rows_wait_at_most_the_flush_interval(mem: Location, monkeypatch) -> None:
    clock = [1000.0]
    monkeypatch.setattr(landing.time, "monotonic", lambda: clock[0])
    zone = LandingZone(mem / "landing")
    zone.append(_rec(1, zone.put(b"a")))
    assert zone.manifest_files() == []
    clock[0] += landing.REMOTE_FLUSH_SECONDS
    zone.append(_rec(2, zone.put(b"b"), minute=1))
    assert [r.notice_id for r in LandingZone(mem / "landing").records()] == [1, 2]


def test_writers_in_several_threads_share_a_remote_zone_and_lose_nothing(mem: Location) -> None:
    def writer(worker: int) -> None:
        with LandingZone(mem / "landing") as zone:
            for i in range(40):
                sha = zone.put(f"shared {i % 5}".encode())
                zone.append(_rec(worker * 1000 + i, sha, minute=i))

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    zone = LandingZone(mem / "landing")
    assert len({(r.host, r.notice_id) for r in zone.records()}) == 160
    assert len((mem / "landing" / "objects").glob("*/*.gz")) == 5


def test_a_torn_remote_segment_line_is_skipped(mem: Location, caplog) -> None:
    zone = LandingZone(mem / "landing")
    zone.append(_rec(1, zone.put(b"one")))
    zone.close()
    (seg,) = zone.manifest_files()
    line = seg.read_bytes()
    (seg.parent / "other-000001.jsonl").write_bytes(line[: len(line) // 2])
    assert [r.notice_id for r in LandingZone(mem / "landing").records()] == [1]
    assert "torn last line" in caplog.text


# --------------------------------------------------------------------------- staging, docs, reports


def test_staging_files_round_trip_on_object_storage(mem: Location, notice_factory) -> None:
    from etl.pipeline import read_records, run_dir, write_records

    settings = Settings(data_dir=str(mem), warehouse_url_override="sqlite://")
    out = run_dir(settings, "run-1")
    assert out == mem / "staging" / "run-1"
    records = [notice_factory(n) for n in (1, 2, 3)]
    assert write_records(out / "parsed.jsonl", records) == 3
    assert list(read_records(out / "parsed.jsonl")) == records


def test_validation_data_docs_go_to_the_store(mem: Location, notice_factory, tmp_path: Path, monkeypatch) -> None:
    """Great Expectations writes its site in a local temporary folder, copied to the store; our own
    index and the run's results are written to the store directly. Nothing stays on local disk."""
    from etl.validate import validate_records

    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    monkeypatch.setattr("tempfile.tempdir", None)
    docs = mem / "data_docs"
    outcome = validate_records([notice_factory(7)], data_docs_dir=docs, run_name="r7")
    assert outcome.report.details["data_docs"] == str(docs / "index.html")
    assert "r7" in (docs / "index.html").read_text()
    assert json.loads((docs / "runs" / "r7.json").read_text())["run"] == "r7"
    assert docs.glob("static/styles/*.css"), "Great Expectations' own site was not copied"
    assert not [p for p in scratch.rglob("*") if "qdp-gx-docs" in str(p)]


def test_run_report_pages_are_written_to_the_store(mem: Location, tmp_path: Path) -> None:
    from etl import warehouse
    from etl.report import reports_dir, write_run_report

    url = f"sqlite:///{tmp_path / 'w.sqlite'}"
    warehouse.upgrade(warehouse.get_engine(url))
    settings = Settings(data_dir=str(mem), warehouse_url_override=url)
    page = write_run_report(settings, "run-9")
    assert page == reports_dir(settings) / "run-9.html" == mem / "reports" / "run-9.html"
    assert (mem / "reports" / "latest.html").read_bytes() == page.read_bytes()
    assert b"<html" in page.read_bytes()


def test_latest_staged_run_is_found_in_the_store(mem: Location) -> None:
    from etl.cli import _latest_run

    settings = Settings(data_dir=str(mem), warehouse_url_override="sqlite://")
    (mem / "staging" / "a" / "parsed.jsonl").write_bytes(b"")
    (mem / "staging" / "b" / "valid.jsonl").write_bytes(b"")
    assert _latest_run(settings, "parsed.jsonl") == "a"
    assert _latest_run(settings, "valid.jsonl") == "b"
    with pytest.raises(SystemExit, match="no staged run"):
        _latest_run(settings, "other.jsonl")


def test_crawler_state_and_robots_cache_live_in_the_store(mem: Location) -> None:
    from etl.crawl.crawler import _read_state, _write_state
    from etl.crawl.fetch import Fetcher
    from etl.records import Channel

    zone = LandingZone(mem / "landing")
    channel = Channel(key="jyj-ghjh", department_code="jyj", column="gkml/ghjh", list_path="/zwgk/xxgk/jyj/gkml/ghjh/")
    assert _read_state(zone, channel) == {}
    _write_state(zone, channel, {"complete": True, "newest": "2024-01-01"})
    assert _read_state(zone, channel) == {"complete": True, "newest": "2024-01-01"}
    assert (mem / "landing" / "state" / "channel-jyj-ghjh.json").is_file()
    settings = Settings(data_dir=str(mem), warehouse_url_override="sqlite://")
    with Fetcher(settings) as fetcher:
        cache = fetcher._robots_cache_path("127.0.0.1:8765")
        fetcher._write_robots_cache(cache, "User-agent: *\nDisallow: /__qdp__/\n")
    assert cache == mem / "landing" / "robots" / "127.0.0.1_8765.txt"
    assert cache.read_text().startswith("User-agent")


def test_task_failure_records_are_objects_per_failure_in_the_store(mem: Location, monkeypatch) -> None:
    """Airflow's failure callbacks run on whichever worker ran the task: in an object store each
    failure is its own object (no append), and the run's ops message reads them all back."""
    from etl.alert.ops import recorded_task_failures, task_failure_callback

    monkeypatch.setenv("QDP_DATA_DIR", str(mem))

    class TI:
        dag_id, run_id, map_index, log_url = "qingdao_notices_etl", "manual__1", -1, None

        def __init__(self, task_id: str, try_number: int) -> None:
            self.task_id, self.try_number = task_id, try_number

    for task_id, try_number in (("parse", 1), ("parse", 2), ("load", 1)):
        task_failure_callback({"ti": TI(task_id, try_number), "run_id": TI.run_id,
                               "exception": RuntimeError(f"{task_id} broke")})
    assert len((mem / "ops").glob("*/*.json")) == 3
    settings = Settings(data_dir=str(mem), warehouse_url_override="sqlite://")
    got = {(f["task_id"], f["try_number"]) for f in recorded_task_failures(settings, "qingdao_notices_etl", "manual__1")}
    assert got == {("parse", 2), ("load", 1)}  # last try per task
