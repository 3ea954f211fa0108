"""Compare stage: year-over-year links between each department's annual plans in the warehouse.

For every department and plan year, the department's annual work plan (doc_type ``work_plan``)
is matched with its previous annual plan: the plan of Y-1, or of Y-2 when the department
published none for Y-1 (``MAX_YEAR_GAP``). A three-year action plan is not last year's plan and
is never compared. Two plans of one department-year are never merged into one item list: the
department's annual plan for the year is the work plan with the most items (then the earliest
published); any other work plan of that year is left out and counted in the stage report.
Term weights (IDF) are computed over every plan item being compared, so that words every plan
of the city uses weigh little.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..records import ItemLink, StageReport
from .match import ComparableItem, match_plans
from .terms import TermWeights, terms

MAX_YEAR_GAP = 2  # compare with Y-1, or with Y-2 when Y-1 has no plan


@dataclass(slots=True)
class PlanForComparison:
    department: str
    plan_year: int
    notice_id: int
    published: str
    items: list[ComparableItem]


def plans_from_rows(rows: Iterable[dict[str, Any]], doc_types: tuple[str, ...] = ("work_plan",)
                    ) -> list[PlanForComparison]:
    """One plan per notice, from item rows as ``etl.warehouse.current_plan_items`` returns them."""
    plans: dict[tuple[str, int, str, int], PlanForComparison] = {}
    for row in sorted(rows, key=lambda r: (r.get("published") or "", r.get("host") or "", r["notice_id"],
                                           r["section"], r["ordinal"])):
        if row.get("doc_type") not in doc_types or not row.get("department") or not row.get("plan_year"):
            continue
        key = (row["department"], int(row["plan_year"]), row.get("host") or "", int(row["notice_id"]))
        plan = plans.get(key)
        if plan is None:
            plan = plans[key] = PlanForComparison(row["department"], int(row["plan_year"]), int(row["notice_id"]),
                                                  row.get("published") or "", [])
        plan.items.append(ComparableItem(row["item_uid"], row.get("headline") or "", row.get("text") or "",
                                         row.get("section_title") or "", int(row.get("section") or 0)))
    return list(plans.values())


def annual_plans(plans: list[PlanForComparison]) -> tuple[dict[tuple[str, int], PlanForComparison],
                                                         list[PlanForComparison]]:
    """The annual plan of each (department, year), and the other plans of those years (left out)."""
    chosen: dict[tuple[str, int], PlanForComparison] = {}
    for plan in sorted(plans, key=lambda p: (-len(p.items), p.published, p.notice_id)):
        chosen.setdefault((plan.department, plan.plan_year), plan)
    left_out = [p for p in plans if chosen[(p.department, p.plan_year)] is not p]
    return chosen, left_out


def compare_items(rows: Iterable[dict[str, Any]], *, doc_types: tuple[str, ...] = ("work_plan",),
                  report: StageReport | None = None) -> list[ItemLink]:
    """Links for every department's annual plan and its predecessor found in ``rows``."""
    chosen, left_out = annual_plans(plans_from_rows(rows, doc_types))
    if report is not None:
        report.counts["plans_left_out"] = len(left_out)
        if left_out:
            report.details["plans_left_out"] = [
                {"department": p.department, "plan_year": p.plan_year, "notice_id": p.notice_id}
                for p in sorted(left_out, key=lambda p: (p.department, p.plan_year, p.notice_id))]
    weights = TermWeights(terms(i.text) for p in chosen.values() for i in p.items)
    links: list[ItemLink] = []
    for (dept, year), plan in sorted(chosen.items()):
        previous = next((chosen[(dept, year - gap)] for gap in range(1, MAX_YEAR_GAP + 1)
                         if (dept, year - gap) in chosen), None)
        if previous is None:
            continue  # the first plan on record has nothing to compare with
        for m in match_plans(previous.items, plan.items, weights=weights):
            links.append(ItemLink(dept, year, m.status, m.current.item_uid if m.current else None,
                                  m.previous.item_uid if m.previous else None, m.score,
                                  previous_plan_year=previous.plan_year, notice_id=plan.notice_id,
                                  previous_notice_id=previous.notice_id))
    return links


def compare_warehouse(engine: Any, *, department: str | None = None) -> StageReport:
    """Recompute the year-over-year links in the warehouse (idempotent: replaces per dept/year)."""
    from .. import warehouse

    started = time.perf_counter()
    report = StageReport("compare")
    links = compare_items(warehouse.current_plan_items(engine, department=department), report=report)
    warehouse.replace_item_links(engine, links)
    for link in links:
        report.add(link.status)
    report.counts["links"] = len(links)
    report.counts["department_years"] = len({(lk.department, lk.plan_year) for lk in links})
    report.seconds = round(time.perf_counter() - started, 3)
    return report
