"""New-notice alerts go out once, through Apprise, to a real (local) HTTP endpoint."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from etl.alert import alert_new_notices, format_alert
from etl.records import NoticeRecord, ParsedNotice, PlanItem
from etl.settings import Settings


def _record(nid: int, title: str, doc_type: str = "work_plan") -> NoticeRecord:
    items = [PlanItem(1, 1, "1.", "推动发展。", "推动发展。")] if doc_type == "work_plan" else []
    parsed = ParsedNotice(title, dt.date(2024, 3, nid), "青岛市教育局", doc_type, 2024, [], items)
    return NoticeRecord("www.qingdao.gov.cn", nid, f"https://www.qingdao.gov.cn/t_{nid}.shtml", "jyj-ghjh",
                        "00" * 32, dt.datetime(2024, 3, 9, tzinfo=dt.UTC), parsed)


@pytest.fixture
def webhook():
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # http.server names it so
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append(json.loads(body))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"json://127.0.0.1:{server.server_port}/hook", received
    server.shutdown()


def test_only_new_notices_are_announced_in_one_message(webhook):
    url, received = webhook
    settings = dataclasses.replace(Settings.from_env({}), alert_urls=(url,))
    records = [_record(1, "市教育局2024年工作要点"), _record(2, "关于召开会议的通知", "notice"), _record(3, "旧通知")]
    report = alert_new_notices(settings, records, [["www.qingdao.gov.cn", 1], ["www.qingdao.gov.cn", 2]])
    assert report.counts == {"new_notices": 2, "announced": 2, "sent": 1}
    assert len(received) == 1
    body = received[0]["message"]
    assert "市教育局2024年工作要点" in body and "关于召开会议的通知" in body and "旧通知" not in body
    assert "https://www.qingdao.gov.cn/t_1.shtml" in body


def test_doc_type_filter_and_no_subscribers(webhook, caplog):
    url, received = webhook
    settings = dataclasses.replace(Settings.from_env({}), alert_urls=(url,), alert_doc_types=("work_plan",))
    report = alert_new_notices(settings, [_record(2, "会议通知", "notice")], [["www.qingdao.gov.cn", 2]])
    assert report.counts["announced"] == 0 and received == []
    quiet = Settings.from_env({})
    report = alert_new_notices(quiet, [_record(1, "市教育局2024年工作要点")], [["www.qingdao.gov.cn", 1]])
    assert report.counts == {"new_notices": 1, "announced": 1, "sent": 0}


def test_an_invalid_alert_url_is_a_clear_error():
    settings = dataclasses.replace(Settings.from_env({}), alert_urls=("not a url",))
    with pytest.raises(ValueError, match="Apprise URL"):
        alert_new_notices(settings, [_record(1, "标题")], [["www.qingdao.gov.cn", 1]])


def test_format_lists_newest_first_with_department_and_item_count():
    title, body = format_alert([_record(1, "甲"), _record(5, "乙")])
    assert title == "青岛政务网: 2 条新发布"
    assert body.index("乙") < body.index("甲")
    assert "青岛市教育局" in body and "1 项任务" in body
