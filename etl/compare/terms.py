"""Key terms of plan text, weighted by how rare they are among plan items (TF-IDF).

Chinese has no word spaces, so items are segmented with jieba (search mode: a long compound such
as 轨道交通运营里程 also yields 轨道, 交通, 运营, 里程, so a rewritten task that keeps some of
its words still shares terms with its predecessor). Numbers are masked first: a target that moved
(20 所 → 25 所) is not a different task. Terms every plan uses (推进, 加强, 工作) weigh little
because their inverse document frequency over the items being compared is low; single characters
and function words are dropped. Words the dictionary lacks come out of jieba as single
characters; their character bigrams stand in for them.
"""

from __future__ import annotations

import functools
import itertools
import logging
import math
import re
from collections import Counter
from collections.abc import Iterable

# Arabic numbers, and Chinese numerals before a unit or a measure word (五十项, 两条).
NUMBER = re.compile(
    r"\d+(?:[.,]\d+)*|[零〇一二两三四五六七八九十百千万亿]+(?=[所个家项人万亿元%％公里平方米条座场次届处部辆艘批])")
PUNCT = re.compile(r"[\s，。、；：！？“”‘’（）()《》〈〉【】\[\],.;:!?\"'·—…\-]+")
# Words that say nothing about which task an item is (verbs of every plan are handled by IDF).
STOP_WORDS = frozenset({
    "的", "和", "及", "与", "等", "为", "在", "对", "以", "将", "把", "了", "着", "是", "并", "或", "其",
    "各", "个", "年", "全年", "年内", "今年", "全市", "我市", "持续", "进一步", "不断", "全面", "积极",
    "深入", "切实", "扎实", "大力", "努力", "认真", "坚持", "着力", "确保", "力争", "有关", "相关", "工作",
    "方面", "水平", "能力", "体系", "机制", "重点",
})


@functools.cache
def _tokenizer():
    import jieba

    jieba.setLogLevel(logging.WARNING)  # "Building prefix dict ..." on first use, on every worker
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    return tokenizer


def canonical(text: str) -> str:
    """Text without punctuation and spacing: two items with the same canonical text are the same."""
    return PUNCT.sub("", text or "")


def masked(text: str) -> str:
    """Canonical text with every number replaced by ``#``."""
    return NUMBER.sub("#", canonical(text))


@functools.lru_cache(maxsize=65536)
def terms(text: str) -> tuple[str, ...]:
    """Key terms of ``text`` in order, numbers masked, single characters and stop words dropped."""
    out: list[str] = []
    for chunk in PUNCT.split(NUMBER.sub(" ", text or "")):
        if not chunk:
            continue
        run: list[str] = []  # consecutive single characters: a word the dictionary lacks (浒苔)
        for word in (*_tokenizer().cut_for_search(chunk, HMM=False), ""):
            if len(word) == 1 and not word.isascii():
                run.append(word)
                continue
            if len(run) > 1:
                out.extend(a + b for a, b in itertools.pairwise(run))
            run = []
            if len(word) > 1 and word not in STOP_WORDS and not word.isdigit():
                out.append(word)
    return tuple(out)


class TermWeights:
    """Inverse document frequency of terms over a collection of texts (smoothed: unseen terms
    weigh as much as a term found once)."""

    def __init__(self, documents: Iterable[Iterable[str]]):
        df: Counter[str] = Counter()
        n = 0
        for doc in documents:
            n += 1
            df.update(set(doc))
        self.n = n
        self._idf = {t: math.log((1 + n) / (1 + c)) + 1.0 for t, c in df.items()}
        self._unseen = math.log((1 + n) / 2) + 1.0

    def idf(self, term: str) -> float:
        return self._idf.get(term, self._unseen)

    def vector(self, doc_terms: Iterable[str]) -> dict[str, float]:
        """L2-normalised TF-IDF vector (sublinear term frequency)."""
        tf = Counter(doc_terms)
        vec = {t: (1.0 + math.log(c)) * self.idf(t) for t, c in tf.items()}
        norm = math.sqrt(sum(v * v for v in vec.values()))
        return {t: v / norm for t, v in vec.items()} if norm else {}
