"""The alert outbox on SQLite and PostgreSQL with real receivers on 127.0.0.1: baseline,
concurrent senders, subscriptions, rendering, expiry, leases and the engineers' channel."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import threading
import time

import pytest
import sqlalchemy as sa

from etl.alert import outbox
from etl.alert.deliver import run_alerts
from etl.alert.ops import notify_run_outcome, task_failure_callback
from etl.load import load_notices
from etl.settings import Settings
from tests.fixtures.warehouse import make_notice_record

pytestmark = pytest.mark.integration
NOTICE_ID = re.compile(r"_(\d+)\.shtml")


def _settings(engine, tmp_path, *urls: str, **changes) -> Settings:
    base = Settings.from_env({"QDP_DATA_DIR": str(tmp_path / "data"), "QDP_ALERT_RETRY_SECONDS": "0",
                              "QDP_WAREHOUSE_URL": engine.url.render_as_string(hide_password=False)})
    return dataclasses.replace(base, alert_urls=tuple(urls), **changes)


def _ids(receiver) -> list[int]:
    return [int(m) for msg in receiver.received for m in NOTICE_ID.findall(msg["body"])]


def _baseline_then(engine, records, *, baseline_ids=(1,)):
    """Load a first notice of the channel (baseline), then ``records`` (announced)."""
    load_notices(engine, [make_notice_record(i) for i in baseline_ids])
    return load_notices(engine, records)


def test_first_load_of_a_channel_is_baseline_and_can_be_announced_deliberately(engine, tmp_path, webhook):
    settings = _settings(engine, tmp_path, webhook.url)
    load_notices(engine, [make_notice_record(i) for i in range(1, 4)])
    later = make_notice_record(4)
    other_channel = dataclasses.replace(make_notice_record(5), channel="bgt-gzxx")
    load_notices(engine, [later, other_channel])  # channel jyj-ghjh known; bgt-gzxx new: baseline
    report = run_alerts(settings)
    assert _ids(webhook) == [4]
    assert report.counts["baseline_unannounced"] == 4
    report = run_alerts(settings, include_baseline=True)
    assert sorted(_ids(webhook)) == [1, 2, 3, 4, 5] and report.counts["baseline_unannounced"] == 0


def test_baseline_off_and_backfill(engine, tmp_path, webhook):
    load_notices(engine, [make_notice_record(1)], alert_baseline="off")
    load_notices(engine, [make_notice_record(2)], alert_baseline="all")  # a backfill
    run_alerts(_settings(engine, tmp_path, webhook.url))
    assert _ids(webhook) == [1]
    with pytest.raises(ValueError, match="baseline must be one of"):
        load_notices(engine, [make_notice_record(3)], alert_baseline="never")


def test_revisions_and_reloads_are_not_announced_again(engine, tmp_path, webhook):
    settings = _settings(engine, tmp_path, webhook.url)
    _baseline_then(engine, [make_notice_record(2)])
    run_alerts(settings)
    load_notices(engine, [make_notice_record(2, version="v2", fetched_at=dt.datetime(2021, 4, 1, tzinfo=dt.UTC))])
    load_notices(engine, [make_notice_record(2)])
    run_alerts(settings)
    assert _ids(webhook) == [2]


def test_two_senders_at_once_send_each_notice_once(engine, tmp_path, webhook_factory):
    """Daily and hourly DAG alerting at the same moment: claims keep them apart."""
    hooks = [webhook_factory(), webhook_factory()]
    for hook in hooks:
        hook.delay = 0.3  # senders overlap while a message is in flight
    settings = _settings(engine, tmp_path, *(h.url for h in hooks), alert_max_notices=100)
    start = threading.Barrier(4)
    reports, errors = [], []

    def sender(batch):
        try:
            start.wait()
            if batch:  # the hourly DAG's load commits new notices while the daily DAG is alerting
                load_notices(engine, [make_notice_record(i) for i in batch])
            for _ in range(3):
                reports.append(run_alerts(settings))
        except Exception as exc:  # surfaced below
            errors.append(exc)

    load_notices(engine, [make_notice_record(1)])  # the channel's baseline
    load_notices(engine, [make_notice_record(i) for i in range(2, 22)])
    threads = [threading.Thread(target=sender, args=(b,)) for b in ([], range(22, 32), [], [])]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    for hook in hooks:
        assert sorted(_ids(hook)) == list(range(2, 32))
    assert sum(r.counts["delivered"] for r in reports) == 60


def test_a_subscription_rule_receives_only_its_department_and_doc_type(engine, tmp_path, webhook_factory):
    edu, everything = webhook_factory(), webhook_factory()
    rules = tmp_path / "subscriptions.yaml"
    rules.write_text(f"subscriptions:\n  - name: 教育局计划\n    urls: ['{edu.url}']\n"
                     "    departments: [市教育局]\n    doc_types: [work_plan]\n", encoding="utf-8")
    settings = _settings(engine, tmp_path, everything.url, subscriptions_file=rules)
    _baseline_then(engine, [
        make_notice_record(2),  # 青岛市教育局 work_plan: both
        make_notice_record(3, doc_type="notice", items=0, sections=0, title="关于开学的通知"),
        make_notice_record(4, department="青岛市财政局", title="市财政局2021年工作要点"),
        make_notice_record(5, department=None, doc_type="other", items=0, sections=0),
    ])
    run_alerts(settings)
    assert _ids(edu) == [2]
    assert sorted(_ids(everything)) == [2, 3, 4, 5]


HOSTILE = [
    '<script>alert("qdp")</script>2021年工作要点',
    "重要通知](https://evil.example/phish) [点此",
    "超长标题" * 120,
    "控制\x07字符\x1b[2J\u202e反转\r\n换行",  # (PostgreSQL text cannot hold NUL at all)
]


def test_hostile_titles_are_escaped_truncated_and_delivered(engine, tmp_path, webhook_factory, smtp_receiver):
    text_hook, md_hook = webhook_factory(), webhook_factory()
    md_url = md_hook.url + "?format=markdown"
    settings = _settings(engine, tmp_path, text_hook.url, md_url, smtp_receiver.url)
    _baseline_then(engine, [make_notice_record(10 + i, title=t) for i, t in enumerate(HOSTILE)])
    report = run_alerts(settings)
    assert report.counts["delivered"] == 12 and report.counts["messages_failed"] == 0
    [mail] = smtp_receiver.received
    assert "<script" not in mail["body"] and "&lt;script&gt;" in mail["body"]
    assert set(re.findall(r'href="([^"]*)"', mail["body"])) == {
        f"https://www.qingdao.gov.cn/zwgk/xxgk/jyj/gkml/ghjh/202103/t20210305_{10 + i}.shtml" for i in range(4)}
    [md] = md_hook.received
    links = re.findall(r"(?<!\\)\]\(<(\S+?)>\)", md["body"])
    assert len(links) == 4 and all(link.startswith("https://www.qingdao.gov.cn/") for link in links)
    assert r"\<script\>" in md["body"] and r"\]\(https\[:\]//evil.example/phish\)" in md["body"]
    for msg in (mail, md, text_hook.received[0]):
        assert "\x07" not in msg["body"] and "\x1b" not in msg["body"] and "\u202e" not in msg["body"]
        assert "超长标题" * 60 not in msg["body"] and "…" in msg["body"]


def test_a_message_lists_at_most_the_cap_and_the_rest_can_be_listed(engine, tmp_path, webhook, capsys):
    settings = _settings(engine, tmp_path, webhook.url, alert_max_notices=3)
    _baseline_then(engine, [make_notice_record(i) for i in range(2, 10)])
    run_alerts(settings)
    [msg] = webhook.received
    assert len(NOTICE_ID.findall(msg["body"])) == 3 and "另有 5 条 / and 5 more" in msg["body"]
    message_id = re.search(r"qdp alert --message (\S+)", msg["body"]).group(1)
    assert len(outbox.message_notices(engine, message_id)) == 8


def test_failed_deliveries_back_off_then_expire_and_are_reported(engine, tmp_path, webhook):
    settings = _settings(engine, tmp_path, webhook.url, alert_retry_seconds=600.0, alert_max_age_hours=2.0)
    _baseline_then(engine, [make_notice_record(2)])
    webhook.failing = True
    t0 = outbox.now_utc()
    failed = run_alerts(settings, now=t0)
    assert failed.counts["delivery_failed"] == 1 and "500" in failed.details["failures"][0]["error"]
    assert run_alerts(settings, now=t0 + dt.timedelta(minutes=5)).counts["messages_failed"] == 0  # backing off
    assert run_alerts(settings, now=t0 + dt.timedelta(minutes=11)).counts["messages_failed"] == 1
    with engine.connect() as conn:
        attempts, error = conn.execute(sa.text("SELECT attempts, last_error FROM alert_delivery")).one()
    assert attempts == 2 and "500" in error
    webhook.failing = False
    late = run_alerts(settings, now=t0 + dt.timedelta(hours=3))
    assert late.counts["expired"] == 1 and late.counts["delivered"] == 0
    assert late.details["expired"][0]["attempts"] == 2 and webhook.received == []


def test_a_dead_senders_claim_is_taken_over_after_its_lease(engine, tmp_path, webhook):
    settings = _settings(engine, tmp_path, webhook.url)
    _baseline_then(engine, [make_notice_record(2)])
    from etl.alert.subscriptions import destinations

    [dest] = destinations(settings)
    outbox.route(engine, [dest])
    assert outbox.claim(engine, dest.key) is not None  # ...and the sender dies before sending
    assert run_alerts(settings).counts["delivered"] == 0  # still leased
    later = outbox.now_utc() + outbox.LEASE + dt.timedelta(seconds=1)
    assert run_alerts(settings, now=later).counts["delivered"] == 1
    assert _ids(webhook) == [2]


def test_a_failed_run_sends_one_failure_message_to_ops_and_nothing_to_subscribers(
        engine, tmp_path, webhook_factory, monkeypatch):
    from etl import pipeline
    from etl.warehouse import runs

    subscriber, ops = webhook_factory(), webhook_factory()
    settings = dataclasses.replace(_settings(engine, tmp_path, subscriber.url), ops_alert_urls=(ops.url,))
    monkeypatch.setenv("QDP_DATA_DIR", str(settings.data_dir))
    run_id = runs.start_run(engine, dag_id="qingdao_notices_watch", dag_run_id="scheduled__2026-11-29T09:00:00+00:00")

    class TI:  # what Airflow passes as context["ti"] to on_failure_callback
        dag_id, run_id, map_index = "qingdao_notices_watch", "scheduled__2026-11-29T09:00:00+00:00", -1

        def __init__(self, task_id, try_number):
            self.task_id, self.try_number = task_id, try_number
            self.log_url = f"http://airflow.example/dags/{self.dag_id}/runs/x/tasks/{task_id}?try_number={try_number}"

    for task_id, try_number in (("parse", 1), ("parse", 2), ("parse", 3), ("compare", 1)):
        task_failure_callback({"ti": TI(task_id, try_number), "run_id": TI.run_id,
                               "exception": RuntimeError(f"{task_id} broke <b>")})
    assert ops.received == subscriber.received == []  # callbacks only record

    pipeline.finish_run(settings, run_id, [{"stage": "load", "counts": {"notices_new": 3}}], status="failed")
    assert subscriber.received == []
    [msg] = ops.received
    assert msg["type"] == "failure" and "FAILED" in msg["title"]
    body = msg["body"]
    assert "qingdao_notices_watch" in body and run_id in body and "scheduled__2026-11-29T09:00:00+00:00" in body
    assert "parse (try 3): RuntimeError: parse broke <b>" in body and "compare (try 1)" in body
    assert "try_number=3" in body and "try 1): RuntimeError: parse" not in body
    assert "load: notices_new=3" in body and "Airflow log: http" in body


def test_qdp_run_failure_names_the_error_without_airflow(engine, tmp_path, webhook, monkeypatch):
    """Outside Airflow the exception that failed the run is the summary (one message, typed failure)."""
    from etl import pipeline

    settings = dataclasses.replace(_settings(engine, tmp_path), ops_alert_urls=(webhook.url,))

    def broken(*args, **kwargs):
        raise ConnectionError("site unreachable")

    monkeypatch.setattr(pipeline, "crawl_stage", broken)
    # A crashed stage does not raise out of the run: the run is failed, recorded, and reported once.
    assert pipeline.run_pipeline(settings).health.status == "failed"
    [msg] = webhook.received
    assert msg["type"] == "failure" and "ConnectionError: site unreachable" in msg["body"]
    assert notify_run_outcome(settings, "r", "success") is True and len(webhook.received) == 1


def test_ops_delivery_failure_never_breaks_the_run(engine, tmp_path, webhook):
    settings = dataclasses.replace(_settings(engine, tmp_path), ops_alert_urls=(webhook.url,))
    webhook.failing = True
    started = time.perf_counter()
    assert notify_run_outcome(settings, "no-such-run", "degraded", ["2 deliveries expired"]) is False
    assert time.perf_counter() - started < 30


def test_qdp_alert_command_announces_baseline_on_request_and_lists_a_message(
        engine, tmp_path, webhook, monkeypatch, capsys):
    from etl import cli

    url = engine.url.render_as_string(hide_password=False)
    for key, value in {"QDP_WAREHOUSE_URL": url, "QDP_ALERT_URLS": webhook.url,
                       "QDP_ALERT_MAX_NOTICES": "2"}.items():
        monkeypatch.setenv(key, value)
    load_notices(engine, [make_notice_record(i) for i in range(1, 5)])  # first load: baseline
    assert cli.main(["alert"]) == 0 and webhook.received == []
    assert cli.main(["alert", "--include-baseline", "--json"]) == 0
    [msg] = webhook.received
    message_id = re.search(r"qdp alert --message (\S+)", msg["body"]).group(1)
    capsys.readouterr()
    assert cli.main(["alert", "--message", message_id]) == 0
    assert len(NOTICE_ID.findall(capsys.readouterr().out)) == 4
    monkeypatch.setenv("QDP_SUBSCRIPTIONS_FILE", str(tmp_path / "missing.yaml"))
    with pytest.raises(SystemExit, match="cannot read"):
        cli.main(["alert"])


def test_engineers_hear_of_a_run_even_when_recording_it_fails(engine, tmp_path, webhook):
    """begin_run failed (no etl_run row): finish_run cannot record the run, ops still hear of it."""
    from etl import pipeline

    settings = dataclasses.replace(_settings(engine, tmp_path), ops_alert_urls=(webhook.url,))
    with pytest.raises(KeyError):
        pipeline.finish_run(settings, "never-started", [], status="failed")
    [msg] = webhook.received
    assert msg["type"] == "failure" and "never-started" in msg["body"]
