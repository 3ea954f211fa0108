"""Match the items of one plan with the items of its predecessor (the same department's previous
annual plan).

Each item of the current plan is classified against the previous plan's items:

- ``continued``: the same item, text unchanged (ignoring punctuation and spacing);
- ``revised``: the same task reworded, renamed or with other numbers;
- ``possible``: the best candidate predecessor, but the evidence is weaker than for ``revised``
  (shown with its score so that an analyst can confirm or reject it, instead of a silent
  new + dropped pair);
- ``new``: no item of the previous plan is a plausible predecessor;
- ``dropped`` (an item of the previous plan): no item succeeds it.

The score (0-100) of a pair combines three kinds of evidence, because a task carried forward is
often renamed and fully rewritten (and a character ratio alone then scores it below unrelated
pairs):

- shared key terms: cosine of TF-IDF vectors of jieba terms (numbers masked; ``terms.py``) of the
  whole text and, less, of the headline;
- the character ratio of the number-masked texts (rapidfuzz), which wins for light edits;
- the section prior: plans keep their themes even when sections are reordered or renamed, so the
  counterpart usually sits in the section of the same theme (similar title, or similar items).

Pairs are then chosen by one global one-to-one assignment (Hungarian, scipy), so two similar
items cannot both claim one predecessor. A pair is ``revised`` when its score clears
``REVISED_MIN``, or when it clears ``POSSIBLE_MIN`` and is unambiguous: each is the other's best
candidate by a clear margin. Other assigned pairs above ``POSSIBLE_MIN`` are ``possible``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from ..records import ItemLink
from .terms import TermWeights, canonical, masked, terms

# Thresholds on the 0-100 score; tests/unit/test_compare_ground_truth.py measures precision and
# recall on the sample corpus (paraphrased successors, merges, splits, missing years).
REVISED_MIN = 35.0
POSSIBLE_MIN = 15.0
# A pair scoring at least CLEAR_MIN is still a revision when both items prefer each other to any
# other candidate by CLEAR_MARGIN points.
CLEAR_MIN = 25.0
CLEAR_MARGIN = 10.0
SECTION_WEIGHT = 0.25  # how far the section prior moves a score (x0.75 .. x1.25)
HEADLINE_WEIGHT = 0.25
# Character ratio of two unrelated plan items (common characters: 推进, 建设, 发展 ...); the ratio
# is rescaled so that this floor reads as no evidence.
CHAR_FLOOR = 0.3  # share of the term evidence that comes from the headline


@dataclass(frozen=True, slots=True)
class ComparableItem:
    item_uid: str
    headline: str
    text: str
    section_title: str = ""  # the title of the item's section ("" when the plan has none)
    section: int = 0


@dataclass(frozen=True, slots=True)
class ItemMatch:
    """One row of a comparison: a pair, a new item or a dropped one."""

    status: str  # one of etl.records.LinkStatus
    current: ComparableItem | None
    previous: ComparableItem | None
    score: float | None  # 0-100, for linked pairs (possible included)


def _weights_for(previous: Sequence[ComparableItem], current: Sequence[ComparableItem]) -> TermWeights:
    return TermWeights(terms(i.text) for i in (*previous, *current))


def _rows(vectors: list[dict[str, float]], vocabulary: dict[str, int]):
    """Sparse matrix whose rows are ``vectors`` (normalised term -> weight dicts)."""
    from scipy import sparse

    indptr, indices, data = [0], [], []
    for vec in vectors:
        for term, value in vec.items():
            indices.append(vocabulary[term])
            data.append(value)
        indptr.append(len(indices))
    return sparse.csr_matrix((data, indices, indptr), shape=(len(vectors), len(vocabulary)))


def _normalised(matrix):
    import numpy as np
    from scipy import sparse

    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sparse.diags(1.0 / norms) @ matrix


def _sections(items: Sequence[ComparableItem], text_rows, title_vectors: dict[tuple[int, str], dict[str, float]],
              vocabulary: dict[str, int]):
    """Per item: index of its section; per section: title vectors and the centroid of its items."""
    import numpy as np
    from scipy import sparse

    keys: dict[tuple[int, str], int] = {}
    index = [keys.setdefault((i.section, i.section_title), len(keys)) for i in items]
    titles = _rows([title_vectors[k] for k in keys], vocabulary)
    member = sparse.csr_matrix((np.ones(len(items)), (index, np.arange(len(items)))), shape=(len(keys), len(items)))
    return index, titles, _normalised(member @ text_rows)


def score_components(previous: Sequence[ComparableItem], current: Sequence[ComparableItem],
                     weights: TermWeights | None = None):
    """Term evidence (0-1), character ratio (0-1) and section prior (0-1) of every
    (current, previous) pair, as arrays of shape (len(current), len(previous))."""
    import numpy as np
    from rapidfuzz import fuzz, process

    weights = weights or _weights_for(previous, current)
    both = (*current, *previous)
    text = [weights.vector(terms(i.text)) for i in both]
    head = [weights.vector(terms(i.headline)) for i in both]
    titles = {(i.section, i.section_title): weights.vector(terms(i.section_title)) for i in both}
    vocabulary: dict[str, int] = {}
    for vec in (*text, *head, *titles.values()):
        for term in vec:
            vocabulary.setdefault(term, len(vocabulary))
    n = len(current)
    text_rows, head_rows = _rows(text, vocabulary), _rows(head, vocabulary)
    words = ((1 - HEADLINE_WEIGHT) * (text_rows[:n] @ text_rows[n:].T)
             + HEADLINE_WEIGHT * (head_rows[:n] @ head_rows[n:].T)).toarray()
    c_sec, c_titles, c_themes = _sections(current, text_rows[:n], titles, vocabulary)
    p_sec, p_titles, p_themes = _sections(previous, text_rows[n:], titles, vocabulary)
    sections = np.maximum((c_titles @ p_titles.T).toarray(), (c_themes @ p_themes.T).toarray())
    prior = sections[np.ix_(c_sec, p_sec)]
    chars = process.cdist([masked(i.text) for i in current], [masked(i.text) for i in previous],
                          scorer=fuzz.ratio, dtype=np.float32) / 100.0
    return words, chars, prior


def score_matrix(previous: Sequence[ComparableItem], current: Sequence[ComparableItem],
                 weights: TermWeights | None = None):
    """Scores (0-100) of every (current, previous) pair, shape (len(current), len(previous))."""
    import numpy as np

    words, chars, prior = score_components(previous, current, weights)
    text = np.maximum(words, (chars - CHAR_FLOOR) / (1 - CHAR_FLOOR))
    # The prior scales the text evidence (x0.75 across unrelated sections, x1.25 within the same
    # theme): it orders candidates but cannot make a link out of no shared words.
    return np.minimum(100.0, 100.0 * text * (1 - SECTION_WEIGHT + 2 * SECTION_WEIGHT * prior))


def match_plans(previous: Sequence[ComparableItem], current: Sequence[ComparableItem], *,
                weights: TermWeights | None = None, revised_min: float = REVISED_MIN,
                possible_min: float = POSSIBLE_MIN) -> list[ItemMatch]:
    """Every item of ``current`` (in order) with its status, then the dropped items of ``previous``.

    ``weights``: term weights over a larger collection (e.g. every plan in the warehouse); by
    default the two plans' own items.
    """
    pairs: dict[int, tuple[int, float, str]] = {}
    matched_prev: set[int] = set()
    # Verbatim continuations first: they are certain and must not be re-assigned by the optimiser.
    exact: dict[str, list[int]] = defaultdict(list)
    for j, p in enumerate(previous):
        exact[canonical(p.text)].append(j)
    rest_cur = []
    for i, c in enumerate(current):
        js = [j for j in exact.get(canonical(c.text), []) if j not in matched_prev]
        if js:
            matched_prev.add(js[0])
            pairs[i] = (js[0], 100.0, "continued")
        else:
            rest_cur.append(i)
    rest_prev = [j for j in range(len(previous)) if j not in matched_prev]
    if rest_cur and rest_prev:
        import numpy as np
        from scipy.optimize import linear_sum_assignment

        full = score_matrix(previous, current, weights)
        scores = full[np.ix_(rest_cur, rest_prev)]
        rows, cols = linear_sum_assignment(scores, maximize=True)
        for r, c in zip(rows, cols, strict=True):
            s = float(scores[r, c])
            if s < possible_min:
                continue
            # Runner-up of the row and of the column: is this pair the obvious one?
            row_rest = np.delete(scores[r], c)
            col_rest = np.delete(scores[:, c], r)
            margin = s - max(row_rest.max(initial=0.0), col_rest.max(initial=0.0))
            clear = s >= CLEAR_MIN and margin >= CLEAR_MARGIN
            status = "revised" if s >= revised_min or clear else "possible"
            pairs[rest_cur[r]] = (rest_prev[c], s, status)
            matched_prev.add(rest_prev[c])
    out = []
    for i, c in enumerate(current):
        if i in pairs:
            j, s, status = pairs[i]
            out.append(ItemMatch(status, c, previous[j], round(s, 1)))
        else:
            out.append(ItemMatch("new", c, None, None))
    out += [ItemMatch("dropped", None, p, None) for j, p in enumerate(previous) if j not in matched_prev]
    return out


def match_items(previous: Sequence[ComparableItem], current: Sequence[ComparableItem], *,
                department: str, plan_year: int, weights: TermWeights | None = None) -> list[ItemLink]:
    """Links for one department between its previous plan and the plan of ``plan_year``."""
    return [ItemLink(department, plan_year, m.status, m.current.item_uid if m.current else None,
                     m.previous.item_uid if m.previous else None, m.score)
            for m in match_plans(previous, current, weights=weights)]
