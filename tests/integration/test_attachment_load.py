"""Attachments in the warehouse, on SQLite and PostgreSQL: rows per revision, items pointing at their
document (through the bulk paths), idempotent reloads, new revisions, bad records held back, and
migration 0010 keeping every plan item and target."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib

import pytest
import sqlalchemy as sa

from etl import warehouse
from etl.load import load_notices, record_problems
from etl.records import AttachmentRecord, NoticeRecord
from etl.warehouse import schema
from tests.fixtures.warehouse import T0, dump_warehouse, make_notice_record

pytestmark = pytest.mark.integration
FOLDER = "https://www.qingdao.gov.cn/zwgk/xxgk/jyj/gkml/ghjh/202103/"


def _with_attachments(notice_id: int, *, version: str = "v1", fetched_at: dt.datetime = T0) -> NoticeRecord:
    """A cover note whose items come from its PDF, plus a scanned annex and a document gone for good."""
    rec = make_notice_record(notice_id, version=version, items=4, fetched_at=fetched_at)
    pdf = FOLDER + f"P0{notice_id}01.pdf"
    sha = hashlib.sha256(f"{notice_id}{version}".encode()).hexdigest()
    attachments = [
        AttachmentRecord(pdf, f"P0{notice_id}01.pdf", "application/pdf", sha, 81234, 5123, "ok"),
        AttachmentRecord(FOLDER + f"P0{notice_id}02.pdf", f"P0{notice_id}02.pdf", "application/pdf", "c" * 64, 912345,
                         0, "no_text_layer", "3 page(s) without a text layer (a scan?); OCR is not attempted"),
        AttachmentRecord(FOLDER + f"P0{notice_id}03.doc", f"P0{notice_id}03.doc", None, None, None, None, "failed",
                         "HTTP 404"),
    ]
    items = [dataclasses.replace(i, source_attachment=pdf if k % 2 == 0 else None)
             for k, i in enumerate(rec.parsed.items)]
    return dataclasses.replace(rec, parsed=dataclasses.replace(rec.parsed, items=items), attachments=attachments,
                               content_sha256=hashlib.sha256(f"{rec.content_sha256}{sha}".encode()).hexdigest())


def _rows(engine) -> tuple[list, list]:
    a, i, n = schema.attachment, schema.plan_item, schema.notice
    with engine.connect() as conn:
        atts = conn.execute(sa.select(n.c.notice_id, n.c.revision, a.c.ordinal, a.c.filename, a.c.outcome,
                                      a.c.bytes, a.c.text_length, a.c.reason)
                            .join(n, n.c.notice_rev_id == a.c.notice_rev_id)
                            .order_by(n.c.notice_id, n.c.revision, a.c.ordinal)).all()
        items = conn.execute(sa.select(n.c.notice_id, n.c.revision, i.c.item_uid, a.c.url)
                             .join(n, n.c.notice_rev_id == i.c.notice_rev_id)
                             .outerjoin(a, a.c.attachment_id == i.c.source_attachment_id)
                             .order_by(n.c.notice_id, n.c.revision, i.c.item_uid)).all()
    return atts, items


def test_attachments_load_with_their_revision_and_items_point_at_theirs(engine):
    records = [_with_attachments(3_100_000 + k) for k in range(3)] + [make_notice_record(3_200_000)]
    report = load_notices(engine, records, batch_size=2)
    assert report.counts["attachments_loaded"] == 9 and report.counts["items_loaded"] == 15
    atts, items = _rows(engine)
    assert [(r.ordinal, r.outcome) for r in atts[:3]] == [(1, "ok"), (2, "no_text_layer"), (3, "failed")]
    assert atts[0].bytes == 81234 and atts[1].text_length == 0 and atts[2].reason == "HTTP 404"
    assert atts[2].bytes is None and atts[2].text_length is None
    by_notice = {}
    for row in items:
        by_notice.setdefault(row.notice_id, []).append(row.url)
    for k in range(3):  # items 1 and 3 of each cover note came from its PDF
        pdf = FOLDER + f"P0{3_100_000 + k}01.pdf"
        assert by_notice[3_100_000 + k] == [pdf, pdf, None, None]
    assert by_notice[3_200_000] == [None] * 3  # a page's own items point nowhere

    before = dump_warehouse(engine)
    again = load_notices(engine, records)
    assert again.counts["notices_unchanged"] == 4 and again.counts["attachments_loaded"] == 0
    assert dump_warehouse(engine) == before


def test_a_replaced_document_is_a_new_revision_with_its_own_rows(engine):
    load_notices(engine, [_with_attachments(3_100_001)])
    load_notices(engine, [_with_attachments(3_100_001, version="v2", fetched_at=T0 + dt.timedelta(days=2))])
    atts, items = _rows(engine)
    assert [(r.revision, r.ordinal) for r in atts] == [(1, 1), (1, 2), (1, 3), (2, 1), (2, 2), (2, 3)]
    a, i = schema.attachment, schema.plan_item
    with engine.connect() as conn:  # no item points at another revision's document
        crossed = conn.execute(sa.select(sa.func.count()).select_from(i.join(a, a.c.attachment_id ==
                                                                              i.c.source_attachment_id))
                               .where(a.c.notice_rev_id != i.c.notice_rev_id)).scalar_one()
    assert crossed == 0 and sum(1 for r in items if r.url) == 4


def test_records_with_bad_attachments_are_held_back_not_loaded(engine):
    good = _with_attachments(3_100_002)
    orphan = dataclasses.replace(good, notice_id=3_100_003, attachments=good.attachments[1:])  # the PDF is gone
    unknown = dataclasses.replace(good, notice_id=3_100_004,
                                  attachments=[dataclasses.replace(good.attachments[0], outcome="ocr_done")])
    assert record_problems(good) == []
    assert [c for c, _ in record_problems(orphan)] == ["item_attachment_known"]
    assert "attachment_outcome_known" in [c for c, _ in record_problems(unknown)]
    report = load_notices(engine, [good, orphan, unknown])
    assert report.counts["notices_new"] == 1 and report.counts["notices_quarantined"] == 2
    q = schema.quarantine
    with engine.connect() as conn:
        checks = set(conn.execute(sa.select(q.c.failed_check)).scalars())
    assert checks == {"item_attachment_known", "attachment_outcome_known"}


def test_migration_0010_keeps_items_and_targets(warehouse_url):
    engine = warehouse.get_engine(warehouse_url)
    warehouse.upgrade(engine, "0009")
    load_notices_0009 = [make_notice_record(3_300_000 + k, items=5) for k in range(3)]
    # Loaded through the 0009 columns: the load code of this tree writes source_attachment_id.
    i, t = schema.plan_item, schema.plan_target
    cols_0009 = [c.name for c in i.columns if c.name != "source_attachment_id"]
    n = schema.notice
    with engine.begin() as conn:
        for rec in load_notices_0009:
            k = conn.execute(n.insert().returning(n.c.notice_rev_id).values(
                host=rec.host, notice_id=rec.notice_id, revision=1, url=rec.url,
                channel=rec.channel, title=rec.parsed.title, doc_type="work_plan", content_sha256=rec.content_sha256,
                body_text="", parse_warnings=[], fetched_at=T0, first_seen_at=T0, valid_from=T0, is_current=True)
            ).scalar_one()
            for item in rec.parsed.items:
                conn.execute(sa.insert(sa.table("plan_item", *[sa.column(c) for c in cols_0009])).values(
                    notice_rev_id=k, section=item.section, ordinal=item.ordinal, item_uid=f"u{k}.{item.ordinal}",
                    marker=item.marker, headline=item.headline, text=item.text, raw_text=item.raw_text,
                    lead_units="[]", partner_units="[]", item_group=None))
                conn.execute(t.insert().values(notice_rev_id=k, section=item.section, ordinal=item.ordinal,
                                               target_ordinal=1, value=1.0, unit="所", span="1所"))

    def counts():
        with engine.connect() as conn:
            return (conn.execute(sa.select(sa.func.count()).select_from(i)).scalar_one(),
                    conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one())

    assert counts() == (15, 15)
    warehouse.upgrade(engine)
    assert counts() == (15, 15)  # SQLite rebuilds plan_item: its targets survive the cascade
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(i).where(
            i.c.source_attachment_id.is_not(None))).scalar_one() == 0
    load_notices(engine, [_with_attachments(3_300_100)])
    warehouse.downgrade(engine, "0009")
    assert counts() == (19, 19)  # items read from attachments stay items
    warehouse.upgrade(engine)
    assert counts() == (19, 19)
