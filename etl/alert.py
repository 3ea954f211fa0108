"""Alert stage: tell subscribers about newly published notices, and engineers about failed tasks.

Delivery goes through Apprise, so one setting (``QDP_ALERT_URLS``) reaches e-mail, Slack, Teams,
WeCom, DingTalk, ntfy, webhooks... With no URL configured the alert is only logged; the run does
not fail because nobody subscribed. Each notice is announced once: only notices the load stage
inserted as new (not revisions, not re-runs) are sent.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from typing import Any

from .records import NoticeRecord, StageReport
from .settings import Settings

log = logging.getLogger(__name__)

DOC_TYPE_LABELS = {"work_plan": "工作计划", "work_summary": "工作总结", "action_plan": "行动计划",
                   "notice": "通知公告", "other": "其他"}


def format_alert(records: Sequence[NoticeRecord]) -> tuple[str, str]:
    """Title and Markdown body of one alert covering ``records`` (newest first)."""
    ordered = sorted(records, key=lambda r: (r.parsed.published or r.fetched_at.date()), reverse=True)
    if len(ordered) == 1:
        title = f"青岛政务网新发布: {ordered[0].parsed.title}"
    else:
        title = f"青岛政务网: {len(ordered)} 条新发布"
    lines = []
    for rec in ordered:
        p = rec.parsed
        label = DOC_TYPE_LABELS.get(p.doc_type, p.doc_type)
        extra = f", {len(p.items)} 项任务" if p.items else ""
        lines.append(f"- [{p.title}]({rec.url}) — {p.department or '部门未知'}, "
                     f"{p.published.isoformat() if p.published else '日期未知'} ({label}{extra})")
    return title, "\n".join(lines)


def send(urls: Iterable[str], title: str, body: str) -> bool:
    import apprise

    notifier = apprise.Apprise()
    for url in urls:
        if not notifier.add(url):
            raise ValueError(f"not an Apprise URL: {url!r} (see QDP_ALERT_URLS)")
    return bool(notifier.notify(title=title, body=body, body_format=apprise.NotifyFormat.MARKDOWN))


def alert_new_notices(settings: Settings, records: Iterable[NoticeRecord],
                      new_keys: Iterable[Sequence[Any]]) -> StageReport:
    """Send one alert listing the records whose (host, notice_id) is in ``new_keys``."""
    started = time.perf_counter()
    wanted = {(str(k[0]), int(k[1])) for k in new_keys}
    chosen = [r for r in records if r.key in wanted and
              (not settings.alert_doc_types or r.parsed.doc_type in settings.alert_doc_types)]
    report = StageReport("alert", counts={"new_notices": len(wanted), "announced": len(chosen), "sent": 0})
    if chosen:
        title, body = format_alert(chosen)
        report.details["title"] = title
        if settings.alert_urls:
            ok = send(settings.alert_urls, title, body)
            report.counts["sent"] = int(ok)
            if not ok:
                # Delivery failures must be seen, but a flaky chat service must not fail the ETL.
                log.error("alert delivery failed for %d notice(s); see Apprise log above", len(chosen))
                report.counts["delivery_failed"] = 1
        else:
            lines = body.splitlines()
            shown = "\n".join(lines[:10]) + (f"\n... and {len(lines) - 10} more" if len(lines) > 10 else "")
            log.info("no QDP_ALERT_URLS configured; alert not sent:\n%s\n%s", title, shown)
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def task_failure_callback(context: dict[str, Any]) -> None:
    """Airflow ``on_failure_callback`` (attached per task through ``default_args``): tell engineers."""
    settings = Settings.from_env()
    ti = context.get("task_instance") or context.get("ti")
    dag_id = getattr(ti, "dag_id", "?")
    task_id = getattr(ti, "task_id", "?")
    exc = context.get("exception")
    title = f"[qingdao-plans] task failed: {dag_id}.{task_id}"
    body = f"run {context.get('run_id', '?')}, try {getattr(ti, 'try_number', '?')}: {exc!r}"
    log.error("%s — %s", title, body)
    if settings.alert_urls:
        try:
            send(settings.alert_urls, title, body)
        except Exception:
            log.exception("could not deliver the failure alert")
