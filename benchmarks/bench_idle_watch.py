"""An idle watch run over the whole channel catalogue: requests and wall time at the live rate limit.

    .venv/bin/python benchmarks/bench_idle_watch.py                 # every catalogue channel, 1 request/s
    .venv/bin/python benchmarks/bench_idle_watch.py --rate 0        # rate limit off (request count only)
    .venv/bin/python benchmarks/bench_idle_watch.py --folders 40    # department folders per smhd year

A local server (a child process) serves every channel of ``qdp channels`` plus the pre-2020
``n172-zwgk`` list in its own shape: ordinary lists of two pages, smhd years as folder lists of
``--folders`` department sub-folders (each dated with its newest notice), the /n172/ list paged
``index_2.html``; ETag on every page. A first crawl (rate limit off) stores everything; then an
incremental crawl with nothing new runs at ``--rate`` requests/s. Prints its requests, requests per
channel and seconds, and what descending every smhd folder on every run would cost instead.
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing
import sys
import tempfile
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from etl.crawl import crawl
from etl.crawl.catalogue import build_catalogue
from etl.records import Channel
from etl.settings import Settings

DETAIL = ('<!DOCTYPE html><html><head><meta charset="utf-8"><meta name="ArticleTitle" content="{t}"><title>{t}</title>'
          '</head><body><h1>{t}</h1><div id="{zoom}">' + "<p>{t}：推动重点工作取得新进展，完成年度目标任务。</p>" * 6
          + "</div><!-- " + "x" * 400 + " --></body></html>")


def _list(entries: list[tuple[str, str, str]], pager: str, old: bool = False) -> str:
    items = "".join(f'<li><a href="{h}" title="{t}">{t}</a><span class="date">{d}</span></li>' for h, t, d in entries)
    ul = (f'<div id="listChangeDiv"><ul>{items}</ul></div>' if old
          else f'<ul class="list-ul" id="listChangeDiv">{items}</ul>')
    return f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>列表</title></head><body>{ul}{pager}</body></html>'


def site_pages(channels: list[Channel], folders: int) -> dict[str, str]:
    pages: dict[str, str] = {}
    serial = 1000000

    def notices(base: str, n: int, day: str) -> list[tuple[str, str, str]]:
        nonlocal serial
        out = []
        for _ in range(n):
            serial += 1
            href = f"./202403/t20240301_{serial}.shtml"
            pages[base + href[2:]] = DETAIL.format(t=f"通知{serial}", zoom="zoom")
            out.append((href, f"通知{serial}", day))
        return out

    def plain(base: str) -> None:
        for p in range(2):
            pager = f'<script>createPageHTML(2, {p}, "index", "shtml");</script>'
            pages[base + ("index.shtml" if p == 0 else "index_1.shtml")] = _list(notices(base, 2, "2024-03-01"), pager)

    for ch in channels:
        base = ch.list_path if ch.list_path.endswith("/") else ch.list_path.rsplit("/", 1)[0] + "/"
        if ch.key.startswith("smhd-"):
            entries = []
            for k in range(folders):
                slug = f"d{k}_{5000 + k}"
                plain(f"{base}{slug}/")
                entries.append((f"./{slug}/index.shtml", f"部门{k}", "2024-03-01"))
            pages[base + "index.shtml"] = _list(entries, '<script>createPageHTML(1, 0, "index", "shtml");</script>')
        elif ch.key == "n172-zwgk":
            serial_ids = []
            for p in range(2):
                entries = []
                for k in range(2):
                    nid = 190101093012340000 + 10 * p + k
                    serial_ids.append(nid)
                    pages[f"{base}n2462{p}/{nid}.html"] = DETAIL.format(t=f"旧版{nid}", zoom="Zoom2")
                    entries.append((f"./n2462{p}/{nid}.html", f"旧版{nid}", "2019-01-01"))
                pages[base + ("index.html" if p == 0 else f"index_{p + 1}.html")] = _list(
                    entries, f'<div class="fenye">共2页 当前第{p + 1}页</div>', old=True)
        else:
            plain(base)
    return pages


def _serve(conn, channels: list[Channel], folders: int) -> None:
    pages = site_pages(channels, folders)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path.endswith("/"):
                path += "index.shtml" if path + "index.shtml" in pages else "index.html"
            body = "" if path == "/robots.txt" else pages.get(path)
            out = (body if body is not None else "<html><body>404</body></html>").encode()
            etag = '"' + hashlib.sha256(out).hexdigest()[:16] + '"'
            status = 404 if body is None else 304 if self.headers.get("If-None-Match") == etag else 200
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("ETag", etag)
            self.send_header("Content-Length", "0" if status == 304 else str(len(out)))
            self.end_headers()
            if status != 304:
                self.wfile.write(out)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    conn.send(server.server_address[1])
    server.serve_forever()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rate", type=float, default=1.0, help="requests per second of the idle run (default 1)")
    ap.add_argument("--folders", type=int, default=40, help="department sub-folders per smhd year (default 40)")
    args = ap.parse_args()
    channels = [e.channel for e in build_catalogue()]
    channels.append(Channel(key="n172-zwgk", department_code="n172", column="n172", kind="plans",
                            list_path="/n172/n24624151/n24627255/index.html"))
    smhd = sum(c.key.startswith("smhd-") for c in channels)
    parent, child = multiprocessing.Pipe()
    proc = multiprocessing.Process(target=_serve, args=(child, channels, args.folders), daemon=True)
    proc.start()
    try:
        url = f"http://127.0.0.1:{parent.recv()}"
        with tempfile.TemporaryDirectory() as tmp:
            first = crawl(Settings(site_url=url, data_dir=Path(tmp), rate_limit=0), channels)
            statuses = first.details["channel_status"].values()
            assert all(s["status"] == "ok" for s in statuses), [s for s in statuses if s["status"] != "ok"][:3]
            started = time.perf_counter()
            idle = crawl(Settings(site_url=url, data_dir=Path(tmp), rate_limit=args.rate), channels)
            seconds = time.perf_counter() - started
    finally:
        proc.terminate()
        proc.join()
    naive = idle.counts["requests"] + smhd * args.folders
    print(f"channels: {len(channels)} ({smhd} smhd years of {args.folders} folders, 1 pre-2020 list)")
    print(f"first crawl: {first.counts['requests']} requests, {first.counts['new_notices']} notices")
    print(f"idle watch run at {args.rate:g} request/s: {idle.counts['requests']} requests "
          f"({idle.counts['requests'] / len(channels):.2f} per channel), {seconds:.1f} s, "
          f"new {idle.counts['new_notices']}, year pages answered 304: {idle.counts.get('list_not_modified', 0)}")
    at = f" (~{naive / args.rate:.0f} s at {args.rate:g}/s)" if args.rate else ""
    print(f"descending every smhd folder on every run instead: {naive} requests{at}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
