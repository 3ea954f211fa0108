"""Synthetic non-plan notices (公告, 招聘, 会议通知, 通知公告) that must yield no plan items.

Generated deterministically (a fixed RNG per channel) so every run of the site serves the same
notices; they fill list pages so that pagination is exercised (bgt-gzxx spans 4 pages).
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from etl.records import Channel

# Notices per list (a channel key, or "<channel key>/<folder>" for an smhd department folder).
# bgt-gzxx needs 3+ list pages at 20 per page.
NOTICE_COUNTS: dict[str, int] = {
    "jyj-ghjh": 8, "kjj-gwfg": 6, "whly-gzxx": 8, "bgt-gzxx": 66, "fgw-bmgw": 14,
    "zdgk-jhmb": 4, "zdgk-jhwcqk": 2, "zdgk-szfgw": 3, "zdgk-szfgw-2022": 3, "zdgk-szfgw-2023": 3,
    "gaj-ghjh": 2, "zygh-ghjh": 3, "n172-zwgk": 6,
    "smhd-2022/nync_4471": 1, "smhd-2022/gaj_4468": 1, "smhd-2022/kjj_4475": 2,
    "smhd-2023/nync_5208": 1, "smhd-2023/gaj_5205": 3,
    "smhd-2024/nync_6135": 1, "smhd-2024/zygh_6139": 1, "smhd-2024/jyj_6128": 3,
}
# The department sub-folders of each smhd year that carry generated notices (plans add their own).
FOLDER_NOTICES: dict[str, tuple[str, ...]] = {
    "smhd-2022": ("nync_4471", "gaj_4468", "kjj_4475"),
    "smhd-2023": ("nync_5208", "gaj_5205"),
    "smhd-2024": ("nync_6135", "zygh_6139", "jyj_6128"),
}

FIRST_DAY = dt.date(2021, 1, 6)
LAST_DAY = dt.date(2024, 12, 20)


@dataclass(slots=True)
class NoticeText:
    title: str
    category: str  # 公告 | 招聘 | 会议通知 | 通知公告
    body: list[str]


_SHORT = {
    "青岛市教育局": "市教育局", "青岛市科学技术局": "市科技局", "青岛市文化和旅游局": "市文化和旅游局",
    "青岛市人民政府办公厅": "市政府办公厅", "青岛市发展和改革委员会": "市发展改革委",
    "青岛市农业农村局": "市农业农村局", "青岛市公安局": "市公安局", "青岛市自然资源和规划局": "市自然资源和规划局",
}
_TOPICS = ["政务服务", "安全生产", "营商环境", "数字政府", "乡村振兴", "海洋经济", "城市更新", "文明城市创建",
           "民生实事", "节能降碳", "双招双引", "科技创新", "文化惠民", "公共卫生", "政务公开", "信用体系建设"]
_POSTS = ["综合管理岗", "财务会计岗", "信息技术岗", "文秘岗", "专业技术岗"]
_PLACES = ["市政务服务中心", "市级机关会议中心", "市民健身中心会议室", "市行政中心"]


def _notice(rng: random.Random, department: str, year: int, serial: int) -> NoticeText:
    short = _SHORT.get(department, department.removeprefix("青岛"))
    topic = rng.choice(_TOPICS)
    kind = rng.choice(["公告", "招聘", "会议通知", "通知公告"])
    if kind == "招聘":
        n = rng.randint(3, 40)
        post = rng.choice(_POSTS)
        title = f"{department}所属事业单位{year}年公开招聘工作人员公告（第{serial}号）"
        body = [f"根据《事业单位公开招聘人员暂行规定》，经研究，{short}所属事业单位{year}年公开招聘工作人员{n}名，"
                f"岗位为{post}等。现将有关事项公告如下。",
                "一、招聘条件。具有中华人民共和国国籍，遵守宪法和法律，具有良好的品行和岗位所需的专业能力。",
                "二、报名方式。本次招聘采取网上报名方式，报名时间以网上公布为准。",
                "三、咨询电话：0532-8" + f"{rng.randint(1000000, 9999999)}" + "。"]
    elif kind == "会议通知":
        title = f"关于召开全市{topic}工作会议的通知"
        body = ["各区、市人民政府，市政府各部门，市直各单位：",
                f"经研究，定于{year}年{rng.randint(1, 12)}月{rng.randint(1, 28)}日上午9:00在{rng.choice(_PLACES)}"
                f"召开全市{topic}工作会议。现将有关事项通知如下。",
                "请各单位于会前两个工作日将参会人员名单报送会务组。",
                f"{short}", f"{year}年{rng.randint(1, 12)}月{rng.randint(1, 28)}日"]
    elif kind == "公告":
        title = f"{short}关于{topic}有关事项的公告"
        body = [f"为进一步做好{topic}工作，根据有关规定，现将有关事项公告如下。",
                f"自公告之日起，{short}将对{topic}相关事项开展集中公示，公示期为{rng.randint(5, 15)}个工作日。",
                "对公示内容如有异议，可在公示期内以书面形式反映。", "特此公告。"]
    else:
        title = f"关于做好{year}年{topic}有关工作的通知"
        body = [f"各有关单位：为深入推进{topic}，现就做好{year}年有关工作通知如下。",
                "一、提高思想认识。各单位要切实增强责任感和紧迫感。",
                "二、压实工作责任。主要负责同志要亲自部署、亲自推动。",
                "三、加强督导检查。对工作推进不力的单位予以通报。"]
    return NoticeText(title=title, category=kind, body=body)


def notice_days(channel: Channel) -> tuple[dt.date, dt.date]:
    """The dates a channel's notices fall between: its year for a year folder, 2016-2019 on the
    pre-2020 site, else 2021-2024."""
    last = channel.list_path.rstrip("/").rsplit("/", 1)[-1].removeprefix("smhd")
    if last.isdigit() and len(last) == 4:
        return dt.date(int(last), 1, 10), dt.date(int(last), 12, 20)
    if channel.list_path.startswith("/n172/"):
        return dt.date(2016, 3, 1), dt.date(2019, 12, 20)
    return FIRST_DAY, LAST_DAY


def channel_notices(list_key: str, department: str, count: int | None = None, *, first: dt.date = FIRST_DAY,
                    last: dt.date = LAST_DAY) -> list[tuple[dt.date, NoticeText]]:
    """``count`` dated notices for a list (a channel or an smhd folder), spread over ``first`` to
    ``last`` (deterministic)."""
    rng = random.Random(f"qdp-notices:{list_key}")
    count = NOTICE_COUNTS.get(list_key, 0) if count is None else count
    span = (last - first).days
    out = []
    for serial in range(1, count + 1):
        day = first + dt.timedelta(days=rng.randint(0, span))
        out.append((day, _notice(rng, department, day.year, serial)))
    return out


def published_notice(department: str, day: dt.date, serial: int) -> NoticeText:
    """A notice for ``Site.publish``: deterministic in (department, day, serial)."""
    return _notice(random.Random(f"qdp-publish:{department}:{day}:{serial}"), department, day.year, serial)
