"""One document, many URLs (issue 14): a plan posted in two columns is one notice with two URLs,
whichever copy is loaded first, on SQLite and PostgreSQL (concurrent loads included)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading

import pytest
import sqlalchemy as sa

from etl import warehouse
from etl.compare import compare_warehouse
from etl.dedupe import text_key
from etl.load import load_notices, loaded_page_hashes
from etl.records import NoticeRecord
from etl.warehouse import schema
from tests.fixtures.warehouse import HOST, T0, make_notice_record

GHJH = "https://www.qingdao.gov.cn/zwgk/xxgk/jyj/gkml/ghjh/202103/t20210305_{}.shtml"
JHMB = "https://www.qingdao.gov.cn/zwgk/zdgk/ghjh/jhmb/202103/t20210306_{}.shtml"


def _copies(low: int = 3012001, high: int = 3012777, *, year: int = 2021,
            fetched: tuple[dt.datetime, dt.datetime] = (T0, T0)) -> tuple[NoticeRecord, NoticeRecord]:
    """The same plan posted twice: different ids, URLs, channels and page bytes; the body differs
    only in whitespace, full-width punctuation and the posting date of the header."""
    a = make_notice_record(low, plan_year=year, fetched_at=fetched[0])
    body = a.parsed.body_text
    a.parsed.body_text = "青岛政务网 发布日期 : 2021-03-05\n" + body
    b_parsed = dataclasses.replace(a.parsed, body_text="青岛政务网 发布日期：2021-03-06\n" + body.replace("(", "（")
                                   .replace(")", "）").replace("。", "。 "))
    a = dataclasses.replace(a, url=GHJH.format(low), channel="jyj-ghjh", content_sha256="a" * 64)
    b = dataclasses.replace(a, notice_id=high, url=JHMB.format(high), channel="zdgk-jhmb", content_sha256="b" * 64,
                            fetched_at=fetched[1], parsed=b_parsed)
    assert text_key(a.parsed.title, a.parsed.body_text) == text_key(b.parsed.title, b.parsed.body_text)
    return a, b


def _state(engine) -> dict[str, list[tuple]]:
    """What a reader sees, without page hashes and fetch times (those are of whichever copy came first)."""
    n, nu, pi, ob = schema.notice, schema.notice_url, schema.plan_item, schema.alert_outbox
    with engine.connect() as conn:
        return {
            "notice": sorted(conn.execute(sa.select(n.c.host, n.c.notice_id, n.c.revision, n.c.url, n.c.channel,
                                                    n.c.title, n.c.text_sha256, n.c.is_current)).all()),
            "items": sorted(conn.execute(sa.select(pi.c.item_uid, pi.c.headline)).all()),
            "urls": sorted(conn.execute(sa.select(nu.c.url, nu.c.host, nu.c.notice_id, nu.c.posted_host,
                                                  nu.c.posted_notice_id, nu.c.channel)).all()),
            "outbox": sorted(conn.execute(sa.select(ob.c.host, ob.c.notice_id)).all()),
        }


def test_two_postings_in_one_load_are_one_notice_with_two_urls(engine):
    a, b = _copies()
    report = load_notices(engine, [b, a])
    assert report.counts["notices_new"] == 1 and report.counts["notices_folded"] == 1
    assert report.details["folded"] == [[HOST, b.notice_id, HOST, a.notice_id]]
    state = _state(engine)
    assert [(r[1], r[2], r[3], r[4]) for r in state["notice"]] == [(a.notice_id, 1, a.url, "jyj-ghjh")]
    assert [(r[0], r[2], r[4], r[5]) for r in state["urls"]] == [
        (a.url, a.notice_id, a.notice_id, "jyj-ghjh"), (b.url, a.notice_id, b.notice_id, "zdgk-jhmb")]
    assert state["outbox"] == [(HOST, a.notice_id)]  # announced once
    assert {uid.split(":")[1] for uid, _ in state["items"]} == {str(a.notice_id)}
    again = load_notices(engine, [a, b])  # a replay changes nothing
    assert again.counts["notices_new"] == again.counts["notices_revised"] == 0
    assert again.counts["notices_unchanged"] == 2
    assert _state(engine) == state
    hashes = loaded_page_hashes(engine)  # the parse stage skips both landed pages
    assert a.content_sha256 in hashes[a.key] and b.content_sha256 in hashes[b.key]


@pytest.mark.parametrize("first", ["low", "high"])
def test_result_does_not_depend_on_which_copy_is_loaded_first(warehouse_url, tmp_path, first):
    a, b = _copies(fetched=(T0, T0 + dt.timedelta(hours=1)))
    engine = warehouse.get_engine(warehouse_url)
    warehouse.upgrade(engine)
    reference = warehouse.get_engine(f"sqlite:///{tmp_path / 'reference.sqlite'}")
    warehouse.upgrade(reference)
    load_notices(reference, [a, b])
    order = [a, b] if first == "low" else [b, a]
    for rec in order:  # two runs: one copy each
        load_notices(engine, [rec])
    got = _state(engine)
    assert got == _state(reference)
    assert len(got["notice"]) == 1 and len(got["outbox"]) == 1 and len(got["urls"]) == 2
    # The copy loaded second is recognised again on the next run as well (no new revision).
    again = load_notices(engine, order)
    assert again.counts["notices_unchanged"] == 2 and again.counts["notices_revised"] == 0
    assert loaded_page_hashes(engine)[a.key] >= {a.content_sha256}
    warehouse.dispose_engine(reference.url)


def test_a_revision_of_either_copy_revises_the_one_notice(engine):
    a, b = _copies()
    load_notices(engine, [a, b])
    later = T0 + dt.timedelta(days=2)
    changed = make_notice_record(a.notice_id, version="v2", fetched_at=later)
    b2 = dataclasses.replace(b, parsed=changed.parsed, content_sha256="c" * 64, fetched_at=later)
    report = load_notices(engine, [b2])
    assert report.counts["notices_revised"] == 1 and report.counts["notices_new"] == 0
    assert report.details["revised_notices"] == [[HOST, a.notice_id]]
    n = schema.notice
    with engine.connect() as conn:
        rows = conn.execute(sa.select(n.c.notice_id, n.c.revision, n.c.url, n.c.is_current)
                            .order_by(n.c.revision)).all()
        outbox = conn.execute(sa.select(sa.func.count()).select_from(schema.alert_outbox)).scalar_one()
    # The notice keeps its own URL; the copy's URL is in notice_url.
    assert rows == [(a.notice_id, 1, a.url, False), (a.notice_id, 2, a.url, True)]
    assert outbox == 1


def test_a_lower_copy_loaded_later_takes_over_items_links_and_outbox(engine):
    old = make_notice_record(3000001, plan_year=2020, version="v0")  # last year's plan, for links
    a, b = _copies(year=2021)
    load_notices(engine, [old, b])
    compare_warehouse(engine)
    link = schema.plan_item_link
    with engine.connect() as conn:
        before = conn.execute(sa.select(sa.func.count()).select_from(link)
                              .where(link.c.notice_id == b.notice_id)).scalar_one()
    assert before > 0
    report = load_notices(engine, [a])
    assert report.counts["notices_new"] == 0 and report.counts["notices_folded"] == 1
    assert report.details["folded"] == [[HOST, b.notice_id, HOST, a.notice_id]]
    with engine.connect() as conn:
        ids = set(conn.execute(sa.select(link.c.notice_id)).scalars()) - {None}
        uids = set(conn.execute(sa.select(link.c.item_uid).where(link.c.item_uid.is_not(None))).scalars())
    assert b.notice_id not in ids and a.notice_id in ids
    assert all(f":{b.notice_id}:" not in u for u in uids)
    state = _state(engine)
    assert (HOST, b.notice_id) not in state["outbox"] and (HOST, a.notice_id) in state["outbox"]
    assert {r[1] for r in state["notice"]} == {old.notice_id, a.notice_id}


def test_compare_never_pairs_a_plan_with_its_copy(engine):
    old = make_notice_record(3000001, plan_year=2020, version="v0")
    a, b = _copies(year=2021)
    load_notices(engine, [old, a])
    load_notices(engine, [b])
    compare_warehouse(engine)
    link = schema.plan_item_link
    with engine.connect() as conn:
        pairs = set(conn.execute(sa.select(link.c.notice_id, link.c.previous_notice_id)).all())
        years = set(conn.execute(sa.select(link.c.plan_year)).scalars())
    assert years == {2021}
    assert {p for p in pairs if p[0] is not None} <= {(a.notice_id, old.notice_id), (a.notice_id, None)}


def test_short_pages_are_not_folded(engine):
    a = make_notice_record(3100001, title="关于印发2021年工作要点的通知")
    b = make_notice_record(3100002, title="关于印发2021年工作要点的通知")
    for rec in (a, b):
        rec.parsed.body_text = "详见附件。"
    assert text_key(a.parsed.title, a.parsed.body_text) is None
    report = load_notices(engine, [a, b])
    assert report.counts["notices_new"] == 2 and "notices_folded" not in report.counts


@pytest.mark.postgres
def test_concurrent_loads_of_the_two_copies_give_one_notice():
    from tests.fixtures.warehouse import postgres_schema_url

    with postgres_schema_url() as url:
        engine = warehouse.get_engine(url)
        warehouse.upgrade(engine)
        a, b = _copies()
        key = text_key(a.parsed.title, a.parsed.body_text)
        results: dict[str, object] = {}
        # Hold the content key's lock so both loads are waiting on it when it is released: without
        # the lock both would read "no such document" and insert a notice each.
        blocker = engine.connect()
        blocker.begin()
        blocker.execute(sa.text("SELECT pg_advisory_xact_lock(hashtextextended(:k || current_schema(), 0))"),
                        {"k": f"qdp:load:text:{key}:"})

        def load(rec: NoticeRecord) -> None:
            try:
                results[str(rec.notice_id)] = load_notices(engine, [rec])
            except Exception as exc:  # surfaced by the assertion below
                results[str(rec.notice_id)] = exc

        threads = [threading.Thread(target=load, args=(r,)) for r in (b, a)]
        for t in threads:
            t.start()
        with engine.connect() as probe:  # both loads are blocked on the lock
            for _ in range(200):
                waiting = probe.execute(sa.text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")).scalar_one()
                if waiting >= 2:
                    break
                threading.Event().wait(0.05)
        assert waiting >= 2
        blocker.rollback()
        blocker.close()
        for t in threads:
            t.join(60)
        assert all(not isinstance(r, Exception) for r in results.values()), results
        state = _state(engine)
        assert [(r[1], r[2]) for r in state["notice"]] == [(a.notice_id, 1)]
        assert len(state["urls"]) == 2 and state["outbox"] == [(HOST, a.notice_id)]
        warehouse.dispose_engine(url)


def test_the_same_text_published_months_later_is_a_new_notice(engine):
    """A notice template re-issued (same title and text, months apart) is a new announcement;
    the double posting of one document is days apart at most."""
    a, b = _copies()
    b.parsed.published = a.parsed.published + dt.timedelta(days=120)
    report = load_notices(engine, [a, b])
    assert report.counts["notices_new"] == 2 and "notices_folded" not in report.counts
    c = dataclasses.replace(b, notice_id=3012999, url=JHMB.format(3012999), content_sha256="d" * 64,
                            parsed=dataclasses.replace(b.parsed, published=a.parsed.published + dt.timedelta(days=1)))
    assert load_notices(engine, [c]).details["folded"] == [[HOST, c.notice_id, HOST, a.notice_id]]


def test_migration_fills_content_keys_and_each_notices_own_url(warehouse_url):
    """0011 on a warehouse with notices: text_sha256 computed, one notice_url row per notice (its
    current URL, first and last fetch); a downgrade drops both again."""
    from etl.load import ITEM_COLUMNS, _child_rows, _notice_row, _utc

    engine = warehouse.get_engine(warehouse_url)
    warehouse.upgrade(engine, "0010")
    a, b = _copies()
    later = dataclasses.replace(a, content_sha256="e" * 64, fetched_at=T0 + dt.timedelta(days=3))
    with engine.begin() as conn:  # as a 0010 loader wrote them: the copies are two notices there
        for rec, revision, current in ((a, 1, False), (later, 2, True), (b, 1, True)):
            row = _notice_row(rec, rec.key, rec.url, rec.channel, None, revision, rec.fetched_at, T0, None, None)
            row.pop("text_sha256")
            row.update(is_current=current, valid_to=None if current else later.fetched_at)
            rev_id = conn.execute(schema.notice.insert().values(**row).returning(schema.notice.c.notice_rev_id)
                                  ).scalar_one()
            items: list = []
            _child_rows(rec, rec.key, rev_id, [], items, [])
            conn.execute(schema.plan_item.insert(), [dict(zip(ITEM_COLUMNS, r, strict=True)) for r in items])
    warehouse.upgrade(engine)
    n, nu = schema.notice, schema.notice_url
    key = text_key(a.parsed.title, a.parsed.body_text)
    with engine.connect() as conn:
        keys = set(conn.execute(sa.select(n.c.text_sha256)).scalars())
        urls = conn.execute(sa.select(nu.c.url, nu.c.notice_id, nu.c.posted_notice_id, nu.c.content_sha256,
                                      nu.c.first_seen_at, nu.c.last_seen_at).order_by(nu.c.url)).all()
    assert keys == {key}
    first, last = (_utc(v) for v in urls[0][4:6])
    assert [(u[0], u[1], u[2], u[3]) for u in urls] == [
        (a.url, a.notice_id, a.notice_id, "e" * 64), (b.url, b.notice_id, b.notice_id, "b" * 64)]
    assert (first, last) == (T0, later.fetched_at)
    # Loaded before 0011, the two copies stay two notices; a new load of either changes nothing.
    assert load_notices(engine, [b]).counts["notices_unchanged"] == 1
    warehouse.downgrade(engine, "0010")
    with engine.connect() as conn:
        assert "notice_url" not in sa.inspect(conn).get_table_names()
        assert "text_sha256" not in {c["name"] for c in sa.inspect(conn).get_columns("notice")}
