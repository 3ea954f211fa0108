"""Benchmark the load stage against a naive ``pandas.DataFrame.to_sql`` on the same data.

    .venv/bin/python benchmarks/bench_load.py                      # 20,000 items, SQLite + PostgreSQL
    .venv/bin/python benchmarks/bench_load.py --items 200000       # the issue's figure
    .venv/bin/python benchmarks/bench_load.py --backends sqlite

Prints, per backend: the loader's first load (items/s and rows/s over notices+items+targets+sections),
the idempotent re-load of the same records, and the naive to_sql baseline (plain INSERTs into
unconstrained tables: no upsert, no revisions, no keys). PostgreSQL: ``--postgres-url`` or
``QDP_TEST_POSTGRES_URL`` (default postgres@127.0.0.1:5432/test); a fresh schema is used and dropped.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from etl import warehouse
from etl.load import item_uid, load_notices
from etl.records import NoticeRecord, ParsedNotice, PlanItem, Section, Target

HOST = "www.qingdao.gov.cn"
DEPTS = ["青岛市教育局", "青岛市科学技术局", "青岛市卫生健康委员会", "青岛市商务局", "青岛市交通运输局"]


def make_records(n_items: int, items_per_notice: int, targets_per_item: int) -> list[NoticeRecord]:
    """Synthetic plan notices shaped like parsed work plans (5 sections, realistic text lengths)."""
    records = []
    t0 = dt.datetime(2021, 3, 5, 9, 30, tzinfo=dt.UTC)
    for k in range((n_items + items_per_notice - 1) // items_per_notice):
        nid = 3_000_000 + k
        count = min(items_per_notice, n_items - k * items_per_notice)
        sections = [Section(s, f"{'一二三四五'[s - 1]}、", f"第{s}方面重点工作") for s in range(1, 6)]
        items = []
        for j in range(count):
            text = (f"推进第{j + 1}项重点任务建设。新建幼儿园{j + 10}所,"
                    f"新增学位{j * 100 + 900}个,完善配套政策措施。")
            items.append(
                PlanItem(
                    section=j % 5 + 1,
                    ordinal=j // 5 + 1,
                    marker=f"{j // 5 + 1}.",
                    headline=f"推进第{j + 1}项重点任务建设",
                    text=text,
                    raw_text=text,
                    lead_units=["市教育局"],
                    partner_units=["市财政局", "市发展改革委"],
                    targets=[
                        Target("新建", f"幼儿园{t}", float(j + 10 + t), "所", f"新建幼儿园{j + 10}所")
                        for t in range(targets_per_item)
                    ],
                )
            )
        body = f"{nid} " + "".join(i.text for i in items)
        parsed = ParsedNotice(
            title=f"{DEPTS[k % 5]}{2018 + k % 5}年工作要点",
            published=dt.date(2021, 3, 5),
            department=DEPTS[k % 5],
            doc_type="work_plan",
            plan_year=2018 + k % 5,
            sections=sections,
            items=items,
            column="规划计划",
            body_text=body,
        )
        records.append(
            NoticeRecord(
                HOST,
                nid,
                f"https://{HOST}/zwgk/xxgk/jyj/gkml/ghjh/202103/t20210305_{nid}.shtml",
                "jyj-ghjh",
                hashlib.sha256(body.encode()).hexdigest(),
                t0,
                parsed,
            )
        )
    return records


def frames(records: list[NoticeRecord]) -> dict[str, pd.DataFrame]:
    """The same data as flat tables for the naive baseline."""
    notices, sections, items, targets = [], [], [], []
    for r in records:
        p = r.parsed
        notices.append(
            {
                "host": r.host,
                "notice_id": r.notice_id,
                "url": r.url,
                "channel": r.channel,
                "title": p.title,
                "published": p.published,
                "department": p.department,
                "doc_type": p.doc_type,
                "plan_year": p.plan_year,
                "content_sha256": r.content_sha256,
                "body_text": p.body_text,
                "fetched_at": r.fetched_at,
            }
        )
        sections += [
            {"notice_id": r.notice_id, "section": s.ordinal, "marker": s.marker, "title": s.title}
            for s in p.sections
        ]
        for i in p.items:
            items.append(
                {
                    "notice_id": r.notice_id,
                    "section": i.section,
                    "ordinal": i.ordinal,
                    "item_uid": item_uid(r.host, r.notice_id, i.section, i.ordinal),
                    "marker": i.marker,
                    "headline": i.headline,
                    "text": i.text,
                    "raw_text": i.raw_text,
                    "lead_units": ",".join(i.lead_units),
                    "partner_units": ",".join(i.partner_units),
                }
            )
            targets += [
                {
                    "notice_id": r.notice_id,
                    "section": i.section,
                    "ordinal": i.ordinal,
                    "target_ordinal": k,
                    "action": t.action,
                    "object": t.object,
                    "value": t.value,
                    "unit": t.unit,
                    "span": t.span,
                }
                for k, t in enumerate(i.targets, 1)
            ]
    return {
        "notice": pd.DataFrame(notices),
        "plan_section": pd.DataFrame(sections),
        "plan_item": pd.DataFrame(items),
        "plan_target": pd.DataFrame(targets),
    }


class Backend:
    def __init__(self, name: str, pg_url: str, tmp: Path):
        self.name, self.pg_url, self.tmp, self.schemas = name, pg_url, tmp, []

    def fresh_url(self, label: str) -> str:
        if self.name == "sqlite":
            return f"sqlite:///{self.tmp / f'{label}.sqlite'}"
        schema = f"qdp_bench_{label}_{secrets.token_hex(4)}"
        with sa.create_engine(self.pg_url, poolclass=sa.pool.NullPool).begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        self.schemas.append(schema)
        return (
            sa.make_url(self.pg_url)
            .update_query_dict({"options": f"-csearch_path={schema}"})
            .render_as_string(hide_password=False)
        )

    def cleanup(self) -> None:
        if self.schemas:
            with sa.create_engine(self.pg_url, poolclass=sa.pool.NullPool).begin() as conn:
                for schema in self.schemas:
                    conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))


def bench(
    backend: Backend, records: list[NoticeRecord], dfs: dict[str, pd.DataFrame], batch_size: int
) -> None:
    n_items = sum(len(r.parsed.items) for r in records)
    n_rows = sum(len(df) for df in dfs.values())
    url = backend.fresh_url("loader")
    engine = warehouse.get_engine(url)
    warehouse.upgrade(engine)
    t = time.perf_counter()
    report = load_notices(engine, records, batch_size=batch_size)
    first = time.perf_counter() - t
    assert report.counts["items_loaded"] == n_items, report.counts
    t = time.perf_counter()
    again = load_notices(engine, records, batch_size=batch_size)
    reload_s = time.perf_counter() - t
    assert again.counts["notices_unchanged"] == len(records), again.counts
    warehouse.dispose_engine(url)

    naive_url = backend.fresh_url("naive")
    naive = sa.create_engine(naive_url)
    t = time.perf_counter()
    for name, df in dfs.items():
        df.to_sql(name, naive, if_exists="append", index=False)
    naive_s = time.perf_counter() - t
    naive.dispose()

    print(
        f"{backend.name:10s} loader   first load {first:7.2f} s  {n_items / first:10,.0f} items/s  "
        f"{n_rows / first:10,.0f} rows/s"
    )
    print(f"{backend.name:10s} loader   re-load    {reload_s:7.2f} s  (unchanged data, nothing written)")
    print(
        f"{backend.name:10s} to_sql   naive      {naive_s:7.2f} s  {n_items / naive_s:10,.0f} items/s  "
        f"{n_rows / naive_s:10,.0f} rows/s  -> loader is {naive_s / first:.2f}x the baseline"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=20_000, help="plan items to load (issue figure: 200000)")
    parser.add_argument("--items-per-notice", type=int, default=40)
    parser.add_argument("--targets-per-item", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=500, help="notices per transaction")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("QDP_TEST_POSTGRES_URL")
        or "postgresql+psycopg2://postgres@127.0.0.1:5432/test",
    )
    args = parser.parse_args(argv)
    records = make_records(args.items, args.items_per_notice, args.targets_per_item)
    dfs = frames(records)
    print(
        f"{args.items:,} items in {len(records):,} notices, {len(dfs['plan_target']):,} targets, "
        f"{sum(len(d) for d in dfs.values()):,} rows; batch {args.batch_size} notices"
    )
    with tempfile.TemporaryDirectory(prefix="qdp-bench-") as tmp:
        for name in args.backends.split(","):
            backend = Backend(name.strip(), args.postgres_url, Path(tmp))
            try:
                bench(backend, records, dfs, args.batch_size)
            finally:
                backend.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
