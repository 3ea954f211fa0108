"""Warehouse loads on SQLite and PostgreSQL: idempotence, revisions, crash safety, compare support."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from etl import warehouse
from etl.load import current_content_hashes, load_notices, new_notice_keys
from etl.records import ItemLink
from etl.warehouse import runs, schema
from tests.fixtures.warehouse import T0, dump_warehouse, make_notice_record

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]


def _corpus(n: int = 12, **kw):
    return [make_notice_record(3_000_000 + k, items=4, **kw) for k in range(n)]


def test_loading_twice_gives_identical_tables(engine):
    first = load_notices(engine, _corpus(), batch_size=5)
    assert first.counts["notices_new"] == 12
    assert first.counts["items_loaded"] == 48
    assert first.counts["targets_loaded"] == 48
    assert sorted(first.details["new_notices"]) == [["www.qingdao.gov.cn", 3_000_000 + k] for k in range(12)]
    before = dump_warehouse(engine, audit=True)

    again = load_notices(engine, _corpus(), batch_size=7)
    assert again.counts == {"notices_new": 0, "notices_revised": 0, "notices_unchanged": 12,
                            "items_loaded": 0, "targets_loaded": 0, "attachments_loaded": 0}
    assert again.details == {"new_notices": [], "revised_notices": []}
    assert dump_warehouse(engine, audit=True) == before
    assert len(before["notice"]) == 12 and len(before["plan_item"]) == 48


def test_revised_notice_keeps_both_revisions(engine):
    old = make_notice_record(3012345, version="v1", items=3)
    new = make_notice_record(3012345, version="v2", items=4, fetched_at=T0 + dt.timedelta(days=3))
    assert old.content_sha256 != new.content_sha256
    run_id = runs.start_run(engine)
    load_notices(engine, [old], run_id=run_id)
    report = load_notices(engine, [new], run_id=run_id)
    assert report.counts["notices_revised"] == 1 and report.counts["notices_new"] == 0
    assert report.details["revised_notices"] == [["www.qingdao.gov.cn", 3012345]]

    n = schema.notice
    with engine.connect() as conn:
        revs = conn.execute(sa.select(n.c.revision, n.c.is_current, n.c.content_sha256, n.c.valid_to,
                                      n.c.first_seen_at).order_by(n.c.revision)).all()
        texts = dict(conn.execute(sa.select(n.c.revision, sa.func.count()).select_from(
            schema.plan_item.join(n, n.c.notice_rev_id == schema.plan_item.c.notice_rev_id))
            .group_by(n.c.revision)).all())
        history = conn.execute(warehouse.saved_query("notice_revision_history"),
                               {"host": "www.qingdao.gov.cn", "notice_id": 3012345}).mappings().all()
    assert [(r.revision, bool(r.is_current)) for r in revs] == [(1, False), (2, True)]
    assert revs[0].content_sha256 == old.content_sha256 and revs[1].content_sha256 == new.content_sha256
    assert revs[0].valid_to is not None and revs[1].valid_to is None
    assert revs[0].first_seen_at == revs[1].first_seen_at  # first seen is the notice's, not the revision's
    assert texts == {1: 3, 2: 4}  # both revisions keep their items
    assert [h["revision"] for h in history] == [2, 1]
    assert history[0]["previous_revision"] == 1 and history[0]["item_count"] == 4
    assert history[0]["previous_item_count"] == 3

    # Analysts' current view shows only the new text; item ids are stable across revisions.
    current = warehouse.current_plan_items(engine)
    assert len(current) == 4 and all("v2" in row["headline"] for row in current)
    assert {r["item_uid"] for r in current} >= {"www.qingdao.gov.cn:3012345:1:1", "www.qingdao.gov.cn:3012345:2:1"}
    assert new_notice_keys(engine, run_id) == [["www.qingdao.gov.cn", 3012345]]
    assert current_content_hashes(engine) == {("www.qingdao.gov.cn", 3012345): new.content_sha256}

    # Replaying the old staging file later changes nothing (idempotent), the database rejects a
    # second current revision outright.
    before = dump_warehouse(engine, audit=True)
    assert load_notices(engine, [old, new]).counts["notices_unchanged"] == 2
    assert dump_warehouse(engine, audit=True) == before
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(n.update().where(n.c.revision == 1).values(is_current=True, valid_to=None))


def test_revisions_within_one_batch_and_stale_content(engine):
    v1 = make_notice_record(3000001, version="v1")
    v2 = make_notice_record(3000001, version="v2", fetched_at=T0 + dt.timedelta(hours=1))
    v3 = make_notice_record(3000001, version="v3", fetched_at=T0 + dt.timedelta(hours=2))
    report = load_notices(engine, [v1, v2, v3])
    assert (report.counts["notices_new"], report.counts["notices_revised"]) == (1, 2)
    stale = make_notice_record(3000001, version="v0", fetched_at=T0 - dt.timedelta(days=1))
    run_id = runs.start_run(engine)
    report = load_notices(engine, [stale], run_id=run_id)
    assert report.counts["notices_stale"] == 1
    n = schema.notice
    with engine.connect() as conn:
        assert conn.execute(sa.select(n.c.revision, n.c.is_current).order_by(n.c.revision)).all() == [
            (1, False), (2, False), (3, True)]
        q = conn.execute(sa.select(schema.quarantine)).mappings().one()
    assert q["failed_check"] == "stale_revision" and q["run_id"] == run_id
    assert q["record_values"]["content_sha256"] == stale.content_sha256  # the whole record is kept


def test_unknown_and_missing_departments_are_loaded(engine):
    recs = [make_notice_record(3000010, department="青岛市新设局"), make_notice_record(3000011, department=None)]
    assert load_notices(engine, recs).counts["notices_new"] == 2
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT notice_id, department FROM v_plan_items ORDER BY notice_id")).all()
        dept = conn.execute(sa.select(schema.department.c.is_known)
                            .where(schema.department.c.name == "青岛市新设局")).scalar_one()
    assert {(r.notice_id, r.department) for r in rows} == {(3000010, "青岛市新设局"), (3000011, None)}
    assert dept is False or dept == 0


def test_duplicate_item_keys_are_quarantined_not_dropped(engine):
    bad = make_notice_record(3000020)
    bad.parsed.items[1].section, bad.parsed.items[1].ordinal = bad.parsed.items[0].section, bad.parsed.items[0].ordinal
    good = make_notice_record(3000021)
    report = load_notices(engine, [bad, good])
    assert report.counts["notices_quarantined"] == 1 and report.counts["notices_new"] == 1
    with engine.connect() as conn:
        q = conn.execute(sa.select(schema.quarantine.c.failed_check, schema.quarantine.c.record_key)).all()
    assert q == [("item_key_unique", "www.qingdao.gov.cn/3000020")]


KILL_SCRIPT = textwrap.dedent("""
    import os, sys, time
    import sqlalchemy as sa
    from etl import warehouse
    from etl.load import load_notices
    from tests.fixtures.warehouse import make_notice_record

    url, marker = sys.argv[1], sys.argv[2]
    engine = warehouse.get_engine(url)
    inserts = {"n": 0}

    @sa.event.listens_for(engine, "after_cursor_execute")
    def _pause_mid_batch(conn, cursor, statement, parameters, context, executemany):
        # Second batch: its notices are written, its sections/items/targets not yet -> wait to be killed.
        if statement.lstrip().upper().startswith("INSERT INTO NOTICE "):
            inserts["n"] += 1
            if inserts["n"] == 2:
                open(marker, "w").close()
                time.sleep(120)

    records = [make_notice_record(3_000_000 + k, items=4) for k in range(12)]
    load_notices(engine, records, batch_size=5)
    """)


def test_sigkill_mid_batch_leaves_no_partial_notice(warehouse_url, tmp_path):
    engine = warehouse.get_engine(warehouse_url)
    warehouse.upgrade(engine)
    marker = tmp_path / "mid-batch"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, warehouse_url, str(marker)], cwd=REPO, env=env,
                            stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            if proc.poll() is not None:
                pytest.fail(f"loader exited before the kill: {proc.stderr.read().decode()}")
            assert time.monotonic() < deadline, "loader never reached the second batch"
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL

    n, i = schema.notice, schema.plan_item
    with engine.connect() as conn:
        loaded = conn.execute(sa.select(n.c.notice_id).order_by(n.c.notice_id)).scalars().all()
        orphans = conn.execute(sa.select(sa.func.count()).select_from(n).where(
            ~sa.exists().where(i.c.notice_rev_id == n.c.notice_rev_id))).scalar_one()
    assert loaded == [3_000_000 + k for k in range(5)]  # only the committed first batch
    assert orphans == 0  # no notice without its items

    rerun = load_notices(engine, [make_notice_record(3_000_000 + k, items=4) for k in range(12)], batch_size=5)
    assert (rerun.counts["notices_unchanged"], rerun.counts["notices_new"]) == (5, 7)
    after_crash = dump_warehouse(engine)

    warehouse.downgrade(engine, "base")
    warehouse.upgrade(engine)
    load_notices(engine, [make_notice_record(3_000_000 + k, items=4) for k in range(12)], batch_size=5)
    assert dump_warehouse(engine) == after_crash


def test_current_plan_items_and_item_links(engine):
    y20 = make_notice_record(3000100, plan_year=2020, version="2020")
    y21 = make_notice_record(3000200, plan_year=2021, version="2021")
    y21.parsed.items[0].targets[0].value = 15.0  # the continued task raises its target 10 -> 15
    summary = make_notice_record(3000300, plan_year=2021, doc_type="work_summary")
    other = make_notice_record(3000400, plan_year=2021, department="青岛市科学技术局")
    load_notices(engine, [y20, y21, summary, other])
    rows = warehouse.current_plan_items(engine, department="青岛市教育局")
    assert {r["notice_id"] for r in rows} == {3000100, 3000200}  # summaries are no plans
    assert set(rows[0]) == {"item_uid", "host", "notice_id", "department", "plan_year", "doc_type", "published",
                            "section", "section_title", "ordinal", "marker", "headline", "text"}
    assert rows[0]["published"] == "2021-03-05"

    u20 = [r["item_uid"] for r in rows if r["plan_year"] == 2020]
    u21 = [r["item_uid"] for r in rows if r["plan_year"] == 2021]
    links = [ItemLink("青岛市教育局", 2021, "continued", u21[0], u20[0], 0.95),
             ItemLink("青岛市教育局", 2021, "revised", u21[1], u20[1], 0.7),
             ItemLink("青岛市教育局", 2021, "new", u21[2], None, None),
             ItemLink("青岛市教育局", 2021, "dropped", None, u20[2], None)]
    warehouse.replace_item_links(engine, links)
    first = dump_warehouse(engine, tables=("plan_item_link",))
    warehouse.replace_item_links(engine, links)  # idempotent: replaced, not appended
    assert dump_warehouse(engine, tables=("plan_item_link",)) == first
    assert len(first["plan_item_link"]) == 4

    with engine.connect() as conn:
        changes = conn.execute(sa.text(
            "SELECT status, headline, previous_headline FROM v_yoy_item_changes ORDER BY status")).all()
        moves = conn.execute(sa.text(
            "SELECT status, object, unit, previous_value, value, value_change FROM v_yoy_target_changes "
            "ORDER BY status")).all()
    assert [c.status for c in changes] == ["continued", "dropped", "new", "revised"]
    cont = changes[0]
    assert "2021" in cont.headline and "2020" in cont.previous_headline
    assert changes[1].headline is None and changes[2].previous_headline is None
    # Factory targets: item k has 幼儿园0 = 10*(k+1); in document order the uids are k=0, k=2, k=1.
    assert [(m.status, m.object, m.unit, m.previous_value, m.value, m.value_change) for m in moves] == [
        ("continued", "幼儿园0", "所", 10.0, 15.0, 5.0), ("revised", "幼儿园0", "所", 30.0, 30.0, 0.0)]

    # Replacing one (department, year) leaves the others alone.
    warehouse.replace_item_links(engine, [ItemLink("青岛市科学技术局", 2021, "new", "x:1:1:1", None, None)])
    warehouse.replace_item_links(engine, links[:1])
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT department, COUNT(*) FROM plan_item_link GROUP BY department "
                                    "ORDER BY department")).all() == [("青岛市教育局", 1), ("青岛市科学技术局", 1)]


def test_awkward_text_round_trips_through_bulk_paths(engine):
    rec = make_notice_record(3000500, items=2, sections=1)
    item = rec.parsed.items[0]
    item.text = "制表\t换行\n回车\r反斜杠\\N 引号\"'，"
    item.raw_text = ""
    item.lead_units = ["市教育局\t甲", "\\N"]
    item.targets[0].action = None
    item.targets[0].object = None
    item.targets[0].modifier, item.targets[0].value_min, item.targets[0].value_max = "range", 10.0, 12.0
    item.group = "（一）\t分组\\N"
    rec.parsed.sections[0].title = ""
    load_notices(engine, [rec])
    with engine.connect() as conn:
        got = conn.execute(sa.select(schema.plan_item.c.text, schema.plan_item.c.raw_text,
                                     schema.plan_item.c.lead_units)
                           .where(schema.plan_item.c.ordinal == 1)).one()
        groups = conn.execute(sa.select(schema.plan_item.c.item_group).order_by(schema.plan_item.c.ordinal)).scalars()
        assert list(groups) == ["（一）\t分组\\N", None]
        target = conn.execute(sa.select(schema.plan_target.c.action, schema.plan_target.c.object,
                                        schema.plan_target.c.value).where(schema.plan_target.c.ordinal == 1)).one()
        qualified = conn.execute(sa.select(schema.plan_target.c.modifier, schema.plan_target.c.value_min,
                                           schema.plan_target.c.value_max, schema.plan_target.c.target_kind)
                                 .where(schema.plan_target.c.ordinal == 1)).one()
        title = conn.execute(sa.select(schema.plan_section.c.title)).scalar_one()
    assert tuple(got) == (item.text, "", ["市教育局\t甲", "\\N"])
    assert tuple(target) == (None, None, 10.0)
    assert tuple(qualified) == ("range", 10.0, 12.0, "target")
    assert title == ""  # an empty string stays empty, not NULL
