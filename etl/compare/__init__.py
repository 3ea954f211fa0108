"""Compare stage: year-over-year matching of plan items.

- ``terms``: key terms of plan text (jieba, numbers masked) and their IDF weights;
- ``match``: one plan against its predecessor (scores, one-to-one assignment, statuses);
- ``warehouse``: every department's annual plans in the warehouse (``compare_warehouse``).
"""

from .match import POSSIBLE_MIN, REVISED_MIN, ComparableItem, ItemMatch, match_items, match_plans, score_matrix
from .warehouse import MAX_YEAR_GAP, compare_items, compare_warehouse

__all__ = [
    "MAX_YEAR_GAP",
    "POSSIBLE_MIN",
    "REVISED_MIN",
    "ComparableItem",
    "ItemMatch",
    "compare_items",
    "compare_warehouse",
    "match_items",
    "match_plans",
    "score_matrix",
]
