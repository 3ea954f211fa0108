"""HTTP server of the sample site (stdlib ``ThreadingHTTPServer``, bound to 127.0.0.1).

``start()`` runs it in a background thread for tests and benchmarks; ``serve_forever()`` is what
``qdp sample-site`` calls. Besides the site's pages it serves ``robots.txt`` and admin endpoints
under ``/__qdp__/`` (never subject to faults, disallowed by robots.txt):

    GET  /__qdp__/ground-truth.json   every notice the site lists (path, id, title, date, ...)
    GET  /__qdp__/corpus-truth.json   per-document/per-item expectations of the plan corpus (the
                                      documents this site serves, with their URLs and attachments)
    GET  /__qdp__/channels.yaml       the channels this site serves (differs for a scaled site)
    GET  /__qdp__/stats               request counts;  POST /__qdp__/reset-stats
    POST /__qdp__/publish?channel=K&n=3[&kind=notice|plan|mixed]
    POST /__qdp__/revise?id=N          (request body, if any: the new paragraphs, one per line)
    GET  /__qdp__/redirect-offsite    302 to another host (the crawler must not follow it)
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .faults import FaultPlan
from .site import OFFSITE_URL, Page, Site, SiteScale

ADMIN_PREFIX = "/__qdp__/"
ROBOTS_TXT = "User-agent: *\nDisallow: /__qdp__/\nAllow: /\n"


class RequestStats:
    """Thread-safe request counts: by kind (list/detail/robots/admin/other), path, status, fault."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.by_kind: Counter[str] = Counter()
        self.by_path: Counter[str] = Counter()
        self.by_status: Counter[int] = Counter()
        self.faults: Counter[str] = Counter()

    def record(self, kind: str, path: str, status: int | None, fault: str | None) -> None:
        with self._lock:
            self.by_kind[kind] += 1
            self.by_path[path] += 1
            if status is not None:
                self.by_status[status] += 1
            if fault:
                self.faults[fault] += 1

    @property
    def total(self) -> int:
        with self._lock:
            return sum(self.by_kind.values())

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {"total": sum(self.by_kind.values()), "by_kind": dict(self.by_kind),
                    "by_path": dict(self.by_path), "by_status": {str(k): v for k, v in self.by_status.items()},
                    "faults": dict(self.faults)}

    def reset(self) -> None:
        with self._lock:
            self.by_kind.clear()
            self.by_path.clear()
            self.by_status.clear()
            self.faults.clear()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port: int, site: Site, faults: FaultPlan, stats: RequestStats, slow_seconds: float):
        self.site = site
        self.fault_plan = faults
        self.stats = stats
        self.slow_seconds = slow_seconds
        super().__init__(("127.0.0.1", port), _Handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like the real site; every response has Content-Length
    server_version = "QDPSampleSite/1.0"
    timeout = 30  # an idle keep-alive connection must not pin a thread forever
    # Headers and body go out in separate writes: without TCP_NODELAY, Nagle plus delayed ACKs
    # add ~40 ms to every keep-alive response.
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass  # tests start many servers; request logs would drown their output

    # ----------------------------------------------------------------- dispatch
    def do_GET(self) -> None:
        self._dispatch(head=False)

    def do_HEAD(self) -> None:
        self._dispatch(head=True)

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        if not path.startswith(ADMIN_PREFIX):
            self._simple(HTTPStatus.METHOD_NOT_ALLOWED, "text/plain; charset=utf-8", b"method not allowed\n",
                         kind="other", extra={"Allow": "GET, HEAD"})
            return
        self._admin(path, post=True)

    def _dispatch(self, head: bool) -> None:
        path = urlsplit(self.path).path
        if path.startswith(ADMIN_PREFIX):
            self._admin(path, post=False)
            return
        if path == "/robots.txt":
            self._simple(HTTPStatus.OK, "text/plain; charset=utf-8", ROBOTS_TXT.encode(), kind="robots", head=head)
            return
        fault = self.server.fault_plan.next(path)
        page = self.server.site.resolve(path)
        kind = page.kind if page else "other"
        if fault in ("500", "503", "429", "reset"):
            self._fault(fault, kind, path)
            return
        if fault == "slow":
            time.sleep(self.server.slow_seconds)
        if page is None:
            self._simple(HTTPStatus.NOT_FOUND, "text/html; charset=utf-8",
                         "<html><body><h1>404 页面不存在</h1></body></html>".encode(), kind="other",
                         head=head, path=path, fault=fault)
            return
        self._page(page, path, head, fault)

    # ----------------------------------------------------------------- responses
    def _page(self, page: Page, path: str, head: bool, fault: str | None) -> None:
        if self._not_modified(page):
            self.send_response(HTTPStatus.NOT_MODIFIED)
            self.send_header("ETag", page.etag)
            self.send_header("Last-Modified", page.last_modified_http)
            self.send_header("Content-Length", "0")
            self.end_headers()
            self.server.stats.record(page.kind, path, 304, fault)
            return
        content_type = page.content_type
        if fault == "wrong_charset" and page.kind != "attachment":
            # The declared charset lies; the bytes are intact (real mirrors do this).
            content_type = "text/html; charset=" + ("utf-8" if page.charset == "gb2312" else "gb2312")
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(page.body)))
        self.send_header("ETag", page.etag)
        self.send_header("Last-Modified", page.last_modified_http)
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        self.server.stats.record(page.kind, path, 200, fault)
        if head:
            return
        if fault == "truncate":
            # Promise the full length, send part of it, then hang up.
            self.wfile.write(page.body[: max(1, len(page.body) // 3)])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.wfile.write(page.body)

    def _not_modified(self, page: Page) -> bool:
        inm = self.headers.get("If-None-Match")
        if inm is not None:
            tags = {t.strip().removeprefix("W/") for t in inm.split(",")}
            return page.etag in tags or "*" in tags
        ims = self.headers.get("If-Modified-Since")
        if ims:
            try:
                since = email.utils.parsedate_to_datetime(ims)
            except (TypeError, ValueError):
                return False
            if since.tzinfo is None:
                since = since.replace(tzinfo=dt.UTC)
            return page.last_modified.replace(microsecond=0) <= since
        return False

    def _fault(self, fault: str, kind: str, path: str) -> None:
        self.server.stats.record(kind, path, None if fault == "reset" else int(fault), fault)
        if fault == "reset":
            # SO_LINGER with a zero timeout makes close() send RST instead of FIN.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
            return
        status = int(fault)
        body = f"<html><body><h1>{status} {HTTPStatus(status).phrase}</h1></body></html>".encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        if status == 429:
            self.send_header("Retry-After", "1")
        if status == 503:
            self.send_header("Retry-After", "1")
        self.end_headers()
        self.wfile.write(body)

    def _simple(self, status: int, content_type: str, body: bytes, *, kind: str, head: bool = False,
                path: str | None = None, fault: str | None = None, extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.server.stats.record(kind, path or urlsplit(self.path).path, int(status), fault)
        if not head:
            self.wfile.write(body)

    def _json(self, obj: Any, status: int = HTTPStatus.OK) -> None:
        body = json.dumps(obj, ensure_ascii=False, indent=1).encode()
        self._simple(status, "application/json; charset=utf-8", body, kind="admin")

    # ----------------------------------------------------------------- admin
    def _admin(self, path: str, post: bool) -> None:
        query = {k: v[-1] for k, v in parse_qs(urlsplit(self.path).query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        payload = self.rfile.read(length) if length else b""
        name = path.removeprefix(ADMIN_PREFIX)
        site, stats = self.server.site, self.server.stats
        try:
            if name == "ground-truth.json" and not post:
                self._json(site.ground_truth())
            elif name == "corpus-truth.json" and not post:
                self._json(site.corpus_truth())
            elif name == "channels.yaml" and not post:
                self._simple(HTTPStatus.OK, "text/yaml; charset=utf-8", site.channels_yaml().encode(), kind="admin")
            elif name == "stats" and not post:
                self._json(stats.snapshot())
            elif name == "reset-stats" and post:
                stats.reset()
                self._json({"ok": True})
            elif name == "publish" and post:
                added = site.publish(query["channel"], int(query.get("n", 3)), kind=query.get("kind", "notice"))
                self._json([n.summary() for n in added])
            elif name == "revise" and post:
                text = payload.decode("utf-8").strip()
                body = [ln for ln in text.splitlines() if ln.strip()] if text else None
                notice = site.revise(int(query["id"]), body=body, title=query.get("title"))
                self._json(notice.summary())
            elif name == "redirect-offsite" and not post:
                self._simple(HTTPStatus.FOUND, "text/plain; charset=utf-8", b"moved\n", kind="admin",
                             extra={"Location": OFFSITE_URL})
            else:
                self._json({"error": f"no admin endpoint {'POST' if post else 'GET'} {path}"}, HTTPStatus.NOT_FOUND)
        except KeyError as exc:
            self._json({"error": f"missing or unknown parameter: {exc}"}, HTTPStatus.BAD_REQUEST)
        except ValueError as exc:
            self._json({"error": str(exc)}, HTTPStatus.BAD_REQUEST)


class RunningSite:
    """A sample site served in a background thread. Use as a context manager or call ``stop()``."""

    def __init__(self, server: _Server, thread: threading.Thread):
        self._server = server
        self._thread = thread
        self.site: Site = server.site
        self.stats: RequestStats = server.stats
        self.faults: FaultPlan = server.fault_plan
        host, port = server.server_address[:2]
        self.port: int = port
        self.url = f"http://{host}:{port}"

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()

    def __enter__(self) -> RunningSite:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<RunningSite {self.url} faults={self.faults.rate} seed={self.faults.seed}>"


def start(port: int = 0, *, faults: float = 0.0, seed: int = 0, scale: SiteScale | None = None,
          slow_seconds: float = 3.0, site: Site | None = None, channels: Iterable[str] | None = None) -> RunningSite:
    """Serve a site on 127.0.0.1:``port`` (0 picks a free port) in a background thread.

    ``channels`` limits the corpus site to those channel keys (default: every served channel).
    """
    if site is None:
        site = Site.build(scale) if channels is None else Site.build(scale, channels=channels)
    server = _Server(port, site, FaultPlan(faults, seed), RequestStats(), slow_seconds)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                              name=f"qdp-sample-site-{server.server_address[1]}", daemon=True)
    thread.start()
    return RunningSite(server, thread)


@contextmanager
def running(**kwargs: Any) -> Iterator[RunningSite]:
    site = start(**kwargs)
    try:
        yield site
    finally:
        site.stop()


def serve_forever(port: int = 8765, *, faults: float = 0.0, seed: int = 0) -> None:
    """Serve until Ctrl-C (``qdp sample-site``)."""
    running_site = start(port, faults=faults, seed=seed)
    print(f"sample site: {running_site.url}  (faults={faults}, seed={seed}; Ctrl-C stops)", flush=True)
    for ch in running_site.site.channels:
        print(f"  {ch.key:<16} {running_site.url}{ch.list_path}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        running_site.stop()
