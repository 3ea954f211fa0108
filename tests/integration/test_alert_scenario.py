"""Alerts end to end: the sample site over HTTP, the whole pipeline, a real webhook and a real SMTP
server on 127.0.0.1, on SQLite and PostgreSQL.

The issue's scenario: a baseline run announces nothing; three notices published while both
receivers fail are delivered once when they are back; two more are delivered once; an idle run
sends nothing. A process SIGKILLed between the load commit and the alert loses nothing.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import subprocess
import sys
import textwrap

import pytest
import requests
import sqlalchemy as sa

from etl import warehouse
from etl.pipeline import run_pipeline
from etl.settings import Settings

pytestmark = pytest.mark.integration
NOTICE_ID = re.compile(r"_(\d+)\.shtml")


def _env(site, warehouse_url, data_dir, *urls: str) -> dict[str, str]:
    return {"QDP_SITE_URL": site.url, "QDP_DATA_DIR": str(data_dir), "QDP_WAREHOUSE_URL": warehouse_url,
            "QDP_RATE_LIMIT": "0", "QDP_ALERT_RETRY_SECONDS": "0", "QDP_ALERT_URLS": " ".join(urls)}


def _publish(site, channel: str, n: int) -> set[int]:
    added = requests.post(f"{site.url}/__qdp__/publish?channel={channel}&n={n}", timeout=5)
    added.raise_for_status()
    return {a["notice_id"] for a in added.json()}


def _announced(receiver) -> list[int]:
    """Notice ids in the order the receiver got them, one entry per mention (duplicates kept)."""
    return [int(m) for msg in receiver.received for m in NOTICE_ID.findall(msg["body"])]


def _counts(receiver, expected: set[int], baseline: set[int]) -> dict[str, int]:
    got = _announced(receiver)
    return {"delivered": len(set(got) & expected), "duplicates": len(got) - len(set(got)),
            "lost": len(expected - set(got)), "baseline_announced": len(set(got) & baseline),
            "other_announced": len(set(got) - expected - baseline)}


def _alert(reports) -> dict[str, int]:
    return next(r for r in reports if r.stage == "alert").counts


def test_each_notice_arrives_once_through_failures_and_no_baseline_flood(
        fresh_sample_site, warehouse_url, tmp_path, webhook, smtp_receiver):
    site = fresh_sample_site
    settings = Settings.from_env(_env(site, warehouse_url, tmp_path / "data", webhook.url, smtp_receiver.url))
    baseline = {t["notice_id"] for t in site.site.ground_truth()}

    counts = _alert(run_pipeline(settings))  # first run of every channel: a baseline, not a flood
    assert webhook.received == smtp_receiver.received == []
    assert counts["routed"] == 0 and counts["baseline_unannounced"] == len(site.site.loaded_notice_ids())

    first = _publish(site, "bgt-gzxx", 3)
    webhook.failing = smtp_receiver.failing = True
    counts = _alert(run_pipeline(settings))
    assert webhook.refused >= 1 and smtp_receiver.refused >= 1
    assert webhook.received == smtp_receiver.received == []
    assert counts["messages_failed"] == 2 and counts["delivery_failed"] == 6 and counts["pending"] == 6

    webhook.failing = smtp_receiver.failing = False
    counts = _alert(run_pipeline(settings))  # the next run retries what is pending
    assert counts["delivered"] == 6 and counts["pending"] == 0

    second = _publish(site, "whly-gzxx", 2)
    assert _alert(run_pipeline(settings))["delivered"] == 4
    idle = _alert(run_pipeline(settings))
    assert idle["delivered"] == idle["routed"] == 0

    expected = first | second
    for receiver in (webhook, smtp_receiver):
        assert _counts(receiver, expected, baseline) == {"delivered": 5, "duplicates": 0, "lost": 0,
                                                         "baseline_announced": 0, "other_announced": 0}
        assert len(receiver.received) == 2  # one message per run with something new
    assert smtp_receiver.received[0]["content_type"] == "text/html"
    engine = warehouse.get_engine(settings.warehouse_url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT status, attempts, last_error FROM alert_delivery")).all()
    assert sorted((s, a) for s, a, _ in rows) == [("delivered", 1)] * 4 + [("delivered", 2)] * 6
    assert all(e is None for _, _, e in rows)


KILLED_RUN = textwrap.dedent("""
    import os, signal
    from etl.pipeline import begin_run, crawl_stage, load_stage, parse_stage, validate_stage
    from etl.settings import Settings

    settings = Settings.from_env()
    run_id = begin_run(settings)
    crawl_stage(settings)
    parse_stage(settings, run_id)
    validate_stage(settings, run_id)
    load_stage(settings, run_id)  # committed: notices and their outbox rows
    os.kill(os.getpid(), signal.SIGKILL)  # before the alert stage, like an OOM kill or a lost worker
""")


def test_a_run_killed_after_the_load_commit_loses_no_alert(
        fresh_sample_site, warehouse_url, tmp_path, webhook, smtp_receiver):
    site = fresh_sample_site
    env = _env(site, warehouse_url, tmp_path / "data", webhook.url, smtp_receiver.url)
    settings = Settings.from_env(env)
    run_pipeline(settings)  # baseline
    published = _publish(site, "bgt-gzxx", 3)

    proc = subprocess.run([sys.executable, "-c", KILLED_RUN], env={**os.environ, **env},
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    engine = warehouse.get_engine(settings.warehouse_url)
    with engine.connect() as conn:
        queued = conn.execute(sa.text("SELECT notice_id FROM alert_outbox WHERE NOT is_baseline")).scalars()
        assert set(queued) == published
        assert conn.execute(sa.text("SELECT status FROM etl_run ORDER BY started_at")).scalars().all()[-1] == "running"
    assert webhook.received == smtp_receiver.received == []

    counts = _alert(run_pipeline(settings))  # the killed run's notices are already loaded
    assert counts["delivered"] == 6
    run_pipeline(settings)
    for receiver in (webhook, smtp_receiver):
        assert sorted(_announced(receiver)) == sorted(published)


SEND_THEN_DIE = textwrap.dedent("""
    import os, signal, sys
    from etl.alert import deliver, outbox
    from etl.settings import Settings

    point = sys.argv[1]
    real_send = deliver.send

    def send_then_die(url, message, **kw):
        if point == "before-send":
            os.kill(os.getpid(), signal.SIGKILL)
        accepted = real_send(url, message, **kw)
        os.kill(os.getpid(), signal.SIGKILL)  # accepted, the delivered mark not yet committed
        return accepted

    deliver.send = send_then_die
    deliver.run_alerts(Settings.from_env())
""")


@pytest.mark.parametrize("point", ["before-send", "after-accept"])
def test_a_sender_killed_around_the_send_loses_nothing_and_duplicates_only_in_the_window(
        fresh_sample_site, warehouse_url, tmp_path, webhook, point):
    """Killed after claiming, before sending: delivered once after the lease. Killed after the
    destination accepted, before the mark committed: the documented window, one duplicate."""
    site = fresh_sample_site
    env = _env(site, warehouse_url, tmp_path / "data", webhook.url)
    settings = Settings.from_env(env)
    run_pipeline(settings)  # baseline
    published = _publish(site, "bgt-gzxx", 2)
    from etl.pipeline import begin_run, crawl_stage, load_stage, parse_stage, validate_stage

    run_id = begin_run(settings)
    crawl_stage(settings)
    parse_stage(settings, run_id)
    validate_stage(settings, run_id)
    load_stage(settings, run_id)
    proc = subprocess.run([sys.executable, "-c", SEND_THEN_DIE, point], env={**os.environ, **env},
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    from etl.alert import outbox
    from etl.alert.deliver import run_alerts

    assert run_alerts(settings).counts["delivered"] == 0  # the dead sender's lease still holds
    later = outbox.now_utc() + outbox.LEASE + dt.timedelta(seconds=1)
    assert run_alerts(settings, now=later).counts["delivered"] == 2
    assert run_alerts(settings, now=later).counts["delivered"] == 0
    got = sorted(_announced(webhook))
    assert got == (sorted(published) if point == "before-send" else sorted(list(published) * 2))
