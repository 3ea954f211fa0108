"""Compare two plan pages directly (``qdp diff``), without a warehouse, with the stage's matcher.

Each page (HTML as served, or a text capture) is parsed with ``etl.parse.parse_page``; the items
of the earlier plan are matched with the items of the later one exactly as the compare stage
matches a department's annual plans (term weights from the two plans' own items).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..records import LINK_STATUSES, ParsedNotice
from .match import ComparableItem, ItemMatch, match_plans


class DiffError(ValueError):
    """A page cannot be compared (no plan items found in it)."""


@dataclass(slots=True)
class PlanDiff:
    previous: ParsedNotice
    current: ParsedNotice
    matches: list[ItemMatch]

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(LINK_STATUSES, 0)
        for m in self.matches:
            out[m.status] += 1
        return out

    def notes(self) -> list[str]:
        """What makes this comparison unlike the compare stage's (compared all the same)."""
        prev, cur = self.previous, self.current
        out = []
        if prev.department and cur.department and prev.department != cur.department:
            out.append(f"the plans are from different departments: {prev.department}, {cur.department}")
        if prev.plan_year and cur.plan_year and prev.plan_year >= cur.plan_year:
            out.append(f"PREV ({prev.plan_year}) is not earlier than CUR ({cur.plan_year})")
        for name, p in (("PREV", prev), ("CUR", cur)):
            if p.doc_type != "work_plan":
                out.append(f"{name} reads as {p.doc_type}: the compare stage only compares annual work plans")
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "previous": _plan_summary(self.previous),
            "current": _plan_summary(self.current),
            "notes": self.notes(),
            "counts": self.counts(),
            "links": [_link(m) for m in self.matches],
        }


def _plan_summary(p: ParsedNotice) -> dict[str, Any]:
    return {"title": p.title, "department": p.department, "doc_type": p.doc_type, "plan_year": p.plan_year,
            "published": p.published.isoformat() if p.published else None, "items": len(p.items)}


def _link(m: ItemMatch) -> dict[str, Any]:
    return {
        "status": m.status, "score": m.score,
        "previous_item": m.previous.item_uid if m.previous else None,
        "item": m.current.item_uid if m.current else None,
        "previous_headline": m.previous.headline if m.previous else None,
        "headline": m.current.headline if m.current else None,
        "previous_text": m.previous.text if m.previous else None,
        "text": m.current.text if m.current else None,
    }


def comparable_items(parsed: ParsedNotice) -> list[ComparableItem]:
    """The plan's items keyed ``<section>.<ordinal>`` (e.g. ``2.3``), with their section titles."""
    titles = {s.ordinal: s.title for s in parsed.sections}
    return [ComparableItem(f"{i.section}.{i.ordinal}", i.headline, i.text, titles.get(i.section, ""), i.section)
            for i in parsed.items]


def diff_parsed(previous: ParsedNotice, current: ParsedNotice) -> PlanDiff:
    for name, p in (("previous", previous), ("current", current)):
        if not p.items:
            raise DiffError(f"the {name} page has no plan items (read as {p.doc_type!r}: {p.title or 'no title'})")
    return PlanDiff(previous, current, match_plans(comparable_items(previous), comparable_items(current)))


def diff_pages(previous: bytes | str, current: bytes | str, *, previous_url: str | None = None,
               current_url: str | None = None) -> PlanDiff:
    """Parse both pages and match the current plan's items with the previous plan's."""
    from ..parse import parse_page

    return diff_parsed(parse_page(previous, url=previous_url), parse_page(current, url=current_url))


def render_text(diff: PlanDiff) -> str:
    """The comparison for people: one line per item, in the current plan's order, dropped last."""
    def name(p: ParsedNotice) -> str:
        return f"{p.title or '(no title)'} [{p.doc_type}, {p.plan_year or '?'}]"

    lines = [f"{name(diff.previous)}  →  {name(diff.current)}",
             ", ".join(f"{k} {v}" for k, v in diff.counts().items())]
    lines += [f"note: {n}" for n in diff.notes()]
    lines.append("")
    for m in diff.matches:
        score = f"{m.score:5.1f}" if m.score is not None else "     "
        cur = f"{m.current.item_uid} {m.current.headline}" if m.current else ""
        prev = f"{m.previous.item_uid} {m.previous.headline}" if m.previous else ""
        if m.status == "continued":
            line = cur
        elif m.status in ("revised", "possible"):
            line = f"{cur}  ←  {prev}"
        elif m.status == "new":
            line = cur
        else:
            line = prev
        lines.append(f"{m.status:<9} {score}  {line}")
    if any(m.status == "possible" for m in diff.matches):
        lines += ["", "possible: the best candidate predecessor, on weaker evidence than revised; check it."]
    return "\n".join(lines)
