"""Crawler benchmark against a large synthetic sample site (rate limit off).

    .venv/bin/python benchmarks/bench_crawl.py                       # 50 channels x 5,000 notices
    .venv/bin/python benchmarks/bench_crawl.py --channels 100 --notices 50000
    .venv/bin/python benchmarks/bench_crawl.py --fault-notices 0     # skip the fault run

Prints, for a clean site: first-crawl wall time, requests (checked to equal list pages + detail
pages + robots.txt, no more), pages/s, peak memory (RSS of the crawling process; the site is
served from a child process so its memory is not counted), then requests of an incremental crawl
after 10 new notices; and the same first crawl under injected faults (default 20%, on a smaller
site because 429/503 answers carry Retry-After: 1 that the crawler honours).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from etl.crawl import crawl, parse_channels
from etl.crawl.accept import check_detail, load_signatures
from etl.crawl.fetch import Fetcher
from etl.crawl.landing import LandingZone
from etl.settings import Settings


def _serve(conn, channels: int, notices: int, faults: float, seed: int, slow_seconds: float) -> None:
    import logging

    from etl.sample_site.server import start
    from etl.sample_site.site import SiteScale

    logging.disable(logging.CRITICAL)
    sys.stderr = open("/dev/null", "w")  # noqa: SIM115 - broken pipes after client timeouts are expected
    site = start(0, faults=faults, seed=seed, slow_seconds=slow_seconds,
                 scale=SiteScale(channels=channels, notices=notices))
    conn.send(site.url)
    conn.recv()  # run until the parent says stop
    site.stop()


class RemoteSite:
    """A scaled sample site in a child process, driven through its admin endpoints."""

    def __init__(self, channels: int, notices: int, faults: float = 0.0, seed: int = 0, slow_seconds: float = 3.0):
        ctx = multiprocessing.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=_serve, args=(child, channels, notices, faults, seed, slow_seconds))
        self._proc.start()
        self.url = self._conn.recv()

    def admin(self, name: str, method: str = "GET") -> object:
        data = b"" if method == "POST" else None
        req = urllib.request.Request(f"{self.url}/__qdp__/{name}", method=method, data=data)
        with urllib.request.urlopen(req, timeout=60) as resp:
            body = resp.read()
        return json.loads(body) if name != "channels.yaml" else body.decode("utf-8")

    def stop(self) -> None:
        self._conn.send("stop")
        self._proc.join(timeout=10)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def _first_crawl(site: RemoteSite, data_dir: Path, **settings_kw: object) -> dict:
    import yaml

    channels = parse_channels(yaml.safe_load(site.admin("channels.yaml")), source="sample site")
    settings = Settings(site_url=site.url, data_dir=data_dir, rate_limit=0, **settings_kw)
    truth = site.admin("ground-truth.json")
    list_pages = sum(-(-sum(1 for n in truth if n["channel"] == c.key) // 20) for c in channels)
    site.admin("reset-stats", "POST")
    fetcher = Fetcher(settings, backoff_factor=0.05, backoff_jitter=0.05)
    started = time.perf_counter()
    report = crawl(settings, channels, fetcher=fetcher)
    wall = time.perf_counter() - started
    stats = site.admin("stats")
    stats["total"] -= stats["by_kind"].pop("admin", 0)  # the stats request itself
    found = {k[1] for k in LandingZone(settings.landing_dir).latest()}
    return {"settings": settings, "channels": channels, "fetcher": fetcher, "report": report, "wall": wall,
            "stats": stats, "list_pages": list_pages, "details": len(truth),
            "complete": found == {n["notice_id"] for n in truth}}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--channels", type=int, default=50)
    ap.add_argument("--notices", type=int, default=5000)
    ap.add_argument("--new", type=int, default=10, help="notices published before the incremental crawl")
    ap.add_argument("--faults", type=float, default=0.2)
    ap.add_argument("--fault-channels", type=int, default=10)
    ap.add_argument("--fault-notices", type=int, default=500, help="0 skips the fault run")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="qdp-bench-crawl-"))
    ok = True

    site = RemoteSite(args.channels, args.notices)
    try:
        rss0 = _peak_rss_mb()
        run = _first_crawl(site, tmp / "clean")
        r, stats = run["report"], run["stats"]
        kinds = stats["by_kind"]
        expected = run["list_pages"] + run["details"]
        print(f"site: {args.channels} channels, {args.notices} notices "
              f"({run['list_pages']} list pages + {run['details']} detail pages)")
        print(f"first crawl: {run['wall']:.2f} s, {stats['total']} requests "
              f"(list {kinds.get('list', 0)}, detail {kinds.get('detail', 0)}, robots {kinds.get('robots', 0)}); "
              f"expected {expected} + 1 robots.txt -> {'OK' if stats['total'] == expected + 1 else 'MISMATCH'}; "
              f"complete={run['complete']}")
        print(f"throughput: {stats['total'] / run['wall']:.0f} pages/s (rate limit off, one session)")
        print(f"peak RSS of the crawling process: {_peak_rss_mb():.0f} MB (before the crawl {rss0:.0f} MB)")
        zone = LandingZone(run["settings"].landing_dir)
        landed = [(zone.get(rec.sha256), rec.charset) for rec in list(zone.latest().values())[:500]]
        sig = load_signatures()
        started = time.perf_counter()
        accepted = sum(check_detail(body, charset, sig).accepted for body, charset in landed)
        gate_ms = (time.perf_counter() - started) * 1000 / max(1, len(landed))
        print(f"acceptance gate: {gate_ms:.2f} ms per detail page ({accepted}/{len(landed)} accepted; "
              "included in the crawl time above)")
        ok &= accepted == len(landed)
        ok &= stats["total"] == expected + 1 and run["complete"] and r.counts["failed"] == 0

        per = max(1, args.new // 5)
        published = 0
        for c in run["channels"][:5]:
            n = min(per, args.new - published)
            if n <= 0:
                break
            site.admin(f"publish?channel={c.key}&n={n}", "POST")
            published += n
        site.admin("reset-stats", "POST")
        started = time.perf_counter()
        inc = crawl(run["settings"], run["channels"], fetcher=run["fetcher"])
        wall = time.perf_counter() - started
        kinds = site.admin("stats")["by_kind"]
        kinds.pop("admin", None)
        print(f"incremental crawl after {published} new notices in 5 channels: {wall:.2f} s, "
              f"{sum(kinds.values())} requests (list {kinds.get('list', 0)}, detail {kinds.get('detail', 0)}); "
              f"new_notices={inc.counts['new_notices']}")
        ok &= kinds.get("detail", 0) == published == inc.counts["new_notices"]
        run["fetcher"].close()
    finally:
        site.stop()

    if args.fault_notices > 0:
        site = RemoteSite(args.fault_channels, args.fault_notices, faults=args.faults, seed=args.seed,
                          slow_seconds=0.6)
        try:
            run = _first_crawl(site, tmp / "faulty", timeout=0.3, retries=8)
            r, stats = run["report"], run["stats"]
            print(f"under {args.faults:.0%} faults ({args.fault_channels} channels, {args.fault_notices} notices): "
                  f"{run['wall']:.2f} s, {stats['total']} requests for {run['list_pages'] + run['details']} pages, "
                  f"retried {r.counts['retried']}, failed {r.counts['failed']}, complete={run['complete']}, "
                  f"faults {stats['faults']}")
            print(f"peak RSS after the fault run: {_peak_rss_mb():.0f} MB")
            ok &= run["complete"] and r.counts["failed"] == 0
            run["fetcher"].close()
        finally:
            site.stop()
    print("result:", "OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
