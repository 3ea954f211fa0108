"""Compare stage: match each department's plan items with the previous year's plan.

For every department and every plan year that has a previous year, each item of year Y is
classified against the items of year Y-1:

- ``continued``: the same item, text unchanged (ignoring punctuation and spacing);
- ``revised``: the same item reworded or with other numbers (similar enough to be a successor);
- ``new``: no item of Y-1 is a plausible predecessor;
- ``dropped`` (an item of Y-1): no item of Y succeeds it.

Similarity is character-level (Chinese has no word spaces): rapidfuzz's ``ratio`` on the text
with punctuation dropped and numbers masked, so that a changed target (20 所 → 25 所) reads as a
revision rather than a new item, combined with the headline's similarity. The pairing is a global
optimum (Hungarian assignment on the score matrix), not first-come greedy matching, so two similar
items cannot both claim the same predecessor. Only annual plans (doc_type ``work_plan``) are
compared: a three-year action plan is not last year's plan.
"""

from __future__ import annotations

import re
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from .records import ItemLink, StageReport

# Thresholds on a 0-100 score, calibrated on the sample site's ground truth
# (tests/integration/test_compare_ground_truth.py measures precision and recall).
REVISED_MIN_SCORE = 55.0

_PUNCT = re.compile(r"[\s，。、；：！？“”‘’（）()《》〈〉【】\[\],.;:!?\"'·—…-]+")
_NUMBER = re.compile(
    r"\d+(?:\.\d+)?|[零〇一二两三四五六七八九十百千万亿]+(?=[所个家项人万亿元%％公里平方米条座场次届])")


@dataclass(frozen=True, slots=True)
class ComparableItem:
    item_uid: str
    headline: str
    text: str


def _canonical(text: str) -> str:
    return _PUNCT.sub("", text or "")


def _masked(text: str) -> str:
    return _NUMBER.sub("#", _canonical(text))


def similarity(a: ComparableItem, b: ComparableItem) -> float:
    """0-100: how plausibly ``b`` is ``a``'s predecessor (or successor)."""
    from rapidfuzz import fuzz

    body = fuzz.ratio(_masked(a.text), _masked(b.text))
    head = fuzz.ratio(_masked(a.headline), _masked(b.headline))
    # A kept headline with a rewritten body is a revision; so is a new headline on the same body.
    return max(body, 0.6 * body + 0.4 * head, 0.5 * body + 0.5 * head if head >= 90 else 0.0)


def match_items(previous: Sequence[ComparableItem], current: Sequence[ComparableItem], *,
                department: str, plan_year: int, revised_min: float = REVISED_MIN_SCORE) -> list[ItemLink]:
    """Links for one department between plan_year-1 (``previous``) and plan_year (``current``)."""
    links: list[ItemLink] = []
    matched_prev: set[int] = set()
    pairs: dict[int, tuple[int, float]] = {}
    # Verbatim continuations first: they are certain and must not be re-assigned by the optimiser.
    exact: dict[str, list[int]] = defaultdict(list)
    for j, p in enumerate(previous):
        exact[_canonical(p.text)].append(j)
    remaining_cur = []
    for i, c in enumerate(current):
        js = [j for j in exact.get(_canonical(c.text), []) if j not in matched_prev]
        if js:
            matched_prev.add(js[0])
            pairs[i] = (js[0], 100.0)
        else:
            remaining_cur.append(i)
    remaining_prev = [j for j in range(len(previous)) if j not in matched_prev]
    if remaining_cur and remaining_prev:
        import numpy as np
        from scipy.optimize import linear_sum_assignment

        scores = np.array([[similarity(current[i], previous[j]) for j in remaining_prev]
                           for i in remaining_cur])
        rows, cols = linear_sum_assignment(scores, maximize=True)
        for r, c in zip(rows, cols, strict=True):
            if scores[r, c] >= revised_min:
                pairs[remaining_cur[r]] = (remaining_prev[c], float(scores[r, c]))
                matched_prev.add(remaining_prev[c])
    for i, c in enumerate(current):
        if i in pairs:
            j, score = pairs[i]
            same = _canonical(c.text) == _canonical(previous[j].text)
            links.append(ItemLink(department, plan_year, "continued" if same else "revised",
                                  c.item_uid, previous[j].item_uid, round(score, 1)))
        else:
            links.append(ItemLink(department, plan_year, "new", c.item_uid, None, None))
    for j, p in enumerate(previous):
        if j not in matched_prev:
            links.append(ItemLink(department, plan_year, "dropped", None, p.item_uid, None))
    return links


def compare_items(rows: Iterable[dict[str, Any]], *, doc_types: tuple[str, ...] = ("work_plan",),
                  ) -> list[ItemLink]:
    """Links for every department and consecutive pair of plan years found in ``rows``.

    ``rows`` are current plan items as ``etl.warehouse.current_plan_items`` returns them.
    """
    by_dept_year: dict[tuple[str, int], list[ComparableItem]] = defaultdict(list)
    for row in sorted(rows, key=lambda r: (r.get("published") or "", r["notice_id"], r["section"], r["ordinal"])):
        if row.get("doc_type") not in doc_types or not row.get("department") or not row.get("plan_year"):
            continue
        by_dept_year[(row["department"], int(row["plan_year"]))].append(
            ComparableItem(row["item_uid"], row.get("headline") or "", row.get("text") or ""))
    links: list[ItemLink] = []
    for (dept, year), items in sorted(by_dept_year.items()):
        previous = by_dept_year.get((dept, year - 1))
        if previous is None:
            continue  # the first year on record has nothing to compare with
        links.extend(match_items(previous, items, department=dept, plan_year=year))
    return links


def compare_warehouse(engine: Any, *, department: str | None = None) -> StageReport:
    """Recompute the year-over-year links in the warehouse (idempotent: replaces per dept/year)."""
    from . import warehouse

    started = time.perf_counter()
    links = compare_items(warehouse.current_plan_items(engine, department=department))
    warehouse.replace_item_links(engine, links)
    report = StageReport("compare")
    for link in links:
        report.add(link.status)
    report.counts["links"] = len(links)
    report.counts["department_years"] = len({(lk.department, lk.plan_year) for lk in links})
    report.seconds = round(time.perf_counter() - started, 3)
    return report
