"""The in-memory model of the sample site: channels, notices, and the pages rendered from them.

Pages follow the real site's URL scheme (``/zwgk/xxgk/<dept>/gkml/<column>/index.shtml``,
``index_1.shtml`` ..., detail pages ``<YYYYMM>/t<YYYYMMDD>_<id>.shtml`` or ``tnull_<id>.shtml``)
and layout (national meta tags, 发布日期/来源 header line, ``#zoom.TRS_Editor`` container,
``createPageHTML`` pager) inside a production-shaped page frame (``chrome.py``). The model can
change while served (``publish``, ``revise``) so the crawler's incremental behaviour can be
tested; every mutation happens under one lock.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
import html
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from etl.departments import DEPARTMENTS, department_for_code
from etl.records import Channel

from . import chrome
from . import corpus as corpus_mod
from .notices import channel_notices, published_notice

CHANNELS_FILE = Path(__file__).resolve().parent.parent / "crawl" / "channels.yaml"
PAGE_SIZE = 20
COLUMN_NAMES = {"ghjh": "规划计划", "gwfg": "公文法规", "gzxx": "工作信息", "bmgw": "部门文件"}
SYNTHETIC_NOTE = "本页为青岛政务网样例站（qingdao-plans 项目）的合成文档，内容系虚构，仅供测试使用。"
OFFSITE_URL = "https://www.gov.cn/zhengce/content/2021-03/05/content_5590672.htm"
OLD_STYLE_PATH = "/n172/n24624151/n24627255/n24627269/210305093012345678.html"
SHORT_NAMES = {"青岛市教育局": "市教育局", "青岛市科学技术局": "市科技局", "青岛市文化和旅游局": "市文化和旅游局"}


def load_channel_config(path: Path = CHANNELS_FILE) -> list[Channel]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [Channel(**c) for c in data["channels"]]


def _http_date(moment: dt.datetime) -> str:
    return email.utils.format_datetime(moment.astimezone(dt.UTC), usegmt=True)


@dataclass(slots=True)
class Page:
    """A rendered response body with its validators."""

    body: bytes
    content_type: str
    charset: str
    etag: str
    last_modified: dt.datetime
    kind: str  # "list" | "detail"

    @property
    def last_modified_http(self) -> str:
        return _http_date(self.last_modified)


@dataclass(slots=True)
class Notice:
    notice_id: int
    channel: Channel
    title: str
    published: dt.date
    doc_type: str
    synthetic: bool
    body: list[str]
    pub_time: str = "09:30"
    encoding: str = "utf-8"  # "utf-8" or "gb2312" (bytes encoded as GBK)
    source: str | None = None  # ContentSource and 来源; None on post-2021 style pages
    tnull: bool = False
    nav_debris: bool = False
    offsite_links: bool = False
    doc_key: str | None = None  # corpus document key for plans
    category: str | None = None  # notice category for non-plan notices
    meta: dict[str, str] = field(default_factory=dict)  # seed: header text as found
    version: int = 1
    modified: dt.datetime = field(default_factory=lambda: dt.datetime(2021, 1, 1, tzinfo=dt.UTC))
    _page: Page | None = None

    @property
    def path(self) -> str:
        if self.tnull:
            return f"{self.channel.list_path}tnull_{self.notice_id}.shtml"
        d = self.published
        return f"{self.channel.list_path}{d:%Y%m}/t{d:%Y%m%d}_{self.notice_id}.shtml"

    def summary(self) -> dict[str, Any]:
        return {"path": self.path, "notice_id": self.notice_id, "title": self.title,
                "date": self.published.isoformat(), "channel": self.channel.key, "doc_type": self.doc_type,
                "synthetic": self.synthetic, "doc_key": self.doc_key, "encoding": self.encoding,
                "version": self.version}

    def page(self) -> Page:
        if self._page is None:
            text = render_detail(self)
            codec = "gbk" if self.encoding == "gb2312" else "utf-8"
            body = text.encode(codec)  # raises on a character GBK lacks: a corpus bug, not to hide
            self._page = Page(body=body, content_type=f"text/html; charset={self.encoding}",
                              charset=self.encoding, etag=f'"{hashlib.sha1(body).hexdigest()[:16]}"',
                              last_modified=self.modified, kind="detail")
        return self._page


# --------------------------------------------------------------------------- rendering

def _national_meta(site_name: str, column: str, title: str | None = None, pubdate: str | None = None,
                   source: str | None = None, synthetic: bool = False) -> str:
    """The national meta tags as the pages have always carried them (already escaped values)."""
    lines = [f'<meta name="SiteName" content="{site_name}">\n',
             '<meta name="SiteDomain" content="www.qingdao.gov.cn">\n',
             f'<meta name="ColumnName" content="{column}">\n']
    if title is not None:
        lines.append(f'<meta name="ArticleTitle" content="{title}">\n')
    if pubdate is not None:
        lines.append(f'<meta name="PubDate" content="{pubdate}">\n')
    if source:
        lines.append(f'<meta name="ContentSource" content="{source}">\n')
    if synthetic:
        lines.append('<meta name="qdp:synthetic" content="true">\n')
    return "".join(lines)


def _column_name(channel: Channel) -> str:
    return COLUMN_NAMES.get(channel.column.rsplit("/", 1)[-1], "政府信息公开")


def _department_name(channel: Channel) -> str:
    return channel.department or department_for_code(channel.department_code) or "青岛政务网"


def render_detail(n: Notice) -> str:
    """A detail page: the article block inside the shared page frame (etl/sample_site/chrome.py)."""
    e = html.escape
    meta = n.meta
    source = meta.get("source", n.source)
    title = meta.get("title", n.title)
    header = meta.get("header") or (f"青岛政务网 发布日期 : {n.published.isoformat()}"
                                    + (f" 来源 : {source}" if source else ""))
    parts = ['<div class="article">\n']
    parts.append(f'  <h1 class="article-title">{e(title)}</h1>\n')
    parts.append(f'  <div class="article-info">{e(header)}</div>\n')
    parts.append(f'  <div class="article-tools">{e(meta.get("tools", "字体大小: 打印"))}</div>\n')
    if n.synthetic:
        parts.append(f'  <div class="qdp-synthetic-note">{SYNTHETIC_NOTE}</div>\n')
    parts.append('  <div class="TRS_Editor" id="zoom">\n')
    parts += [f"    <p>{e(line)}</p>\n" for line in n.body]
    parts.append("  </div>\n")
    if n.offsite_links:
        parts.append('  <div class="related-links">相关链接：'
                     f'<a href="{OFFSITE_URL}">中国政府网</a> '
                     f'<a href="{OLD_STYLE_PATH}">原青岛政务网栏目</a></div>\n')
    parts.append(f'  <div class="article-qr">{e(meta.get("qr", "扫一扫在手机打开当前页"))}</div>\n')
    parts.append("</div>\n")
    parts.append(chrome.article_extras(n.notice_id))
    column = _column_name(n.channel)
    return chrome.render_page(
        charset=n.encoding,
        meta=_national_meta(
            e(meta.get("site_name", "青岛政务网")), e(meta.get("column", column)), title=e(title),
            pubdate=e(meta.get("pubdate", f"{n.published.isoformat()} {n.pub_time}")),
            source=e(source) if source else None, synthetic=n.synthetic),
        title=f'{title}_{meta.get("title_suffix", source or "青岛政务网")}', url_path=n.path, keywords=title,
        description=title, column=column, channel=n.channel, department=_department_name(n.channel),
        main="".join(parts), doc_id=n.notice_id)


def _list_href(n: Notice) -> str:
    return "./" + n.path.removeprefix(n.channel.list_path)


def render_list(channel: Channel, notices: list[Notice], index: int, pages: int, extra_links: bool) -> str:
    """A list page: the entries and the pager inside the shared page frame (etl/sample_site/chrome.py)."""
    e = html.escape
    column = _column_name(channel)
    dept = _department_name(channel)
    out = [f'<div class="list-title">{e(column)}</div>\n<ul class="list-ul" id="listChangeDiv">\n']
    for n in notices:
        out.append(f'  <li><a href="{_list_href(n)}" title="{e(n.title)}" target="_blank">{e(n.title)}</a>'
                   f'<span class="date">{n.published.isoformat()}</span></li>\n')
    if extra_links:
        # Links the crawler must refuse: another host, and the pre-2020 site's URL scheme.
        out.append(f'  <li><a href="{OFFSITE_URL}" title="国务院关于印发政府工作报告的通知" target="_blank">'
                   '国务院关于印发政府工作报告的通知</a><span class="date">2021-03-05</span></li>\n')
        out.append(f'  <li><a href="{OLD_STYLE_PATH}" title="青岛市政府信息公开年度报告（旧版）" target="_blank">'
                   '青岛市政府信息公开年度报告（旧版）</a><span class="date">2019-05-22</span></li>\n')
    out.append("</ul>\n")
    out.append(f'<div class="page"><script>createPageHTML({pages}, {index}, "index", "shtml");</script>\n')
    nav = []
    if index > 0:
        nav.append('<a href="index.shtml">首页</a>')
        nav.append(f'<a href="{"index.shtml" if index == 1 else f"index_{index - 1}.shtml"}">上一页</a>')
    if index < pages - 1:
        nav.append(f'<a href="index_{index + 1}.shtml">下一页</a>')
        nav.append(f'<a href="index_{pages - 1}.shtml">尾页</a>')
    out.append("  " + " ".join(nav) + f" 共{pages}页</div>\n")
    url_path = channel.list_path + ("index.shtml" if index == 0 else f"index_{index}.shtml")
    return chrome.render_page(
        charset="utf-8", meta=_national_meta("青岛政务网", e(column)), title=f"{column}_{dept}",
        url_path=url_path, keywords=f"{dept},{column}", description=f"{dept}{column}", column=column,
        channel=channel, department=dept, main="".join(out))


# --------------------------------------------------------------------------- site


@dataclass(frozen=True, slots=True)
class SiteScale:
    """Size of a large synthetic site for the crawler benchmark."""

    channels: int = 50
    notices: int = 5000


def _modified(day: dt.date, pub_time: str = "09:30") -> dt.datetime:
    h, m = (int(x) for x in pub_time.split(":"))
    return dt.datetime(day.year, day.month, day.day, h, m, tzinfo=dt.UTC)


def _notice_ids(dated: list[tuple[dt.date, str]]) -> dict[str, int]:
    """7-digit ids that grow with the date: YY DDD NN (year, day of year, serial that day)."""
    ids: dict[str, int] = {}
    per_day: dict[dt.date, int] = {}
    for day, key in sorted(dated):
        per_day[day] = per_day.get(day, 0) + 1
        if per_day[day] > 99:
            raise ValueError(f"more than 99 notices on {day}")
        ids[key] = int(f"{day:%y}{day.timetuple().tm_yday:03d}{per_day[day]:02d}")
    return ids


class Site:
    """Channels and notices; thread-safe reads and mutations."""

    def __init__(self, channels: list[Channel], notices: list[Notice], *, extra_links_channel: str | None = None):
        self.channels = list(channels)
        self._channel_by_key = {c.key: c for c in channels}
        self._lock = threading.RLock()
        self._notices: dict[int, Notice] = {}
        self._by_path: dict[str, Notice] = {}
        self._by_channel: dict[str, list[Notice]] = {c.key: [] for c in channels}
        self._list_cache: dict[tuple[str, int], Page] = {}
        self.extra_links_channel = extra_links_channel
        for n in notices:
            self._add(n)
        for lst in self._by_channel.values():
            lst.sort(key=lambda n: (n.published, n.notice_id), reverse=True)

    # ----------------------------------------------------------------- construction
    @classmethod
    def build(cls, scale: SiteScale | None = None) -> Site:
        return cls._build_scaled(scale) if scale else cls._build_corpus()

    @classmethod
    def _build_corpus(cls) -> Site:
        channels = load_channel_config()
        by_key = {c.key: c for c in channels}
        docs = corpus_mod.load_corpus()
        entries: list[tuple[dt.date, str, Any]] = []
        for doc in docs:
            if doc.channel not in by_key:
                raise corpus_mod.CorpusError(f"{doc.key}: channel {doc.channel} is not in channels.yaml")
            entries.append((doc.published, f"doc:{doc.key}", doc))
        for ch in channels:
            for i, (day, text) in enumerate(channel_notices(ch.key, ch.department or "")):
                entries.append((day, f"notice:{ch.key}:{i:03d}", text))
        ids = _notice_ids([(day, key) for day, key, _ in entries])
        notices = []
        for day, key, obj in entries:
            if isinstance(obj, corpus_mod.PlanDoc):
                notices.append(_doc_notice(obj, by_key[obj.channel], ids[key]))
            else:
                ch = by_key[key.split(":")[1]]
                notices.append(Notice(notice_id=ids[key], channel=ch, title=obj.title, published=day,
                                      doc_type="notice", synthetic=True, body=obj.body, source=ch.department,
                                      category=obj.category, modified=_modified(day)))
        return cls(channels, notices, extra_links_channel="bgt-gzxx")

    @classmethod
    def _build_scaled(cls, scale: SiteScale) -> Site:
        channels = []
        for i in range(scale.channels):
            d = DEPARTMENTS[i % len(DEPARTMENTS)]
            column = f"gkml/c{i:03d}"
            channels.append(Channel(key=f"{d.code}-c{i:03d}", department_code=d.code, column=column,
                                    list_path=f"/zwgk/xxgk/{d.code}/{column}/", department=d.name,
                                    kind="notices"))
        start = dt.date(2020, 1, 1)
        notices = []
        for i in range(scale.notices):
            ch = channels[i % len(channels)]
            day = start + dt.timedelta(days=i * 1461 // max(scale.notices, 1))
            topic = i % 97
            body = [f"为做好第{topic}项重点工作，{ch.department}现就有关事项通知如下。",
                    f"一、工作目标。到{day.year}年底完成年度任务，编号{i}。",
                    "二、工作要求。各单位要加强组织领导，确保各项工作落到实处。",
                    f"{ch.department}", f"{day.year}年{day.month}月{day.day}日"]
            notices.append(Notice(notice_id=1_000_000 + i, channel=ch, title=f"{ch.department}关于第{topic}项重点工作的通知（{i}）",
                                  published=day, doc_type="notice", synthetic=True, body=body, source=ch.department,
                                  category="通知公告", modified=_modified(day)))
        return cls(channels, notices)

    def _add(self, n: Notice) -> None:
        if n.notice_id in self._notices:
            raise ValueError(f"duplicate notice id {n.notice_id}")
        if n.path in self._by_path:
            raise ValueError(f"duplicate path {n.path}")
        self._notices[n.notice_id] = n
        self._by_path[n.path] = n
        self._by_channel[n.channel.key].append(n)

    # ----------------------------------------------------------------- reads
    def channel(self, key: str) -> Channel:
        try:
            return self._channel_by_key[key]
        except KeyError:
            raise KeyError(f"unknown channel {key!r}; known: {', '.join(self._channel_by_key)}") from None

    def notice(self, notice_id: int) -> Notice:
        with self._lock:
            try:
                return self._notices[notice_id]
            except KeyError:
                raise KeyError(f"unknown notice id {notice_id}") from None

    def notices(self, channel_key: str | None = None) -> list[Notice]:
        """Notices newest first (one channel, or all)."""
        with self._lock:
            if channel_key is not None:
                return list(self._by_channel[self.channel(channel_key).key])
            return sorted(self._notices.values(), key=lambda n: (n.published, n.notice_id), reverse=True)

    def notice_by_doc_key(self, doc_key: str) -> Notice:
        with self._lock:
            for n in self._notices.values():
                if n.doc_key == doc_key:
                    return n
        raise KeyError(f"no notice renders corpus document {doc_key!r}")

    def list_page_count(self, channel_key: str) -> int:
        with self._lock:
            return max(1, -(-len(self._by_channel[channel_key]) // PAGE_SIZE))

    def list_url_path(self, channel_key: str, index: int = 0) -> str:
        base = self.channel(channel_key).list_path
        return f"{base}index.shtml" if index == 0 else f"{base}index_{index}.shtml"

    def list_page(self, channel_key: str, index: int) -> Page | None:
        with self._lock:
            pages = self.list_page_count(channel_key)
            if not 0 <= index < pages:
                return None
            cached = self._list_cache.get((channel_key, index))
            if cached is not None:
                return cached
            all_notices = self._by_channel[channel_key]
            chunk = all_notices[index * PAGE_SIZE:(index + 1) * PAGE_SIZE]
            text = render_list(self.channel(channel_key), chunk, index, pages,
                               extra_links=index == 0 and channel_key == self.extra_links_channel)
            body = text.encode("utf-8")
            newest = max((n.modified for n in all_notices), default=dt.datetime(2021, 1, 1, tzinfo=dt.UTC))
            page = Page(body=body, content_type="text/html; charset=utf-8", charset="utf-8",
                        etag=f'"{hashlib.sha1(body).hexdigest()[:16]}"', last_modified=newest, kind="list")
            self._list_cache[(channel_key, index)] = page
            return page

    def resolve(self, path: str) -> Page | None:
        """The page served at ``path`` (no query string), or None for 404."""
        with self._lock:
            n = self._by_path.get(path)
            if n is not None:
                return n.page()
            for ch in self.channels:
                if not path.startswith(ch.list_path):
                    continue
                rest = path[len(ch.list_path):]
                if rest in ("", "index.shtml"):
                    return self.list_page(ch.key, 0)
                if rest.startswith("index_") and rest.endswith(".shtml"):
                    num = rest[len("index_"):-len(".shtml")]
                    if num.isdigit() and not num.startswith("0"):
                        return self.list_page(ch.key, int(num))
            return None

    def ground_truth(self) -> list[dict[str, Any]]:
        """Every notice the site lists, newest first."""
        return [n.summary() for n in self.notices()]

    def channels_yaml(self) -> str:
        """The channel list in channels.yaml form (for a scaled site, whose channels differ)."""
        return yaml.safe_dump({"channels": [c.to_dict() for c in self.channels]}, allow_unicode=True,
                              sort_keys=False)

    # ----------------------------------------------------------------- mutations
    def publish(self, channel_key: str, n: int = 3, *, kind: str = "notice") -> list[Notice]:
        """Add ``n`` new notices at the top of a channel (newest ids and dates) and return them.

        ``kind`` "notice" adds non-plan notices, "plan" adds small synthetic work plans of the
        channel's department (for the next plan year), "mixed" alternates.
        """
        if kind not in ("notice", "plan", "mixed"):
            raise ValueError(f"kind must be notice, plan or mixed, not {kind!r}")
        if n < 1:
            raise ValueError("n must be at least 1")
        ch = self.channel(channel_key)
        with self._lock:
            newest_day = max(x.published for x in self._notices.values())
            next_id = max(self._notices) + 1
            added = []
            for i in range(n):
                day = newest_day + dt.timedelta(days=i + 1)
                as_plan = kind == "plan" or (kind == "mixed" and i % 2 == 1)
                if as_plan:
                    notice = _published_plan(ch, day, next_id + i)
                else:
                    text = published_notice(ch.department or "", day, next_id + i)
                    notice = Notice(notice_id=next_id + i, channel=ch, title=text.title, published=day,
                                    doc_type="notice", synthetic=True, body=text.body, source=ch.department,
                                    category=text.category, modified=_modified(day))
                self._add(notice)
                added.append(notice)
            self._by_channel[ch.key].sort(key=lambda x: (x.published, x.notice_id), reverse=True)
            self._list_cache = {k: v for k, v in self._list_cache.items() if k[0] != ch.key}
            return added

    def revise(self, notice_id: int, *, body: list[str] | None = None, title: str | None = None) -> Notice:
        """Change a notice's content in place (same URL and id; new ETag and Last-Modified).

        Without ``body`` a dated correction paragraph is appended, as the real site does.
        """
        with self._lock:
            n = self.notice(notice_id)
            n.version += 1
            n.modified = n.modified + dt.timedelta(days=1)
            if body is not None:
                if not any(line.strip() for line in body):
                    raise ValueError("a revised body needs at least one non-empty line")
                n.body = list(body)
            else:
                n.body = [*n.body, f"（{n.modified:%Y年%m月%d日}更正：本文第{n.version}版，部分表述已修订。）"]
            if title:
                n.title = title
                self._list_cache = {k: v for k, v in self._list_cache.items() if k[0] != n.channel.key}
            n._page = None
            return n


def _doc_notice(doc: corpus_mod.PlanDoc, channel: Channel, notice_id: int) -> Notice:
    source = None if "no_source" in doc.variants else doc.department
    pub_time = doc.meta.get("pubdate", "").split(" ")[-1] if doc.meta.get("pubdate") else "09:30"
    return Notice(
        notice_id=notice_id, channel=channel, title=doc.title, published=doc.published, doc_type=doc.doc_type,
        synthetic=doc.synthetic, body=list(doc.body), pub_time=pub_time,
        encoding="gb2312" if "gbk" in doc.variants else "utf-8", source=source, tnull="tnull" in doc.variants,
        offsite_links="offsite_links" in doc.variants, doc_key=doc.key, meta=dict(doc.meta),
        modified=_modified(doc.published, pub_time),
    )


def _published_plan(ch: Channel, day: dt.date, notice_id: int) -> Notice:
    """A small but well-formed work plan for ``Site.publish(kind="plan")``."""
    short = SHORT_NAMES.get(ch.department or "", (ch.department or "").removeprefix("青岛"))
    year = day.year + 1
    body = [f"　　{year}年，{short}将坚持稳中求进工作总基调，扎实推进各项重点工作。",
            "　　一、抓好重点任务落实",
            f"　　1.推进重点项目建设。全年实施重点项目{10 + notice_id % 7}个。（牵头单位：{short}）",
            "　　2.优化公共服务供给。新增服务网点5个，群众满意度保持在95%以上。",
            "　　二、加强自身建设",
            "　　1.加强队伍建设。开展业务培训12期。（责任单位：" + short + "）",
            ch.department or short, f"{day.year}年{day.month}月{day.day}日"]
    return Notice(notice_id=notice_id, channel=ch, title=f"{short}{year}年工作要点", published=day,
                  doc_type="work_plan", synthetic=True, body=body, source=ch.department, modified=_modified(day))
