"""Alert rendering, subscriptions and backoff (no warehouse, no network)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import re
from pathlib import Path

import pytest

from etl.alert.outbox import MAX_BACKOFF, backoff
from etl.alert.render import TITLE_MAX, NoticeLine, clean_text, defang, render_notices, site_link
from etl.alert.subscriptions import SubscriptionError, destinations, load_rules_file, parse_rules
from etl.settings import Settings

SITE = "https://www.qingdao.gov.cn/zwgk/xxgk/jyj/gkml/ghjh/202403/t20240305_{}.shtml"
NASTY = '<script>alert("x")</script>](http://evil.example/phish) [点这里 *bold* `code` &amp;'


def _line(nid: int, title: str, *, dept: str | None = "青岛市教育局", doc_type: str = "work_plan",
          url: str | None = None, day: int = 1) -> NoticeLine:
    return NoticeLine(title, dept, doc_type, dt.date(2024, 3, day), url or SITE.format(nid))


def test_clean_text_drops_control_and_bidi_characters_and_truncates_at_a_character():
    assert clean_text("a\x00b\x1b[31mc\u202ed\u200be\r\nf\tg", 100) == "ab[31mcde f g"
    long = "青岛" * 200
    cut = clean_text(long, TITLE_MAX)
    assert len(cut) == TITLE_MAX and cut.endswith("…") and cut[:-1] == long[: TITLE_MAX - 1]
    assert clean_text(None, 10) == ""


def test_defang_keeps_urls_in_titles_from_becoming_links():
    assert defang("see http://evil.example/x and www.evil.example") == "see http[:]//evil.example/x and www[.]evil.example"
    assert defang("javascript:alert(1)") == "javascript[:]alert(1)"


def test_only_the_sites_own_urls_become_links():
    assert site_link(SITE.format(1)) == SITE.format(1)
    assert site_link("https://evil.example/t_1.shtml") is None
    assert site_link("javascript:alert(1)") is None
    assert site_link("https://user:pw@www.qingdao.gov.cn/x") is None
    assert site_link("https://www.qingdao.gov.cn/a b.shtml") is None
    assert site_link("https://www.qingdao.gov.cn/a)b<c>d.shtml") == "https://www.qingdao.gov.cn/a%29b%3Cc%3Ed.shtml"


def test_html_escapes_every_page_value_and_links_only_the_site():
    msg = render_notices([_line(1, NASTY, dept="<b>局</b>"), _line(2, "正常", url="http://evil.example/2")], "html")
    assert "<script" not in msg.body and "<b>" not in msg.body
    assert html.escape('<script>alert("x")</script>', quote=True) in msg.body
    hrefs = re.findall(r'href="([^"]*)"', msg.body)
    assert hrefs == [SITE.format(1)]  # the off-site URL is not a link
    assert "evil.example/phish" not in msg.body.replace("http[:]//evil.example/phish", "")
    assert msg.title == "青岛政务网: 2 条新发布" and "<" not in msg.title


def test_markdown_escapes_link_syntax_so_the_link_cannot_be_rewritten():
    msg = render_notices([_line(1, NASTY)], "markdown")
    # The only unescaped "](" is our own link to the site.
    assert re.findall(r"(?<!\\)\]\(<(\S+?)>\)", msg.body) == [SITE.format(1)]
    assert r"\<script\>" in msg.body and r"\*bold\*" in msg.body and r"\`code\`" in msg.body
    assert r"\&amp;" in msg.body


def test_markdown_renders_without_raw_html_or_foreign_links():
    from markdown_it import MarkdownIt  # CommonMark, raw HTML enabled as in chat clients

    rendered = MarkdownIt("commonmark").render(render_notices([_line(1, NASTY)], "markdown").body)
    assert "<script" not in rendered and "&lt;script&gt;" in rendered
    assert re.findall(r'href="([^"]*)"', rendered) == [SITE.format(1)]
    assert "<em>" not in rendered and "<code>" not in rendered


def test_text_has_no_markup_processing_but_is_cleaned():
    msg = render_notices([_line(1, "标题\x07\n第二行")], "text")
    assert "标题 第二行" in msg.body and "\x07" not in msg.body and SITE.format(1) in msg.body


def test_message_lists_at_most_the_cap_and_counts_the_rest_with_the_query():
    lines = [_line(i, f"通知{i}", day=i) for i in range(1, 6)]
    msg = render_notices(lines[:2], "markdown", total=5, more_hint="qdp alert --message M1")
    assert msg.title == "青岛政务网: 5 条新发布"
    assert msg.body.count("\n- ") + msg.body.startswith("- ") == 2
    assert "另有 3 条 / and 3 more — qdp alert --message M1" in msg.body
    newest_first = render_notices(lines, "text").body
    assert newest_first.index("通知5") < newest_first.index("通知1")


# --------------------------------------------------------------------------- subscriptions

WEBHOOK = "json://127.0.0.1:9/hook"


def test_rules_match_department_alias_doc_type_and_keyword():
    [(rule, urls)] = parse_rules({"subscriptions": [{
        "name": "edu plans", "urls": [WEBHOOK], "departments": ["市教育局"], "doc_types": ["work_plan"],
        "keywords": ["工作要点", "计划"]}]})
    assert urls == [WEBHOOK]
    assert rule.matches(department="青岛市教育局", doc_type="work_plan", title="2024年工作要点")
    assert not rule.matches(department="青岛市教育局", doc_type="notice", title="2024年工作要点")
    assert not rule.matches(department="青岛市财政局", doc_type="work_plan", title="2024年工作要点")
    assert not rule.matches(department="青岛市教育局", doc_type="work_plan", title="会议通知")
    [(everything, _)] = parse_rules({"subscriptions": [{"urls": WEBHOOK}]})
    assert everything.matches(department=None, doc_type="other", title=None)


@pytest.mark.parametrize(("data", "message"), [
    ({"subscription": []}, "unknown: subscription"),
    ({"subscriptions": [{"urls": [WEBHOOK], "department": ["市教育局"]}]}, "unknown key(s) department"),
    ({"subscriptions": [{"name": "x", "urls": [WEBHOOK], "departments": ["市魔法局"]}]},
     "rule 1 (x): unknown department '市魔法局'"),
    ({"subscriptions": [{"urls": [WEBHOOK], "doc_types": ["plan"]}]}, "unknown doc type(s) plan"),
    ({"subscriptions": [{"departments": ["市教育局"]}]}, "urls is required"),
    ({"subscriptions": [{"urls": ["not a url"]}]}, "not an Apprise URL"),
    ({"subscriptions": [{"urls": [WEBHOOK], "keywords": [3]}]}, "keywords must be a list"),
    ({"subscriptions": {"urls": [WEBHOOK]}}, "must be a list of rules"),
])
def test_invalid_rules_are_clear_errors(data, message):
    with pytest.raises(SubscriptionError) as err:
        parse_rules(data, "subs.yaml")
    assert message in str(err.value) and str(err.value).startswith("subs.yaml")


def test_rules_file_and_alert_urls_merge_per_destination(tmp_path: Path):
    path = tmp_path / "subs.yaml"
    path.write_text(f"""
subscriptions:
  - name: 教育
    urls: ["{WEBHOOK}"]
    departments: [教育局]
  - name: 财政计划
    urls: ["{WEBHOOK}", "ntfy://ntfy.example.org/qd"]
    departments: [市财政局]
    doc_types: [work_plan]
""", encoding="utf-8")
    assert len(load_rules_file(path)) == 2
    settings = dataclasses.replace(Settings.from_env({}), subscriptions_file=path,
                                   alert_urls=("json://127.0.0.1:9/all",), alert_doc_types=("work_plan",))
    dests = {d.url: d for d in destinations(settings)}
    assert set(dests) == {WEBHOOK, "ntfy://ntfy.example.org/qd", "json://127.0.0.1:9/all"}
    hook = dests[WEBHOOK]
    assert hook.wants(department="青岛市教育局", doc_type="notice", title="t")
    assert hook.wants(department="青岛市财政局", doc_type="work_plan", title="t")
    assert not hook.wants(department="青岛市财政局", doc_type="notice", title="t")
    assert not dests["json://127.0.0.1:9/all"].wants(department=None, doc_type="notice", title="t")
    assert hook.key.startswith("sha256:") and "9" in hook.label


def test_a_missing_or_broken_rules_file_is_a_clear_error(tmp_path: Path):
    with pytest.raises(SubscriptionError, match="cannot read"):
        load_rules_file(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("subscriptions: [\n", encoding="utf-8")
    with pytest.raises(SubscriptionError, match="not valid YAML"):
        load_rules_file(bad)


def test_destination_labels_mask_secrets():
    [dest] = destinations(dataclasses.replace(Settings.from_env({}),
                                              alert_urls=("mailto://user:s3cret@mail.example.org?to=a@example.org",)))
    assert "s3cret" not in dest.label and "s3cret" not in dest.key


def test_backoff_doubles_and_is_capped():
    first = dt.timedelta(minutes=5)
    assert [backoff(a, first) for a in (1, 2, 3)] == [first, 2 * first, 4 * first]
    assert backoff(30, first) == MAX_BACKOFF


def test_new_settings_are_read_and_checked():
    s = Settings.from_env({"QDP_OPS_ALERT_URLS": "json://a/x, json://b/y", "QDP_ALERT_MAX_NOTICES": "5",
                           "QDP_ALERT_MAX_AGE_HOURS": "1.5", "QDP_ALERT_RETRY_SECONDS": "0",
                           "QDP_ALERT_BASELINE": "off", "QDP_SUBSCRIPTIONS_FILE": "/x/s.yaml"})
    assert s.ops_alert_urls == ("json://a/x", "json://b/y") and s.alert_max_notices == 5
    assert (s.alert_max_age_hours, s.alert_retry_seconds, s.alert_baseline) == (1.5, 0.0, "off")
    assert s.subscriptions_file == Path("/x/s.yaml")
    with pytest.raises(ValueError, match="QDP_ALERT_BASELINE"):
        Settings.from_env({"QDP_ALERT_BASELINE": "sometimes"})


def test_every_url_in_the_readme_table_is_one_apprise_accepts():
    import apprise

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("| service | Apprise URL |"):]
    rows = re.findall(r"^\| ([^|]+?) \| `([^`]+)` \|$", table, flags=re.M)
    services = {}
    for name, url in rows:
        plugin = apprise.Apprise.instantiate(url)
        assert plugin is not None, f"{name}: {url}"
        services[name] = str(plugin.service_name)
    assert len(rows) == 9
    assert set(services.values()) == {"E-Mail", "JSON", "Slack", "Power Automate / Workflows (for MSTeams)",
                                      "ntfy", "WeCom Bot", "DingTalk", "Feishu", "Lark (Feishu)"}
