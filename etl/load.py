"""Load stage: validated ``NoticeRecord``s into the warehouse, idempotently, keeping every revision.

Each batch of notices is one transaction (SQLAlchemy Core for notices; sections, items and targets
go through COPY on PostgreSQL and the driver's executemany on SQLite), so a crash leaves whole
batches or nothing.

Per record, against the notice's revisions already in the warehouse:

* same content hash as the current revision, or a replay of a revision already stored (same hash
  and fetch time) → unchanged, nothing is written (re-running the same input changes nothing);
* never seen → revision 1, current ("new": the alert stage announces these);
* new content → the current revision is closed (``valid_to``, ``is_current`` false) and a new
  current revision is added with its sections, items and targets ("revised");
* new content fetched *before* the current revision (an old staging file replayed after a newer
  load) → not loaded, quarantined as ``stale_revision`` with all its values.

Notices that disappear from the site's lists are never deleted: absence from a load is no signal.

One document, many URLs: a record whose content key (``etl.dedupe.text_key``: normalised title and
main text) equals a current notice's under another (host, notice_id), published within
``FOLD_MAX_DAYS`` of it, is the same document posted again (another column, a mirror host). It
is folded into that notice, never loaded as a notice of its own: its URL is recorded in
``notice_url``, an equal text changes nothing, a changed text is a new revision of the one
notice, and no second alert is queued. Of the postings of one document the
lowest (host, notice_id) keys the notice, whichever was loaded first (a higher one loaded earlier
is re-keyed, items, links and outbox row included), so a backfill and a watch run agree. On
PostgreSQL the batch takes a transaction-scoped advisory lock per content key and per notice key
before reading, so two loads of the two copies at once still give one notice.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from .alert import outbox as alert_outbox
from .dedupe import text_key
from .records import ATTACHMENT_OUTCOMES, DOC_TYPES, NoticeRecord, StageReport, notice_record_to_dict
from .warehouse import ensure_departments_conn, schema, write_connection
from .warehouse import runs as runs_mod

log = logging.getLogger(__name__)

COUNTS = ("notices_new", "notices_revised", "notices_unchanged", "items_loaded", "targets_loaded",
          "attachments_loaded")
Key = tuple[str, int]


def item_uid(host: str, notice_id: int, section: int, ordinal: int) -> str:
    """Stable id of a plan item: the same in every revision of its notice."""
    return f"{host}:{notice_id}:{section}:{ordinal}"


def _utc(value: dt.datetime) -> dt.datetime:
    """Aware UTC datetime (naive values are taken as UTC; SQLite hands them back naive)."""
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _batches(records: Iterable[NoticeRecord], size: int) -> Iterator[list[NoticeRecord]]:
    it = iter(records)
    while batch := list(islice(it, size)):
        yield batch


def record_problems(rec: NoticeRecord) -> list[tuple[str, str]]:
    """Rule violations that would make the record unloadable: (check, reason) pairs."""
    problems = []
    if rec.parsed.doc_type not in DOC_TYPES:
        problems.append(("doc_type_known", f"doc_type {rec.parsed.doc_type!r} is not one of {DOC_TYPES}"))
    if not rec.content_sha256:
        problems.append(("content_hash_present", "record has no content_sha256"))
    seen_items = Counter((i.section, i.ordinal) for i in rec.parsed.items)
    dup_items = sorted(k for k, n in seen_items.items() if n > 1)
    if dup_items:
        problems.append(("item_key_unique", f"plan items repeat (section, ordinal) {dup_items}"))
    dup_sections = sorted(k for k, n in Counter(s.ordinal for s in rec.parsed.sections).items() if n > 1)
    if dup_sections:
        problems.append(("section_key_unique", f"sections repeat ordinal {dup_sections}"))
    bad = sorted({a.outcome for a in rec.attachments} - set(ATTACHMENT_OUTCOMES))
    if bad:
        problems.append(("attachment_outcome_known", f"attachment outcome(s) {bad} not one of {ATTACHMENT_OUTCOMES}"))
    dup_urls = sorted(u for u, n in Counter(a.url for a in rec.attachments).items() if n > 1)
    if dup_urls:
        problems.append(("attachment_url_unique", f"attachments repeat URL(s) {dup_urls}"))
    readable = {a.url for a in rec.attachments if a.outcome == "ok"}
    orphans = sorted({i.source_attachment for i in rec.parsed.items if i.source_attachment} - readable)
    if orphans:
        problems.append(("item_attachment_known", f"items name attachment(s) {orphans} that the record does not "
                                                  "hold as read"))
    return problems


@dataclass(slots=True)
class _NoticeState:
    """What the warehouse (plus this batch so far) holds for one (host, notice_id)."""

    max_revision: int = 0
    first_seen_at: dt.datetime | None = None
    current: dict[str, Any] | None = None  # DB row or pending row of the current revision
    known: set[tuple[str, dt.datetime]] = field(default_factory=set)  # (hash, fetched_at) of revisions


def _existing_state(conn: sa.Connection, keys: set[tuple[str, int]]) -> dict[tuple[str, int], _NoticeState]:
    n = schema.notice
    state: dict[tuple[str, int], _NoticeState] = {}
    ids = sorted({k[1] for k in keys})
    rows = conn.execute(
        sa.select(
            n.c.notice_rev_id,
            n.c.host,
            n.c.notice_id,
            n.c.revision,
            n.c.content_sha256,
            n.c.fetched_at,
            n.c.first_seen_at,
            n.c.is_current,
            n.c.text_sha256,
            n.c.url,
            n.c.channel,
        ).where(n.c.notice_id.in_(ids))
    ).mappings()
    for row in rows:
        key = (row["host"], row["notice_id"])
        if key not in keys:
            continue  # same id on another host
        st = state.setdefault(key, _NoticeState())
        fetched = _utc(row["fetched_at"])
        st.max_revision = max(st.max_revision, row["revision"])
        st.known.add((row["content_sha256"], fetched))
        first = _utc(row["first_seen_at"])
        st.first_seen_at = first if st.first_seen_at is None else min(st.first_seen_at, first)
        if row["is_current"]:
            st.current = {
                "notice_rev_id": row["notice_rev_id"],
                "content_sha256": row["content_sha256"],
                "fetched_at": fetched,
                "text_sha256": row["text_sha256"],
                "url": row["url"],
                "channel": row["channel"],
            }
    return state


def _notice_row(
    rec: NoticeRecord,
    key: Key,
    url: str,
    channel: str,
    tkey: str | None,
    revision: int,
    fetched: dt.datetime,
    first_seen: dt.datetime,
    department_id: int | None,
    run_id: str | None,
) -> dict[str, Any]:
    p = rec.parsed
    return {
        "host": key[0],
        "notice_id": key[1],
        "revision": revision,
        "url": url,
        "channel": channel,
        "title": p.title,
        "published": p.published,
        "department_id": department_id,
        "doc_type": p.doc_type,
        "plan_year": p.plan_year,
        "column_name": p.column,
        "content_sha256": rec.content_sha256,
        "body_text": p.body_text or "",
        "text_sha256": tkey,
        "parse_warnings": [w.to_dict() for w in p.warnings],
        "fetched_at": fetched,
        "first_seen_at": first_seen,
        "valid_from": fetched,
        "valid_to": None,
        "is_current": True,
        "load_run_id": run_id,
    }


SECTION_COLUMNS = ("notice_rev_id", "section", "marker", "title")
ITEM_COLUMNS = (
    "notice_rev_id",
    "section",
    "ordinal",
    "item_uid",
    "marker",
    "headline",
    "text",
    "raw_text",
    "lead_units",
    "partner_units",
    "item_group",
    "source_attachment_id",
)
TARGET_COLUMNS = (
    "notice_rev_id",
    "section",
    "ordinal",
    "target_ordinal",
    "action",
    "object",
    "value",
    "unit",
    "span",
    "modifier",
    "value_min",
    "value_max",
    "target_kind",
)


def _child_rows(rec: NoticeRecord, key: Key, rev_id: int, sections: list, items: list, targets: list,
                attachment_ids: dict[tuple[int, str], int] | None = None) -> None:
    """Section, item and target rows of one revision as tuples in *_COLUMNS order (JSON pre-encoded).
    ``key`` is the notice the revision belongs to (a double-posted copy loads under the first
    posting's key); ``attachment_ids``: (notice_rev_id, url) -> attachment_id of the revision's
    attachments."""
    host, nid = key
    attachment_ids = attachment_ids or {}
    for s in rec.parsed.sections:
        sections.append((rev_id, s.ordinal, s.marker, s.title))
    for i in rec.parsed.items:
        items.append(
            (
                rev_id,
                i.section,
                i.ordinal,
                item_uid(host, nid, i.section, i.ordinal),
                i.marker,
                i.headline,
                i.text,
                i.raw_text or "",
                json.dumps(list(i.lead_units), ensure_ascii=False),
                json.dumps(list(i.partner_units), ensure_ascii=False),
                i.group,
                attachment_ids[(rev_id, i.source_attachment)] if i.source_attachment else None,
            )
        )
        for k, t in enumerate(i.targets, start=1):
            targets.append(
                (rev_id, i.section, i.ordinal, k, t.action, t.object, float(t.value), t.unit, t.span,
                 t.modifier, t.value_min, t.value_max, t.kind)
            )


def _copy_field(value: Any) -> str:
    """One field in PostgreSQL COPY text format."""
    if value is None:
        return "\\N"
    if isinstance(value, str):
        return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return str(value)


def _bulk_insert(conn: sa.Connection, table: sa.Table, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """Append rows through the fastest path each backend has, inside the caller's transaction:
    COPY on PostgreSQL, the driver's executemany of one prepared INSERT on SQLite. The rows are new
    revisions' children, so no conflict handling is needed (a conflict is a bug and fails the batch)."""
    if not rows:
        return
    raw = conn.connection.driver_connection
    cols = ", ".join(f'"{c}"' for c in columns)
    if conn.dialect.name == "postgresql":
        buf = io.StringIO()
        buf.writelines("\t".join(map(_copy_field, row)) + "\n" for row in rows)
        buf.seek(0)
        with raw.cursor() as cur:
            cur.copy_expert(f'COPY "{table.name}" ({cols}) FROM STDIN', buf)
    else:
        cur = raw.cursor()
        try:
            cur.executemany(
                f'INSERT INTO "{table.name}" ({cols}) VALUES ({", ".join("?" * len(columns))})', rows
            )
        finally:
            cur.close()


def _insert_attachments(conn: sa.Connection, pending: list[tuple[NoticeRecord, int]]) -> dict[tuple[int, str], int]:
    """Insert the attachments of new revisions; return (notice_rev_id, url) -> attachment_id.

    Ids are needed for the items that point at them, so rows go in through INSERT ... RETURNING on
    PostgreSQL (the bulk COPY path cannot return ids; attachments are few) and with ids picked under
    the batch's write lock on SQLite, as for notices."""
    rows = [
        {"notice_rev_id": rev_id, "ordinal": k, "url": a.url, "filename": a.filename, "media_type": a.media_type,
         "content_sha256": a.content_sha256, "bytes": a.bytes, "text_length": a.text_length,
         "outcome": a.outcome, "reason": a.reason}
        for rec, rev_id in pending
        for k, a in enumerate(rec.attachments, start=1)
    ]
    if not rows:
        return {}
    t = schema.attachment
    if conn.dialect.name == "sqlite":
        start = conn.execute(sa.select(sa.func.coalesce(sa.func.max(t.c.attachment_id), 0))).scalar_one()
        ids = list(range(start + 1, start + 1 + len(rows)))
        conn.execute(t.insert(), [{**row, "attachment_id": i} for row, i in zip(rows, ids, strict=True)])
    else:
        result = conn.execute(t.insert().returning(t.c.attachment_id, sort_by_parameter_order=True), rows)
        ids = list(result.scalars().all())
    return {(row["notice_rev_id"], row["url"]): i for row, i in zip(rows, ids, strict=True)}


def _insert_notices(conn: sa.Connection, rows: list[dict[str, Any]]) -> list[int]:
    """Insert notice revisions in bulk; return their notice_rev_id in row order."""
    n = schema.notice
    if conn.dialect.name == "sqlite":
        # SQLite cannot return ids of a multi-row INSERT in order (SQLAlchemy would fall back to one
        # statement per row). The batch holds the write lock (BEGIN IMMEDIATE), so max+1.. is ours;
        # it is also the id SQLite itself would pick for a rowid primary key.
        start = conn.execute(sa.select(sa.func.coalesce(sa.func.max(n.c.notice_rev_id), 0))).scalar_one()
        ids = list(range(start + 1, start + 1 + len(rows)))
        conn.execute(n.insert(), [{**row, "notice_rev_id": i} for row, i in zip(rows, ids, strict=True)])
        return ids
    # PostgreSQL: one multi-row INSERT ... RETURNING per 1000 rows, ids matched to rows by SQLAlchemy.
    result = conn.execute(n.insert().returning(n.c.notice_rev_id, sort_by_parameter_order=True), rows)
    return list(result.scalars().all())


# --------------------------------------------------------------------------- one document, many URLs


def _lock_keys(conn: sa.Connection, names: Iterable[str]) -> None:
    """PostgreSQL: transaction-scoped advisory locks on ``names`` (sorted: no deadlock between two
    batches), so a concurrent load of another copy of the same document waits for this one and
    then reads its rows. SQLite batches already hold the database's write lock."""
    if conn.dialect.name != "postgresql":
        return
    for name in sorted(set(names)):
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtextextended(:k || current_schema(), 0))"),
                     {"k": f"qdp:load:{name}:"})


@dataclass(slots=True)
class _Posting:
    """Where one record goes: the notice it belongs to and how it got there."""

    rec: NoticeRecord
    key: Key  # the notice (canonical host, notice_id)
    tkey: str | None  # content key
    mode: str  # "own" (its own notice), "alias" (another posting's notice), "folded" (re-keyed onto it now)


def _resolve_postings(conn: sa.Connection, recs: list[NoticeRecord], folded: list[list[Any]]) -> list[_Posting]:
    """Map each record to its notice: its own, or the notice of an equal document posted elsewhere.

    The lowest (host, notice_id) of the postings keys the notice: a record below a stored copy
    re-keys that copy's notice onto itself (``_rekey``) before the batch reads notice state."""
    n, nu = schema.notice, schema.notice_url
    tkeys = {id(r): text_key(r.parsed.title, r.parsed.body_text) for r in recs}
    ids = sorted({r.notice_id for r in recs})
    owner: dict[Key, Key] = {}  # posted key -> notice key
    for ph, pid, h, i in conn.execute(sa.select(nu.c.posted_host, nu.c.posted_notice_id, nu.c.host, nu.c.notice_id)
                                      .where(nu.c.posted_notice_id.in_(ids))):
        owner[(ph, pid)] = (h, i)
    for h, i in conn.execute(sa.select(n.c.host, n.c.notice_id).where(n.c.notice_id.in_(ids)).distinct()):
        owner.setdefault((h, i), (h, i))  # notices loaded before notice_url existed
    wanted = sorted({k for k in tkeys.values() if k})
    by_text: dict[str, dict[Key, dt.date | None]] = {}  # content key -> current notices and their dates
    if wanted:
        rows = conn.execute(sa.select(n.c.text_sha256, n.c.host, n.c.notice_id, n.c.published)
                            .where(n.c.is_current, n.c.text_sha256.in_(wanted)))
        for tk, h, i, published in rows:
            by_text.setdefault(tk, {})[(h, i)] = published
    out: list[_Posting] = []
    for rec in sorted(recs, key=lambda r: r.key):  # stable: a notice's records keep their order
        posted, tk = rec.key, tkeys[id(rec)]
        same = sorted(k for k, published in by_text.get(tk or "", {}).items()
                      if k != posted and _same_posting_time(published, rec.parsed.published))
        if posted in owner:
            key = owner[posted]
            mode = "own" if key == posted else "alias"
        elif same:
            other = same[0]
            if other < posted:
                key, mode = other, "alias"
            else:  # this posting sorts first: the stored copy's notice becomes this one
                _rekey(conn, other, rec)
                for p, k in owner.items():
                    if k == other:
                        owner[p] = posted
                for notices in by_text.values():
                    if other in notices:
                        notices[posted] = notices.pop(other)
                key, mode = posted, "folded"
                folded.append([other[0], other[1], posted[0], posted[1]])
            owner[posted] = key
        else:
            key, mode = posted, "own"
            owner[posted] = key
            if tk:
                by_text.setdefault(tk, {})[key] = rec.parsed.published
        if mode == "alias":
            folded.append([posted[0], posted[1], key[0], key[1]])
        out.append(_Posting(rec, key, tk, mode))
    return out


# Two postings of one text are one document when published within this many days of each other
# (a double posting, a mirror, the 2020 re-posting keep the date or differ by days); the same text
# published again months later is a new announcement (a notice template re-issued).
FOLD_MAX_DAYS = 31


def _same_posting_time(a: dt.date | None, b: dt.date | None) -> bool:
    return a is None or b is None or abs((a - b).days) <= FOLD_MAX_DAYS


def _rekey(conn: sa.Connection, old: Key, rec: NoticeRecord) -> None:
    """Move notice ``old`` (every revision, its items' uids, links, outbox row and URLs) to the key
    of ``rec``, the lower posting of the same document; the notice's URL and channel become rec's."""
    n, nu, pi, link, ob = (schema.notice, schema.notice_url, schema.plan_item, schema.plan_item_link,
                           schema.alert_outbox)
    new = rec.key
    old_prefix, new_prefix = f"{old[0]}:{old[1]}:", f"{new[0]}:{new[1]}:"
    log.info("notice %s/%s is a copy of %s/%s (same content key): re-keyed", old[0], old[1], new[0], new[1])
    conn.execute(n.update().where(n.c.host == old[0], n.c.notice_id == old[1])
                 .values(host=new[0], notice_id=new[1], url=rec.url, channel=rec.channel))

    def moved(col: sa.Column) -> Any:
        return sa.literal(new_prefix) + sa.func.substr(col, len(old_prefix) + 1)

    def under(col: sa.Column) -> Any:
        return sa.func.substr(col, 1, len(old_prefix)) == old_prefix

    revs = sa.select(n.c.notice_rev_id).where(n.c.host == new[0], n.c.notice_id == new[1]).scalar_subquery()
    conn.execute(pi.update().where(pi.c.notice_rev_id.in_(revs)).values(item_uid=moved(pi.c.item_uid)))
    conn.execute(link.update().where(under(link.c.item_uid))
                 .values(item_uid=moved(link.c.item_uid), notice_id=new[1]))
    conn.execute(link.update().where(under(link.c.previous_item_uid))
                 .values(previous_item_uid=moved(link.c.previous_item_uid), previous_notice_id=new[1]))
    conn.execute(ob.update().where(ob.c.host == old[0], ob.c.notice_id == old[1])
                 .values(host=new[0], notice_id=new[1]))
    conn.execute(nu.update().where(nu.c.host == old[0], nu.c.notice_id == old[1])
                 .values(host=new[0], notice_id=new[1]))


def _record_urls(conn: sa.Connection, postings: list[tuple[_Posting, dt.datetime]]) -> None:
    """Upsert one ``notice_url`` row per URL of the batch (first/last seen widen, the newest page wins)."""
    if not postings:
        return
    nu = schema.notice_url
    rows: dict[str, dict[str, Any]] = {}
    for p, fetched in postings:
        r = p.rec
        row = {"url": r.url, "host": p.key[0], "notice_id": p.key[1], "posted_host": r.host,
               "posted_notice_id": r.notice_id, "channel": r.channel, "content_sha256": r.content_sha256,
               "first_seen_at": fetched, "last_seen_at": fetched}
        before = rows.get(r.url)
        if before is not None:  # one statement may not touch a row twice: merge in Python first
            row["first_seen_at"] = min(before["first_seen_at"], fetched)
            if before["last_seen_at"] > fetched:
                row.update({k: before[k] for k in ("channel", "content_sha256", "last_seen_at")})
        rows[r.url] = row
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(nu)
    ex = stmt.excluded
    newer = ex.last_seen_at >= nu.c.last_seen_at
    stmt = stmt.on_conflict_do_update(index_elements=[nu.c.url], set_={
        "host": ex.host,
        "notice_id": ex.notice_id,
        "posted_host": ex.posted_host,
        "posted_notice_id": ex.posted_notice_id,
        "channel": sa.case((newer, ex.channel), else_=nu.c.channel),
        "content_sha256": sa.case((newer, ex.content_sha256), else_=nu.c.content_sha256),
        "first_seen_at": sa.case((ex.first_seen_at < nu.c.first_seen_at, ex.first_seen_at), else_=nu.c.first_seen_at),
        "last_seen_at": sa.case((newer, ex.last_seen_at), else_=nu.c.last_seen_at),
    })
    conn.execute(stmt, list(rows.values()))


def _url_pages(conn: sa.Connection, urls: list[str]) -> dict[str, str]:
    """content_sha256 of the page last loaded from each URL."""
    nu = schema.notice_url
    return dict(conn.execute(sa.select(nu.c.url, nu.c.content_sha256).where(nu.c.url.in_(sorted(set(urls))))).all())


def _load_batch(
    engine: Engine,
    batch: list[NoticeRecord],
    run_id: str | None,
    report: StageReport,
    quarantine: list[dict[str, Any]],
    alert_baseline: str = "first-load",
) -> None:
    n = schema.notice
    loadable = []
    for rec in batch:
        problems = record_problems(rec)
        if problems:
            for check, reason in problems:
                quarantine.append(
                    {
                        "record_type": "notice",
                        "record_key": f"{rec.host}/{rec.notice_id}",
                        "check": check,
                        "reason": reason,
                        "values": notice_record_to_dict(rec),
                    }
                )
            report.add("notices_quarantined")
            continue
        loadable.append(rec)
    if not loadable:
        return
    with write_connection(engine) as conn, conn.begin():
        dept_ids = ensure_departments_conn(
            conn, {r.parsed.department for r in loadable if r.parsed.department}
        )
        tkeys = {text_key(r.parsed.title, r.parsed.body_text) for r in loadable}
        _lock_keys(conn, [f"text:{k}" for k in tkeys if k] + [f"notice:{h}/{i}" for h, i in {r.key for r in loadable}])
        folded: list[list[Any]] = []
        postings = _resolve_postings(conn, loadable, folded)
        state = _existing_state(conn, {p.key for p in postings})
        url_pages = _url_pages(conn, [p.rec.url for p in postings])
        closes: list[dict[str, Any]] = []  # existing current revisions to close
        pending: list[tuple[NoticeRecord, Key, dict[str, Any]]] = []
        seen_urls: list[tuple[_Posting, dt.datetime]] = []
        new_keys, revised_keys = [], []
        for posting in postings:
            rec, key = posting.rec, posting.key
            fetched = _utc(rec.fetched_at)
            st = state.setdefault(key, _NoticeState())
            cur = st.current
            # Another posting of the current text, or this URL's own page already loaded: no news.
            same_doc = bool(cur and posting.tkey and cur.get("text_sha256") == posting.tkey and (
                posting.mode != "own" or url_pages.get(rec.url) == rec.content_sha256))
            if (cur and cur["content_sha256"] == rec.content_sha256) or same_doc or (
                rec.content_sha256,
                fetched,
            ) in st.known:
                report.add("notices_unchanged")
                seen_urls.append((posting, fetched))
                continue
            if cur and fetched < cur["fetched_at"]:
                log.warning(
                    "notice %s/%s: content fetched %s is older than the loaded revision; quarantined",
                    rec.host,
                    rec.notice_id,
                    fetched.isoformat(),
                )
                quarantine.append(
                    {
                        "record_type": "notice",
                        "record_key": f"{rec.host}/{rec.notice_id}",
                        "check": "stale_revision",
                        "reason": f"content {rec.content_sha256[:12]} fetched {fetched.isoformat()} "
                        f"predates the current revision ({cur['fetched_at'].isoformat()})",
                        "values": notice_record_to_dict(rec),
                    }
                )
                report.add("notices_stale")
                continue
            seen_urls.append((posting, fetched))
            if cur is not None:
                if "notice_rev_id" in cur:
                    closes.append({"b_id": cur["notice_rev_id"], "b_valid_to": fetched})
                else:  # a revision added earlier in this same batch
                    cur.update(is_current=False, valid_to=fetched)
                revised_keys.append(list(key))
            else:
                new_keys.append(list(key))
            st.max_revision += 1
            st.first_seen_at = st.first_seen_at or fetched
            # A copy's revision keeps the notice's own URL and channel (its URL is in notice_url).
            own = posting.mode == "own" or cur is None
            row = _notice_row(
                rec,
                key,
                rec.url if own else cur["url"],
                rec.channel if own else cur["channel"],
                posting.tkey,
                st.max_revision,
                fetched,
                st.first_seen_at,
                dept_ids.get(rec.parsed.department) if rec.parsed.department else None,
                run_id,
            )
            st.current = row
            st.known.add((rec.content_sha256, fetched))
            pending.append((rec, key, row))
        if closes:
            # Close first: the partial unique index allows one current revision per notice.
            conn.execute(
                n.update()
                .where(n.c.notice_rev_id == sa.bindparam("b_id"))
                .values(is_current=False, valid_to=sa.bindparam("b_valid_to")),
                closes,
            )
        sections: list[tuple] = []
        items: list[tuple] = []
        targets: list[tuple] = []
        attachments_loaded = 0
        if pending:
            rev_ids = _insert_notices(conn, [row for _, _, row in pending])
            attachment_ids = _insert_attachments(
                conn, [(rec, rev_id) for (rec, _, _), rev_id in zip(pending, rev_ids, strict=True)]
            )
            attachments_loaded = len(attachment_ids)
            for (rec, key, _), rev_id in zip(pending, rev_ids, strict=True):
                _child_rows(rec, key, rev_id, sections, items, targets, attachment_ids)
            # Alert outbox, in this same transaction: a committed new notice always has its row.
            firsts = [{**row, "notice_rev_id": i} for (_, _, row), i in zip(pending, rev_ids, strict=True)]
            alert_outbox.enqueue(
                conn, [r for r in firsts if r["revision"] == 1], run_id=run_id, baseline=alert_baseline
            )
        _bulk_insert(conn, schema.plan_section, SECTION_COLUMNS, sections)
        _bulk_insert(conn, schema.plan_item, ITEM_COLUMNS, items)
        _bulk_insert(conn, schema.plan_target, TARGET_COLUMNS, targets)
        _record_urls(conn, seen_urls)
    # Counted only after the commit: a failed batch reports nothing as loaded.
    if folded:
        report.add("notices_folded", len(folded))
        report.details.setdefault("folded", []).extend(folded)
    report.add("notices_new", len(new_keys))
    report.add("notices_revised", len(revised_keys))
    report.add("items_loaded", len(items))
    report.add("targets_loaded", len(targets))
    report.add("attachments_loaded", attachments_loaded)
    report.details["new_notices"].extend(new_keys)
    report.details["revised_notices"].extend(revised_keys)


def load_notices(
    engine: Engine,
    records: Iterable[NoticeRecord],
    *,
    run_id: str | None = None,
    batch_size: int = 500,
    alert_baseline: str = "first-load",
) -> StageReport:
    """Load ``records`` in batches of ``batch_size`` notices, one transaction per batch.

    Counts: notices_new, notices_revised, notices_unchanged, items_loaded, targets_loaded (plus
    notices_quarantined / notices_stale when records were held back, notices_folded for postings
    of a document already loaded under another notice id). Details: ``new_notices`` and
    ``revised_notices``, lists of [host, notice_id]; ``folded`` (when any): [posted host, posted
    id, notice host, notice id].
    ``alert_baseline`` says which new notices
    the alert outbox records as already known (see ``etl.alert.outbox.enqueue``).
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    started = time.perf_counter()
    report = StageReport(
        "load", counts=dict.fromkeys(COUNTS, 0),
        details={"new_notices": [], "revised_notices": []}
    )
    quarantine: list[dict[str, Any]] = []
    try:
        for batch in _batches(records, batch_size):
            _load_batch(engine, batch, run_id, report, quarantine, alert_baseline)
    finally:
        # Held-back records are stored even when a later batch fails: nothing is lost silently.
        if quarantine:
            runs_mod.record_quarantine(engine, run_id, quarantine)
    report.seconds = round(time.perf_counter() - started, 3)
    log.info("load: %s", report.counts)
    return report


def current_content_hashes(engine: Engine) -> dict[tuple[str, int], str]:
    """content_sha256 of each notice's *current* revision, by (host, notice_id).

    The parse stage skips a landed page only when it equals its own notice's current revision:
    the same bytes under another notice, or a good body for a notice whose current revision is
    something else (an older text, an error page loaded before the gate existed), are parsed."""
    n = schema.notice
    with engine.connect() as conn:
        rows = conn.execute(sa.select(n.c.host, n.c.notice_id, n.c.content_sha256).where(n.c.is_current))
        return {(h, i): sha for h, i, sha in rows}


def loaded_page_hashes(engine: Engine) -> dict[tuple[str, int], set[str]]:
    """Page hashes already loaded, by the (host, notice_id) the site posted them under: the notice's
    current revision and the page last loaded from each of its URLs (copies folded into another
    notice included). The parse stage skips a landed page found here."""
    n, nu = schema.notice, schema.notice_url
    out: dict[tuple[str, int], set[str]] = {}
    with engine.connect() as conn:
        for h, i, sha in conn.execute(sa.select(n.c.host, n.c.notice_id, n.c.content_sha256).where(n.c.is_current)):
            out.setdefault((h, i), set()).add(sha)
        for h, i, sha in conn.execute(sa.select(nu.c.posted_host, nu.c.posted_notice_id, nu.c.content_sha256)):
            out.setdefault((h, i), set()).add(sha)
    return out


def new_notice_keys(engine: Engine, run_id: str) -> list[list[Any]]:
    """[host, notice_id] of the notices whose first revision run ``run_id`` loaded."""
    n = schema.notice
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(n.c.host, n.c.notice_id)
            .where(n.c.load_run_id == run_id, n.c.revision == 1)
            .order_by(n.c.host, n.c.notice_id)
        ).all()
    return [[h, i] for h, i in rows]
