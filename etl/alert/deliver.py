"""The alert stage: route waiting outbox rows, expire stale deliveries, send what is due.

One Apprise object per destination URL, so each destination's acceptance is known on its own and
marked on its own rows only. One message per destination per run lists at most
``QDP_ALERT_MAX_NOTICES`` notices and counts the rest, naming the command that lists them.
A destination that fails keeps its rows pending (attempts, last error, backoff) for the next run
of either DAG; the run's report counts the failure, and the stage never raises for it.
"""

from __future__ import annotations

import datetime as dt
import logging
import time

from ..records import StageReport
from ..settings import Settings
from . import outbox
from .render import Message, render_notices
from .subscriptions import Destination, destination_label, destinations

log = logging.getLogger(__name__)


def _format_of(url: str) -> str:
    """The body format the destination renders natively (Apprise's resolution for this URL)."""
    import apprise

    plugin = apprise.Apprise.instantiate(url)
    if plugin is None:
        raise ValueError(f"not an Apprise URL: {destination_label(url)!r}")
    return str(plugin.resolve_format(None).value)


def send(url: str, message: Message, *, notify_type: str = "info") -> tuple[bool, str]:
    """Deliver one message to one destination; (accepted, what Apprise logged on failure)."""
    import apprise

    notifier = apprise.Apprise()
    if not notifier.add(url):
        return False, f"not an Apprise URL: {destination_label(url)}"
    with apprise.LogCapture(level=logging.WARNING) as captured:
        try:
            ok = bool(notifier.notify(title=message.title, body=message.body,
                                      body_format=message.body_format, notify_type=notify_type))
        except Exception as exc:  # a plugin bug must not stop the other destinations
            log.exception("Apprise raised while notifying %s", destination_label(url))
            return False, f"{type(exc).__name__}: {exc}"
        errors = captured.getvalue().strip()
    return ok, "" if ok else (errors.splitlines()[-1] if errors else "destination did not accept the message")


def _deliver_to(engine, settings: Settings, dest: Destination, report: StageReport, now: dt.datetime) -> None:
    c = outbox.claim(engine, dest.key, now=now)
    if c is None:
        return
    message_id = outbox.new_message_id()
    cap = max(settings.alert_max_notices, 1)
    message = render_notices(c.notices[:cap], _format_of(dest.url), total=len(c.notices),
                             more_hint=f"qdp alert --message {message_id}")
    ok, error = send(dest.url, message)
    if ok:
        held = outbox.mark_delivered(engine, c, message_id)
        if held != len(c.delivery_ids):
            # Our lease ran out while sending and another run took the rows: it may send them too.
            log.warning("alert %s to %s: lease lost for %d row(s); a duplicate is possible",
                        message_id, dest.label, len(c.delivery_ids) - held)
        report.add("messages_sent")
        report.add("delivered", len(c.delivery_ids))
        log.info("alert %s delivered to %s: %d notice(s)", message_id, dest.label, len(c.delivery_ids))
    else:
        outbox.mark_failed(engine, c, error, first_retry=dt.timedelta(seconds=settings.alert_retry_seconds))
        report.add("messages_failed")
        report.add("delivery_failed", len(c.delivery_ids))
        report.details.setdefault("failures", []).append({"destination": dest.label, "error": error,
                                                          "notices": len(c.delivery_ids)})
        log.error("alert to %s failed (%d notice(s) stay pending): %s", dest.label, len(c.delivery_ids), error)


def run_alerts(settings: Settings, *, include_baseline: bool = False, now: dt.datetime | None = None) -> StageReport:
    """Route, expire and deliver; counts: routed, deliveries_created, delivered, messages_sent,
    messages_failed, delivery_failed, expired, pending (left for later), baseline_unannounced."""
    from .. import warehouse

    started = time.perf_counter()
    engine = warehouse.get_engine(settings.warehouse_url)
    dests = destinations(settings)  # validated before anything is changed
    report = StageReport("alert", counts={"routed": 0, "delivered": 0, "messages_sent": 0,
                                          "messages_failed": 0, "delivery_failed": 0, "expired": 0})
    routed = outbox.route(engine, dests, include_baseline=include_baseline, now=now)
    report.counts["routed"] = routed.notices
    report.counts["deliveries_created"] = routed.deliveries
    if routed.notices and not dests:
        log.info("%d new notice(s); no QDP_ALERT_URLS or subscriptions configured, nothing sent", routed.notices)
    expired = outbox.expire(engine, dt.timedelta(hours=settings.alert_max_age_hours), now=now)
    if expired:
        report.counts["expired"] = len(expired)
        report.details["expired"] = [{k: r[k] for k in ("destination_label", "attempts", "last_error")}
                                     for r in expired]
        log.error("%d alert deliveries expired undelivered after %s h", len(expired), settings.alert_max_age_hours)
    by_key = {d.key: d for d in dests}
    due = outbox.destinations_due(engine, now=now)
    for key in sorted(due):
        dest = by_key.get(key)
        if dest is None:
            report.add("pending_unconfigured")  # destination removed from the settings: expires in time
            continue
        _deliver_to(engine, settings, dest, report, now or outbox.now_utc())
    report.counts.update({k: v for k, v in outbox.pending_counts(engine).items()
                          if k in ("pending", "baseline_unannounced")})
    report.seconds = round(time.perf_counter() - started, 3)
    return report
