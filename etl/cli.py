"""``qdp``: the pipeline from the command line (same functions and settings as the DAGs).

    qdp run                      whole pipeline in this process (crawl → … → alert)
    qdp sample-site --port 8765  serve the local replica of the site
    qdp crawl | parse FILE | validate | load | compare | alert | migrate | report
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .logs import setup_cli
from .records import StageReport
from .settings import Settings


def _print_report(report: StageReport, as_json: bool) -> None:
    if as_json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, default=str))
        return
    counts = ", ".join(f"{k}={v}" for k, v in sorted(report.counts.items()))
    print(f"{report.stage:<9} {report.seconds:7.2f}s  {counts}")


def _latest_run(settings: Settings, needs: str) -> str:
    runs = sorted((p for p in settings.staging_dir.glob("*/") if (p / needs).exists()),
                  key=lambda p: p.stat().st_mtime)
    if not runs:
        raise SystemExit(f"no staged run with {needs} under {settings.staging_dir}; run `qdp parse-landed` first")
    return runs[-1].name


def cmd_run(args, settings: Settings) -> int:
    from .pipeline import run_pipeline
    from .report import print_summary

    reports = run_pipeline(settings, full=args.full, progress=not args.quiet)
    for r in reports:
        _print_report(r, args.json)
    if not args.json:
        print_summary(settings, department=args.department)
    return 0


def cmd_sample_site(args, settings: Settings) -> int:
    from .sample_site.server import serve_forever

    serve_forever(args.port, faults=args.faults, seed=args.seed)
    return 0


def cmd_crawl(args, settings: Settings) -> int:
    from .pipeline import crawl_stage

    _print_report(crawl_stage(settings, args.channel or None, full=args.full, progress=not args.quiet), args.json)
    return 0


def cmd_parse(args, settings: Settings) -> int:
    from .parse import parse_page

    path = Path(args.file)
    if not path.is_file():
        raise SystemExit(f"qdp parse: no such file: {path}")
    parsed = parse_page(path.read_bytes(), url=args.url)
    if args.json:
        print(json.dumps(parsed.to_dict(), ensure_ascii=False, indent=2))
        return 0
    print(f"{parsed.title}  [{parsed.doc_type}, {parsed.plan_year}]  {parsed.department}  {parsed.published}")
    by_section: dict[int, list] = {}
    for item in parsed.items:
        by_section.setdefault(item.section, []).append(item)
    for section in parsed.sections or []:
        print(f"{section.marker}{section.title}")
        for item in by_section.get(section.ordinal, []):
            print(f"    {item.marker}{item.headline}")
    for item in by_section.get(0, []):
        print(f"    {item.marker}{item.headline}")
    for w in parsed.warnings:
        where = f" (section {w.section}, item {w.item})" if w.section is not None else ""
        print(f"warning: {w.code}{where}: {w.message}")
    return 0


def cmd_parse_landed(args, settings: Settings) -> int:
    from .pipeline import begin_run, parse_stage

    run_id = args.run_id or begin_run(settings)
    _print_report(parse_stage(settings, run_id, reparse=args.reparse), args.json)
    print(f"run id: {run_id}", file=sys.stderr)
    return 0


def cmd_validate(args, settings: Settings) -> int:
    from .pipeline import PARSED_FILE, validate_stage

    _print_report(validate_stage(settings, args.run_id or _latest_run(settings, PARSED_FILE)), args.json)
    return 0


def cmd_load(args, settings: Settings) -> int:
    from .pipeline import VALID_FILE, load_stage

    _print_report(load_stage(settings, args.run_id or _latest_run(settings, VALID_FILE)), args.json)
    return 0


def cmd_compare(args, settings: Settings) -> int:
    from .pipeline import compare_stage

    _print_report(compare_stage(settings), args.json)
    return 0


def cmd_alert(args, settings: Settings) -> int:
    from .pipeline import VALID_FILE, alert_stage, read_records, run_dir

    run_id = args.run_id or _latest_run(settings, VALID_FILE)
    keys = [[r.host, r.notice_id] for r in read_records(run_dir(settings, run_id) / VALID_FILE)]
    if not args.all:
        from . import load, warehouse

        keys = load.new_notice_keys(warehouse.get_engine(settings.warehouse_url), run_id)
    _print_report(alert_stage(settings, run_id, {"details": {"new_notices": keys}}), args.json)
    return 0


def cmd_migrate(args, settings: Settings) -> int:
    from . import warehouse

    warehouse.upgrade(settings.warehouse_url, args.revision)
    print(f"warehouse at {args.revision}: {settings.warehouse_url_masked}")
    return 0


def cmd_report(args, settings: Settings) -> int:
    from .report import print_summary

    print_summary(settings, department=args.department)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qdp", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="debug logging, including Great Expectations' own (QDP_LIBRARY_LOG_LEVEL)")
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name: str, func, help_: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_, description=help_)
        p.set_defaults(func=func)
        p.add_argument("--json", action="store_true", help="print the stage report as JSON")
        return p

    p = add("run", cmd_run, "run the whole pipeline in this process")
    p.add_argument("--full", action="store_true", help="re-read every list page and re-check known notices")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--department", default="青岛市教育局", help="department of the year-over-year table")

    p = add("sample-site", cmd_sample_site, "serve the local replica of www.qingdao.gov.cn")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--faults", type=float, default=0.0, help="fault rate 0..1 (5xx, 429, slow, resets, ...)")
    p.add_argument("--seed", type=int, default=0, help="seed of the fault sequence")

    p = add("crawl", cmd_crawl, "discover and fetch new notices into the landing zone")
    p.add_argument("--full", action="store_true", help="backfill: every list page, re-check known notices")
    p.add_argument("--channel", action="append", help="only this channel key (repeatable)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")

    p = add("parse", cmd_parse, "parse one page (HTML or a text capture) into records")
    p.add_argument("file")
    p.add_argument("--url", help="the page's URL (helps find department and column)")

    p = add("parse-landed", cmd_parse_landed, "parse every landed page not yet in the warehouse")
    p.add_argument("--run-id")
    p.add_argument("--reparse", action="store_true", help="also pages already loaded")

    p = add("validate", cmd_validate, "check a staged run with the Great Expectations suites")
    p.add_argument("--run-id", help="default: the latest parsed run")

    p = add("load", cmd_load, "load a validated run into the warehouse")
    p.add_argument("--run-id", help="default: the latest validated run")

    add("compare", cmd_compare, "recompute year-over-year item links")

    p = add("alert", cmd_alert, "send the new-notice alert of a run")
    p.add_argument("--run-id", help="default: the latest validated run")
    p.add_argument("--all", action="store_true", help="announce every notice of the run, not only new ones")

    p = add("migrate", cmd_migrate, "upgrade the warehouse schema")
    p.add_argument("--revision", default="head")

    p = add("report", cmd_report, "print the warehouse summary and a year-over-year table")
    p.add_argument("--department", default="青岛市教育局")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_cli(args.verbose)
    try:
        settings = Settings.from_env()
    except ValueError as exc:
        raise SystemExit(f"qdp: {exc}") from exc
    return int(args.func(args, settings) or 0)


if __name__ == "__main__":
    sys.exit(main())
