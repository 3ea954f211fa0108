"""Benchmark the landing zone and staging files on local disk against an S3 server (moto's server
mode on this machine: the protocol's round trips, not a real network's latency).

    .venv/bin/python benchmarks/bench_storage.py                 # 500 pages
    .venv/bin/python benchmarks/bench_storage.py --pages 2000

Prints, per store: pages landed per second (put + manifest row, as the crawler does), the time to
read the manifest back (``latest()``, what every crawl and parse starts with), pages read per
second (``get``, as the parse stage does), and the staging round trip of the parsed records.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import socket
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from etl.crawl.landing import LandingZone
from etl.records import FetchRecord
from etl.storage import Location

HOST = "www.qingdao.gov.cn"


def page(i: int) -> bytes:
    body = "".join(f"<p>（{n}）推进第{i}项重点工作，完成{n * 7}个项目建设。</p>" for n in range(1, 60))
    return f"<html><head><title>青岛市第{i}号通知</title></head><body>{body}</body></html>".encode()


def bench(root: Location, pages: int) -> dict[str, float]:
    bodies = [page(i) for i in range(pages)]
    t0 = time.perf_counter()
    with LandingZone(root / "landing") as zone:
        for i, body in enumerate(bodies):
            sha = zone.put(body)
            zone.append(FetchRecord(url=f"https://{HOST}/t_{i}.shtml", host=HOST, notice_id=i, channel="bench",
                                    fetched_at=dt.datetime.now(dt.UTC), http_status=200, sha256=sha,
                                    bytes=len(body)))
    landed = time.perf_counter() - t0
    t0 = time.perf_counter()
    latest = LandingZone(root / "landing").latest()
    manifest = time.perf_counter() - t0
    assert len(latest) == pages
    zone = LandingZone(root / "landing")
    t0 = time.perf_counter()
    for rec in latest.values():
        zone.get(rec.sha256)
    read = time.perf_counter() - t0
    staged = root / "staging" / "run" / "parsed.jsonl"
    t0 = time.perf_counter()
    with staged.open_write() as fh:
        for body in bodies:
            fh.write(body.decode().replace("\n", " ").encode() + b"\n")
    with staged.open_read() as fh:
        n = sum(1 for _ in fh)
    staging = time.perf_counter() - t0
    assert n == pages
    return {"land/s": pages / landed, "manifest s": manifest, "get/s": pages / read, "staging s": staging}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=500)
    args = parser.parse_args()
    from moto.server import ThreadedMotoServer

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        os.environ.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
                           "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}"})
        s3 = Location.of("s3://bench/data")
        s3.fs.mkdir("bench")
        import logging

        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        with tempfile.TemporaryDirectory() as tmp:
            results = {"local disk": bench(Location.of(tmp), args.pages), "S3 (moto)": bench(s3, args.pages)}
    finally:
        server.stop()
    print(f"{args.pages} pages of {len(page(0)) // 1024} KB")
    print(f"{'store':<12} {'landed/s':>10} {'manifest read':>14} {'pages read/s':>13} {'staging w+r':>12}")
    for name, r in results.items():
        print(f"{name:<12} {r['land/s']:>10.0f} {r['manifest s']:>13.3f}s {r['get/s']:>13.0f} {r['staging s']:>11.3f}s")


if __name__ == "__main__":
    main()
