"""Parser speed and memory over the sample site's detail pages.

Prints pages per second on one core for three things run side by side on the same pages:
trafilatura's extraction alone, the floor (a bare lxml parse plus text_content() of the content
container) and the whole ``parse_page`` (extraction, normalisation, structure, targets); then
peak memory for parsing N pages (default 10,000) in a fresh process; then the worst case: the
parse time of each adversarial page of tests/fixtures/worst_pages.py at the 5 MB body cap (goal:
none over 2 s; issue 9).

    .venv/bin/python benchmarks/bench_parse.py [--rounds 5] [--memory-pages 10000] [--http]
        [--worst-size 5000000] [--only-worst]

``--http`` fetches the pages from a sample site started on 127.0.0.1 instead of rendering them
in-process (same bytes; it only adds the fetch, which is not timed).
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

LIVE = "https://www.qingdao.gov.cn"


def load_pages(http: bool) -> list[tuple[str, bytes, str]]:
    """(live URL, body, charset) of every detail page the sample site lists."""
    from etl.sample_site.site import Site

    site = Site.build()
    notices = site.notices()
    if not http:
        return [(LIVE + n.path, n.page().body, n.page().charset) for n in notices]
    import requests

    from etl.sample_site.server import start

    pages = []
    with start(0) as running, requests.Session() as s:
        for n in notices:
            r = s.get(running.url + n.path, timeout=10)
            r.raise_for_status()
            pages.append((LIVE + n.path, r.content, r.encoding or "utf-8"))
    return pages


def floor(body: bytes, charset: str) -> str:
    import lxml.html

    from etl.encoding import decode_body

    root = lxml.html.document_fromstring(decode_body(body, charset)[0])
    found = root.xpath("id('zoom')")  # libxml2's id index: the cheapest way to the container
    return found[0].text_content() if found else root.text_content()


def traf(body: bytes, charset: str) -> str | None:
    import trafilatura

    from etl.encoding import decode_body

    return trafilatura.extract(decode_body(body, charset)[0], favor_recall=True)


def whole(body: bytes, charset: str, url: str):
    from etl.parse import parse_page

    return parse_page(body, url=url, charset=charset)


def timed(fn, pages, rounds: int, min_calls: int = 200) -> float:
    """Best-of-rounds seconds per page (best: least disturbed by other processes on the box).

    A round goes over the pages as often as it takes to make at least ``min_calls`` calls, so a
    one-page subset is timed over many calls rather than one.
    """
    batch = pages * max(1, -(-min_calls // len(pages)))
    per_round = []
    for _ in range(rounds):
        gc.collect()
        t0 = time.perf_counter()
        for url, body, charset in batch:
            fn(url, body, charset)
        per_round.append((time.perf_counter() - t0) / len(batch))
    return min(per_round)


def memory_child(n: int, keep: bool) -> None:
    """Run in a fresh process: parse n pages, print peak RSS as JSON."""
    from etl.parse import parse_page

    pages = load_pages(False)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kept = []
    t0 = time.perf_counter()
    for i in range(n):
        url, body, charset = pages[i % len(pages)]
        r = parse_page(body, url=url, charset=charset)
        if keep:
            kept.append(r)
    secs = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"pages": n, "keep": keep, "base_mb": base / 1024, "peak_mb": peak / 1024,
                      "seconds": secs}))


def worst_case(size: int) -> None:
    """Parse time of each adversarial page (best of 2: the first call also pays for imports)."""
    from etl.parse import parse_page
    from tests.fixtures.worst_pages import WORST

    parse_page(WORST["many_items"](10_000))  # warm up OpenCC and the regex caches
    print(f"worst-case inputs of about {size / 1e6:.1f} MB (goal: each under 2 s)")
    slowest = 0.0
    for name, build in WORST.items():
        page = build(size)
        best = min(_time_once(parse_page, page) for _ in range(2))
        slowest = max(slowest, best)
        print(f"  {name:22} {len(page) / 1e6:5.2f} MB {best:6.2f} s")
    print(f"  slowest: {slowest:.2f} s")


def _time_once(fn, arg) -> float:
    gc.collect()
    t0 = time.perf_counter()
    fn(arg)
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--memory-pages", type=int, default=10_000, help="0 skips the memory run")
    ap.add_argument("--http", action="store_true", help="fetch pages from a local sample site")
    ap.add_argument("--_memory-child", dest="child", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--_keep", dest="keep", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--worst-size", type=int, default=5_000_000, help="bytes per worst-case page; 0 skips")
    ap.add_argument("--only-worst", action="store_true", help="run only the worst-case section")
    args = ap.parse_args(argv)
    if args.child:
        memory_child(args.child, args.keep)
        return
    if args.only_worst:
        worst_case(args.worst_size)
        return

    pages = load_pages(args.http)
    sizes = [len(b) for _, b, _ in pages]
    seed = [p for p in pages if p[0].endswith("_2106401.shtml")]
    print(f"{len(pages)} sample-site detail pages, {statistics.mean(sizes) / 1024:.1f} KB mean, "
          f"{max(sizes) / 1024:.1f} KB max")
    # Warm up: imports (trafilatura takes ~1 s) and OpenCC set-up are not per-page costs.
    for url, body, charset in pages[:3]:
        traf(body, charset), floor(body, charset), whole(body, charset, url)

    rows = []
    for label, subset in (("all pages", pages), ("seed page", seed)):
        if not subset:
            continue
        t_traf = timed(lambda u, b, c: traf(b, c), subset, args.rounds)
        t_floor = timed(lambda u, b, c: floor(b, c), subset, args.rounds)
        t_parse = timed(lambda u, b, c: whole(b, c, u), subset, args.rounds)
        rows.append((label, t_traf, t_floor, t_parse))
    print(f"{'':10} {'trafilatura':>14} {'lxml floor':>14} {'parse_page':>14}   parse vs traf   parse / floor")
    for label, t_traf, t_floor, t_parse in rows:
        print(f"{label:10} {t_traf * 1e3:9.2f} ms/p {t_floor * 1e3:9.2f} ms/p {t_parse * 1e3:9.2f} ms/p"
              f"   {t_traf / t_parse:8.1f}x faster {t_parse / t_floor:8.1f}x the floor")
        print(f"{'':10} {1 / t_traf:10.0f} p/s {1 / t_floor:10.0f} p/s {1 / t_parse:10.0f} p/s")

    if args.memory_pages:
        for keep in (False, True):
            cmd = [sys.executable, __file__, "--_memory-child", str(args.memory_pages)] + (["--_keep"] if keep else [])
            out = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
            what = "keeping every result" if keep else "streaming (results dropped)"
            print(f"peak RSS parsing {out['pages']} pages, {what}: {out['peak_mb']:.0f} MB "
                  f"(process baseline {out['base_mb']:.0f} MB; {out['pages'] / out['seconds']:.0f} pages/s)")
    if args.worst_size:
        worst_case(args.worst_size)


if __name__ == "__main__":
    main()
