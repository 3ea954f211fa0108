"""Landing zone: content-addressed objects, per-writer manifests, torn lines, versions."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
import logging
import multiprocessing
from pathlib import Path

import pytest

from etl.crawl.landing import LandingError, LandingZone
from etl.records import FetchRecord

HOST = "www.qingdao.gov.cn"


def _rec(zone: LandingZone, notice_id: int, body: bytes | None, *, minute: int = 0, status: int = 200,
         etag: str | None = None) -> FetchRecord:
    sha = zone.put(body) if body is not None else None
    return FetchRecord(url=f"https://{HOST}/zwgk/t20210305_{notice_id}.shtml", host=HOST, notice_id=notice_id,
                       channel="jyj-ghjh", fetched_at=dt.datetime(2024, 1, 1, 9, minute, tzinfo=dt.UTC),
                       http_status=status, sha256=sha, bytes=len(body or b""), charset="utf-8", etag=etag,
                       list_date=dt.date(2021, 3, 5), list_title="市教育局2021年工作要点")


def test_put_stores_gzip_named_by_uncompressed_sha(tmp_path: Path) -> None:
    zone = LandingZone(tmp_path)
    body = "<html>市教育局2021年工作要点</html>".encode()
    sha = zone.put(body)
    assert sha == hashlib.sha256(body).hexdigest()
    path = tmp_path / "objects" / sha[:2] / f"{sha}.gz"
    assert path.is_file()
    assert gzip.decompress(path.read_bytes()) == body
    assert zone.has(sha) and zone.get(sha) == body
    mtime = path.stat().st_mtime_ns
    assert zone.put(body) == sha  # stored once: the second put does not rewrite
    assert path.stat().st_mtime_ns == mtime
    assert not list(path.parent.glob("*.tmp"))


def test_get_missing_or_corrupt_object_is_a_clear_error(tmp_path: Path) -> None:
    zone = LandingZone(tmp_path)
    with pytest.raises(LandingError, match="no object"):
        zone.get("0" * 64)
    sha = zone.put(b"body")
    zone.object_path(sha).write_bytes(gzip.compress(b"tampered"))
    with pytest.raises(LandingError, match="does not match"):
        zone.get(sha)
    with pytest.raises(ValueError, match="sha256"):
        zone.has("../../etc/passwd")


def test_manifest_round_trip_and_latest_versions(tmp_path: Path) -> None:
    zone = LandingZone(tmp_path)
    v1 = _rec(zone, 2106401, b"v1", minute=0, etag='"a"')
    not_mod = _rec(zone, 2106401, None, minute=5, status=304, etag='"a"')
    v2 = _rec(zone, 2106401, b"v2", minute=10, etag='"b"')
    other = _rec(zone, 2200101, b"other", minute=1)
    failed = _rec(zone, 2200102, None, minute=2, status=503)
    for rec in (v1, not_mod, v2, other, failed):
        zone.append(rec)
    zone.close()
    reread = LandingZone(tmp_path)
    rows = list(reread.records())
    assert rows == sorted([v1, not_mod, v2, other, failed], key=lambda r: r.fetched_at)
    latest = reread.latest()
    assert set(latest) == {(HOST, 2106401), (HOST, 2200101)}  # the failure stored nothing
    assert latest[(HOST, 2106401)] == v2
    assert [r.sha256 for r in reread.versions(HOST, 2106401)] == [v1.sha256, v2.sha256]
    assert reread.versions(HOST, 2200102) == []


def test_body_changing_back_is_a_new_version(tmp_path: Path) -> None:
    zone = LandingZone(tmp_path)
    for minute, body in enumerate((b"a", b"a", b"b", b"a")):
        zone.append(_rec(zone, 1, body, minute=minute))
    assert [zone.get(r.sha256) for r in zone.versions(HOST, 1)] == [b"a", b"b", b"a"]


def test_torn_last_line_is_skipped_with_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    zone = LandingZone(tmp_path)
    zone.append(_rec(zone, 1, b"one", minute=1))
    zone.append(_rec(zone, 2, b"two", minute=2))
    zone.close()
    (path,) = zone.manifest_files()
    full_line = path.read_bytes().splitlines()[0]
    with open(path, "ab") as fh:  # a crash in the middle of writing a third row
        fh.write(full_line[: len(full_line) // 2])
    with caplog.at_level(logging.WARNING, logger="etl.crawl.landing"):
        rows = list(LandingZone(tmp_path).records())
    assert [r.notice_id for r in rows] == [1, 2]
    assert "torn last line" in caplog.text


def test_append_refuses_a_row_naming_a_missing_object(tmp_path: Path) -> None:
    zone = LandingZone(tmp_path)
    rec = _rec(zone, 1, None)
    rec.sha256 = "f" * 64
    with pytest.raises(LandingError, match="not stored"):
        zone.append(rec)


def test_extra_keys_kept_in_the_file_but_not_in_records(tmp_path: Path) -> None:
    zone = LandingZone(tmp_path)
    zone.append(_rec(zone, 1, None, status=0), outcome="failed", error="ConnectionError: reset")
    zone.close()
    (row,) = list(LandingZone(tmp_path).rows())
    assert row["outcome"] == "failed" and row["error"].startswith("ConnectionError")
    (rec,) = list(LandingZone(tmp_path).records())
    assert rec.http_status == 0 and rec.sha256 is None


def _writer(root: str, worker: int, n: int) -> None:
    zone = LandingZone(Path(root))
    for i in range(n):
        body = f"shared body {i % 5}".encode()  # every worker stores the same 5 bodies
        sha = zone.put(body)
        zone.append(FetchRecord(url=f"https://{HOST}/t_{worker}_{i}.shtml", host=HOST, notice_id=worker * 1000 + i,
                                channel=f"c{worker}", fetched_at=dt.datetime.now(dt.UTC), http_status=200,
                                sha256=sha, bytes=len(body)))
    zone.close()


def test_concurrent_writers_in_several_processes_lose_nothing(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_writer, args=(str(tmp_path), w, 60)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=30)
        assert p.exitcode == 0
    zone = LandingZone(tmp_path)
    rows = list(zone.records())
    assert len(rows) == 240
    assert len({(r.host, r.notice_id) for r in rows}) == 240
    assert len(list((tmp_path / "objects").rglob("*.gz"))) == 5
    assert len(zone.manifest_files()) == 4  # one file per writer
    for path in zone.manifest_files():
        for line in path.read_text().splitlines():
            json.loads(line)
