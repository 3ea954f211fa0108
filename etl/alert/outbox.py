"""The alert outbox in the warehouse (tables ``alert_outbox`` and ``alert_delivery``).

1. **enqueue** — the load stage calls ``enqueue`` inside the transaction that inserts new notices:
   the notice and its outbox row commit together or not at all, so no crash can lose an alert.
   A channel's first load (no notice of the channel in the warehouse before this run) and a
   backfill are enqueued as *baseline*: recorded as known, not announced.
2. **route** — the alert stage matches waiting outbox rows against the current subscriptions and
   creates one ``alert_delivery`` row per (notice, destination), in one transaction.
3. **claim** — per destination, due pending rows are claimed with a lease (an atomic UPDATE; on
   PostgreSQL over ``SELECT ... FOR UPDATE SKIP LOCKED``), so two runs at once never both send a row.
4. **settle** — after the destination answered: ``mark_delivered`` (accepted) or ``mark_failed``
   (attempts + 1, last error, next attempt with exponential backoff); rows older than the maximum
   age are ``expire``d.

Remaining window: the destination accepted but the process died before ``mark_delivered``
committed. The lease then runs out and the next run sends those notices again (a duplicate,
never a loss). No protocol without the receiver's help (an idempotency key it checks) closes it.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from ..warehouse import _insert, schema, write_connection
from .render import NoticeLine

LEASE = dt.timedelta(minutes=15)  # far above Apprise's timeouts for one message
MAX_BACKOFF = dt.timedelta(hours=6)
BASELINE_POLICIES = ("first-load", "off", "all")


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


# --------------------------------------------------------------------------- enqueue (load stage)


def enqueue(conn: sa.Connection, new_notices: Sequence[dict[str, Any]], *, run_id: str | None,
            baseline: str = "first-load") -> int:
    """Outbox rows for notices just inserted as revision 1, in the caller's transaction.

    ``new_notices``: dicts with host, notice_id, notice_rev_id, channel. ``baseline``:
    "first-load" (a channel without notices loaded before this run is baseline), "off" (nothing
    is baseline) or "all" (a backfill: everything is baseline). Returns the rows written.
    """
    if baseline not in BASELINE_POLICIES:
        raise ValueError(f"baseline must be one of {BASELINE_POLICIES}, not {baseline!r}")
    if not new_notices:
        return 0
    baseline_channels: set[str] = set()
    if baseline == "first-load":
        n = schema.notice
        channels = {r["channel"] for r in new_notices}
        fresh_ids = [r["notice_rev_id"] for r in new_notices]
        earlier = sa.select(n.c.channel).where(n.c.channel.in_(channels)).distinct()
        # Loaded before this run: another run's rows (this run's earlier batches do not count).
        earlier = earlier.where(n.c.notice_rev_id.not_in(fresh_ids))
        if run_id:
            earlier = earlier.where(n.c.load_run_id.is_(None) | (n.c.load_run_id != run_id))
        baseline_channels = channels - set(conn.execute(earlier).scalars())
    now = now_utc()
    rows = [{"host": r["host"], "notice_id": r["notice_id"], "notice_rev_id": r["notice_rev_id"],
             "run_id": run_id, "enqueued_at": now, "routed_at": None,
             "is_baseline": baseline == "all" or r["channel"] in baseline_channels} for r in new_notices]
    stmt = _insert(conn, schema.alert_outbox).on_conflict_do_nothing(index_elements=["host", "notice_id"])
    conn.execute(stmt, rows)
    return len(rows)


# --------------------------------------------------------------------------- route


@dataclass(frozen=True, slots=True)
class Routed:
    notices: int
    deliveries: int


def _notice_info_query(*, with_delivery: bool = False):
    """Outbox rows with what an alert says about their notice (optionally with their deliveries)."""
    o, n, d = schema.alert_outbox, schema.notice, schema.department
    source = o.join(n, n.c.notice_rev_id == o.c.notice_rev_id).outerjoin(d, d.c.department_id == n.c.department_id)
    cols = [o.c.outbox_id, n.c.title, n.c.doc_type, n.c.published, n.c.url, d.c.name.label("department")]
    if with_delivery:
        ad = schema.alert_delivery
        source = source.join(ad, ad.c.outbox_id == o.c.outbox_id)
        cols += [ad.c.delivery_id, ad.c.attempts]
    return sa.select(*cols).select_from(source)


def route(engine, destinations: Sequence[Any], *, include_baseline: bool = False,
          now: dt.datetime | None = None) -> Routed:
    """Create the deliveries of waiting outbox rows for the destinations whose rules match.

    Baseline rows wait unless ``include_baseline``. With no destination configured the rows are
    still routed (to nobody): a subscriber added later is not flooded with the past.
    """
    o = schema.alert_outbox
    now = now or now_utc()
    with write_connection(engine) as conn, conn.begin():
        waiting = sa.select(o.c.outbox_id).where(o.c.routed_at.is_(None))
        if not include_baseline:
            waiting = waiting.where(sa.not_(o.c.is_baseline))
        if conn.dialect.name == "postgresql":
            waiting = waiting.with_for_update(skip_locked=True)  # a concurrent router takes others
        ids = list(conn.execute(waiting).scalars())
        if not ids:
            return Routed(0, 0)
        deliveries = []
        for row in conn.execute(_notice_info_query().where(o.c.outbox_id.in_(ids))).mappings():
            for dest in destinations:
                if dest.wants(department=row["department"], doc_type=row["doc_type"], title=row["title"]):
                    deliveries.append({"outbox_id": row["outbox_id"], "destination": dest.key,
                                       "destination_label": dest.label, "status": "pending",
                                       "attempts": 0, "last_error": None, "next_attempt_at": now,
                                       "claimed_by": None, "claimed_until": None, "message_id": None,
                                       "created_at": now, "delivered_at": None})
        if deliveries:
            stmt = _insert(conn, schema.alert_delivery).on_conflict_do_nothing(
                index_elements=["outbox_id", "destination"])
            conn.execute(stmt, deliveries)
        conn.execute(o.update().where(o.c.outbox_id.in_(ids)).values(routed_at=now))
    return Routed(len(ids), len(deliveries))


# --------------------------------------------------------------------------- expire / claim / settle


def expire(engine, max_age: dt.timedelta, *, now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """Mark pending deliveries older than ``max_age`` expired; return them (for the report)."""
    d = schema.alert_delivery
    now = now or now_utc()
    cutoff = now - max_age
    with write_connection(engine) as conn, conn.begin():
        old = (d.c.status == "pending") & (d.c.created_at < cutoff) & (
            d.c.claimed_until.is_(None) | (d.c.claimed_until < now))
        rows = [dict(r) for r in conn.execute(
            sa.select(d.c.delivery_id, d.c.outbox_id, d.c.destination_label, d.c.attempts, d.c.last_error)
            .where(old)).mappings()]
        if rows:
            conn.execute(d.update().where(d.c.delivery_id.in_([r["delivery_id"] for r in rows]))
                         .values(status="expired", claimed_by=None, claimed_until=None))
    return rows


@dataclass(frozen=True, slots=True)
class Claim:
    token: str
    destination: str
    delivery_ids: tuple[int, ...]
    notices: tuple[NoticeLine, ...]  # same order as delivery_ids
    attempts: tuple[int, ...]


def destinations_due(engine, *, now: dt.datetime | None = None) -> set[str]:
    d = schema.alert_delivery
    now = now or now_utc()
    with engine.connect() as conn:
        return set(conn.execute(sa.select(d.c.destination).where(
            d.c.status == "pending", d.c.next_attempt_at <= now).distinct()).scalars())


def claim(engine, destination: str, *, now: dt.datetime | None = None, lease: dt.timedelta = LEASE) -> Claim | None:
    """Claim every due pending delivery of ``destination`` for this sender; None when there is none."""
    d = schema.alert_delivery
    now = now or now_utc()
    token = secrets.token_hex(8)
    due = ((d.c.destination == destination) & (d.c.status == "pending") & (d.c.next_attempt_at <= now)
           & (d.c.claimed_until.is_(None) | (d.c.claimed_until < now)))
    with write_connection(engine) as conn, conn.begin():
        ids = sa.select(d.c.delivery_id).where(due)
        if conn.dialect.name == "postgresql":
            ids = ids.with_for_update(skip_locked=True)
        # The UPDATE re-checks ``due`` itself: on SQLite the write lock makes it atomic, on
        # PostgreSQL rows another sender locked are skipped and changed rows re-evaluated.
        conn.execute(d.update().where(d.c.delivery_id.in_(ids.scalar_subquery()), due)
                     .values(claimed_by=token, claimed_until=now + lease))
        rows = conn.execute(_notice_info_query(with_delivery=True).where(d.c.claimed_by == token)
                            .order_by(d.c.delivery_id)).mappings().all()
    if not rows:
        return None
    return Claim(token, destination, tuple(r["delivery_id"] for r in rows),
                 tuple(NoticeLine(r["title"], r["department"], r["doc_type"], r["published"], r["url"])
                       for r in rows), tuple(r["attempts"] for r in rows))


def mark_delivered(engine, c: Claim, message_id: str, *, now: dt.datetime | None = None) -> int:
    """Record that the destination accepted the message; returns the rows still held by the claim."""
    d = schema.alert_delivery
    with write_connection(engine) as conn, conn.begin():
        return conn.execute(
            d.update().where(d.c.claimed_by == c.token, d.c.status == "pending")
            .values(status="delivered", delivered_at=now or now_utc(), message_id=message_id,
                    attempts=d.c.attempts + 1, last_error=None, claimed_by=None, claimed_until=None)
        ).rowcount


def backoff(attempts: int, first: dt.timedelta) -> dt.timedelta:
    """Delay before attempt ``attempts`` + 1: first, 2·first, 4·first, ... capped at six hours."""
    return min(first * (2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def mark_failed(engine, c: Claim, error: str, *, first_retry: dt.timedelta,
                now: dt.datetime | None = None) -> None:
    d = schema.alert_delivery
    now = now or now_utc()
    attempts = max(c.attempts) + 1 if c.attempts else 1
    with write_connection(engine) as conn, conn.begin():
        conn.execute(
            d.update().where(d.c.claimed_by == c.token, d.c.status == "pending")
            .values(attempts=d.c.attempts + 1, last_error=error[:2000],
                    next_attempt_at=now + backoff(attempts, first_retry), claimed_by=None, claimed_until=None))


# --------------------------------------------------------------------------- reading


def pending_counts(engine) -> dict[str, int]:
    d, o = schema.alert_delivery, schema.alert_outbox
    with engine.connect() as conn:
        by_status = dict(conn.execute(sa.select(d.c.status, sa.func.count()).group_by(d.c.status)).all())
        baseline = conn.execute(sa.select(sa.func.count()).where(
            o.c.is_baseline, o.c.routed_at.is_(None))).scalar_one()
    return {"pending": int(by_status.get("pending", 0)), "delivered_total": int(by_status.get("delivered", 0)),
            "expired_total": int(by_status.get("expired", 0)), "baseline_unannounced": int(baseline)}


def message_notices(engine, message_id: str) -> list[NoticeLine]:
    """The notices one alert message covered (also those it only counted as "N more")."""
    d, o = schema.alert_delivery, schema.alert_outbox
    with engine.connect() as conn:
        rows = conn.execute(_notice_info_query(with_delivery=True).where(d.c.message_id == message_id)
                            .order_by(o.c.notice_id)).mappings()
        return [NoticeLine(r["title"], r["department"], r["doc_type"], r["published"], r["url"]) for r in rows]


def new_message_id() -> str:
    return f"{now_utc().strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(4)}"
