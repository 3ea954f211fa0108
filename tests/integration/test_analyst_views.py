"""Analyst views v2 (migration 0009) on SQLite and PostgreSQL: new columns, no mixing of annual and
multi-year plans, run health, unescaped JSON, comments, and an old warehouse upgrading in place."""

from __future__ import annotations

import dataclasses
import json

import pytest
import sqlalchemy as sa

from etl import warehouse
from etl.load import load_notices
from etl.records import ItemLink, StageReport, Target
from etl.warehouse import dictionary, runs, schema
from tests.fixtures.warehouse import make_notice_record

pytestmark = pytest.mark.integration
MIGRATIONS = warehouse.FROZEN_VIEWS_DIR


def _with_targets(rec, targets: list[Target], *, doc_type: str | None = None, plan_year: int | None = None):
    items = [dataclasses.replace(rec.parsed.items[0], targets=targets), *rec.parsed.items[1:]]
    parsed = dataclasses.replace(rec.parsed, items=items, doc_type=doc_type or rec.parsed.doc_type,
                                 plan_year=plan_year or rec.parsed.plan_year)
    return dataclasses.replace(rec, parsed=parsed)


def _view_columns(engine, view: str) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(sa.text(f"SELECT * FROM {view} WHERE 1 = 0")).keys())


def test_views_have_the_documented_columns(engine):
    for view in schema.VIEWS:
        assert _view_columns(engine, view) == list(dictionary.VIEW_COLUMNS[view]), view


def test_the_newest_migration_freezes_the_current_view_files():
    """sql/views/ is the current definition; the newest view migration must carry the same text.
    Changing a view file therefore needs a new migration with its own frozen copy."""
    newest = sorted(p for p in MIGRATIONS.iterdir() if p.is_dir())[-1]
    for name in schema.VIEWS:
        frozen = (newest / f"{name}.sql").read_text(encoding="utf-8")
        assert frozen == (warehouse.SQL_DIR / "views" / f"{name}.sql").read_text(encoding="utf-8"), (
            f"sql/views/{name}.sql differs from its frozen copy in {newest}: add a migration")
    assert sorted(p.stem for p in newest.glob("*.sql")) == sorted(schema.VIEWS)


def test_plan_items_carry_group_order_units_and_doc_type(engine):
    load_notices(engine, [make_notice_record(3000001, items=3)])
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT item_group, section_title, item_order, lead_units, partner_units, doc_type "
            "FROM v_plan_items ORDER BY item_order")).all()
        found = conn.execute(sa.text(
            "SELECT name FROM department WHERE CAST(aliases AS TEXT) LIKE '%市教育局%'")).scalars().all()
    assert [r.item_order for r in rows] == [1, 2, 3]
    assert [r.item_group for r in rows] == ["（一）学前教育", "（一）学前教育", None]
    assert rows[0].section_title == "第1部分 v1" and rows[0].doc_type == "work_plan"
    lead = rows[0].lead_units
    if engine.dialect.name == "postgresql":
        assert lead == ["市教育局"] and rows[0].partner_units == ["市财政局"]  # text[]
    else:
        assert lead == '["市教育局"]'  # JSON text, unescaped
    assert found == ["青岛市教育局"]  # aliases stored as text, not \u escapes


def test_target_changes_never_pair_an_annual_with_a_multi_year_plan(engine):
    annual_2021 = _with_targets(make_notice_record(3000001, plan_year=2021),
                                [Target("投资", "基础设施", 350.0, "亿元", "投资基础设施350亿元")])
    annual_2020 = _with_targets(make_notice_record(3000002, plan_year=2020),
                                [Target("投资", "基础设施", 300.0, "亿元", "投资基础设施300亿元")])
    action = _with_targets(make_notice_record(3000003, plan_year=2021, title="三年行动计划"),
                           [Target("投资", "基础设施", 500.0, "亿元", "投资基础设施500亿元")],
                           doc_type="action_plan")
    load_notices(engine, [annual_2020, annual_2021, action])
    uid = "www.qingdao.gov.cn:{}:1:1".format
    # A link across plan kinds, as a careless compare might write it, must not yield a target move.
    warehouse.replace_item_links(engine, [
        ItemLink("青岛市教育局", 2021, "revised", uid(3000001), uid(3000002), 80.0),
        ItemLink("青岛市教育局", 2021, "continued", uid(3000003), uid(3000002), 90.0),
    ])
    with engine.connect() as conn:
        moves = conn.execute(sa.text(
            "SELECT doc_type, previous_value, value, value_change, movement FROM v_yoy_target_changes")).all()
        summary = conn.execute(sa.text(
            "SELECT plan_year, items, continued, revised, new, dropped FROM v_yoy_summary "
            "ORDER BY plan_year")).all()
    assert [tuple(m) for m in moves] == [("work_plan", 300.0, 350.0, 50.0, "raised")]
    # Items count the annual plan only (3 items), never the action plan of the same year.
    assert [tuple(s) for s in summary] == [(2020, 3, None, None, None, None), (2021, 3, 1, 1, 0, 0)]
    totals = warehouse.run_saved_query(engine, "targets_by_department_object_year")
    infra = {(t["doc_type"], t["plan_year"]): t["total_value"] for t in totals if t["object"] == "基础设施"}
    assert infra == {("action_plan", 2021): 500.0, ("work_plan", 2020): 300.0, ("work_plan", 2021): 350.0}


def test_run_health_and_run_history_limit_counts_runs(engine):
    older = runs.start_run(engine)
    runs.finish_run(engine, older, status="success", reports=[])
    latest = runs.start_run(engine)
    runs.record_quarantine(engine, latest, [
        {"record_type": "plan_item", "record_key": f"k{n}", "check": check, "reason": "r", "values": {}}
        for n, check in enumerate(["a_check", "b_check"])])
    runs.finish_run(engine, latest, status="failed", reports=[
        StageReport("crawl", {"list_pages": 4, "detail_fetched": 9, "failed": 1}, 2.0),
        StageReport("validate", {"notices_quarantined": 1, "items_quarantined": 2, "targets_quarantined": 0}, 1.0)])
    with engine.connect() as conn:
        health = conn.execute(sa.text("SELECT * FROM v_run_health ORDER BY run_rank")).mappings().all()
    assert [(h["run_id"], h["run_rank"], h["status"]) for h in health] == [(latest, 1, "failed"), (older, 2, "success")]
    top = health[0]
    assert (top["list_pages"], top["pages_fetched"], top["pages_failed"]) == (4, 9, 1)
    assert top["records_rejected"] == 3 and top["records_quarantined"] == 2
    assert top["duration_seconds"] is not None and 0 <= float(top["duration_seconds"]) < 60
    rows = warehouse.run_saved_query(engine, "run_history", limit=1)
    assert [(r["run_id"], r["failed_check"]) for r in rows] == [(latest, "a_check"), (latest, "b_check")]


def test_postgresql_comments_come_from_the_dictionary(engine):
    statements = dict(dictionary.comment_statements())
    assert set(statements) >= set(schema.VIEWS) | set(schema.metadata.tables)
    if engine.dialect.name != "postgresql":
        return  # SQLite has no comments; the statements above are what PostgreSQL gets
    with engine.connect() as conn:
        view_comment = conn.execute(sa.text("SELECT obj_description('v_yoy_summary'::regclass, 'pg_class')")).scalar()
        col_comment = conn.execute(sa.text(
            "SELECT col_description('plan_item_link'::regclass, "
            "(SELECT attnum FROM pg_attribute WHERE attrelid = 'plan_item_link'::regclass "
            "AND attname = 'similarity'))")).scalar()
        types = dict(conn.execute(sa.text(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = 'quarantine'")).all())
    assert view_comment == dictionary.view_doc("v_yoy_summary")
    assert "0–100" in col_comment
    assert types["record_values"] == "jsonb"


def _load_as_of_0008(engine, rec) -> None:
    """One notice with its sections and items, in the columns revision 0008 has."""
    from etl.load import ITEM_COLUMNS, SECTION_COLUMNS, _child_rows, _notice_row

    row = _notice_row(rec, rec.key, rec.url, rec.channel, None, 1, rec.fetched_at, rec.fetched_at, None, None)
    row.pop("text_sha256")
    sections, items, targets = [], [], []
    with engine.begin() as conn:
        rev_id = conn.execute(schema.notice.insert().values(**row).returning(schema.notice.c.notice_rev_id)).scalar_one()
        _child_rows(rec, rec.key, rev_id, sections, items, targets)
        conn.execute(schema.plan_section.insert(), [dict(zip(SECTION_COLUMNS, r, strict=True)) for r in sections])
        conn.execute(schema.plan_item.insert(), [dict(zip(ITEM_COLUMNS, r, strict=True)) for r in items])


def test_a_0004_warehouse_upgrades_in_place(warehouse_url):
    """An old warehouse (0004, JSON written with \\u escapes) keeps its rows and gains the new views."""
    engine = warehouse.get_engine(warehouse_url)
    warehouse.upgrade(engine, "0004")
    escaped = json.dumps(["市教育局", "教育局"])  # how the old writer stored aliases
    assert "\\u" in escaped
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE department SET aliases = :a WHERE name = '青岛市教育局'"), {"a": escaped})
    # Rows as a loader of 0008 wrote them (today's loader needs notice_url, 0010), just before 0009.
    warehouse.upgrade(engine, "0008")
    _load_as_of_0008(engine, make_notice_record(3000001, items=2))
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE department SET aliases = :a WHERE name = '青岛市教育局'"), {"a": escaped})
        conn.execute(sa.text("UPDATE plan_item SET lead_units = :a"), {"a": json.dumps(["青岛市教育局"])})
    assert "item_group" not in _view_columns(engine, "v_plan_items")

    warehouse.upgrade(engine)
    assert warehouse.current_revision(engine) == warehouse.head_revision()
    assert {"item_group", "lead_units", "partner_units", "item_order"} <= set(_view_columns(engine, "v_plan_items"))
    assert "section_title" in _view_columns(engine, "v_yoy_item_changes")
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM v_plan_items")).scalar_one() == 2
        found = conn.execute(sa.text(
            "SELECT name FROM department WHERE CAST(aliases AS TEXT) LIKE '%市教育局%'")).scalars().all()
        raw = conn.execute(sa.text("SELECT CAST(lead_units AS TEXT) FROM plan_item")).scalars().all()
    assert found == ["青岛市教育局"]
    assert all("青岛市教育局" in r and "\\u" not in r for r in raw)
