"""Fetcher policies against a tiny local HTTP server: retries, truncation, size, type, redirects,
robots.txt, conditional requests, rate limit; plus URL canonicalisation and host mapping."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from etl.crawl.fetch import CountingRetry, Fetcher, HostRateLimiter, UrlPolicy, canonical_url, crawl_delay
from etl.encoding import decode_body
from etl.settings import Settings

Route = Callable[[BaseHTTPRequestHandler, int], None]  # (handler, n-th request of this path)


class TinyServer:
    def __init__(self, routes: dict[str, Route]):
        self.routes = routes
        self.hits: Counter[str] = Counter()
        self.headers: list[dict[str, str]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                n = outer.hits[self.path]
                outer.hits[self.path] += 1
                outer.headers.append(dict(self.headers))
                route = outer.routes.get(self.path)
                if route is None:
                    send(self, 404, b"not found")
                else:
                    route(self, n)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def send(h: BaseHTTPRequestHandler, status: int, body: bytes, ctype: str = "text/html; charset=utf-8",
         headers: dict[str, str] | None = None, length: int | None = None) -> None:
    h.send_response(status)
    h.send_header("Content-Type", ctype)
    if length is not False:
        h.send_header("Content-Length", str(len(body) if length is None else length))
    for k, v in (headers or {}).items():
        h.send_header(k, v)
    h.end_headers()
    h.wfile.write(body)
    h.wfile.flush()
    if length is not None:
        h.close_connection = True


PAGE = '<html><head><meta charset="utf-8"></head><body>市教育局2021年工作要点</body></html>'.encode()


@pytest.fixture
def tiny() -> Iterator[Callable[[dict[str, Route]], TinyServer]]:
    servers: list[TinyServer] = []

    def make(routes: dict[str, Route]) -> TinyServer:
        routes.setdefault("/robots.txt", lambda h, n: send(h, 200, b"User-agent: *\nDisallow: /private/\n",
                                                           "text/plain"))
        server = TinyServer(routes)
        servers.append(server)
        return server

    yield make
    for s in servers:
        s.stop()


def _fetcher(server: TinyServer, tmp_path: Path, **kw: object) -> Fetcher:
    settings = dataclasses.replace(Settings(site_url=server.url, data_dir=tmp_path, rate_limit=0, retries=3,
                                            timeout=2.0), **kw)
    return Fetcher(settings, backoff_factor=0.01, backoff_jitter=0.01)


# --------------------------------------------------------------------------- URLs


@pytest.mark.parametrize(("url", "base", "expected"), [
    ("./202103/t20210305_2106401.shtml#top", "http://127.0.0.1:8765/zwgk/xxgk/jyj/gkml/ghjh/index.shtml",
     "http://127.0.0.1:8765/zwgk/xxgk/jyj/gkml/ghjh/202103/t20210305_2106401.shtml"),
    ("../ghjh/./index_1.shtml", "http://h/zwgk/xxgk/jyj/gkml/ghjh/", "http://h/zwgk/xxgk/jyj/gkml/ghjh/index_1.shtml"),
    ("HTTPS://WWW.Qingdao.GOV.cn:443/zwgk/a/../b/", None, "https://www.qingdao.gov.cn/zwgk/b/"),
    ("http://www.qingdao.gov.cn:80/x?a=1#f", None, "http://www.qingdao.gov.cn/x?a=1"),
    ("http://www.qingdao.gov.cn:8080", None, "http://www.qingdao.gov.cn:8080/"),
])
def test_canonical_url(url: str, base: str | None, expected: str) -> None:
    assert canonical_url(url, base) == expected


@pytest.mark.parametrize("bad", ["mailto:a@b.cn", "javascript:void(0)", "ftp://x/y", "http:///nohost"])
def test_canonical_url_rejects_non_http(bad: str) -> None:
    with pytest.raises(ValueError):
        canonical_url(bad)


def test_url_policy_maps_the_stand_in_site_to_the_live_host() -> None:
    policy = UrlPolicy(Settings(site_url="http://127.0.0.1:5555", allowed_hosts=("mirror.example.org", "*.gov.cn")))
    sample = "http://127.0.0.1:5555/zwgk/xxgk/jyj/gkml/ghjh/202103/t20210305_2106401.shtml"
    assert policy.stored(sample) == ("www.qingdao.gov.cn",
                                     "https://www.qingdao.gov.cn/zwgk/xxgk/jyj/gkml/ghjh/202103/t20210305_2106401.shtml")
    assert policy.fetch_url("https://www.qingdao.gov.cn/zwgk/a.shtml") == "http://127.0.0.1:5555/zwgk/a.shtml"
    assert policy.allowed("https://hrss.qingdao.gov.cn/zxzx_47/") and policy.allowed("http://mirror.example.org/x")
    assert policy.stored("https://ybj.qingdao.gov.cn/zwgk/t20220101_1.shtml")[0] == "ybj.qingdao.gov.cn"
    assert policy.allowed("https://www.gov.cn/x")  # the *.gov.cn wildcard
    plain = UrlPolicy(Settings(site_url="http://127.0.0.1:5555"))
    assert not plain.allowed("https://www.gov.cn/x")
    assert not plain.allowed("http://127.0.0.1:5556/zwgk/")  # another port is another site
    assert not plain.allowed("https://evilqingdao.gov.cn/")  # a suffix match needs the dot


def test_rate_limiter_spaces_requests_per_host() -> None:
    now = [0.0]
    slept: list[float] = []

    def sleep(s: float) -> None:
        slept.append(s)
        now[0] += s

    limiter = HostRateLimiter(2.0, clock=lambda: now[0], sleep=sleep)
    assert [limiter.wait("a") for _ in range(3)] == [0.0, 0.5, 0.5]
    assert limiter.wait("b") == 0.0  # per host
    assert HostRateLimiter(0).wait("a") == 0.0


def test_counting_retry_backs_off_from_the_first_retry_and_counts() -> None:
    retry = CountingRetry(total=3, backoff_factor=0.5, backoff_jitter=0.0)
    first = retry.increment("GET", "/x", error=ConnectionResetError())
    second = first.increment("GET", "/x", error=ConnectionResetError())
    assert (first.get_backoff_time(), second.get_backoff_time()) == (0.5, 1.0)
    assert retry.hooks.retried == 2 and second.hooks is retry.hooks


# --------------------------------------------------------------------------- fetching


def test_retries_5xx_and_429_then_succeeds_and_counts(tiny, tmp_path: Path) -> None:
    def flaky(h: BaseHTTPRequestHandler, n: int) -> None:
        if n == 0:
            send(h, 503, b"busy")
        elif n == 1:
            send(h, 429, b"slow down", headers={"Retry-After": "0"})
        else:
            send(h, 200, PAGE, headers={"ETag": '"v1"'})

    server = tiny({"/a.shtml": flaky})
    with _fetcher(server, tmp_path) as f:
        result = f.get(server.url + "/a.shtml")
        assert result.outcome == "ok" and result.body == PAGE and result.etag == '"v1"'
        assert f.retried == 2 and f.requests == 2  # robots.txt + the page; retries counted apart
    assert server.hits["/a.shtml"] == 3


def test_gives_up_after_the_retry_budget(tiny, tmp_path: Path) -> None:
    server = tiny({"/down.shtml": lambda h, n: send(h, 500, b"error")})
    with _fetcher(server, tmp_path, retries=2) as f:
        result = f.get(server.url + "/down.shtml")
    assert (result.outcome, result.status) == ("failed", 500)
    assert server.hits["/down.shtml"] == 3


def test_truncated_body_is_detected_and_retried(tiny, tmp_path: Path) -> None:
    def truncating(h: BaseHTTPRequestHandler, n: int) -> None:
        if n == 0:
            send(h, 200, PAGE[:20], length=len(PAGE))  # promises more than it sends, then hangs up
        else:
            send(h, 200, PAGE)

    server = tiny({"/t.shtml": truncating})
    with _fetcher(server, tmp_path) as f:
        result = f.get(server.url + "/t.shtml")
        assert result.outcome == "ok" and result.body == PAGE
        assert f.retried == 1


def test_oversized_body_is_refused_by_length_and_while_streaming(tiny, tmp_path: Path) -> None:
    big = b"<html>" + b"x" * 5000 + b"</html>"

    def chunked(h: BaseHTTPRequestHandler, n: int) -> None:  # no Content-Length: must stop while reading
        h.send_response(200)
        h.send_header("Content-Type", "text/html")
        h.send_header("Connection", "close")
        h.end_headers()
        h.wfile.write(big)
        h.close_connection = True

    server = tiny({"/big.shtml": lambda h, n: send(h, 200, big), "/stream.shtml": chunked})
    with _fetcher(server, tmp_path, max_body_bytes=1000) as f:
        by_length = f.get(server.url + "/big.shtml")
        streamed = f.get(server.url + "/stream.shtml")
    assert by_length.outcome == "refused" and "Content-Length" in by_length.reason
    assert streamed.outcome == "refused" and "stopped reading" in streamed.reason
    assert by_length.body is None and streamed.body is None


def test_non_html_content_type_is_refused(tiny, tmp_path: Path) -> None:
    server = tiny({"/P020210305.pdf": lambda h, n: send(h, 200, b"%PDF-1.4", "application/pdf")})
    with _fetcher(server, tmp_path) as f:
        result = f.get(server.url + "/P020210305.pdf")
    assert result.outcome == "refused" and "application/pdf" in result.reason


def test_redirects_followed_only_within_allowed_hosts(tiny, tmp_path: Path) -> None:
    server = tiny({
        "/old.shtml": lambda h, n: send(h, 301, b"", headers={"Location": "./new.shtml"}),
        "/new.shtml": lambda h, n: send(h, 200, PAGE),
        "/away.shtml": lambda h, n: send(h, 302, b"", headers={"Location": "https://www.gov.cn/zhengce/x.htm"}),
    })
    with _fetcher(server, tmp_path) as f:
        moved = f.get(server.url + "/old.shtml")
        away = f.get(server.url + "/away.shtml")
    assert moved.outcome == "ok" and moved.url == server.url + "/new.shtml"
    assert away.outcome == "refused" and "www.gov.cn" in away.reason and away.status == 302


def test_robots_txt_is_respected_and_cached(tiny, tmp_path: Path) -> None:
    server = tiny({"/private/x.shtml": lambda h, n: send(h, 200, PAGE), "/ok.shtml": lambda h, n: send(h, 200, PAGE)})
    with _fetcher(server, tmp_path) as f:
        assert f.get(server.url + "/private/x.shtml").outcome == "refused"
        assert f.get(server.url + "/ok.shtml").outcome == "ok"
    with _fetcher(server, tmp_path) as f:  # a new process within 24 h uses the cached copy
        assert f.get(server.url + "/ok.shtml").outcome == "ok"
        assert f.robots_fetched == 0
    assert server.hits["/robots.txt"] == 1 and server.hits["/private/x.shtml"] == 0
    with _fetcher(server, tmp_path / "other", respect_robots=False) as f:
        assert f.get(server.url + "/private/x.shtml").outcome == "ok"


def test_conditional_request_and_honest_user_agent(tiny, tmp_path: Path) -> None:
    def cond(h: BaseHTTPRequestHandler, n: int) -> None:
        if h.headers.get("If-None-Match") == '"v1"':
            send(h, 304, b"", headers={"ETag": '"v1"'})
        else:
            send(h, 200, PAGE, headers={"ETag": '"v1"', "Last-Modified": "Fri, 05 Mar 2021 01:30:00 GMT"})

    server = tiny({"/c.shtml": cond})
    with _fetcher(server, tmp_path) as f:
        first = f.get(server.url + "/c.shtml")
        again = f.get(server.url + "/c.shtml", etag=first.etag, last_modified=first.last_modified)
    assert first.outcome == "ok" and again.outcome == "not_modified" and again.status == 304
    assert server.headers[-1]["If-Modified-Since"] == "Fri, 05 Mar 2021 01:30:00 GMT"
    assert all("qingdao-plans" in h["User-Agent"] for h in server.headers)


def test_wrong_declared_charset_decodes_without_mojibake(tiny, tmp_path: Path) -> None:
    text = '<html><head><meta charset="gb2312"></head><body>青岛市科学技术局2023年工作要点</body></html>'
    gbk_page = text.encode("gbk")
    server = tiny({
        "/gbk-says-utf8.shtml": lambda h, n: send(h, 200, gbk_page, "text/html; charset=utf-8"),
        "/utf8-says-gbk.shtml": lambda h, n: send(h, 200, PAGE, "text/html; charset=gb2312"),
    })
    with _fetcher(server, tmp_path) as f:
        a = f.get(server.url + "/gbk-says-utf8.shtml")
        b = f.get(server.url + "/utf8-says-gbk.shtml")
    assert (a.charset, b.charset) == ("utf-8", "gb2312")  # recorded as declared
    assert a.body == gbk_page and b.body == PAGE  # stored raw
    assert "青岛市科学技术局2023年工作要点" in decode_body(a.body, a.charset)[0]
    assert "市教育局2021年工作要点" in decode_body(b.body, b.charset)[0]


def test_rate_limit_applies_to_real_requests(tiny, tmp_path: Path) -> None:
    import time

    server = tiny({"/r.shtml": lambda h, n: send(h, 200, PAGE)})
    with _fetcher(server, tmp_path, rate_limit=20.0) as f:
        started = time.monotonic()
        for _ in range(4):
            assert f.get(server.url + "/r.shtml").outcome == "ok"
        elapsed = time.monotonic() - started
    assert elapsed >= 0.2  # robots + 4 pages at 20/s: at least 4 intervals of 50 ms


# --------------------------------------------------------------------------- issue 9: hostile servers


@pytest.mark.parametrize(("url", "expected"), [
    ("https://www.qingdao.gov.cn/zwgk/xxgk/jyj/%2e%2e/%2E%2e/admin/", "https://www.qingdao.gov.cn/zwgk/admin/"),
    ("https://www.qingdao.gov.cn//zwgk///xxgk//a.shtml", "https://www.qingdao.gov.cn/zwgk/xxgk/a.shtml"),
    ("https://www.qingdao.gov.cn/zwgk/%2e/%7Euser/%41b", "https://www.qingdao.gov.cn/zwgk/~user/Ab"),
    ("https://www.qingdao.gov.cn/%2e%2e/%2e%2e/etc/passwd", "https://www.qingdao.gov.cn/etc/passwd"),
    ("https://www.qingdao.gov.cn/a%2Fb/c", "https://www.qingdao.gov.cn/a%2Fb/c"),  # reserved: kept encoded
])
def test_encoded_dots_and_duplicate_slashes_are_normalised_before_policy(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


def test_an_encoded_dot_dot_link_cannot_reach_a_disallowed_path(tiny, tmp_path: Path) -> None:
    server = tiny({"/private/x.shtml": lambda h, n: send(h, 200, PAGE)})
    with _fetcher(server, tmp_path) as f:
        result = f.get(canonical_url("/public/%2e%2e/private//x.shtml", base=server.url + "/"))
    assert result.outcome == "refused" and "robots" in result.reason
    assert server.hits["/private/x.shtml"] == 0


def test_robots_crawl_delay_is_honoured_when_larger_than_the_rate_limit(tiny, tmp_path: Path) -> None:
    server = tiny({"/robots.txt": lambda h, n: send(h, 200, b"User-agent: *\nCrawl-delay: 0.3\n", "text/plain"),
                   "/a.shtml": lambda h, n: send(h, 200, PAGE)})
    with _fetcher(server, tmp_path, rate_limit=100) as f:
        started = time.perf_counter()
        for _ in range(3):
            assert f.get(server.url + "/a.shtml").outcome == "ok"
        elapsed = time.perf_counter() - started
        assert f.limiter.interval_for(server.url.split("//", 1)[1]) == pytest.approx(0.3)
    assert elapsed >= 0.55  # three pages 0.3 s apart (the robots.txt fetch itself goes first)
    with _fetcher(server, tmp_path, rate_limit=1) as f:  # the cached robots.txt still carries the delay
        f.get(server.url + "/a.shtml")
        assert f.limiter.interval_for(server.url.split("//", 1)[1]) == 1.0  # the larger of the two


def test_unreachable_robots_txt_says_site_unreachable(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = Settings(site_url=f"http://127.0.0.1:{port}", data_dir=tmp_path, rate_limit=0, retries=0)
    with Fetcher(settings) as f:
        result = f.get(f"http://127.0.0.1:{port}/zwgk/")
        again = f.get(f"http://127.0.0.1:{port}/zwgk/index_1.shtml")
    assert result.outcome == again.outcome == "failed" and f.answered == 0
    assert "site unreachable" in result.reason and "disallowed" not in result.reason
    assert f.requests == 1  # the verdict is kept for the run: no hammering a host that is down


def test_slow_headers_are_cut_at_the_deadline(tiny, tmp_path: Path) -> None:
    def trickle_headers(h: BaseHTTPRequestHandler, n: int) -> None:
        # Each byte comes well inside the read timeout; the whole status line never finishes in time.
        try:
            for ch in b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-Slow: " + b"x" * 200:
                h.wfile.write(bytes([ch]))
                h.wfile.flush()
                time.sleep(0.05)
        except OSError:  # the client gave up, as it should
            h.close_connection = True

    server = tiny({"/slow.shtml": trickle_headers})
    with _fetcher(server, tmp_path, retries=0, timeout=1.0, request_deadline=0.8) as f:
        started = time.perf_counter()
        result = f.get(server.url + "/slow.shtml")
        elapsed = time.perf_counter() - started
    assert result.outcome == "failed" and "deadline" in result.reason
    assert elapsed < 2.0


def test_crawl_delay_parser_prefers_our_group_and_reads_fractions() -> None:
    text = ("User-agent: Baiduspider\nCrawl-delay: 30\n\nUser-agent: qingdao-plans\nDisallow: /x/\n"
            "Crawl-delay: 2.5\n\nUser-agent: *\nCrawl-delay: 1\n")
    assert crawl_delay(text, "qingdao-plans/0.1 (+https://example.org)") == 2.5
    assert crawl_delay(text, "other-bot/1.0") == 1.0
    assert crawl_delay("User-agent: *\nCrawl-delay: soon\n", "a/1") is None
    assert crawl_delay("User-agent: *\nDisallow: /\n", "a/1") is None
