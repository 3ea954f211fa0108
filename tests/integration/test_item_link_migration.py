"""Migration 0008 (plan_item_link: possible status, compared plans) on SQLite and PostgreSQL,
with links and the analyst views that read them in place."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from etl import warehouse
from etl.records import ItemLink

pytestmark = pytest.mark.integration
T = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def _links(conn) -> list[tuple]:
    return [tuple(r) for r in conn.execute(sa.text(
        "SELECT status, item_uid, previous_item_uid FROM plan_item_link ORDER BY status, item_uid"))]


def test_possible_links_survive_upgrade_and_downgrade(warehouse_url):
    engine = warehouse.get_engine(warehouse_url)
    warehouse.upgrade(engine, "0004")
    warehouse.ensure_departments(engine, ["青岛市交通运输局"])
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO plan_item_link (department, plan_year, status, item_uid, previous_item_uid, similarity, "
            "computed_at) VALUES ('青岛市交通运输局', 2023, 'revised', 'h:2:1:1', 'h:1:1:1', 70.0, :t)"), {"t": T})
    warehouse.upgrade(engine, "0008")
    warehouse.replace_item_links(engine, [
        ItemLink("青岛市交通运输局", 2023, "revised", "h:2:1:1", "h:1:1:1", 70.0, 2022, 2, 1),
        ItemLink("青岛市交通运输局", 2023, "possible", "h:2:1:2", "h:1:1:2", 18.2, 2022, 2, 1),
    ], computed_at=T)
    with engine.connect() as conn:
        row = conn.execute(sa.text(
            "SELECT similarity, previous_plan_year, notice_id, previous_notice_id FROM plan_item_link "
            "WHERE status = 'possible'")).one()
        assert tuple(row) == (18.2, 2022, 2, 1)
        # The views over the table still work after SQLite rebuilt it.
        assert conn.execute(sa.text("SELECT COUNT(*) FROM v_yoy_item_changes")).scalar_one() == 2
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO plan_item_link (department, plan_year, status, computed_at) "
            "VALUES ('青岛市交通运输局', 2023, 'maybe', :t)"), {"t": T})
    warehouse.downgrade(engine, "0004")
    with engine.connect() as conn:  # a possible link is a new item and a dropped one to the old schema
        assert _links(conn) == [("dropped", None, "h:1:1:2"), ("new", "h:2:1:2", None),
                                ("revised", "h:2:1:1", "h:1:1:1")]
        assert conn.execute(sa.text("SELECT COUNT(*) FROM v_yoy_item_changes")).scalar_one() == 3
    warehouse.upgrade(engine)
