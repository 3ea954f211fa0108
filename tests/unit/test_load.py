"""Fast checks of the load stage and warehouse helpers (SQLite files in tmp_path; no server)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import sqlalchemy as sa

from etl import warehouse
from etl.load import item_uid, load_notices, record_problems
from etl.warehouse import dictionary, runs, schema
from tests.fixtures.warehouse import make_notice_record


@pytest.fixture
def sqlite_engine(tmp_path):
    url = f"sqlite:///{tmp_path / 'nested' / 'dir' / 'wh.sqlite'}"
    engine = warehouse.get_engine(url)
    warehouse.upgrade(engine)
    yield engine
    warehouse.dispose_engine(url)


def test_item_uid_is_stable_and_readable():
    assert item_uid("www.qingdao.gov.cn", 3012345, 2, 7) == "www.qingdao.gov.cn:3012345:2:7"
    v1 = make_notice_record(1, version="v1")
    v2 = make_notice_record(1, version="v2")
    assert v1.content_sha256 != v2.content_sha256
    assert [item_uid(v1.host, 1, i.section, i.ordinal) for i in v1.parsed.items] == \
           [item_uid(v2.host, 1, i.section, i.ordinal) for i in v2.parsed.items]


def test_record_problems_name_each_rule():
    assert record_problems(make_notice_record(1)) == []
    rec = make_notice_record(1, doc_type="memo")
    rec.parsed.sections.append(rec.parsed.sections[0])
    rec.parsed.items.append(rec.parsed.items[0])
    checks = [c for c, _ in record_problems(rec)]
    assert checks == ["doc_type_known", "item_key_unique", "section_key_unique"]


def test_sqlite_engine_settings(sqlite_engine, tmp_path):
    assert (tmp_path / "nested" / "dir").is_dir()  # parent directory created
    with sqlite_engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == warehouse.SQLITE_BUSY_TIMEOUT_MS
    assert warehouse.get_engine(sqlite_engine.url) is sqlite_engine  # cached per URL


def test_foreign_keys_are_enforced(sqlite_engine):
    with pytest.raises(sa.exc.IntegrityError), sqlite_engine.begin() as conn:
        conn.execute(schema.plan_section.insert(), {"notice_rev_id": 999, "section": 1, "marker": "一、",
                                                    "title": "x"})


def test_stream_failure_keeps_committed_batches_only(sqlite_engine):
    def records():
        yield make_notice_record(1)
        yield make_notice_record(2)
        raise RuntimeError("staging file truncated")

    with pytest.raises(RuntimeError, match="truncated"):
        load_notices(sqlite_engine, records(), batch_size=2)
    with sqlite_engine.connect() as conn:
        # The first batch (2 records) was complete and committed before the stream failed.
        assert conn.execute(sa.select(sa.func.count()).select_from(schema.notice)).scalar_one() == 2
    with pytest.raises(ValueError, match="batch_size"):
        load_notices(sqlite_engine, [], batch_size=0)


def test_load_report_shape(sqlite_engine):
    report = load_notices(sqlite_engine, [make_notice_record(5, items=2, targets_per_item=2)])
    assert report.stage == "load"
    assert report.counts == {"notices_new": 1, "notices_revised": 0, "notices_unchanged": 0,
                             "items_loaded": 2, "targets_loaded": 4, "attachments_loaded": 0}
    assert report.details == {"new_notices": [["www.qingdao.gov.cn", 5]], "revised_notices": []}


def test_timestamps_are_stored_as_utc(sqlite_engine):
    shanghai = dt.timezone(dt.timedelta(hours=8))
    load_notices(sqlite_engine, [make_notice_record(7, fetched_at=dt.datetime(2021, 3, 5, 17, 30, tzinfo=shanghai))])
    with sqlite_engine.connect() as conn:
        fetched = conn.execute(sa.select(schema.notice.c.fetched_at)).scalar_one()
    assert fetched.replace(tzinfo=None) == dt.datetime(2021, 3, 5, 9, 30)


def test_run_ids_sort_by_start_time():
    a = runs.new_run_id(dt.datetime(2021, 3, 5, 9, 30, tzinfo=dt.UTC))
    b = runs.new_run_id(dt.datetime(2021, 3, 5, 9, 31, tzinfo=dt.UTC))
    assert re.fullmatch(r"20210305T093000Z-[0-9a-f]{6}", a) and a < b


def test_data_dictionary_is_up_to_date():
    assert dictionary.DOC_PATH.read_text(encoding="utf-8") == dictionary.render(), \
        "docs/data-dictionary.md is stale: run python -m etl.warehouse.dictionary"


def test_every_table_column_and_view_is_documented():
    for table in schema.metadata.tables.values():
        assert table.info.get("doc"), table.name
        for col in table.columns:
            assert col.info.get("doc"), f"{table.name}.{col.name}"
    for name in schema.VIEWS:
        sql = (warehouse.SQL_DIR / "views" / f"{name}.sql").read_text(encoding="utf-8")
        assert sql.startswith(f"-- {name}: "), f"{name}.sql needs a header saying what it answers"
        assert f"CREATE VIEW {name} AS" in sql
    for path in (warehouse.SQL_DIR / "queries").glob("*.sql"):
        assert path.read_text(encoding="utf-8").startswith("-- "), path.name


def test_saved_query_ignores_parameters_named_in_comments():
    query = warehouse.saved_query("new_notices_since")
    assert set(query._bindparams) == {"since"}
    assert "--" not in str(query)
