"""Discover notices on the configured channels and fetch them into the raw landing zone.

For each channel: read list page 1 (``<list_path>``), then ``index_1.shtml``, ``index_2.shtml``
... (page count from the TRS pager ``createPageHTML(count, current, "index", "shtml")``, else
the 下一页 link), take every detail link, and fetch the notices the landing zone does not have.

Other list shapes: a folder list (an smhd year page whose entries are department sub-folders
``<slug>_<digits>/index.shtml``) is descended one level, each sub-folder being an ordinary list with
its own pager; a pre-2020 list (``/n172/.../index.html``) pages ``index_2.html``, ``index_3.html``
... and its ``<18 digits>.html`` detail pages are notices like any other.

Incremental by default: the walk stops at the first list page whose notices are all known, so
an unchanged channel costs one request. A folder list's year page is fetched with its stored
validators, and only the sub-folders it shows as new or with a newer date are read (see
``_folder_due``), so an unchanged folder channel costs one request too. A channel whose previous
crawl did not finish cleanly (a list page or a detail page failed) is walked to its end instead,
so nothing listed below the first known page is lost. ``full=True`` reads every list page (up to
``settings.max_list_pages``) and re-checks known notices with conditional requests; a changed body
is stored as a new version.

Process safety (several Celery workers crawling different channels into one landing zone):
objects are content-addressed and renamed into place, each process writes its own manifest
file, channel state files are per channel and replaced atomically.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import logging
import re
import secrets
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import lxml.html
from tqdm import tqdm

from ..dates import find_date
from ..encoding import decode_body
from ..logs import Heartbeat
from ..records import Channel, FetchRecord, ListEntry, StageReport
from ..settings import Settings
from ..storage import Location
from .accept import Signatures, Verdict, check_attachment, check_detail, check_list, load_signatures
from .config import read_yaml_config
from .fetch import Fetcher, FetchResult, UrlPolicy, canonical_url, utc_now
from .landing import AttachmentState, LandingError, LandingZone

log = logging.getLogger(__name__)

PACKAGED_CHANNELS = Path(__file__).resolve().parent / "channels.yaml"
CHANNEL_KINDS = ("plans", "notices")
# List containers as XPath (lxml has no CSS selectors without the cssselect package), most
# specific first: the list id the current and the pre-2020 site share, then the list class.
LIST_CONTAINERS = (
    "//*[@id='listChangeDiv']",
    "//ul[contains(concat(' ', normalize-space(@class), ' '), ' list-ul ')]",
    "//*[contains(concat(' ', normalize-space(@class), ' '), ' list-ul ')]",
)
# A detail page: t<YYYYMMDD>_<id>.shtml or tnull_<id>.shtml (current site), or a pre-2020 page
# /n172/.../<18 digits>.html (the id is the 18-digit number; old links still point there).
DETAIL_URL = re.compile(r"/(?:(?:t\d{8}|tnull)_(\d+)\.s?html?|n172/(?:[^/?#]+/)*(\d{18})\.html?)$")
OLD_PAGE_COUNT = re.compile(r"共\s*(\d+)\s*页")  # the pre-2020 pager's "共3页 当前第1页"
OLD_DETAIL_URL = re.compile(r"/n172/(?:[^/?#]+/)*\d{18}\.html?$")
# A department sub-folder of a folder list (smhd years): <slug>_<digits>/ or .../index.shtml.
FOLDER_URL = re.compile(r"/([a-z][a-z0-9]*_\d+)/(?:index\.s?html?)?$")
# A list page of the pre-2020 site: index.html, index_2.html, ... (pages numbered from 2).
OLD_LIST_URL = re.compile(r"/n172/(?:[^/?#]+/)*(?:index(?:_\d+)?\.html?)?$")
PAGER = re.compile(r"""createPageHTML\(\s*(\d+)\s*,\s*(\d+)\s*,\s*["']([\w-]+)["']\s*,\s*["'](\w+)["']""")
NEXT_PAGE_TEXTS = ("下一页", "下页", "下一頁")
COUNT_NAMES = ("list_pages", "detail_fetched", "not_modified", "retried", "failed", "new_notices",
               "changed_notices", "refused", "rejected", "pages_rejected", "list_rejected", "retried_notices",
               "retry_waiting", "retry_pending", "channels_ok", "channels_incomplete", "channels_failed",
               "requests", "attachments_fetched", "attachments_not_modified", "attachments_failed",
               "attachments_rejected", "attachments_refused")
MAX_RETRY_BACKOFF = 24 * 3600.0  # a notice that keeps failing is still tried once a day
SITE_CHANGE_MIN_PAGES = 2  # detail pages lacking title/body (none accepted) before the flag is raised


class SiteChangedError(RuntimeError):
    """For callers that want to raise on a site change (``details["channel_status"][k]["site_change"]``);
    the crawler itself never raises it: a changed channel is reported, and the others are crawled."""


class ChannelConfigError(ValueError):
    """The channels file is malformed; the message names the file and the bad entry."""


# --------------------------------------------------------------------------- channels


def load_channels(settings: Settings) -> list[Channel]:
    """Channels from ``settings.channels_file`` or the packaged etl/crawl/channels.yaml, validated."""
    path = settings.channels_file or PACKAGED_CHANNELS
    data = read_yaml_config(path, "channels", ChannelConfigError)
    return parse_channels(data, source=str(path))


def parse_channels(data: Any, source: str = "<channels>") -> list[Channel]:
    if not isinstance(data, dict) or not isinstance(data.get("channels"), list):
        raise ChannelConfigError(f"{source}: expected a mapping with a 'channels' list")
    names = {f.name for f in fields(Channel)}
    required = ("key", "department_code", "column", "list_path")
    channels: list[Channel] = []
    seen: dict[str, int] = {}
    for i, entry in enumerate(data["channels"], 1):
        label = f"{source}: channel #{i}"
        if not isinstance(entry, dict):
            raise ChannelConfigError(f"{label} is not a mapping: {entry!r}")
        if isinstance(entry.get("key"), str):
            label += f" ({entry['key']})"
        unknown = sorted(set(entry) - names)
        if unknown:
            raise ChannelConfigError(f"{label}: unknown field(s) {', '.join(unknown)}; "
                                     f"known: {', '.join(sorted(names))}")
        missing = [k for k in required if not entry.get(k)]
        if missing:
            raise ChannelConfigError(f"{label}: missing field(s) {', '.join(missing)}")
        bad = [k for k, v in entry.items() if v is not None and not isinstance(v, str)]
        if bad:
            raise ChannelConfigError(f"{label}: field(s) {', '.join(bad)} must be text")
        if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", entry["key"]):
            raise ChannelConfigError(f"{label}: key must be lower-case letters, digits, '-' or '_'")
        lp = entry["list_path"]
        if not lp.startswith("/") or "://" in lp or not (lp.endswith("/") or re.search(r"/index\.s?html?$", lp)):
            raise ChannelConfigError(f"{label}: list_path {lp!r} must be a path from the site root ending in "
                                     "'/' or '/index.shtml'")
        if entry.get("kind", "plans") not in CHANNEL_KINDS:
            raise ChannelConfigError(f"{label}: kind must be one of {', '.join(CHANNEL_KINDS)}")
        if entry["key"] in seen:
            raise ChannelConfigError(f"{label}: key {entry['key']!r} already used by channel #{seen[entry['key']]}")
        seen[entry["key"]] = i
        channels.append(Channel(**entry))
    if not channels:
        raise ChannelConfigError(f"{source}: no channels configured")
    return channels


# --------------------------------------------------------------------------- list pages


@dataclass(slots=True)
class ListPage:
    entries: list[ListEntry]
    refused: list[tuple[str, str]]  # (url, reason) for links not followed
    page_count: int | None  # from the pager, when present
    page_name: tuple[str, str] = ("index", "shtml")  # pager's file name and extension
    next_url: str | None = None  # the 下一页 link, when present
    # Sub-folders one level below the page (an smhd year page): (first-page URL, title, list date).
    folders: list[tuple[str, str, dt.date | None]] = field(default_factory=list)
    old_site: bool = False  # a pre-2020 list page (index.html, index_2.html, ...)
    from_two: bool = False  # page_count counts pages named index.html, index_2.html, ... (old site)


def detail_id(url: str) -> int | None:
    """Notice id of a detail-page URL, or None when the URL is not a detail page."""
    m = DETAIL_URL.search(url.split("?", 1)[0])
    return int(m.group(1) or m.group(2)) if m else None


def old_list_page_url(first_page_url: str, index: int) -> str:
    """URL of pre-2020 list page ``index`` (0-based): index.html, index_2.html, index_3.html ..."""
    if index == 0:
        return first_page_url
    base = first_page_url if first_page_url.endswith("/") else first_page_url.rsplit("/", 1)[0] + "/"
    return f"{base}index_{index + 1}.html"


def _folder_of(url: str, page_url: str) -> str | None:
    """First-page URL of the sub-folder ``url`` names, when it sits one level below ``page_url``."""
    path = url.split("?", 1)[0]
    m = FOLDER_URL.search(path)
    if not m:
        return None
    page_dir = page_url.split("?", 1)[0].rsplit("/", 1)[0] + "/"
    folder_dir = path[: m.start()] + "/"
    if folder_dir != page_dir:
        return None
    return f"{page_dir}{m.group(1)}/index.shtml" if not path.endswith((".shtml", ".html", ".htm")) else path


def list_page_url(first_page_url: str, index: int, name: str = "index", ext: str = "shtml") -> str:
    """URL of list page ``index`` (0-based) given the first page's URL."""
    if index == 0:
        return first_page_url
    base = first_page_url if first_page_url.endswith("/") else first_page_url.rsplit("/", 1)[0] + "/"
    return f"{base}{name}_{index}.{ext}"


def _entry_date(li: Any) -> dt.date | None:
    for el in li.iter():
        if el is not li and "date" in (el.get("class") or ""):
            text = el.text_content()
            break
    else:
        text = li.text_content()
    return find_date(text)


def parse_list_page(body: bytes, charset: str | None, page_url: str, channel: Channel,
                    policy: UrlPolicy) -> ListPage:
    """Entries, refused links and pagination of a list page fetched from ``page_url``."""
    text, _codec = decode_body(body, charset)
    doc = lxml.html.document_fromstring(text.encode("utf-8"), parser=lxml.html.HTMLParser(encoding="utf-8"))
    container = None
    for selector in LIST_CONTAINERS:
        found = doc.xpath(selector)
        if found:
            container = found[0]
            break
    if container is not None:
        links = [(a, li) for li in container.iter("li") for a in li.iter("a") if a.get("href")]
        strict = True
    else:  # unknown layout: take only links that look like detail pages
        links = [(a, a.getparent()) for a in doc.iter("a") if a.get("href")]
        strict = False
    entries: list[ListEntry] = []
    refused: list[tuple[str, str]] = []
    folders: list[tuple[str, str, dt.date | None]] = []
    seen: set[tuple[str, int]] = set()
    old_site = bool(OLD_LIST_URL.search(page_url.split("?", 1)[0]))
    for a, li in links:
        href = a.get("href", "").strip()
        if href.startswith(("javascript:", "mailto:", "#")):
            continue
        try:
            url = canonical_url(href, base=page_url)
        except ValueError as exc:
            if strict:
                refused.append((href, str(exc)))
            continue
        if not policy.allowed(url):
            refused.append((url, "off-site link"))
            continue
        nid = detail_id(url)
        if nid is not None and not old_site and OLD_DETAIL_URL.search(url.split("?", 1)[0]):
            # A current list's link into the pre-2020 site: often dead, and those pages are watched
            # through their own /n172/ lists; following it would leave the channel incomplete.
            refused.append((url, "a pre-2020 (/n172/) page linked from a current list"))
            continue
        if nid is None:
            folder = _folder_of(url, page_url) if strict else None
            if folder is not None:
                if folder not in {f for f, _, _ in folders}:
                    title = (a.get("title") or a.text_content() or "").strip()
                    folders.append((folder, title, _entry_date(li) if li is not None else None))
            elif strict:
                refused.append((url, "neither a detail page nor a sub-folder list"))
            continue
        host, stored_url = policy.stored(url)
        key = (host, nid)
        if key in seen:
            continue
        seen.add(key)
        title = (a.get("title") or a.text_content() or "").strip()
        entries.append(ListEntry(url=stored_url, host=host, notice_id=key[1], title=title,
                                 list_date=_entry_date(li) if li is not None else None, channel=channel.key))
    page_count = None
    name = ("index", "shtml")
    from_two = False
    if m := PAGER.search(text):
        page_count = int(m.group(1))
        name = (m.group(3), m.group(4))
    elif old_site and (m := OLD_PAGE_COUNT.search(text)):
        page_count, name, from_two = int(m.group(1)), ("index", "html"), True
    next_url = None
    for a in doc.iter("a"):
        if (a.text_content() or "").strip() in NEXT_PAGE_TEXTS and a.get("href"):
            with contextlib.suppress(ValueError):  # a broken 下一页 link: rely on the pager
                next_url = canonical_url(a.get("href"), base=page_url)
            break
    return ListPage(entries, refused, page_count, name, next_url, folders, old_site, from_two)


# --------------------------------------------------------------------------- channel state


def _state_path(zone: LandingZone, channel: Channel) -> Location:
    return Location.of(zone.root) / "state" / f"channel-{channel.key}.json"


def _read_state(zone: LandingZone, channel: Channel) -> dict[str, Any]:
    path = _state_path(zone, channel)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except ValueError:
        log.warning("channel state %s unreadable; walking the whole channel", path)
        return {}


def _write_state(zone: LandingZone, channel: Channel, state: dict[str, Any]) -> None:
    # Atomic: a temp file renamed into place locally, one PUT in an object store.
    _state_path(zone, channel).write_text(json.dumps(state, ensure_ascii=False))


# --------------------------------------------------------------------------- crawling


@dataclass
class _Run:
    """Shared by the channels of one crawl: connection pool, landing zone, known notices."""

    settings: Settings
    fetcher: Fetcher
    zone: LandingZone
    known: dict[tuple[str, int], FetchRecord]
    signatures: Signatures
    fetched_this_run: set[tuple[str, int]] = field(default_factory=set)
    # (host, notice_id, url) -> what the manifest holds of each attachment of each notice
    attachments: dict[tuple[str, int, str], AttachmentState] = field(default_factory=dict)


def _new_report() -> StageReport:
    return StageReport("crawl", counts=dict.fromkeys(COUNT_NAMES, 0),
                       details={"new": [], "changed": [], "failed": [], "refused": [], "rejected": [],
                                "channel_status": {}, "site_unreachable": False})


def _pending_key(host: str, notice_id: int) -> str:
    return f"{host}/{notice_id}"


def _due(pending: dict[str, Any] | None, now: dt.datetime) -> bool:
    if pending is None:
        return True
    try:
        return dt.datetime.fromisoformat(pending["next_attempt_at"]) <= now
    except (KeyError, TypeError, ValueError):
        return True


def _pending_entry(settings: Settings, entry: ListEntry, before: dict[str, Any] | None, outcome: str,
                   reason: str | None, now: dt.datetime) -> dict[str, Any]:
    """Retry record of a notice whose fetch failed, was refused or was rejected: backoff doubles."""
    attempts = int((before or {}).get("attempts", 0)) + 1
    delay = min(settings.retry_backoff * 2 ** (attempts - 1), MAX_RETRY_BACKOFF)
    return {"url": entry.url, "title": entry.title, "outcome": outcome, "reason": reason,
            "attempts": attempts, "first_failed_at": (before or {}).get("first_failed_at", now.isoformat()),
            "next_attempt_at": (now + dt.timedelta(seconds=delay)).isoformat()}


def _store(run: _Run, report: StageReport, entry: ListEntry, result: FetchResult) -> tuple[str, Verdict | None]:
    """Record one detail fetch in the landing zone and the report; return its outcome and the
    gate's verdict (None when no body arrived)."""
    key = (entry.host, entry.notice_id)
    previous = run.known.get(key)
    rec = FetchRecord(url=entry.url, host=entry.host, notice_id=entry.notice_id, channel=entry.channel,
                      fetched_at=utc_now(), http_status=result.status, sha256=None,
                      content_type=result.content_type, charset=result.charset, etag=result.etag,
                      last_modified=result.last_modified, list_title=entry.title, list_date=entry.list_date)
    if result.outcome == "ok":
        body = result.body or b""
        verdict = check_detail(body, result.charset, run.signatures, result.headers)
        rec.sha256 = run.zone.put(body)
        rec.bytes = len(body)
        if not verdict.accepted:
            # Kept for inspection, never a version; no validators, so the next request is unconditional.
            rec.outcome, rec.reason, rec.etag, rec.last_modified = "rejected", verdict.reason, None, None
            run.zone.append(rec, check=verdict.code)
            report.add("rejected")
            report.add("pages_rejected")
            report.details["rejected"].append({"url": entry.url, "status": result.status, "check": verdict.code,
                                               "reason": verdict.reason})
            log.warning("rejected %s: %s", entry.url, verdict.reason)
            return "rejected", verdict
        rec.is_new_version = previous is None or previous.sha256 != rec.sha256
        rec.attachments = _attachment_urls(run, body, result.charset, entry)
        run.zone.append(rec)
        report.add("detail_fetched")
        if previous is None:
            report.add("new_notices")
            report.details["new"].append([entry.host, entry.notice_id])
        elif rec.is_new_version:
            report.add("changed_notices")
            report.details["changed"].append([entry.host, entry.notice_id])
        run.known[key] = rec
        return "stored", verdict
    if result.outcome == "not_modified":
        rec.outcome = "not_modified"
        run.zone.append(rec)
        report.add("not_modified")
        return "not_modified", None
    rec.outcome, rec.reason = result.outcome, result.reason
    run.zone.append(rec)
    kind = "failed" if result.outcome == "failed" else "refused"
    report.add(kind)
    report.details[kind].append({"url": entry.url, "status": result.status, "reason": result.reason})
    log.warning("%s %s: %s", result.outcome, entry.url, result.reason)
    return result.outcome, None


# --------------------------------------------------------------------------- attachments
# A notice page may carry its plan in a linked document (P0<digits>.pdf beside the page). Documents
# of the page's own host are fetched right after the page, with the same Fetcher (politeness, robots,
# retry budget) under their own size cap, and pass their own gate (bytes sniffed, whole). A notice
# whose attachment failed for now (network, 5xx, an error page served as the PDF) stays pending
# like a failed page and is retried with the same backoff; the parse stage does not parse it until
# every attachment has a body or is gone for good (404/410, refused), so no half notice is loaded.


def _attachment_urls(run: _Run, body: bytes, charset: str | None, entry: ListEntry) -> list[str]:
    """Stored URLs of the document links on a notice page, same host as the page only, page order."""
    from ..parse.attachment import find_attachment_links

    policy = run.fetcher.policy
    urls: list[str] = []
    for link in find_attachment_links(body, entry.url, charset):
        try:
            host, stored = policy.stored(canonical_url(link.url))
        except ValueError:
            continue
        if host == entry.host and stored not in urls:
            urls.append(stored)
    return urls


def _outstanding(run: _Run, page: FetchRecord) -> list[str]:
    """Attachments of a stored page version the notice still waits for (never fetched, or failed
    for now): a crawl that died between page and documents, or a failure a retry must repair."""
    return [u for u in page.attachments or ()
            if not run.attachments.get((page.host, page.notice_id, u), AttachmentState()).resolved]


def _expected_media(url: str) -> str | None:
    from ..parse.attachment import DOCUMENT_EXTENSIONS, link_extension

    return DOCUMENT_EXTENSIONS.get(link_extension(url))


def _store_attachment(run: _Run, report: StageReport, entry: ListEntry, url: str,
                      result: FetchResult) -> tuple[str, str | None]:
    """Record one attachment fetch in the landing zone and the report; return (outcome, reason)."""
    rec = FetchRecord(url=url, host=entry.host, notice_id=entry.notice_id, channel=entry.channel,
                      fetched_at=utc_now(), http_status=result.status, sha256=None,
                      content_type=result.content_type, etag=result.etag, last_modified=result.last_modified,
                      list_title=entry.title, list_date=entry.list_date, kind="attachment", parent_url=entry.url)
    state = run.attachments.setdefault((entry.host, entry.notice_id, url), AttachmentState())
    if result.outcome == "ok":
        body = result.body or b""
        verdict = check_attachment(body, _expected_media(url), result.headers)
        rec.sha256 = run.zone.put(body) if body else None
        rec.bytes = len(body)
        if not verdict.accepted:
            rec.outcome, rec.reason, rec.etag, rec.last_modified = "rejected", verdict.reason, None, None
            run.zone.append(rec, check=verdict.code)
            state.last = rec
            report.add("attachments_rejected")
            report.details["rejected"].append({"url": url, "status": result.status, "check": verdict.code,
                                               "reason": verdict.reason, "notice": entry.url})
            log.warning("rejected attachment %s of %s: %s", url, entry.url, verdict.reason)
            return "rejected", verdict.reason
        previous = state.stored
        rec.is_new_version = previous is None or previous.sha256 != rec.sha256
        run.zone.append(rec)
        state.stored = state.last = rec
        report.add("attachments_fetched")
        return "stored", None
    if result.outcome == "not_modified":
        rec.outcome = "not_modified"
        run.zone.append(rec)
        state.last = rec
        report.add("attachments_not_modified")
        return "not_modified", None
    rec.outcome, rec.reason = result.outcome, result.reason
    run.zone.append(rec)
    state.last = rec
    kind = "failed" if result.outcome == "failed" else "refused"
    report.add(f"attachments_{kind}")
    report.details[kind].append({"url": url, "status": result.status, "reason": result.reason, "notice": entry.url})
    log.warning("attachment %s %s of %s: %s", result.outcome, url, entry.url, result.reason)
    return result.outcome, result.reason


def _crawl_attachments(run: _Run, entry: ListEntry, report: StageReport, page_outcome: str,
                       full: bool) -> tuple[str, str] | None:
    """Fetch the attachments of a notice whose page was just stored or confirmed (304).

    Fetched: every document of a new page version and, in a full crawl, every document again
    (conditionally); otherwise only those the notice still waits for. Returns ``None`` when the
    notice waits for nothing, else (pending outcome, reason) for the retry record."""
    page = run.known.get((entry.host, entry.notice_id))
    if page is None:
        return None
    urls = page.attachments
    if urls is None:  # a page landed before attachments were crawled: a full crawl reads its links
        if not full:
            return None
        try:
            urls = _attachment_urls(run, run.zone.get(page.sha256 or ""), page.charset, entry)
        except (LandingError, ValueError):
            return None
        if urls:
            # The same version again, now with its documents listed, so the parse stage reads them.
            page = dataclasses.replace(page, fetched_at=utc_now(), is_new_version=False, attachments=urls)
            run.zone.append(page)
            run.known[(entry.host, entry.notice_id)] = page
    fresh = page_outcome == "stored" and page.is_new_version
    problems: list[tuple[str, str, str | None]] = []
    for url in urls:
        key = (entry.host, entry.notice_id, url)
        state = run.attachments.get(key) or AttachmentState()
        if state.resolved and not (fresh or full):
            continue
        prev = state.stored
        if prev is not None and _attachment_still_acceptable(run, prev):
            result = run.fetcher.get_document(url, etag=prev.etag, last_modified=prev.last_modified)
        else:
            result = run.fetcher.get_document(url)
        outcome, reason = _store_attachment(run, report, entry, url, result)
        if not run.attachments[key].resolved:
            problems.append((outcome, url, reason))
    if not problems:
        return None
    reason = "; ".join(f"attachment {url}: {outcome}" + (f" ({why})" if why else "") for outcome, url, why in problems)
    return f"attachment_{problems[0][0]}", reason


def _attachment_still_acceptable(run: _Run, previous: FetchRecord) -> bool:
    """Whether a stored attachment body still passes the gate, so its validators may be used."""
    try:
        body = run.zone.get(previous.sha256 or "")
    except (LandingError, ValueError):
        return False
    return check_attachment(body, _expected_media(previous.url)).accepted


def _still_acceptable(run: _Run, previous: FetchRecord) -> bool:
    """Whether the stored version passes today's gate, so its validators may be used.

    Heals landing zones written before the gate existed (an error page stored with the page's
    real ETag would be answered 304 forever) and applies new signatures: such a notice is fetched
    unconditionally. Checked only when a known notice is re-fetched (full crawls, retries)."""
    try:
        body = run.zone.get(previous.sha256 or "")
    except (LandingError, ValueError):
        return False
    return check_detail(body, previous.charset, run.signatures).accepted


@dataclass
class _Walk:
    """How one channel's walk went: the inputs of its status."""

    list_problem: str | None = None  # why the walk stopped before the channel's last list page
    list_problem_page: int = 0  # 0-based index of that page
    list_problem_top: bool = True  # on the channel's own list (a sub-folder's failure only makes it incomplete)
    site_change: str | None = None
    accepted: int = 0  # detail bodies accepted this run
    structural: list[tuple[str, str]] = field(default_factory=list)  # (url, selector) of pages lacking title/body
    partial_view: bool = False  # some listed notices were not seen (resumed pages, since-year cut, folders skipped)


def _list_problem(report: StageReport, walk: _Walk, index: int, url: str, status: int, reason: str,
                  channel: Channel, *, top: bool = True) -> None:
    problem = f"list page {index + 1} ({url}): {reason}"
    if walk.list_problem is None or (top and not walk.list_problem_top):
        walk.list_problem, walk.list_problem_page, walk.list_problem_top = problem, index, top
    report.details["failed"].append({"url": url, "status": status, "reason": reason})
    log.error("channel %s: %s", channel.key, problem)


@dataclass
class _Ctx:
    """One channel's crawl: what every list walk of it shares."""

    run: _Run
    channel: Channel
    report: StageReport
    walk: _Walk
    pending: dict[str, dict[str, Any]]
    seen: set[str]  # pending keys of the notices listed this run
    now: dt.datetime
    full: bool  # re-check known notices with conditional requests
    may_stop_early: bool  # stop a list at its first page whose notices are all known
    since: int | None  # backfill: skip entries listed before this year, stop a list once all are older
    checkpoint: dict[str, Any] | None  # backfill: list pages already walked in this session
    save: Any  # () -> None: write the channel state (checkpoint included)
    bar: Any
    beat: Heartbeat
    requests0: int


@dataclass
class _ListWalk:
    reached_end: bool = False
    folders: list[tuple[str, str, dt.date | None]] = field(default_factory=list)
    not_modified: bool = False  # the first page answered 304 to the stored validators
    validators: dict[str, str | None] | None = None  # ETag / Last-Modified of the first page


def _walk_list(ctx: _Ctx, first_url: str, *, top: bool, validators: dict[str, Any] | None = None) -> _ListWalk:
    """Read one list (the channel's, or one sub-folder's) page by page and fetch what it lists.

    Pagination: the TRS pager, else the 下一页 link, else (pre-2020 lists, which may have neither)
    index_2.html, index_3.html ... until a page is missing or lists nothing: past the first page
    that is the end of the list, not a site change."""
    run, channel, report, walk = ctx.run, ctx.channel, ctx.report, ctx.walk
    settings, fetcher = run.settings, run.fetcher
    out = _ListWalk()
    cp = None
    if ctx.checkpoint is not None:
        cp = ctx.checkpoint["lists"].setdefault(first_url, {"done": {}, "end": False})
    url: str | None = first_url
    index = 0
    probing = False  # this page's URL was guessed (old site): missing or empty = end of list
    while url is not None and index < settings.max_list_pages:
        if cp is not None and (done := cp["done"].get(str(index))) is not None:
            # Resumed backfill: this page and the notices it listed were handled before the interruption.
            out.folders.extend((f[0], f[1], dt.date.fromisoformat(f[2]) if f[2] else None) for f in done["folders"])
            walk.partial_view = True
            url, index, probing = done["next"], index + 1, done.get("probing", False)
            continue
        cond = validators if index == 0 and validators else {}
        result = fetcher.get(url, etag=cond.get("etag"), last_modified=cond.get("last_modified"))
        if result.outcome == "not_modified":
            report.add("list_not_modified")
            out.not_modified = True
            out.validators = dict(validators or {})
            return out
        if result.outcome != "ok":
            if probing and result.status == 404:
                out.reached_end = True
                break
            report.add("failed" if result.outcome == "failed" else "refused")
            _list_problem(report, walk, index, url, result.status, f"{result.outcome}: {result.reason}", channel,
                          top=top)
            if top and index == 0 and result.status == 404:
                walk.site_change = f"first list page {url} is gone (HTTP 404): the channel moved?"
            break
        if index == 0:
            out.validators = {"etag": result.etag, "last_modified": result.last_modified}
        body = result.body or b""
        verdict = check_list(body, result.charset, run.signatures, result.headers)
        page = parse_list_page(body, result.charset, result.url, channel, fetcher.policy) if verdict.accepted \
            else None
        empty = page is not None and not page.entries and not page.folders
        if empty and not probing:
            verdict = check_list(body, result.charset, run.signatures, result.headers, empty=True)
        if not verdict.accepted:
            report.add("pages_rejected")
            report.add("list_rejected")
            report.details["rejected"].append({"url": url, "status": result.status, "check": verdict.code,
                                               "reason": verdict.reason})
            _list_problem(report, walk, index, url, result.status, f"rejected: {verdict.reason}", channel, top=top)
            break
        assert page is not None
        report.add("list_pages")
        for ref_url, reason in page.refused:
            report.add("refused")
            report.details["refused"].append({"url": ref_url, "status": None, "reason": reason})
        if empty:
            if probing:
                out.reached_end = True
                break
            _list_problem(report, walk, index, url, result.status, "the list page lists no notices", channel, top=top)
            if index == 0 and top:
                walk.site_change = _empty_list_diagnosis(body, result.charset, url)
            break
        if top:
            out.folders.extend(page.folders)
        else:  # one level only: a folder inside a sub-folder is not followed
            for f_url, _, _ in page.folders:
                report.add("refused")
                report.details["refused"].append({"url": f_url, "status": None, "reason": "folder below a sub-folder"})
        entries = page.entries
        all_before = False
        if ctx.since is not None and entries:
            # Lists run newest first: once every dated entry of a page is older, the rest are too.
            all_before = all(e.list_date is not None and e.list_date.year < ctx.since for e in entries)
            kept = [e for e in entries if e.list_date is None or e.list_date.year >= ctx.since]
            if len(kept) < len(entries):
                report.add("before_since", len(entries) - len(kept))
                walk.partial_view = True
            entries = kept
        for e in entries:
            ctx.seen.add(_pending_key(e.host, e.notice_id))
        todo = [e for e in entries if (e.host, e.notice_id) not in run.fetched_this_run]
        if ctx.may_stop_early and page.entries and all(
                (e.host, e.notice_id) in run.known and not _outstanding(run, run.known[(e.host, e.notice_id)])
                for e in todo):
            break
        _fetch_entries(ctx, todo, page, index)
        ctx.bar.update(1)
        index += 1
        if page.page_count is not None:
            nxt = None if index >= page.page_count else old_list_page_url(first_url, index) if page.from_two \
                else list_page_url(first_url, index, *page.page_name)
            probing = False
        elif page.next_url is not None:
            nxt, probing = page.next_url, False
        elif page.old_site:
            nxt, probing = old_list_page_url(first_url, index), True
        else:
            nxt = None
        if all_before:
            nxt = None
        if cp is not None and not any(_pending_key(e.host, e.notice_id) in ctx.pending for e in entries):
            # Checkpointed only when every notice it lists is stored: a resumed backfill retries the rest.
            cp["done"][str(index - 1)] = {
                "next": nxt, "probing": probing,
                "folders": [[f, t, d.isoformat() if d else None] for f, t, d in page.folders] if top else []}
            ctx.save()
        url = nxt
    else:
        out.reached_end = url is None
    if url is not None and index >= settings.max_list_pages:
        log.warning("channel %s: stopped at the list-page limit (%d, QDP_MAX_PAGES) in %s; older pages not read",
                    channel.key, settings.max_list_pages, first_url)
    if cp is not None and out.reached_end:
        cp["end"] = True
        ctx.save()
    return out


def _fetch_entries(ctx: _Ctx, todo: list[ListEntry], page: ListPage, index: int) -> None:
    """Fetch the notices of one list page that are new, pending a retry, or (full crawls) known."""
    run, report, pending = ctx.run, ctx.report, ctx.pending
    fetcher = run.fetcher
    for entry in todo:
        key = (entry.host, entry.notice_id)
        pk = _pending_key(*key)
        previous = run.known.get(key)
        before = pending.get(pk)
        if before is not None and not _due(before, ctx.now):
            report.add("retry_waiting")
            continue
        if previous is not None and not ctx.full and before is None and not _outstanding(run, previous):
            continue
        run.fetched_this_run.add(key)
        if before is not None:
            report.add("retried_notices")
        if previous is not None and _still_acceptable(run, previous):
            result = fetcher.get(entry.url, etag=previous.etag, last_modified=previous.last_modified)
        else:
            result = fetcher.get(entry.url)
        outcome, detail_verdict = _store(run, report, entry, result)
        if outcome in ("stored", "not_modified"):
            waiting = _crawl_attachments(run, entry, report, outcome, ctx.full)
            if waiting is None:
                pending.pop(pk, None)
            else:  # the page is landed; the notice waits for its documents
                pending[pk] = _pending_entry(run.settings, entry, before, *waiting, ctx.now)
            if outcome == "stored":
                ctx.walk.accepted += 1
        else:
            pending[pk] = _pending_entry(run.settings, entry, before, outcome, result.reason or (
                detail_verdict.reason if detail_verdict else None), ctx.now)
            if detail_verdict is not None and detail_verdict.structural:
                ctx.walk.structural.append((entry.url, detail_verdict.selector or ""))
        ctx.bar.set_postfix(new=report.counts["new_notices"], failed=report.counts["failed"], refresh=False)
        ctx.beat.beat(done=fetcher.requests - ctx.requests0, errors=report.counts["failed"] + report.counts["refused"],
                      left=page.page_count - index - 1 if page.page_count is not None else None)


def _folder_due(ctx: _Ctx, before: dict[str, Any] | None, date: dt.date | None) -> bool:
    """Whether a watch run reads a department sub-folder of a folder list (smhd year).

    The year page lists each folder with the date of its newest notice: a folder is read when it
    is new or its date moved. A folder listed without a date is read every
    QDP_FOLDER_RECHECK_HOURS. Full crawls, backfills and channels left incomplete read them all."""
    if not ctx.may_stop_early or before is None:
        return True
    if date is not None:
        return before.get("date") != date.isoformat()
    try:
        checked = dt.datetime.fromisoformat(before["checked_at"])
    except (KeyError, TypeError, ValueError):
        return True
    return ctx.now - checked >= dt.timedelta(hours=ctx.run.settings.folder_recheck_hours)


def _crawl_channel(run: _Run, channel: Channel, *, full: bool, progress: bool, walk_all: bool = False,
                   since: int | None = None, session: str | None = None) -> StageReport:
    """One channel: its list (and, for a folder list, each department sub-folder's list).

    ``walk_all``: read every list page (backfill) without re-checking known notices (``full`` does
    both). ``session``: a backfill's id; list pages walked are checkpointed in the channel state
    so an interrupted backfill resumes where it stopped."""
    started = time.perf_counter()
    settings, fetcher, zone = run.settings, run.fetcher, run.zone
    report = _new_report()
    requests0, retried0, robots0 = fetcher.requests, fetcher.retried, fetcher.robots_fetched
    answered0 = fetcher.answered
    state = _read_state(zone, channel)
    pending: dict[str, dict[str, Any]] = dict(state.get("pending") or {})
    folder_state: dict[str, dict[str, Any]] = dict(state.get("folders") or {})
    checkpoint = None
    if session is not None:
        checkpoint = state.get("backfill")
        if not (isinstance(checkpoint, dict) and checkpoint.get("session") == session):
            checkpoint = {"session": session, "since": since, "lists": {}, "complete": False}
        if checkpoint.get("complete"):
            report.add(f"channels_{state.get('status') or 'ok'}")
            report.details["channel_status"] = {channel.key: {
                "status": state.get("status") or "ok", "reason": state.get("reason"), "site_change": None}}
            log.info("crawl %s: already walked in backfill %s", channel.key, session)
            return report
    # Stop early only if the last crawl left nothing behind below the known pages.
    may_stop_early = not full and not walk_all and bool(state.get("complete")) and not pending
    first_url = canonical_url(settings.site_url.rstrip("/") + channel.list_path)
    walk = _Walk()
    now = utc_now()
    bar = tqdm(desc=channel.key, unit="page", leave=False, disable=not progress)
    # The state written at the end of the walk; checkpoints write it as the walk goes.
    out_state: dict[str, Any] = dict(state)

    def save() -> None:
        if checkpoint is not None:
            out_state["backfill"] = checkpoint
            _write_state(zone, channel, out_state)

    ctx = _Ctx(run, channel, report, walk, pending, set(), now, full, may_stop_early, since, checkpoint, save, bar,
               Heartbeat(f"crawl {channel.key}"), requests0)  # progress in the task log at a steady rhythm
    validators = state.get("list_validators") if may_stop_early and folder_state else None
    try:
        top = _walk_list(ctx, first_url, top=True, validators=validators)
        reached_end = top.reached_end or top.not_modified
        folders = top.folders
        if top.not_modified:  # the year page is unchanged: the folders are those stored
            folders = [(u, f.get("title", ""), dt.date.fromisoformat(f["date"]) if f.get("date") else None)
                       for u, f in folder_state.items()]
        new_folders: dict[str, dict[str, Any]] = {}
        for f_url, title, date in folders:
            before = folder_state.get(f_url)
            entry = {"title": title, "date": date.isoformat() if date else None,
                     "checked_at": (before or {}).get("checked_at")}
            if _folder_due(ctx, before, date):
                fw = _walk_list(ctx, f_url, top=False)
                reached_end = reached_end and fw.reached_end
                entry["checked_at"] = now.isoformat()
                report.add("folders_read")
            else:
                walk.partial_view = True
                if before is not None:
                    entry["date"] = before.get("date")
            new_folders[f_url] = entry
        if folders:
            out_state["folders"] = new_folders
            out_state["list_validators"] = top.validators
            report.add("folders", len(folders))
    finally:
        bar.close()
        report.counts["requests"] += fetcher.requests - requests0  # robots.txt fetches included
        report.add("robots_fetched", fetcher.robots_fetched - robots0)
        report.counts["retried"] += fetcher.retried - retried0
        report.seconds = time.perf_counter() - started
    if reached_end and not walk.partial_view:
        # The whole list was read: a pending notice no longer listed has disappeared; stop retrying it.
        for pk in [k for k in pending if k not in ctx.seen]:
            log.info("channel %s: %s no longer listed; no more retries", channel.key, pending.pop(pk)["url"])
    if walk.structural and walk.accepted == 0 and len(walk.structural) >= SITE_CHANGE_MIN_PAGES:
        urls = ", ".join(u for u, _ in walk.structural[:3])
        walk.site_change = (f"{len(walk.structural)} detail page(s) and none accepted lack a title or main text; "
                            f"selector(s) no longer matching: {walk.structural[0][1]} (e.g. {urls})")
    status, reason = _channel_status(walk, pending)
    report.add("retry_pending", len(pending))
    report.add(f"channels_{status}")
    report.details["channel_status"] = {channel.key: {"status": status, "reason": reason,
                                                      "site_change": walk.site_change}}
    report.details["site_unreachable"] = (status == "failed" and fetcher.answered == answered0)
    if walk.site_change:
        log.error("channel %s: site change? %s", channel.key, walk.site_change)
    if checkpoint is not None:
        checkpoint["complete"] = status == "ok"
        out_state["backfill"] = checkpoint
    out_state.update({"complete": status == "ok", "status": status, "reason": reason,
                      "finished_at": utc_now().isoformat(), "list_pages": report.counts["list_pages"],
                      "full": full, "pending": pending})
    _write_state(zone, channel, out_state)
    log.info("crawl %s: %s %s", channel.key, status, " ".join(f"{k}={v}" for k, v in report.counts.items()))
    return report


def _channel_status(walk: _Walk, pending: dict[str, dict[str, Any]]) -> tuple[str, str | None]:
    if walk.list_problem is not None and walk.list_problem_page == 0 and walk.list_problem_top:
        return "failed", walk.list_problem
    reasons = []
    if walk.list_problem is not None:
        reasons.append(walk.list_problem)
    if pending:
        by = Counter(p.get("outcome", "failed") for p in pending.values())
        reasons.append(f"{len(pending)} notice(s) pending retry ("
                       + ", ".join(f"{n} {k}" for k, n in sorted(by.items())) + ")")
    if walk.site_change:
        reasons.append(f"site change? {walk.site_change}")
    return ("incomplete", "; ".join(reasons)) if reasons else ("ok", None)


def _empty_list_diagnosis(body: bytes, charset: str | None, url: str) -> str:
    """Which list selector no longer matches, for the site-change flag."""
    text, _codec = decode_body(body, charset)
    doc = lxml.html.document_fromstring(text.encode("utf-8"), parser=lxml.html.HTMLParser(encoding="utf-8"))
    if not any(doc.xpath(sel) for sel in LIST_CONTAINERS):
        return (f"list page {url} parses to zero entries: none of the list selectors "
                f"({' | '.join(LIST_CONTAINERS)}) matches")
    return (f"list page {url} parses to zero entries: the list container holds no link matching "
            f"the detail-page pattern {DETAIL_URL.pattern}")


def _merge(total: StageReport, part: StageReport) -> None:
    for k, v in part.counts.items():
        total.add(k, v)
    for k, v in part.details.items():
        if isinstance(v, list):
            total.details.setdefault(k, []).extend(v)
        elif isinstance(v, dict):
            total.details.setdefault(k, {}).update(v)


def _run(settings: Settings, fetcher: Fetcher | None) -> tuple[_Run, bool]:
    zone = LandingZone(settings.landing_dir)
    own = fetcher is None
    latest, attachments = zone.index()
    return _Run(settings, fetcher or Fetcher(settings), zone, latest, load_signatures(settings),
                attachments=attachments), own


def _failed_channel_report(channel: Channel, exc: BaseException) -> StageReport:
    report = _new_report()
    reason = f"crawler error: {type(exc).__name__}: {exc}"
    report.add("channels_failed")
    report.details["channel_status"] = {channel.key: {"status": "failed", "reason": reason, "site_change": None}}
    return report


def crawl_channel(settings: Settings, channel: Channel, *, full: bool = False, progress: bool = False,
                  fetcher: Fetcher | None = None, walk_all: bool = False, since: int | None = None,
                  session: str | None = None) -> StageReport:
    """Crawl one channel into the landing zone (safe to run for different channels in parallel processes).

    Never raises for the channel's failure: ``details["channel_status"]`` says how it went."""
    run, own = _run(settings, fetcher)
    try:
        report = _crawl_channel(run, channel, full=full, progress=progress, walk_all=walk_all, since=since,
                                session=session)
    except Exception as exc:  # a bug or a broken landing zone: reported as a failed channel
        log.exception("channel %s: crawl failed", channel.key)
        report = _failed_channel_report(channel, exc)
    finally:
        run.zone.close()
        if own:
            run.fetcher.close()
    report.details["channels"] = [channel.key]
    return report


def crawl(settings: Settings, channels: list[Channel] | None = None, *, full: bool = False,
          progress: bool = False, fetcher: Fetcher | None = None, walk_all: bool = False,
          since: int | None = None, session: str | None = None) -> StageReport:
    """Crawl every channel (default: ``load_channels(settings)``) with one pooled session.

    ``walk_all``/``since``/``session``: a backfill (see ``_crawl_channel``).

    Never raises for a channel's failure and one broken channel never stops the others:
    ``details["channel_status"]`` holds each channel's status (see docs/crawler.md), and
    ``details["site_unreachable"]`` is true when no request got any HTTP answer.
    """
    started = time.perf_counter()
    channels = load_channels(settings) if channels is None else channels
    run, own = _run(settings, fetcher)
    total = _new_report()
    total.details["channels"] = []
    answered0, requests0 = run.fetcher.answered, run.fetcher.requests
    try:
        for channel in _progress(channels, progress):
            try:
                part = _crawl_channel(run, channel, full=full, progress=progress, walk_all=walk_all, since=since,
                                      session=session)
            except Exception as exc:  # one broken channel never stops the others
                log.exception("channel %s: crawl failed", channel.key)
                part = _failed_channel_report(channel, exc)
            _merge(total, part)
            total.details["channels"].append(channel.key)
    finally:
        run.zone.close()
        if own:
            run.fetcher.close()
    total.seconds = time.perf_counter() - started
    statuses = total.details["channel_status"]
    total.details["site_unreachable"] = bool(statuses) and run.fetcher.answered == answered0 and all(
        s["status"] == "failed" for s in statuses.values())
    if total.details["site_unreachable"]:
        log.error("site unreachable: no answer to any of %d request(s) to %s",
                  run.fetcher.requests - requests0, settings.site_url)
    log.info("crawl of %d channel(s): %s", len(channels), " ".join(f"{k}={v}" for k, v in total.counts.items()))
    return total


def _progress(channels: Iterable[Channel], enabled: bool) -> Iterable[Channel]:
    return tqdm(list(channels), desc="crawl", unit="channel", disable=not enabled)


# --------------------------------------------------------------------------- backfill sessions


# An interrupted backfill resumed later than this starts over: its checkpoints are too old to trust
# (lists have moved on) and whoever runs it again most likely means a new backfill.
BACKFILL_SESSION_MAX_AGE = dt.timedelta(days=7)


def _session_path(zone: LandingZone) -> Location:
    return Location.of(zone.root) / "state" / "backfill.json"


def backfill_session(settings: Settings, since: int, channel_keys: list[str]) -> tuple[str, bool]:
    """The id of the backfill to run and whether it resumes an interrupted one.

    A backfill records its session in the landing zone's state folder until it has finished;
    ``qdp backfill`` with the same year and channels within ``BACKFILL_SESSION_MAX_AGE`` continues
    it (list pages walked are checkpointed in each channel's state under this id), anything else
    starts a new one."""
    zone = LandingZone(settings.landing_dir)
    try:
        path = _session_path(zone)
        try:
            current = json.loads(path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            current = None
        keys = sorted(channel_keys)
        if isinstance(current, dict) and current.get("since") == since and current.get("channels") == keys:
            try:
                age = utc_now() - dt.datetime.fromisoformat(current["started_at"])
            except (KeyError, TypeError, ValueError):
                age = BACKFILL_SESSION_MAX_AGE
            if age < BACKFILL_SESSION_MAX_AGE:
                return str(current["session"]), True
            log.info("backfill session %s is older than %s: starting a new one", current.get("session"),
                     BACKFILL_SESSION_MAX_AGE)
        session = f"{utc_now():%Y%m%dT%H%M%SZ}-{secrets.token_hex(4)}"
        # Atomic: a temp file renamed into place locally, one PUT in an object store.
        path.write_text(json.dumps({"session": session, "since": since, "channels": keys,
                                    "started_at": utc_now().isoformat()}))
        return session, False
    finally:
        zone.close()


def end_backfill_session(settings: Settings, session: str) -> None:
    """Forget a finished backfill (the next ``qdp backfill`` walks everything again)."""
    zone = LandingZone(settings.landing_dir)
    try:
        path = _session_path(zone)
        with contextlib.suppress(FileNotFoundError, ValueError):
            if json.loads(path.read_text(encoding="utf-8")).get("session") == session:
                path.unlink()
    finally:
        zone.close()
