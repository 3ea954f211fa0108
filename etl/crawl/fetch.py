"""Polite HTTP fetching for the crawler: URL policy, retries, rate limit, robots.txt, size limits.

``Fetcher.get`` is the only way the crawler touches the network. It uses one pooled
``requests`` session whose adapter retries with a urllib3 ``Retry`` (exponential backoff with
jitter on connection errors, read timeouts, 5xx and 429, honouring ``Retry-After``). Errors
while reading the *body* (a truncated body: urllib3 enforces Content-Length; a read timeout
mid-body) happen after urllib3 has handed the response over, so ``get`` feeds them to the same
``Retry`` object: one retry budget per URL whatever goes wrong, and every retry is counted.

A ``Fetcher`` holds per-request state (current host for the retry hooks) and is not
thread-safe; use one per thread or process.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import posixpath
import random
import re
import socket
import threading
import time
import urllib.robotparser
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import HTTPError as Urllib3HTTPError
from urllib3.exceptions import MaxRetryError, ProtocolError
from urllib3.util.retry import Retry

from ..settings import LIVE_HOST, Settings
from ..storage import Location

log = logging.getLogger(__name__)

DEFAULT_PORTS = {"http": 80, "https": 443}
ACCEPTED_CONTENT_TYPES = ("text/html", "application/xhtml+xml", "text/plain")
# Documents are asked for by what we can read; any Content-Type is taken, since servers label them
# loosely (application/octet-stream, application/x-download) and the acceptance gate sniffs the bytes.
DOCUMENT_ACCEPT = ("application/pdf,application/vnd.openxmlformats-officedocument.wordprocessingml.document,"
                   "application/ofd,application/msword,*/*;q=0.5")
MAX_REDIRECTS = 5
ROBOTS_TTL_SECONDS = 24 * 3600  # RFC 9309: a cached robots.txt may be used for up to 24 hours
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MAX_CRAWL_DELAY = 120.0  # a robots.txt Crawl-delay above this is capped (and logged)
PARENT_DOMAIN = "qingdao.gov.cn"  # departments' own subdomains belong to the same publisher


# --------------------------------------------------------------------------- URLs


_ENCODED_UNRESERVED = re.compile(r"%(2[dDeE]|5[fF]|7[eE]|3[0-9]|[46][1-9a-fA-F]|[57][0-9aA])")
_DUP_SLASHES = re.compile(r"/{2,}")


def _normalise_path(path: str) -> str:
    """Decode percent-encoded unreserved characters (``%2e`` is ``.``: RFC 3986 6.2.2.2), collapse
    duplicate slashes, resolve ``.`` and ``..`` segments, keep a trailing slash (``posixpath``
    drops it). Done before any policy check, so ``/a/%2e%2e/%2e%2e/x`` cannot hide where it goes."""
    if not path:
        return "/"
    path = _ENCODED_UNRESERVED.sub(lambda m: chr(int(m.group(1), 16)), path)
    path = _DUP_SLASHES.sub("/", path)
    trailing = path.endswith("/") or path.endswith("/.") or path.endswith("/..")
    norm = posixpath.normpath(path)
    norm = "/" + norm.lstrip("/")  # normpath keeps a leading "//"; a path never starts with one
    if trailing and not norm.endswith("/"):
        norm += "/"
    return norm


def canonical_url(url: str, base: str | None = None) -> str:
    """Absolute URL with ``./``/``../`` resolved, no fragment, lower-case scheme and host, no
    default port. Raises ValueError for anything but http(s)."""
    url = url.strip()
    joined = urljoin(base, url) if base else url
    parts = urlsplit(joined)
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise ValueError(f"not an http(s) URL: {url!r}")
    host = (parts.hostname or "").lower()
    if not host:
        raise ValueError(f"URL without a host: {url!r}")
    port = parts.port
    netloc = host if port is None or port == DEFAULT_PORTS[scheme] else f"{host}:{port}"
    return urlunsplit((scheme, netloc, _normalise_path(parts.path), parts.query, ""))


def url_host(url: str) -> str:
    """``host[:port]`` of a canonical URL (the netloc)."""
    return urlsplit(url).netloc


class UrlPolicy:
    """Which hosts may be fetched, and how fetched URLs map to the URLs and hosts we store.

    Pages under ``settings.site_url`` (the live site, or the sample site / a mirror standing in
    for it) are attributed to ``settings.site_host`` and stored under the live URL, so warehouse
    contents do not depend on where the pages were served from. Links that name the live host
    are fetched from ``site_url``. Other allowed hosts (``*.qingdao.gov.cn``,
    ``settings.allowed_hosts``) keep their own host.
    """

    def __init__(self, settings: Settings):
        site = canonical_url(settings.site_url.rstrip("/") + "/")
        parts = urlsplit(site)
        self.site_scheme = parts.scheme
        self.site_netloc = parts.netloc
        self.site_prefix = parts.path.rstrip("/")  # a site_url may sit below a path on a mirror
        self.site_host = settings.site_host
        self.live_base = f"https://{settings.site_host}"
        self.extra_hosts = tuple(h.strip().lower() for h in settings.allowed_hosts if h.strip())

    def _host_allowed(self, netloc: str) -> bool:
        host = netloc.split(":", 1)[0]
        if netloc == self.site_netloc or host == self.site_host or host == LIVE_HOST:
            return True
        if host == PARENT_DOMAIN or host.endswith("." + PARENT_DOMAIN):
            return True
        for allowed in self.extra_hosts:
            if allowed.startswith(("*.", ".")):
                suffix = allowed.lstrip("*")
                if host.endswith(suffix) or host == suffix[1:]:
                    return True
            elif netloc == allowed or host == allowed:
                return True
        return False

    def allowed(self, url: str) -> bool:
        return self._host_allowed(url_host(url))

    def is_site(self, url: str) -> bool:
        netloc = url_host(url)
        return netloc == self.site_netloc or netloc.split(":", 1)[0] in (self.site_host, LIVE_HOST)

    def fetch_url(self, url: str) -> str:
        """The URL to request for a canonical URL (live-host URLs are served by ``site_url``)."""
        parts = urlsplit(url)
        if parts.netloc.split(":", 1)[0] in (self.site_host, LIVE_HOST) and parts.netloc != self.site_netloc:
            path = parts.path if parts.path.startswith(self.site_prefix + "/") else self.site_prefix + parts.path
            return urlunsplit((self.site_scheme, self.site_netloc, path, parts.query, ""))
        return url

    def stored(self, url: str) -> tuple[str, str]:
        """``(host, stored_url)`` for a canonical fetch URL."""
        parts = urlsplit(url)
        if self.is_site(url):
            path = parts.path
            if self.site_prefix and path.startswith(self.site_prefix + "/"):
                path = path[len(self.site_prefix):]
            return self.site_host, urlunsplit(("https", self.site_host, path, parts.query, ""))
        return parts.netloc, url


# --------------------------------------------------------------------------- retries


class RetryHooks:
    """Shared by every copy of a ``CountingRetry``: counts retries, applies the rate limit."""

    def __init__(self, limiter: HostRateLimiter | None = None):
        self.retried = 0
        self.limiter = limiter
        self.host: str | None = None  # set by the Fetcher before each request
        self._lock = threading.Lock()

    def on_retry(self) -> None:
        with self._lock:
            self.retried += 1

    def before_retry(self) -> None:
        if self.limiter is not None and self.host:
            self.limiter.wait(self.host)


class CountingRetry(Retry):
    """urllib3 ``Retry`` that counts its retries and backs off from the first retry on.

    Stock urllib3 retries the first failure immediately; against someone else's server we wait
    ``backoff_factor`` (plus jitter) before the first retry too, doubling after each.
    """

    def __init__(self, *args: Any, hooks: RetryHooks | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.hooks = hooks or RetryHooks()

    def new(self, **kw: Any) -> CountingRetry:
        retry = super().new(**kw)
        retry.hooks = self.hooks
        return retry

    def increment(self, *args: Any, **kwargs: Any) -> CountingRetry:
        retry = super().increment(*args, **kwargs)  # raises MaxRetryError when the budget is spent
        self.hooks.on_retry()
        return retry

    def get_backoff_time(self) -> float:
        errors = 0
        for entry in reversed(self.history):
            if entry.redirect_location is not None:
                break
            errors += 1
        if errors == 0:
            return 0.0
        value = self.backoff_factor * (2 ** (errors - 1)) + random.random() * self.backoff_jitter
        return float(max(0.0, min(self.backoff_max, value)))

    def sleep(self, response: Any = None) -> None:
        super().sleep(response)
        self.hooks.before_retry()


# --------------------------------------------------------------------------- deadline
# (connect, read) timeouts bound each wait, not a request: a server that trickles a byte every
# second never trips a 20 s read timeout. Each request sent on a connection arms a watchdog; when
# the deadline passes, it shuts the socket down, which ends any blocked read at once (the
# request then fails like a dropped connection and is retried within the URL's budget).

_deadline_local = threading.local()


class DeadlineWatch:
    """Deadline of the current request of one thread; counts how often it fired."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.fired = 0
        self._lock = threading.Lock()

    def arm(self, conn: Any) -> threading.Timer | None:
        if self.seconds <= 0:
            return None
        timer = threading.Timer(self.seconds, self._fire, args=(conn,))
        timer.daemon = True
        timer.start()
        return timer

    def _fire(self, conn: Any) -> None:
        sock = getattr(conn, "sock", None)
        if sock is None:
            return
        with self._lock:
            self.fired += 1
        with contextlib.suppress(OSError):  # already closed
            sock.shutdown(socket.SHUT_RDWR)


class _DeadlineMixin:
    _qdp_timer: threading.Timer | None = None

    def request(self, *args: Any, **kwargs: Any) -> Any:
        self.disarm()
        watch = getattr(_deadline_local, "watch", None)
        if watch is not None:
            self._qdp_timer = watch.arm(self)
            armed = getattr(_deadline_local, "conns", None)
            if armed is None:
                armed = _deadline_local.conns = []
            armed.append(self)
        return super().request(*args, **kwargs)  # type: ignore[misc]

    def disarm(self) -> None:
        if self._qdp_timer is not None:
            self._qdp_timer.cancel()
            self._qdp_timer = None


class _DeadlineHTTPConnection(_DeadlineMixin, HTTPConnection):
    pass


class _DeadlineHTTPSConnection(_DeadlineMixin, HTTPSConnection):
    pass


class _DeadlineHTTPPool(HTTPConnectionPool):
    ConnectionCls = _DeadlineHTTPConnection


class _DeadlineHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _DeadlineHTTPSConnection


def _disarm_current() -> None:
    """Cancel the watchdogs of every connection the current request used (urllib3 may retry on others)."""
    for conn in getattr(_deadline_local, "conns", None) or ():
        conn.disarm()
    _deadline_local.conns = []


class _BudgetAdapter(HTTPAdapter):
    """HTTPAdapter that takes the ``Retry`` for one request from the prepared request.

    Lets ``Fetcher.get`` continue a URL's retry budget after a body-read error instead of
    starting a fresh one on each attempt.
    """

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _DeadlineHTTPPool, "https": _DeadlineHTTPSPool}

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        retries = getattr(request, "qdp_retries", None)
        if retries is None:
            return super().send(request, *args, **kwargs)
        saved = self.max_retries
        self.max_retries = retries
        try:
            return super().send(request, *args, **kwargs)
        finally:
            self.max_retries = saved


# --------------------------------------------------------------------------- politeness


class HostRateLimiter:
    """At most ``rate`` requests per second per host (0 disables). Thread-safe."""

    def __init__(self, rate: float, clock: Any = time.monotonic, sleep: Any = time.sleep):
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self._host_interval: dict[str, float] = {}  # robots.txt Crawl-delay, per host
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()
        self._clock = clock
        self._sleep = sleep

    def set_crawl_delay(self, host: str, seconds: float) -> None:
        """A host's robots.txt asks for ``seconds`` between requests: the larger of it and the rate wins."""
        with self._lock:
            self._host_interval[host] = max(0.0, seconds)

    def interval_for(self, host: str) -> float:
        return max(self.interval, self._host_interval.get(host, 0.0))

    def wait(self, host: str) -> float:
        """Block until a request to ``host`` is allowed; return the seconds waited."""
        interval = self.interval_for(host)
        if interval <= 0:
            return 0.0
        with self._lock:
            now = self._clock()
            slot = max(now, self._next.get(host, now))
            self._next[host] = slot + interval
        delay = slot - now
        if delay > 0:
            self._sleep(delay)
        return max(0.0, delay)


def crawl_delay(robots_txt: str, user_agent: str) -> float | None:
    """``Crawl-delay`` for ``user_agent`` (its own group first, else ``*``), fractions allowed
    (``urllib.robotparser`` reads whole seconds only)."""
    token = user_agent.split("/", 1)[0].strip().lower()
    delays: dict[str, float] = {}
    agents: list[str] = []
    in_rules = False
    for raw in robots_txt.splitlines():
        line = raw.split("#", 1)[0].strip()
        if ":" not in line:
            continue
        key, value = (p.strip() for p in line.split(":", 1))
        key = key.lower()
        if key == "user-agent":
            if in_rules:
                agents, in_rules = [], False
            agents.append(value.lower())
            continue
        in_rules = True
        if key == "crawl-delay":
            try:
                seconds = float(value)
            except ValueError:
                continue
            for agent in agents:
                delays.setdefault(agent, seconds)
    for agent, seconds in delays.items():
        if agent != "*" and agent in token:
            return seconds
    return delays.get("*")


@dataclass(slots=True)
class FetchResult:
    """What came of one ``Fetcher.get``."""

    url: str  # final URL requested (after redirects within allowed hosts)
    outcome: str  # "ok" | "not_modified" | "failed" | "refused"
    status: int = 0  # HTTP status of the final response; 0 when none arrived
    body: bytes | None = None
    content_type: str | None = None
    charset: str | None = None  # charset label declared by HTTP, as sent
    etag: str | None = None
    last_modified: str | None = None
    reason: str | None = None  # why it failed or was refused
    headers: dict[str, str] = field(default_factory=dict)


def _declared_charset(content_type: str | None) -> str | None:
    if not content_type:
        return None
    m = re.search(r"charset\s*=\s*[\"']?([^\s;\"']+)", content_type, re.I)
    return m.group(1).lower() if m else None


class _Oversize(Exception):
    pass


class Fetcher:
    """One pooled session with the crawler's retry, rate-limit, robots and size policies."""

    def __init__(self, settings: Settings, *, backoff_factor: float = 0.5, backoff_jitter: float = 0.5,
                 backoff_max: float = 60.0, retry_after_max: float = 120.0, pool_size: int = 10):
        self.settings = settings
        self.policy = UrlPolicy(settings)
        self.limiter = HostRateLimiter(settings.rate_limit)
        self.hooks = RetryHooks(self.limiter)
        self.retry = CountingRetry(
            total=settings.retries, connect=settings.retries, read=settings.retries,
            status=settings.retries, other=settings.retries, redirect=False,
            allowed_methods=frozenset({"GET", "HEAD"}), status_forcelist=RETRY_STATUSES,
            backoff_factor=backoff_factor, backoff_jitter=backoff_jitter, backoff_max=backoff_max,
            retry_after_max=retry_after_max, respect_retry_after_header=True,
            raise_on_status=False, raise_on_redirect=False, hooks=self.hooks,
        )
        self.session = requests.Session()
        self.session.headers["User-Agent"] = settings.user_agent
        self.session.headers["Accept"] = "text/html,application/xhtml+xml;q=0.9,text/plain;q=0.5"
        adapter = _BudgetAdapter(max_retries=self.retry, pool_connections=pool_size, pool_maxsize=pool_size)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.timeout = (settings.connect_timeout, settings.timeout)
        self.requests = 0  # requests sent, not counting retries
        self.robots_fetched = 0
        self._robots: dict[str, urllib.robotparser.RobotFileParser] = {}
        self._robots_down: dict[str, tuple[int, str]] = {}  # origin -> (status, reason), this run
        self.answered = 0  # responses received (any HTTP status): 0 after requests means "site unreachable"
        self.deadline = DeadlineWatch(settings.request_deadline)
        self.robots_dir = Location.of(settings.landing_dir) / "robots"

    @property
    def retried(self) -> int:
        return self.hooks.retried

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----------------------------------------------------------------- robots.txt
    def _robots_cache_path(self, netloc: str) -> Location:
        return self.robots_dir / (re.sub(r"[^A-Za-z0-9_.-]", "_", netloc) + ".txt")

    def robots_allows(self, url: str) -> bool:
        return self._robots_block(url) is None

    def _robots_block(self, url: str) -> FetchResult | None:
        """None when robots.txt lets us fetch ``url``; else why not, as a result to return.

        A robots.txt we could not read because the host did not answer means "site unreachable"
        (a failure), not "disallowed" (a refusal): the two lead to very different fixes."""
        if not self.settings.respect_robots:
            return None
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin in self._robots_down:
            status, reason = self._robots_down[origin]
            return FetchResult(url, "failed", status=status, reason=reason)
        parser = self._robots.get(origin)
        if parser is None:
            parser = self._load_robots(origin, parts.netloc)
            if parser is None:
                status, reason = self._robots_down[origin]
                return FetchResult(url, "failed", status=status, reason=reason)
            self._robots[origin] = parser
        if parser.can_fetch(self.settings.user_agent, url):
            return None
        return FetchResult(url, "refused", reason="disallowed by robots.txt")

    def _load_robots(self, origin: str, netloc: str) -> urllib.robotparser.RobotFileParser | None:
        parser = urllib.robotparser.RobotFileParser(origin + "/robots.txt")
        cache = self._robots_cache_path(netloc)
        try:
            fresh = time.time() - cache.mtime() < ROBOTS_TTL_SECONDS
        except FileNotFoundError:
            fresh = False
        if fresh:
            text = cache.read_text(encoding="utf-8")
            parser.parse(text.splitlines())
            self._apply_crawl_delay(text, netloc)
            return parser
        result = self._request(origin + "/robots.txt", kind="robots")
        self.robots_fetched += 1
        if result.outcome == "ok":
            text = (result.body or b"").decode("utf-8", "replace")
        elif 400 <= result.status < 500:
            text = ""  # RFC 9309: an unavailable robots.txt (4xx) allows everything
        else:
            # RFC 9309: an unreachable robots.txt (5xx, network) means "disallow all" for now.
            if result.status == 0:
                reason = f"site unreachable: no answer from {origin} ({result.reason})"
            else:
                reason = (f"robots.txt of {origin} unavailable (HTTP {result.status}); "
                          "not crawling that host this run (RFC 9309)")
            log.error("%s", reason)
            self._robots_down[origin] = (result.status, reason)
            return None
        parser.parse(text.splitlines())
        self._apply_crawl_delay(text, netloc)
        self._write_robots_cache(cache, text)
        return parser

    def _apply_crawl_delay(self, robots_txt: str, netloc: str) -> None:
        delay = crawl_delay(robots_txt, self.settings.user_agent)
        if delay:
            seconds = min(float(delay), MAX_CRAWL_DELAY)
            if seconds < float(delay):
                log.warning("robots.txt of %s asks for Crawl-delay %s s; using %s s", netloc, delay, seconds)
            self.limiter.set_crawl_delay(netloc, seconds)

    def _write_robots_cache(self, path: Location, text: str) -> None:
        path.write_text(text)  # atomic: concurrent channel crawls may refresh it together

    # ----------------------------------------------------------------- fetching
    def get(self, url: str, *, etag: str | None = None, last_modified: str | None = None) -> FetchResult:
        """Fetch a canonical URL (mapped to ``site_url`` if it names the live host)."""
        return self._request(self.policy.fetch_url(url), etag=etag, last_modified=last_modified, kind="page")

    def get_document(self, url: str, *, etag: str | None = None, last_modified: str | None = None) -> FetchResult:
        """Fetch an attachment (PDF, Word, OFD) with the same politeness, robots and retry budget as a
        page, under ``settings.attachment_max_bytes``; whatever its Content-Type (the caller sniffs)."""
        return self._request(self.policy.fetch_url(url), etag=etag, last_modified=last_modified, kind="document")

    def _request(self, url: str, *, etag: str | None = None, last_modified: str | None = None,
                 kind: str) -> FetchResult:
        outer = getattr(_deadline_local, "watch", None)  # robots.txt is fetched inside a page request
        _deadline_local.watch = self.deadline
        fired = self.deadline.fired
        try:
            result = self._request_inner(url, etag=etag, last_modified=last_modified, kind=kind)
        finally:
            _disarm_current()
            _deadline_local.watch = outer
        if result.outcome == "failed" and self.deadline.fired > fired:
            result.reason = (f"request deadline of {self.deadline.seconds:g} s exceeded "
                             f"(QDP_REQUEST_DEADLINE); last error: {result.reason}")
        return result

    def _request_inner(self, url: str, *, etag: str | None = None, last_modified: str | None = None,
                       kind: str) -> FetchResult:
        retries: Retry = self.retry.new()
        current = url
        redirects = 0
        while True:
            if not self.policy.allowed(current):
                return FetchResult(current, "refused", reason=f"host {url_host(current)} is not allowed")
            if kind != "robots" and (blocked := self._robots_block(current)) is not None:
                return blocked
            host = url_host(current)
            self.hooks.host = host
            self.limiter.wait(host)
            headers = {"Accept": DOCUMENT_ACCEPT} if kind == "document" else {}
            if etag:
                headers["If-None-Match"] = etag
            if last_modified:
                headers["If-Modified-Since"] = last_modified
            fired = self.deadline.fired
            prepared = self.session.prepare_request(requests.Request("GET", current, headers=headers))
            prepared.qdp_retries = retries  # type: ignore[attr-defined]
            self.requests += 1
            try:
                resp = self.session.send(prepared, stream=True, timeout=self.timeout, allow_redirects=False)
            except requests.RequestException as exc:  # the retry budget is spent
                return FetchResult(current, "failed", reason=f"{type(exc).__name__}: {exc}")
            self.answered += 1
            # What urllib3 has used of the budget so far (it retries 5xx/429 internally).
            retries = getattr(resp.raw, "retries", None) or retries
            status = resp.status_code
            info = {"status": status, "etag": resp.headers.get("ETag"),
                    "last_modified": resp.headers.get("Last-Modified"),
                    "content_type": resp.headers.get("Content-Type")}
            if status in REDIRECT_STATUSES:
                location = resp.headers.get("Location")
                resp.close()
                if not location:
                    return FetchResult(current, "failed", status=status, reason="redirect without Location")
                try:
                    target = canonical_url(location, base=current)
                except ValueError as exc:
                    return FetchResult(current, "refused", status=status, reason=f"redirect to {exc}")
                redirects += 1
                if not self.policy.allowed(target):
                    return FetchResult(current, "refused", status=status,
                                       reason=f"redirect to a host that is not allowed: {target}")
                if redirects > MAX_REDIRECTS:
                    return FetchResult(current, "failed", status=status, reason="too many redirects")
                current = target
                continue
            if status == 304:
                resp.close()
                return FetchResult(current, "not_modified", status=304, etag=info["etag"] or etag,
                                   last_modified=info["last_modified"] or last_modified)
            if status != 200:
                resp.close()
                return FetchResult(current, "failed", status=status, reason=f"HTTP {status}",
                                   content_type=info["content_type"])
            ctype = info["content_type"]
            mime = (ctype or "").split(";", 1)[0].strip().lower()
            if kind == "page" and mime and mime not in ACCEPTED_CONTENT_TYPES:
                resp.close()
                return FetchResult(current, "refused", status=status, content_type=ctype,
                                   reason=f"content type {mime} is not a web page")
            try:
                body = self._read_capped(resp, self.settings.attachment_max_bytes if kind == "document"
                                         else self.settings.max_body_bytes)
                if self.deadline.fired > fired:
                    # The watchdog cut the answer short; what arrived may even parse (headers cut
                    # at a line end read as complete): never take it for a page.
                    raise ProtocolError(f"request deadline of {self.deadline.seconds:g} s exceeded")
            except _Oversize as exc:
                resp.close()
                return FetchResult(current, "refused", status=status, content_type=ctype, reason=str(exc))
            except (Urllib3HTTPError, OSError) as exc:
                # Truncated body (Content-Length not met), a timeout mid-body or the deadline: retry the URL.
                resp.close()
                _disarm_current()
                try:
                    retries = retries.increment("GET", current, error=exc)
                except MaxRetryError:
                    return FetchResult(current, "failed", status=status, reason=f"body read failed: {exc}")
                retries.sleep()
                continue
            resp.close()
            _disarm_current()
            return FetchResult(current, "ok", status=status, body=body, content_type=ctype,
                               charset=_declared_charset(ctype), etag=info["etag"],
                               last_modified=info["last_modified"], headers=dict(resp.headers))

    def _read_capped(self, resp: requests.Response, cap: int) -> bytes:
        declared = resp.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > cap:
            raise _Oversize(f"body of {declared} bytes exceeds the {cap}-byte limit (Content-Length)")
        chunks: list[bytes] = []
        size = 0
        # decode_content: a gzip body is capped on its decoded size (no zip bombs).
        for chunk in resp.raw.stream(64 * 1024, decode_content=True):
            size += len(chunk)
            if size > cap:
                raise _Oversize(f"body exceeds the {cap}-byte limit (stopped reading at {size} bytes)")
            chunks.append(chunk)
        return b"".join(chunks)


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
