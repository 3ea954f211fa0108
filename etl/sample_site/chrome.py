"""The page frame ("chrome") shared by the sample site's detail and list pages.

Why it exists: real pages of www.qingdao.gov.cn (TRS CMS, national 政府网站发展指引 layout) carry
about 10 KB of furniture around the content — extra meta tags, stylesheets and scripts, a top bar
(无障碍浏览, 长者模式, 简体/繁體, 登录 …), logo and search form, a two-level main navigation, a
breadcrumb, share buttons, 上一篇/下一篇, a 相关阅读 box, a side column and a footer with 相关链接
drop-downs and filing badges. A detail page of the seed is about 22 KB as served. Without that
weight the crawler, the parser and the parse benchmark would be tested on pages five times
lighter and far simpler than the ones they meet.

Rules the frame keeps (tests depend on them):

- The crawler must ignore it: every link is root-relative (a www.qingdao.gov.cn path) or a
  ``javascript:`` switch; none looks like a detail page (``t<YYYYMMDD>_<id>.shtml``,
  ``tnull_<id>.shtml``), none points into a configured channel list, no ``<a>`` reads 下一页 and
  the ``createPageHTML`` helper stub holds no numeric call the pager regex could take.
- The parser must still find the content among it: no ``<h1>`` (the logo is an ``<img>`` in an
  ``<a>``), no second ``<title>``, none of the container or header classes/ids (``zoom``,
  ``TRS_Editor``, ``Zoom2``, ``article-content``, ``article-title``, ``article-info``), and the
  extra meta tags come after the national ones and never repeat their names.
- Deterministic: it depends on the page's channel, path and notice id only, never on the rest of
  the site (so publishing a notice does not change the ETag of older pages) nor on time.
- GBK-safe: only characters GBK has (no ©, •, »), since some pages are served in GBK.
"""

from __future__ import annotations

import html

from etl.departments import DEPARTMENTS
from etl.records import Channel

# The debris line real captures start with; the parser and its tests know it. Keep it verbatim.
HEADER_NAV = '<div class="header-nav">导航 首页 政务公开 我要收藏 取消收藏</div>\n'
SITE_ID_CODE = "3702000001"

_STYLE = """<style type="text/css">
body{margin:0;font:14px/1.8 "Microsoft YaHei",SimSun,sans-serif;color:#333;background:#f5f5f5}
a{color:#333;text-decoration:none}ul,li{margin:0;padding:0;list-style:none}.w1200{width:1200px;margin:0 auto}
.topbar{height:36px;line-height:36px;background:#f0f0f0;font-size:12px}.topbar .fr{float:right}
.header{height:130px;background:#1e60b0}.header .logo{float:left}.header .search{float:right;padding-top:42px}
.nav{background:#0f4c9a;height:48px}.nav li{float:left;position:relative;width:150px;text-align:center}
.nav .sub{display:none;position:absolute;top:48px;background:#fff}.nav li:hover .sub{display:block}
.main-left{float:left;width:880px;background:#fff;padding:30px 40px}.main-side{float:right;width:300px}
.side-title{font-weight:bold;border-bottom:2px solid #1e60b0}.footer{background:#1e60b0;color:#fff;text-align:center}
</style>
"""

# TRS list pager. A stub with the real helper's signature (list pages call it with numbers inside
# div.page); it must never contain such a numeric call itself.
_PAGER_SCRIPT = """<script type="text/javascript">
function createPageHTML(_nPageCount, _nCurrIndex, _sPageName, _sPageExt) {
  if (_nPageCount == null || _nPageCount <= 1) { return; }
  for (var i = 0; i < _nPageCount; i++) {
    var href = i == 0 ? _sPageName + "." + _sPageExt : _sPageName + "_" + i + "." + _sPageExt;
    document.write(i == _nCurrIndex ? "<span class=\\"current\\">" + (i + 1) + "</span> "
                                    : "<a href=\\"" + href + "\\">" + (i + 1) + "</a> ");
  }
}
</script>
"""

# Site statistics (the 政府网站 analytics snippet, served from the site itself here).
_ANALYTICS_SCRIPT = """<script type="text/javascript">
var _maq = _maq || [];
_maq.push(['_setAccount', '""" + SITE_ID_CODE + """']);
(function () {
  var ma = document.createElement('script'); ma.type = 'text/javascript'; ma.async = true;
  ma.src = '/common/js/ma.js';
  var s = document.getElementsByTagName('script')[0]; s.parentNode.insertBefore(ma, s);
})();
</script>
"""

_HEAD_ASSETS = """<link rel="stylesheet" type="text/css" href="/common/css/common.css">
<link rel="stylesheet" type="text/css" href="/images/css/xxgk.css">
<script type="text/javascript" src="/common/js/jquery-1.11.3.min.js"></script>
<script type="text/javascript" src="/common/js/common.js"></script>
"""

_TOPBAR = """<div class="topbar"><div class="w1200 clearfix">
  <span class="welcome">欢迎访问青岛政务网！</span>
  <span class="fr"><a href="javascript:void(0)" id="toolbarBtn">无障碍浏览</a>|<a href="javascript:void(0)" id="elderBtn">长者模式</a>|<a href="javascript:void(0)" id="jtBtn" class="on">简体</a>/<a href="javascript:void(0)" id="ftBtn">繁體</a>|<a href="/zwfw/user/login/">登录</a>|<a href="/zwfw/user/register/">注册</a>|<a href="/m/">手机版</a>|<a href="javascript:void(0)" class="top-wx">微信</a>|<a href="javascript:void(0)" class="top-wb">微博</a></span>
</div></div>
"""

_HEADER = """<div class="header"><div class="w1200 clearfix">
  <div class="logo"><a href="/" title="青岛政务网"><img src="/images/logo.png" alt="青岛政务网" width="460" height="70"></a></div>
  <div class="search">
    <form name="searchform" action="/search/" method="get" target="_blank">
      <select name="scope" class="search-scope"><option value="all" selected>全站</option><option value="zwgk">政务公开</option><option value="zcwj">政策文件</option><option value="zwfw">办事服务</option></select>
      <input type="text" name="q" class="search-input" placeholder="请输入您要搜索的内容" autocomplete="off">
      <input type="submit" class="search-btn" value="搜索">
    </form>
  </div>
</div></div>
"""

# Main navigation: (title, path, [(title, path), ...]).
_NAV: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...] = (
    ("首页", "/", ()),
    ("要闻动态", "/ywdt/", (("青岛要闻", "/ywdt/qdyw/"), ("区市动态", "/ywdt/qsdt/"),
                            ("通知公告", "/ywdt/tzgg/"))),
    ("政务公开", "/zwgk/", (("政府信息公开", "/zwgk/xxgk/"), ("政策文件", "/zwgk/zcwj/"), ("政策解读", "/zwgk/zcjd/"),
                            ("重点领域信息", "/zwgk/zdly/"), ("政府会议", "/zwgk/zfhy/"))),
    ("政务服务", "/zwfw/", (("个人服务", "/zwfw/grfw/"), ("法人服务", "/zwfw/frfw/"), ("便民服务", "/zwfw/bianmin/"))),
    ("互动交流", "/hdjl/", (("市长信箱", "/hdjl/szxx/"), ("12345热线", "/hdjl/12345/"), ("意见征集", "/hdjl/yjzj/"))),
    ("走进青岛", "/zjqd/", (("青岛概况", "/zjqd/qdgk/"), ("行政区划", "/zjqd/xzqh/"))),
    ("专题专栏", "/ztzl/", (("优化营商环境", "/ztzl/yhyshj/"), ("乡村振兴", "/ztzl/xczx/"))),
    ("数据开放", "/sjkf/", (("数据目录", "/sjkf/sjml/"), ("开放成果", "/sjkf/kfcg/"))),
)


def _nav() -> str:
    out = ['<div class="nav"><div class="w1200"><ul class="clearfix">\n']
    for title, path, subs in _NAV:
        cls = ' class="nav-home"' if path == "/" else ""
        out.append(f'  <li{cls}><a href="{path}">{title}</a>')
        if subs:
            out.append('<div class="sub">' + "".join(f'<a href="{p}">{t}</a>' for t, p in subs) + "</div>")
        out.append("</li>\n")
    out.append("</ul></div></div>\n")
    return "".join(out)


_NAV_HTML = _nav()

# Footer 相关链接. Option values are pages of this site (a 外链 jump page for other hosts), never
# another host and never a detail page.
_STATE_COUNCIL = ("外交部", "国家发展和改革委员会", "教育部", "科学技术部", "财政部", "商务部")
_PROVINCES = ("北京", "天津", "上海", "江苏", "浙江", "广东")
# 市直部门网站: the bureaus' own disclosure pages on this site (a department page, not a column).
_CITY_BUREAUS = ("fgw", "jyj", "kjj", "gyxx", "mzj", "czj", "hrss", "zygh", "sthj", "whly", "wjw")
_DISTRICTS = ("市南区", "市北区", "李沧区", "崂山区", "城阳区", "黄岛区", "即墨区", "胶州市", "平度市", "莱西市")


def _select(label: str, options: list[tuple[str, str]]) -> str:
    opts = "".join(f'<option value="{v}">{t}</option>' for t, v in options)
    return f'<select><option value="" selected>{label}</option>{opts}</select>\n'


# The 鲁公网安备 number is a placeholder; ICP number and 网站标识码 are the real site's.
_FOOTER_HTML = (
    '<div class="footer-links"><div class="w1200"><span class="fl-title">相关链接</span>\n'
    + _select("国务院部门网站", [(t, f"/wlts/?to=gwy{i:02d}") for i, t in enumerate(_STATE_COUNCIL, 1)])
    + _select("各省区市政府网站", [(t, f"/wlts/?to=sf{i:02d}") for i, t in enumerate(_PROVINCES, 1)])
    + _select("市直部门网站", [(d.name.removeprefix("青岛"), f"/zwgk/xxgk/{d.code}/") for d in DEPARTMENTS
                                 if d.code in _CITY_BUREAUS])
    + _select("区市政府网站", [(t, f"/wlts/?to=qs{i:02d}") for i, t in enumerate(_DISTRICTS, 1)])
    + "</div></div>\n"
    + """<div class="footer"><div class="w1200">
  <div class="footer-nav"><a href="/wzdt/">网站地图</a> | <a href="/lxwm/">联系我们</a> | <a href="/gybw/">关于本网</a></div>
  <p>主办：青岛市人民政府办公厅　承办：青岛市大数据发展管理局　版权所有</p>
  <p>网站标识码""" + SITE_ID_CODE + """　<a href="/ba/icp/">鲁ICP备05042519号</a>　<img src="/images/gaba.png" alt=""><a href="/ba/gaba/">鲁公网安备 37020202000000号</a></p>
  <div class="footer-badges"><span id="_ideConac"><a href="/ba/dzjg/"><img src="/images/dzjg.png" alt="党政机关"></a></span><span id="_jiucuo_" sitecode=\"""" + SITE_ID_CODE + """\"><script type="text/javascript" src="/common/js/jiucuo.js"></script><a href="/ba/jiucuo/"><img src="/images/jiucuo.png" alt="政府网站找错"></a></span></div>
</div></div>
<script type="text/javascript">
$(function () { $(".footer-links select").change(function () { if (this.value) { window.open(this.value); } });
  $("#elderBtn").click(function () { $("body").toggleClass("elder-mode"); }); });
</script>
"""
)

# 相关阅读 / 上一篇 / 下一篇 titles: fixed, picked by notice id so a page never depends on the
# rest of the site (publishing a notice must not change older pages' ETags). Links go to
# section pages, never to detail pages.
_RELATED: tuple[tuple[str, str], ...] = (
    ("关于做好政府信息公开工作年度报告编制发布工作的通知", "/zwgk/xxgk/"),
    ("关于开展政府网站与政务新媒体季度检查工作的通知", "/ywdt/tzgg/"),
    ("优化营商环境政策问答汇编", "/ztzl/yhyshj/"),
    ("一图读懂政府工作报告", "/zwgk/zcjd/"),
    ("政务服务事项“一网通办”工作方案解读", "/zwfw/"),
    ("市政府常务会议研究部署近期重点工作", "/zwgk/zfhy/"),
    ("关于公开征集民生实事项目意见建议的公告", "/hdjl/yjzj/"),
    ("12345政务服务便民热线受理情况通报", "/hdjl/12345/"),
    ("市级财政预算执行情况公开", "/zwgk/czyjs/"),
    ("重点领域信息公开目录", "/zwgk/zdly/"),
)

_DEPT_LINKS = (("机构职能", "jgzn"), ("领导信息", "ldxx"), ("政府信息公开指南", "zfxxgkzn"),
               ("依申请公开", "ysqgk"))


def short_department(name: str) -> str:
    return "市" + name.removeprefix("青岛市") if name.startswith("青岛市") else name


def _breadcrumb(channel: Channel | None, column: str, dept: str) -> str:
    e = html.escape
    crumbs = ['<a href="/">首页</a>', '<a href="/zwgk/">政务公开</a>', '<a href="/zwgk/xxgk/">部门信息公开</a>']
    if channel is not None:
        crumbs.append(f'<a href="/zwgk/xxgk/{e(channel.department_code)}/">{e(short_department(dept))}</a>')
        crumbs.append(f'<a href="{e(channel.list_path)}" class="CurrChnlCls">{e(column)}</a>')
    return '<div class="location w1200">当前位置：' + " &gt; ".join(crumbs) + "</div>\n"


def _side(channel: Channel | None, dept: str) -> str:
    e = html.escape
    out = ['<div class="main-side">\n']
    if channel is not None:
        code = e(channel.department_code)
        out.append(f'  <div class="side-box side-dept"><div class="side-title">{e(short_department(dept))}</div><ul>')
        out.append("".join(f'<li><a href="/zwgk/xxgk/{code}/{p}/">{t}</a></li>' for t, p in _DEPT_LINKS))
        out.append("</ul></div>\n")
    out.append('  <div class="side-box side-zt"><div class="side-title">专题专栏</div>'
               '<a href="/ztzl/yhyshj/"><img src="/images/zt_yhyshj.jpg" alt="优化营商环境"></a>'
               '<a href="/ztzl/szsy/"><img src="/images/zt_szsy.jpg" alt="双招双引"></a>'
               '</div>\n')
    out.append("</div>\n")
    return "".join(out)


def article_extras(notice_id: int) -> str:
    """Share buttons, 上一篇/下一篇 and the 相关阅读 box placed after a detail page's article."""
    k = len(_RELATED)
    prev_t, prev_p = _RELATED[notice_id % k]
    next_t, next_p = _RELATED[(notice_id + 1) % k]
    related = [_RELATED[(notice_id + 2 + i) % k] for i in range(3)]
    return (
        '<div class="article-share">分享到：<a href="javascript:void(0)" class="share-wx">微信</a>'
        '<a href="javascript:void(0)" class="share-wb">微博</a>'
        '<a href="javascript:void(0)" class="share-qzone">QQ空间</a></div>\n'
        '<div class="article-prenext">'
        f'<p class="prev">上一篇：<a href="{prev_p}">{prev_t}</a></p>'
        f'<p class="next">下一篇：<a href="{next_p}">{next_t}</a></p></div>\n'
        '<div class="related-read"><div class="side-title">相关阅读</div><ul>'
        + "".join(f'<li><a href="{p}" target="_blank">{t}</a></li>' for t, p in related)
        + "</ul></div>\n"
    )


def render_page(*, charset: str, meta: str, title: str, url_path: str, keywords: str, description: str,
                column: str, channel: Channel | None, department: str, main: str,
                doc_id: int | None = None) -> str:
    """A whole page: ``meta`` (the national meta tags, one per line, emitted verbatim right after
    ``<meta charset>``), ``<title>``, the frame, and ``main`` (the article or the list) in the
    left column. ``title``, ``keywords``, ``description`` and ``column`` are escaped here."""
    e = html.escape
    counter = f' data-docid="{doc_id}"' if doc_id is not None else ""
    return "".join((
        '<!DOCTYPE html>\n<html lang="zh-CN"><head>\n',
        f'<meta charset="{charset}">\n',
        meta,
        f"<title>{e(title)}</title>\n",
        f'<meta name="SiteIDCode" content="{SITE_ID_CODE}">\n',
        f'<meta name="ColumnType" content="政府信息公开">\n<meta name="ColumnDescription" content="{e(department + column)}">\n',
        f'<meta name="Keywords" content="{e(keywords)}">\n<meta name="Description" content="{e(description)}">\n',
        f'<meta name="Url" content="https://www.qingdao.gov.cn{e(url_path)}">\n',
        '<meta http-equiv="X-UA-Compatible" content="IE=edge,chrome=1">\n',
        _HEAD_ASSETS,
        f'<script type="text/javascript" src="/common/js/visit-counter.js" data-site="qdzwfw"{counter}></script>\n',
        _STYLE, _PAGER_SCRIPT, _ANALYTICS_SCRIPT,
        "</head>\n<body>\n",
        HEADER_NAV, _TOPBAR, _HEADER, _NAV_HTML,
        _breadcrumb(channel, column, department),
        '<div class="main-wrap w1200 clearfix">\n<div class="main-left">\n',
        main,
        "</div>\n",
        _side(channel, department),
        "</div>\n",
        _FOOTER_HTML,
        "</body></html>\n",
    ))
