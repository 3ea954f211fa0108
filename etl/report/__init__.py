"""The analyst report: what the last runs did, what the warehouse holds, and how each department's
plans changed year over year, as text (``qdp report``), JSON (``--json``) and a self-contained
HTML page with charts (``--html PATH``; every run also writes ``QDP_DATA_DIR/reports/``).

``data.build_report`` reads the analyst views into plain data; ``text`` and ``html`` render it.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from ..settings import Settings
from ..storage import Location
from .data import ReportError, UnknownDepartmentError, build_report, resolve_departments
from .text import render_text

log = logging.getLogger(__name__)


def report_for(settings: Settings, departments: list[str] | None = None) -> dict[str, Any]:
    from .. import warehouse

    engine = warehouse.get_engine(settings.warehouse_url)
    at, head = warehouse.current_revision(engine), warehouse.head_revision()
    if at != head:
        raise ReportError(f"the warehouse {engine.url.render_as_string(hide_password=True)} is at schema "
                          f"revision {at or 'none (empty)'}, not {head}: run `qdp migrate` or `qdp run` first")
    return build_report(engine, departments)


def print_summary(settings: Settings, *, departments: list[str] | None = None) -> None:
    print(render_text(report_for(settings, departments)))


def to_json(report: dict[str, Any]) -> str:
    return json.dumps(report, ensure_ascii=False, indent=2, default=str)


def write_html(report: dict[str, Any], path: Path | Location) -> Path | Location:
    """Write the page to ``path`` (local, or an object under an object-storage QDP_DATA_DIR)."""
    from .html import render_html

    # Whole or not at all: a reader (or a browser tab) never sees half a page.
    Location.of(path).write_text(render_html(report))
    return path


def reports_dir(settings: Settings) -> Path | Location:
    return settings.reports_dir


def write_run_report(settings: Settings, run_id: str) -> Path | None:
    """``reports/<run_id>.html`` and ``reports/latest.html`` after a run. A report that cannot be
    written is logged, not raised: the run's own outcome is already recorded."""
    try:
        page = write_html(report_for(settings), reports_dir(settings) / f"{run_id}.html")
        write_html_copy(page, reports_dir(settings) / "latest.html")
        return page
    except Exception:  # the report is a by-product of the run; never turn a good run into a failure
        log.exception("could not write the HTML report of run %s", run_id)
        return None


def write_html_copy(source: Path | Location, target: Path | Location) -> None:
    Location.of(target).write_bytes(Location.of(source).read_bytes())


__all__ = [
    "ReportError",
    "UnknownDepartmentError",
    "build_report",
    "print_summary",
    "render_text",
    "report_for",
    "reports_dir",
    "resolve_departments",
    "to_json",
    "write_html",
    "write_run_report",
]
