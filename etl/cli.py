"""``qdp``: the pipeline from the command line (same functions and settings as the DAGs).

    qdp run                      whole pipeline in this process (crawl → … → alert)
    qdp backfill --since 2019    walk every list page once, load what is found as alert baseline
    qdp sample-site --port 8765  serve the local replica of the site
    qdp crawl | parse FILE | validate | load | compare | alert | migrate | report
    qdp diff PREV CUR            compare two plan pages item by item (no warehouse)
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
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
    # By the staged file's own time: object stores have no folders (nor folder times).
    staged = sorted((f.mtime(), f.parent.name) for f in settings.location("staging").glob(f"*/{needs}"))
    if not staged:
        raise SystemExit(f"no staged run with {needs} under {settings.masked('data_dir')}/staging; "
                         "run `qdp parse-landed` first")
    return staged[-1][1]


RUN_EXIT_CODES = """exit codes (the run's status in etl_run):
  0  success   every channel and page was read
  3  degraded  what could be read was loaded, but some channels or pages failed (see the reasons)
  1  failed    nothing could be read (site unreachable, every channel broken), the warehouse is
               unreachable, or a stage crashed (also: unknown QDP_* setting)
  2            bad command line
  143          stopped by SIGTERM (a timeout): the run is recorded as failed"""


def _terminated(signum, _frame):
    # SIGTERM (a timeout, a scheduler stopping the job): unwind, so the run closes itself as
    # failed instead of staying `running` until the next run abandons it.
    raise SystemExit(128 + signum)


def cmd_run(args, settings: Settings) -> int:
    from .pipeline import run_pipeline

    previous = signal.signal(signal.SIGTERM, _terminated)
    try:
        result = run_pipeline(settings, full=args.full, progress=not args.quiet, backfill=args.backfill)
    except Exception as exc:  # the run could not even begin: warehouse unreachable or unmigratable
        logging.getLogger("etl.cli").exception("run could not begin")
        print(f"run FAILED before it began (warehouse {settings.warehouse_url_masked}): {exc}", file=sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGTERM, previous)
    return _print_run(result, args, settings)


def cmd_backfill(args, settings: Settings) -> int:
    import datetime as dt

    from .pipeline import run_backfill

    this_year = dt.date.today().year
    if not 1990 <= args.since <= this_year + 1:
        raise SystemExit(f"qdp backfill: --since {args.since} is not a year between 1990 and {this_year + 1}")
    previous = signal.signal(signal.SIGTERM, _terminated)
    try:
        result = run_backfill(settings, args.since, args.channel or None, progress=not args.quiet)
    except ValueError as exc:  # an unknown channel
        raise SystemExit(f"qdp backfill: {exc}") from exc
    except Exception as exc:
        logging.getLogger("etl.cli").exception("backfill could not begin")
        print(f"backfill FAILED before it began (warehouse {settings.warehouse_url!r}): {exc}", file=sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGTERM, previous)
    if not args.json:
        session = result[0].details.get("backfill_session") if result else None
        resumed = bool(result and result[0].details.get("resumed"))
        print(f"backfill since {args.since}: session {session}{' (resumed)' if resumed else ''}")
    return _print_run(result, args, settings)


def _print_run(result, args, settings: Settings) -> int:
    from .report import ReportError, print_summary

    for r in result:
        _print_report(r, args.json)
    health = result.health
    if args.json:
        print(json.dumps({"run_id": result.run_id, "health": health.to_dict()}, ensure_ascii=False))
    else:
        if health.status != "failed":
            try:
                print_summary(settings, departments=getattr(args, "department", None))
            except ReportError as exc:  # the summary is a courtesy; the exit code is the run's health
                print(f"qdp run: no summary: {exc}", file=sys.stderr)
        print(f"run {result.run_id}: {health.status.upper()}")
        for reason in health.reasons:
            print(f"  - {reason}")
    return health.exit_code


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
    from .parse.attachment import parse_document, sniff_media_type

    path = Path(args.file)
    if not path.is_file():
        raise SystemExit(f"qdp parse: no such file: {path}")
    data = path.read_bytes()
    attachment = None
    if sniff_media_type(data) is not None:  # a PDF, DOCX, OFD or legacy Word file: its text is parsed
        parsed, attachment = parse_document(data, url=args.url, filename=path.name)
    else:
        parsed = parse_page(data, url=args.url)
    if args.json:
        out = parsed.to_dict()
        if attachment is not None:
            out["attachment"] = attachment.to_dict()
        print(json.dumps(out, ensure_ascii=False, indent=2))
        return 0
    if attachment is not None:
        print(f"{attachment.filename}: {attachment.media_type}, {attachment.outcome}, "
              f"{attachment.text_length} characters of text" + (f" ({attachment.reason})" if attachment.reason else ""))
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


def cmd_diff(args, settings: Settings) -> int:
    from .compare.diff import DiffError, diff_pages, render_text

    pages = []
    for file in (args.previous, args.current):
        path = Path(file)
        if not path.is_file():
            raise SystemExit(f"qdp diff: no such file: {path}")
        pages.append(path.read_bytes())
    try:
        diff = diff_pages(pages[0], pages[1], previous_url=args.prev_url, current_url=args.cur_url)
    except DiffError as exc:
        raise SystemExit(f"qdp diff: {exc}") from exc
    print(json.dumps(diff.to_dict(), ensure_ascii=False, indent=2) if args.json else render_text(diff))
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

    run_id = args.run_id or _latest_run(settings, VALID_FILE)
    _print_report(load_stage(settings, run_id, backfill=args.backfill), args.json)
    return 0


def cmd_compare(args, settings: Settings) -> int:
    from .pipeline import compare_stage

    _print_report(compare_stage(settings), args.json)
    return 0


def cmd_alert(args, settings: Settings) -> int:
    from .alert import outbox
    from .alert.subscriptions import SubscriptionError

    if args.message:
        from . import warehouse

        notices = outbox.message_notices(warehouse.get_engine(settings.warehouse_url), args.message)
        if not notices:
            raise SystemExit(f"qdp alert: no delivered notices for message {args.message!r}")
        for n in notices:
            print(f"{n.published or '-'}  {n.department or '-'}  {n.title}  {n.url}")
        return 0
    from .pipeline import alert_stage

    try:
        report = alert_stage(settings, include_baseline=args.include_baseline)
    except SubscriptionError as exc:
        raise SystemExit(f"qdp alert: {exc}") from exc
    _print_report(report, args.json)
    return 1 if report.counts.get("messages_failed") or report.counts.get("expired") else 0


def cmd_migrate(args, settings: Settings) -> int:
    from . import warehouse

    warehouse.upgrade(settings.warehouse_url, args.revision)
    print(f"warehouse at {args.revision}: {settings.warehouse_url_masked}")
    return 0


def cmd_report(args, settings: Settings) -> int:
    from .report import ReportError, render_text, report_for, to_json, write_html

    try:
        report = report_for(settings, args.department)
    except ReportError as exc:
        raise SystemExit(f"qdp report: {exc}") from exc
    if args.html:
        path = write_html(report, Path(args.html))
        print(f"wrote {path} ({path.stat().st_size} bytes)", file=sys.stderr)
    if args.json:
        print(to_json(report))
    elif not args.html:
        print(render_text(report))
    return 0


def cmd_channels(args, settings: Settings) -> int:
    from .crawl import load_channels
    from .crawl.catalogue import build_catalogue, discover, filter_catalogue

    if args.action == "discover":
        proposals = discover(settings, index_path=args.index)
        if args.json:
            print(json.dumps([p.to_dict() for p in proposals], ensure_ascii=False, indent=1))
        else:
            for p in proposals:
                print(f"{p.status:<18} {p.list_path:<42} {p.department or '?'}  ({p.link_text})")
            print(f"{sum(p.status != 'known' for p in proposals)} proposal(s), "
                  f"{sum(p.status == 'known' for p in proposals)} column(s) already catalogued")
        return 0
    try:
        entries = filter_catalogue(build_catalogue(first_year=args.first_year), args.department, args.tree)
    except ValueError as exc:
        raise SystemExit(f"qdp channels: {exc}") from exc
    watched = {c.list_path for c in load_channels(settings)}
    rows = [{**e.to_row(), "watched": e.channel.list_path in watched} for e in entries]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=1))
        return 0
    if args.yaml:  # a channels file to watch these (QDP_CHANNELS_FILE)
        import yaml

        chans = [{k: v for k, v in e.channel.to_dict().items() if v is not None} for e in entries]
        print(yaml.safe_dump({"channels": chans}, allow_unicode=True, sort_keys=False), end="")
        return 0
    for r in rows:
        mark = "*" if r["watched"] else " "
        dept = r["department"] or "(from the page)"
        print(f"{mark} {r['key']:<22} {r['tree']:<7} {r['kind']:<8} {r['list_path']:<42} {dept}")
    depts = {r["department"] for r in rows if r["department"]}
    print(f"{len(rows)} channel(s), {len(depts)} department(s); * = watched (QDP_CHANNELS_FILE)")
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

    p = sub.add_parser(
        "run", help="run the whole pipeline in this process",
        description="Run the whole pipeline in this process (crawl, parse, validate, load, compare, alert).",
        epilog=RUN_EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.set_defaults(func=cmd_run)
    p.add_argument("--json", action="store_true", help="print the stage reports and the run's health as JSON")
    p.add_argument("--full", action="store_true", help="re-read every list page and re-check known notices")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--backfill", action="store_true", help="record new notices as known without announcing them")
    p.add_argument("--department", action="append",
                   help="department (name or alias) of the year-over-year tables; repeatable; default: all")

    p = sub.add_parser(
        "backfill", help="walk every list page of every channel once and load what is found as the alert baseline",
        description="Walk every list page of every channel (or of those named) once, at QDP_RATE_LIMIT, "
                    "fetch the notices listed in or after --since YEAR that are not stored yet, and load "
                    "them as the alert baseline (nothing is announced). Resumable: after an interruption the "
                    "same command continues where it stopped, without fetching stored pages again.",
        epilog=RUN_EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.set_defaults(func=cmd_backfill)
    p.add_argument("--since", type=int, required=True, metavar="YEAR",
                   help="skip list entries dated before this year (undated ones are fetched)")
    p.add_argument("--channel", action="append", help="only this channel key (repeatable)")
    p.add_argument("--json", action="store_true", help="print the stage reports and the run's health as JSON")
    p.add_argument("--quiet", action="store_true", help="no progress bar")

    p = add("sample-site", cmd_sample_site, "serve the local replica of www.qingdao.gov.cn")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--faults", type=float, default=0.0, help="fault rate 0..1 (5xx, 429, slow, resets, ...)")
    p.add_argument("--seed", type=int, default=0, help="seed of the fault sequence")

    p = add("crawl", cmd_crawl, "discover and fetch new notices into the landing zone")
    p.add_argument("--full", action="store_true", help="backfill: every list page, re-check known notices")
    p.add_argument("--channel", action="append", help="only this channel key (repeatable)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")

    p = add("parse", cmd_parse, "parse one page (HTML or a text capture) or document (PDF, DOCX, OFD) into records")
    p.add_argument("file")
    p.add_argument("--url", help="the page's URL (helps find department and column)")

    p = add("diff", cmd_diff, "compare two plan pages (HTML or text captures) item by item, without a warehouse")
    p.add_argument("previous", metavar="PREV", help="the earlier plan")
    p.add_argument("current", metavar="CUR", help="the later plan")
    p.add_argument("--prev-url", help="URL of the earlier page (helps find department and column)")
    p.add_argument("--cur-url", help="URL of the later page")

    p = add("parse-landed", cmd_parse_landed, "parse every landed page not yet in the warehouse")
    p.add_argument("--run-id")
    p.add_argument("--reparse", action="store_true", help="also pages already loaded")

    p = add("validate", cmd_validate, "check a staged run with the Great Expectations suites")
    p.add_argument("--run-id", help="default: the latest parsed run")

    p = add("load", cmd_load, "load a validated run into the warehouse")
    p.add_argument("--run-id", help="default: the latest validated run")
    p.add_argument("--backfill", action="store_true", help="record new notices as known without announcing them")

    add("compare", cmd_compare, "recompute year-over-year item links")

    p = add("alert", cmd_alert, "send pending new-notice alerts from the outbox (retries included)")
    p.add_argument("--include-baseline", action="store_true",
                   help="also announce the notices recorded as baseline (first load of a channel, backfill)")
    p.add_argument("--message", metavar="ID", help="list the notices one alert message covered, then exit")

    p = add("channels", cmd_channels, "list the channel catalogue (every column where plans are published)")
    p.add_argument("action", nargs="?", choices=("list", "discover"), default="list",
                   help="list the catalogue (default) or discover columns from the site's navigation")
    p.add_argument("--department", help="only this department (name, alias or path code)")
    p.add_argument("--tree", help="only this column tree (xxgk, jhmb, jhwcqk, smhd, szfgw)")
    p.add_argument("--first-year", type=int, default=2019, help="first year of the yearly folders")
    p.add_argument("--yaml", action="store_true", help="print the selection as a channels file (QDP_CHANNELS_FILE)")
    p.add_argument("--index", default="/zwgk/xxgk/", help="discover: path of the department index page")

    p = add("migrate", cmd_migrate, "upgrade the warehouse schema")
    p.add_argument("--revision", default="head")

    p = add("report", cmd_report, "the warehouse summary and each department's year over year, as text, "
                                   "JSON (--json) or a self-contained HTML page with charts (--html PATH)")
    p.add_argument("--department", action="append",
                   help="department (name or alias, e.g. 市教育局); repeatable; default: every department with plans")
    p.add_argument("--html", metavar="PATH", help="write the report as one self-contained HTML page")
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
