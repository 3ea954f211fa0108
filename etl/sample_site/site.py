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
import functools
import hashlib
import html
import threading
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from etl.departments import DEPARTMENTS, department_for_code
from etl.records import Channel

from . import chrome, documents
from . import corpus as corpus_mod
from .notices import FOLDER_NOTICES, channel_notices, notice_days, published_notice

CHANNELS_FILE = Path(__file__).resolve().parent.parent / "crawl" / "channels.yaml"
PAGE_SIZE = 20
# Shorter list pages for the plan channels, so that walking several list pages is the normal case
# (the real columns run to dozens of pages). Keys: channel key, or "<channel key>/<folder>".
PAGE_SIZES: dict[str, int] = {
    "jyj-ghjh": 5, "kjj-gwfg": 6, "whly-gzxx": 6, "jtys-ghjh": 2, "sthj-ghjh": 2, "wjw-ghjh": 2,
    "zdgk-jhmb": 5, "zdgk-jhwcqk": 3, "zdgk-szfgw": 3, "zygh-ghjh": 3, "gaj-ghjh": 2, "n172-zwgk": 4,
    "smhd-2022/nync_4471": 2, "smhd-2023/gaj_5205": 2, "smhd-2024/jyj_6128": 2,
}
OLD_SITE_PREFIX = "/n172/"  # the pre-2020 site: .html lists paged index_2.html..., #Zoom2 bodies
# Sub-folders of the old site's article pages, by year (n<8 digits>).
OLD_SITE_FOLDERS = {2016: "n24627252", 2017: "n24627258", 2018: "n24627263", 2019: "n24627269"}
COLUMN_NAMES = {"ghjh": "规划计划", "gwfg": "公文法规", "gzxx": "工作信息", "bmgw": "部门文件",
                "jhmb": "计划目标", "jhwcqk": "计划完成情况", "szfgw": "市政府文件", "n24627255": "政务公开"}
SYNTHETIC_NOTE = "本页为青岛政务网样例站（qingdao-plans 项目）的合成文档，内容系虚构，仅供测试使用。"
OFFSITE_URL = "https://www.gov.cn/zhengce/content/2021-03/05/content_5590672.htm"
OLD_STYLE_PATH = "/n172/n24624151/n24627255/n24627269/210305093012345678.html"
SHORT_NAMES = {"青岛市教育局": "市教育局", "青岛市科学技术局": "市科技局", "青岛市文化和旅游局": "市文化和旅游局"}


def load_channel_config(path: Path = CHANNELS_FILE) -> list[Channel]:
    """The channels of one file (default: channels.yaml, what the crawler watches)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [Channel(**c) for c in data["channels"]]


def served_channel_config() -> list[Channel]:
    """Every channel the sample site serves: the channels the crawler watches (channels.yaml)."""
    return load_channel_config(CHANNELS_FILE)


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
    kind: str  # "list" | "detail" | "attachment"

    @property
    def last_modified_http(self) -> str:
        return _http_date(self.last_modified)


@dataclass(slots=True)
class Attachment:
    """A document file beside a detail page (``<page dir>/P0<YYYYMMDD><12 digits>.pdf|docx``)."""

    path: str
    title: str  # the link text without the extension, e.g. 青岛市财政局2024年工作要点
    kind: str  # "pdf" | "docx" | "scanned" (an image-only PDF)
    page: Page

    @property
    def filename(self) -> str:
        return self.path.rsplit("/", 1)[1]

    @property
    def link_text(self) -> str:
        return f"{self.title}.{self.filename.rsplit('.', 1)[1]}"

    @property
    def media_type(self) -> str:
        return documents.DOCX_MEDIA_TYPE if self.kind == "docx" else documents.PDF_MEDIA_TYPE


def make_attachment(page_path: str, day: dt.date, notice_id: int, doc: corpus_mod.PlanDoc,
                    modified: dt.datetime) -> Attachment:
    """Generate the file of an attachment-only plan (same bytes every run)."""
    ext = "docx" if doc.attachment == "docx" else "pdf"
    tail = f"{notice_id % 10**7:07d}{zlib.crc32(doc.key.encode()) % 10**5:05d}"
    path = f"{page_path.rsplit('/', 1)[0]}/P0{day:%Y%m%d}{tail}.{ext}"
    if doc.attachment == "docx":
        body = documents.make_docx(doc.file_lines)
    elif doc.attachment == "scanned":
        body = documents.make_scanned_pdf(doc.file_lines)
    else:
        body = documents.make_pdf(doc.file_lines, per_page=30, width=34)
    media = documents.DOCX_MEDIA_TYPE if ext == "docx" else documents.PDF_MEDIA_TYPE
    page = Page(body=body, content_type=media, charset="", etag=f'"{hashlib.sha1(body).hexdigest()[:16]}"',
                last_modified=modified, kind="attachment")
    return Attachment(path=path, title=doc.file_title, kind=doc.attachment or "pdf", page=page)


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
    folder: str | None = None  # smhd department sub-folder, e.g. "nync_5208"
    attachment: Attachment | None = None  # the file the page forwards (attachment-only plans)
    primary: bool = True  # False for the re-posting of a document published in another column
    _page: Page | None = None

    @property
    def old_site(self) -> bool:
        return self.channel.list_path.startswith(OLD_SITE_PREFIX)

    @property
    def list_dir(self) -> str:
        """The list the notice is listed on (the channel's, or its smhd sub-folder's)."""
        return self.channel.list_path + (f"{self.folder}/" if self.folder else "")

    @property
    def path(self) -> str:
        if self.old_site:
            return f"{self.channel.list_path}{OLD_SITE_FOLDERS[self.published.year]}/{self.notice_id}.html"
        if self.tnull:
            return f"{self.list_dir}tnull_{self.notice_id}.shtml"
        d = self.published
        return f"{self.list_dir}{d:%Y%m}/t{d:%Y%m%d}_{self.notice_id}.shtml"

    def summary(self) -> dict[str, Any]:
        return {"path": self.path, "notice_id": self.notice_id, "title": self.title,
                "date": self.published.isoformat(), "channel": self.channel.key, "doc_type": self.doc_type,
                "synthetic": self.synthetic, "doc_key": self.doc_key, "encoding": self.encoding,
                "version": self.version, "folder": self.folder,
                "attachment": self.attachment.path if self.attachment else None}

    def page(self) -> Page:
        if self._page is None:
            text = render_old_detail(self) if self.old_site else render_detail(self)
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
    parts = channel.column.strip("/").split("/")
    if parts[-1].startswith("smhd") and parts[-1][4:].isdigit():
        return f"{parts[-1][4:]}年“三民”活动"
    if parts[-1].isdigit() and len(parts) > 1:  # a year folder (szfgw/2023) keeps its column's name
        parts.pop()
    return COLUMN_NAMES.get(parts[-1], "政府信息公开")


def _department_name(channel: Channel, folder: str | None = None) -> str:
    if folder and (name := department_for_code(folder.split("_", 1)[0])):
        return name
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
    if n.attachment is not None:
        a = n.attachment
        parts.append(f'    <p class="fj">附件：<a href="./{a.filename}" title="{e(a.title)}" target="_blank">'
                     f"{e(a.link_text)}</a></p>\n")
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
    return "./" + n.path.removeprefix(n.list_dir)


def render_list(channel: Channel, notices: list[Notice], index: int, pages: int, extra_links: bool,
                folder: str | None = None) -> str:
    """A list page: the entries and the pager inside the shared page frame (etl/sample_site/chrome.py)."""
    entries = [(_list_href(n), n.title, n.published) for n in notices]
    return _render_entries(channel, entries, index, pages, extra_links, folder)


def render_folder_list(channel: Channel, folders: list[tuple[str, dt.date]]) -> str:
    """An smhd year page: one entry per department sub-folder (link text the department's name)."""
    entries = [(f"./{f}/index.shtml", _department_name(channel, f), newest) for f, newest in folders]
    return _render_entries(channel, entries, 0, 1, False, None)


def _render_entries(channel: Channel, entries: list[tuple[str, str, dt.date]], index: int, pages: int,
                    extra_links: bool, folder: str | None) -> str:
    e = html.escape
    column = _column_name(channel)
    dept = _department_name(channel, folder)
    out = [f'<div class="list-title">{e(column)}</div>\n<ul class="list-ul" id="listChangeDiv">\n']
    for href, title, day in entries:
        out.append(f'  <li><a href="{href}" title="{e(title)}" target="_blank">{e(title)}</a>'
                   f'<span class="date">{day.isoformat()}</span></li>\n')
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
    url_path = channel.list_path + (f"{folder}/" if folder else "") + (
        "index.shtml" if index == 0 else f"index_{index}.shtml")
    return chrome.render_page(
        charset="utf-8", meta=_national_meta("青岛政务网", e(column)), title=f"{column}_{dept}",
        url_path=url_path, keywords=f"{dept},{column}", description=f"{dept}{column}", column=column,
        channel=channel, department=dept, main="".join(out))


# ----------------------------------------------------------------- the pre-2020 site
# The old CMS (before the 2020 redesign) rendered plainer pages: a table layout, the body in
# div#Zoom2, an ``index.html`` list paged ``index_2.html``, ``index_3.html`` ... (1-based from 2),
# GBK-encoded. Old links still point there, so the pages are still served.

_OLD_STYLE = ("<style type=\"text/css\">body{font-size:12px;font-family:宋体}.title{font-size:20px;"
              "font-weight:bold;text-align:center}#Zoom2{font-size:14px;line-height:2}</style>\n")


def _old_frame(title: str, meta: str, main: str, charset: str) -> str:
    e = html.escape
    return "".join((
        '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN">\n<html><head>\n',
        f'<meta http-equiv="Content-Type" content="text/html; charset={charset}">\n', meta,
        f"<title>{e(title)}</title>\n", _OLD_STYLE, "</head>\n<body>\n",
        '<table width="1000" align="center" class="top"><tr><td><a href="/"><img src="/images/old/top.jpg" '
        'alt="青岛政务网"></a></td></tr><tr><td class="daohang"><a href="/">首页</a> | <a href="/zwgk/">政务公开</a>'
        ' | <a href="/zwfw/">网上办事</a> | <a href="/hdjl/">互动交流</a></td></tr></table>\n',
        main,
        '<table width="1000" align="center" class="bottom"><tr><td>主办：青岛市人民政府办公厅　'
        '承办：青岛市电子政务和信息资源管理办公室</td></tr></table>\n</body></html>\n'))


def render_old_detail(n: Notice) -> str:
    """A detail page of the pre-2020 site (``/n172/.../n<8 digits>/<18 digits>.html``)."""
    e = html.escape
    source = n.source or ""
    meta = _national_meta("青岛政务网", "政务公开", title=e(n.title),
                          pubdate=f"{n.published.isoformat()} {n.pub_time}", source=e(source) if source else None,
                          synthetic=n.synthetic)
    parts = ['<table width="1000" align="center" class="main"><tr><td>\n',
             f'<div class="location">当前位置：<a href="/">首页</a> &gt; <a href="{n.channel.list_path}index.html">'
             "政务公开</a></div>\n",
             f'<table width="900" align="center"><tr><td class="title">{e(n.title)}</td></tr>\n',
             f'<tr><td class="info">发布日期：{n.published.isoformat()}'
             + (f"　　来源：{e(source)}" if source else "") + "</td></tr>\n"]
    if n.synthetic:
        parts.append(f'<tr><td class="qdp-synthetic-note">{SYNTHETIC_NOTE}</td></tr>\n')
    parts.append('<tr><td><div id="Zoom2">\n')
    parts += [f"<p>{e(line)}</p>\n" for line in n.body]
    parts.append("</div></td></tr>\n")
    parts.append('<tr><td class="tools">【<a href="javascript:window.print()">打印本页</a>】'
                 '【<a href="javascript:window.close()">关闭窗口</a>】</td></tr></table>\n</td></tr></table>\n')
    return _old_frame(f"{n.title}_青岛政务网", meta, "".join(parts), n.encoding)


def render_old_list(channel: Channel, notices: list[Notice], index: int, pages: int) -> str:
    """A list page of the pre-2020 site: ``index.html``, then ``index_2.html`` ... (page numbers from 2)."""
    e = html.escape
    out = ['<table width="1000" align="center" class="main"><tr><td>\n<div class="lmtitle">政务公开</div>\n',
           '<div id="listChangeDiv">\n<ul>\n']
    for n in notices:
        out.append(f'<li><a href="{_list_href(n)}" title="{e(n.title)}" target="_blank">{e(n.title)}</a>'
                   f"<span>{n.published.isoformat()}</span></li>\n")
    out.append("</ul>\n</div>\n")

    def href(i: int) -> str:  # i is 0-based
        return "index.html" if i == 0 else f"index_{i + 1}.html"

    nav = [f"共{pages}页", f"当前第{index + 1}页"]
    if index > 0:
        nav += [f'<a href="{href(0)}">首页</a>', f'<a href="{href(index - 1)}">上一页</a>']
    if index < pages - 1:
        nav += [f'<a href="{href(index + 1)}">下一页</a>', f'<a href="{href(pages - 1)}">尾页</a>']
    out.append('<div class="fenye">' + " ".join(nav) + "</div>\n</td></tr></table>\n")
    return _old_frame("政务公开_青岛政务网", _national_meta("青岛政务网", "政务公开"), "".join(out), "utf-8")


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

    def __init__(self, channels: list[Channel], notices: list[Notice], *, extra_links_channel: str | None = None,
                 page_sizes: dict[str, int] | None = None):
        self.channels = list(channels)
        self._channel_by_key = {c.key: c for c in channels}
        self._lock = threading.RLock()
        self._notices: dict[int, Notice] = {}
        self._by_path: dict[str, Notice] = {}
        self._attachments: dict[str, Attachment] = {}
        # Notices per list: key "<channel key>" or "<channel key>/<folder>" (smhd sub-folders).
        self._by_list: dict[str, list[Notice]] = {c.key: [] for c in channels}
        self._folders: dict[str, set[str]] = {}
        self._list_cache: dict[tuple[str, int], Page] = {}
        self.page_sizes = dict(page_sizes or {})
        self.extra_links_channel = extra_links_channel
        for n in notices:
            self._add(n)
        for lst in self._by_list.values():
            lst.sort(key=lambda n: (n.published, n.notice_id), reverse=True)

    # ----------------------------------------------------------------- construction
    @classmethod
    def build(cls, scale: SiteScale | None = None, *, channels: Iterable[str] | None = None) -> Site:
        """The corpus site (every served channel, or only the channel keys in ``channels``), or a
        scaled synthetic one for benchmarks."""
        if scale is not None:
            if channels is not None:
                raise ValueError("a scaled site has its own channels")
            return cls._build_scaled(scale)
        return cls._build_corpus(channels)

    @classmethod
    def _build_corpus(cls, keys: Iterable[str] | None = None) -> Site:
        all_channels = served_channel_config()
        known = {c.key: c for c in all_channels}
        if keys is not None:
            keys = list(keys)
            if unknown := [k for k in keys if k not in known]:
                raise KeyError(f"unknown channel(s) {', '.join(unknown)}; known: {', '.join(known)}")
            channels = [c for c in all_channels if c.key in set(keys)]
        else:
            channels = all_channels
        by_key = {c.key: c for c in channels}
        docs = corpus_mod.load_corpus()
        # (day, entry key, what, channel key, folder): a document once per column it is posted in.
        entries: list[tuple[dt.date, str, Any, str, str | None]] = []
        for doc in docs:
            if doc.channel not in known:
                raise corpus_mod.CorpusError(f"{doc.key}: channel {doc.channel} is not a served channel")
            for i, (ch_key, day) in enumerate([(doc.channel, doc.published), *doc.also_posted]):
                if ch_key not in known:
                    raise corpus_mod.CorpusError(f"{doc.key}: channel {ch_key} is not a served channel")
                if ch_key in by_key:
                    entries.append((day, f"doc:{doc.key}:{i}", (doc, i), ch_key, doc.folder if i == 0 else None))
        for ch in channels:
            for folder, dept in _notice_lists(ch):
                list_key = ch.key + (f"/{folder}" if folder else "")
                first, last = notice_days(ch)
                for i, (day, text) in enumerate(channel_notices(list_key, dept, first=first, last=last)):
                    entries.append((day, f"notice:{list_key}:{i:03d}", text, ch.key, folder))
        new_site = [(day, key) for day, key, _, ch_key, _ in entries if not _old_site(by_key[ch_key])]
        ids = _notice_ids(new_site)
        notices = []
        for day, key, obj, ch_key, folder in entries:
            ch = by_key[ch_key]
            nid = _old_notice_id(day, key) if _old_site(ch) else ids[key]
            if isinstance(obj, tuple):
                doc, posting = obj
                notice = _doc_notice(doc, ch, nid, day, folder=folder, primary=posting == 0)
                if doc.attachment:
                    notice.attachment = make_attachment(notice.path, day, nid, doc, notice.modified)
            else:
                notice = Notice(notice_id=nid, channel=ch, title=obj.title, published=day, doc_type="notice",
                                synthetic=True, body=obj.body, source=_source(ch, folder), category=obj.category,
                                modified=_modified(day), folder=folder)
            if _old_site(ch):
                notice.encoding = "gb2312"  # the old CMS served GBK
            notices.append(notice)
        return cls(channels, notices, extra_links_channel="bgt-gzxx" if "bgt-gzxx" in by_key else None,
                   page_sizes=PAGE_SIZES)

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
        if n.attachment is not None:
            self._attachments[n.attachment.path] = n.attachment
        if n.folder:
            self._folders.setdefault(n.channel.key, set()).add(n.folder)
            self._by_list.setdefault(f"{n.channel.key}/{n.folder}", []).append(n)
        self._by_list[n.channel.key].append(n)

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
                return list(self._by_list[self.channel(channel_key).key])
            return sorted(self._notices.values(), key=lambda n: (n.published, n.notice_id), reverse=True)

    def notice_by_doc_key(self, doc_key: str) -> Notice:
        """The notice of a corpus document (its first posting when it was posted twice)."""
        with self._lock:
            for n in self._notices.values():
                if n.doc_key == doc_key and n.primary:
                    return n
        raise KeyError(f"no notice renders corpus document {doc_key!r}")

    def notices_by_doc_key(self, doc_key: str) -> list[Notice]:
        """Every posting of a corpus document, the first posting first."""
        with self._lock:
            found = [n for n in self._notices.values() if n.doc_key == doc_key]
        return sorted(found, key=lambda n: not n.primary)

    def attachments(self) -> list[Attachment]:
        with self._lock:
            return list(self._attachments.values())

    def folders(self, channel_key: str) -> list[str]:
        """The department sub-folders of a folder channel (smhd), sorted; empty for other channels."""
        with self._lock:
            return sorted(self._folders.get(self.channel(channel_key).key, ()))

    def _list_key(self, channel_key: str, folder: str | None) -> str:
        if folder is None:
            return self.channel(channel_key).key
        if folder not in self._folders.get(channel_key, ()):
            raise KeyError(f"channel {channel_key} has no folder {folder!r}")
        return f"{channel_key}/{folder}"

    def page_size(self, channel_key: str, folder: str | None = None) -> int:
        key = channel_key + (f"/{folder}" if folder else "")
        return self.page_sizes.get(key, PAGE_SIZE)

    def list_page_count(self, channel_key: str, folder: str | None = None) -> int:
        with self._lock:
            if folder is None and channel_key in self._folders:
                return 1  # the folder list of an smhd year
            size = self.page_size(channel_key, folder)
            return max(1, -(-len(self._by_list[self._list_key(channel_key, folder)]) // size))

    def list_url_path(self, channel_key: str, index: int = 0, folder: str | None = None) -> str:
        ch = self.channel(channel_key)
        base = ch.list_path + (f"{folder}/" if folder else "")
        if _old_site(ch):
            return f"{base}index.html" if index == 0 else f"{base}index_{index + 1}.html"
        return f"{base}index.shtml" if index == 0 else f"{base}index_{index}.shtml"

    def list_page(self, channel_key: str, index: int, folder: str | None = None) -> Page | None:
        """List page ``index`` (0-based) of a channel or of one of its sub-folders; None past the end."""
        with self._lock:
            list_key = self._list_key(channel_key, folder)
            pages = self.list_page_count(channel_key, folder)
            if not 0 <= index < pages:
                return None
            cached = self._list_cache.get((list_key, index))
            if cached is not None:
                return cached
            ch = self.channel(channel_key)
            all_notices = self._by_list[list_key]
            if folder is None and channel_key in self._folders:
                newest_in = {f: self._by_list[f"{channel_key}/{f}"][0].published for f in self.folders(channel_key)}
                text = render_folder_list(ch, sorted(newest_in.items(), key=lambda x: (x[1], x[0]), reverse=True))
            else:
                size = self.page_size(channel_key, folder)
                chunk = all_notices[index * size:(index + 1) * size]
                if _old_site(ch):
                    text = render_old_list(ch, chunk, index, pages)
                else:
                    text = render_list(ch, chunk, index, pages, folder=folder,
                                       extra_links=index == 0 and channel_key == self.extra_links_channel)
            body = text.encode("utf-8")
            newest = max((n.modified for n in all_notices), default=dt.datetime(2021, 1, 1, tzinfo=dt.UTC))
            page = Page(body=body, content_type="text/html; charset=utf-8", charset="utf-8",
                        etag=f'"{hashlib.sha1(body).hexdigest()[:16]}"', last_modified=newest, kind="list")
            self._list_cache[(list_key, index)] = page
            return page

    def resolve(self, path: str) -> Page | None:
        """The page (or attachment) served at ``path`` (no query string), or None for 404."""
        with self._lock:
            n = self._by_path.get(path)
            if n is not None:
                return n.page()
            a = self._attachments.get(path)
            if a is not None:
                return a.page
            for ch in self.channels:
                if not path.startswith(ch.list_path):
                    continue
                rest, folder = path[len(ch.list_path):], None
                if ch.key in self._folders and "/" in rest:
                    folder, _, rest = rest.partition("/")
                    if folder not in self._folders[ch.key]:
                        continue
                index = _list_index(rest, old=_old_site(ch))
                if index is not None:
                    return self.list_page(ch.key, index, folder)
            return None

    def ground_truth(self) -> list[dict[str, Any]]:
        """Every notice the site lists, newest first."""
        return [n.summary() for n in self.notices()]

    def locations(self) -> dict[str, dict[str, Any]]:
        """Where each served corpus document lives: its URLs (first posting first) and attachment."""
        out: dict[str, dict[str, Any]] = {}
        with self._lock:
            keys = sorted({n.doc_key for n in self._notices.values() if n.doc_key})
        for key in keys:
            postings = self.notices_by_doc_key(key)
            a = postings[0].attachment
            out[key] = {"urls": [n.path for n in postings],
                        "attachment": None if a is None else {
                            "url": a.path, "filename": a.filename, "media_type": a.media_type,
                            "content": "scanned" if a.kind == "scanned" else "text"}}
        return out

    def loaded_notice_ids(self) -> set[int]:
        """Ids of the notices a clean run leaves current in the warehouse: every listed notice except
        the later postings of a document posted twice (folded into the posting with the lowest id)
        and plans whose only text is a scanned attachment (held back by validation, not loaded as a
        plan without items)."""
        ids = {n.notice_id for n in self.notices()}
        for key, where in self.locations().items():
            postings = sorted(n.notice_id for n in self.notices_by_doc_key(key))
            ids.difference_update(postings[1:])
            if where["attachment"] is not None and where["attachment"]["content"] == "scanned":
                ids.difference_update(postings)
        return ids

    def corpus_truth(self) -> dict[str, Any]:
        """The corpus ground truth restricted to what this site serves (all of it for the full site)."""
        truth = corpus_mod.derive_ground_truth()
        served = self.locations()
        docs = []
        for d in truth["documents"]:
            if d["key"] in served:
                docs.append({**d, **served[d["key"]]})
        return {"documents": docs, "double_posted": [d["urls"] for d in docs if len(d["urls"]) > 1]}

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
        if _old_site(ch):
            raise ValueError(f"{channel_key} is the pre-2020 site: nothing is published there any more")
        with self._lock:
            newest_day = max(x.published for x in self._notices.values())
            next_id = max(i for i in self._notices if i < 10**8) + 1  # old-site ids have 18 digits
            folders = self.folders(ch.key)
            folder = folders[0] if folders else None  # an smhd year: into its first department folder
            added = []
            for i in range(n):
                day = newest_day + dt.timedelta(days=i + 1)
                as_plan = kind == "plan" or (kind == "mixed" and i % 2 == 1)
                source = _source(ch, folder)
                if as_plan:
                    notice = _published_plan(ch, day, next_id + i, source)
                else:
                    text = published_notice(source, day, next_id + i)
                    notice = Notice(notice_id=next_id + i, channel=ch, title=text.title, published=day,
                                    doc_type="notice", synthetic=True, body=text.body, source=source,
                                    category=text.category, modified=_modified(day))
                notice.folder = folder
                self._add(notice)
                added.append(notice)
            for key, lst in self._by_list.items():
                if key.split("/", 1)[0] == ch.key:
                    lst.sort(key=lambda x: (x.published, x.notice_id), reverse=True)
            self._drop_cached_lists(ch.key)
            return added

    def _drop_cached_lists(self, channel_key: str) -> None:
        self._list_cache = {k: v for k, v in self._list_cache.items() if k[0].split("/", 1)[0] != channel_key}

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
                self._drop_cached_lists(n.channel.key)
            n._page = None
            return n


def _doc_notice(doc: corpus_mod.PlanDoc, channel: Channel, notice_id: int, day: dt.date | None = None, *,
                folder: str | None = None, primary: bool = True) -> Notice:
    source = None if "no_source" in doc.variants else doc.department
    pub_time = doc.meta.get("pubdate", "").split(" ")[-1] if doc.meta.get("pubdate") else "09:30"
    day = day or doc.published
    return Notice(
        notice_id=notice_id, channel=channel, title=doc.title, published=day, doc_type=doc.doc_type,
        synthetic=doc.synthetic, body=list(doc.body), pub_time=pub_time,
        encoding="gb2312" if "gbk" in doc.variants else "utf-8", source=source, tnull="tnull" in doc.variants,
        offsite_links="offsite_links" in doc.variants, doc_key=doc.key, meta=dict(doc.meta),
        modified=_modified(day, pub_time), folder=folder, primary=primary,
    )


# Who writes the ordinary notices of the municipal trees (they carry no department of their own).
MUNICIPAL_SOURCE = "青岛市人民政府办公厅"


def _notice_lists(ch: Channel) -> list[tuple[str | None, str]]:
    """(folder, department) of every list of a channel that carries generated notices."""
    if ch.key in FOLDER_NOTICES:
        return [(f, department_for_code(f.split("_", 1)[0]) or MUNICIPAL_SOURCE) for f in FOLDER_NOTICES[ch.key]]
    return [(None, ch.department or MUNICIPAL_SOURCE)]


def _source(ch: Channel, folder: str | None) -> str:
    if folder and (name := department_for_code(folder.split("_", 1)[0])):
        return name
    return ch.department or MUNICIPAL_SOURCE


def _old_site(ch: Channel) -> bool:
    return ch.list_path.startswith(OLD_SITE_PREFIX)


def _old_notice_id(day: dt.date, key: str) -> int:
    """The old CMS's 18-digit ids: YYMMDDhhmm and 8 digits (deterministic in the entry key)."""
    return int(f"{day:%y%m%d}0930{zlib.crc32(key.encode()) % 10**8:08d}")


def _list_index(rest: str, *, old: bool) -> int | None:
    """0-based list page index of a list file name (``""``, ``index.shtml``, ``index_3.shtml``; on
    the old site ``index.html``, ``index_2.html`` ... where index_2 is the second page)."""
    ext = ".html" if old else ".shtml"
    if rest in ("", "index" + ext):
        return 0
    if rest.startswith("index_") and rest.endswith(ext):
        num = rest[len("index_"):-len(ext)]
        if num.isdigit() and not num.startswith("0"):
            index = int(num) - 1 if old else int(num)
            return index if index > 0 else None
    return None


@functools.cache
def served_locations() -> dict[str, dict[str, Any]]:
    """Where the full site serves each corpus document (for the ground truth; built once)."""
    return Site.build().locations()


def _published_plan(ch: Channel, day: dt.date, notice_id: int, department: str | None = None) -> Notice:
    """A small but well-formed work plan for ``Site.publish(kind="plan")``."""
    department = department or ch.department
    short = SHORT_NAMES.get(department or "", (department or "").removeprefix("青岛"))
    year = day.year + 1
    body = [f"　　{year}年，{short}将坚持稳中求进工作总基调，扎实推进各项重点工作。",
            "　　一、抓好重点任务落实",
            f"　　1.推进重点项目建设。全年实施重点项目{10 + notice_id % 7}个。（牵头单位：{short}）",
            "　　2.优化公共服务供给。新增服务网点5个，群众满意度保持在95%以上。",
            "　　二、加强自身建设",
            "　　1.加强队伍建设。开展业务培训12期。（责任单位：" + short + "）",
            department or short, f"{day.year}年{day.month}月{day.day}日"]
    return Notice(notice_id=notice_id, channel=ch, title=f"{short}{year}年工作要点", published=day,
                  doc_type="work_plan", synthetic=True, body=body, source=department, modified=_modified(day))
