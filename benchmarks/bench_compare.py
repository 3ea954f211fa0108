"""Benchmark the matcher on two large plans (``etl.compare.match_plans``).

    .venv/bin/python benchmarks/bench_compare.py                 # two 200-item plans
    .venv/bin/python benchmarks/bench_compare.py --items 500 --repeat 3

The plans are generated from the sample corpus' items (every synthetic and real plan item, each
made distinct by its own place names and numbers), spread over 8 themed sections; the later plan
keeps 60% of the tasks (a third of them verbatim, the rest with moved targets, a new headline or
a dropped clause), reorders the sections and adds new tasks up to the same size. Prints the
matcher's wall time (first call, which loads jieba's dictionary, and warm calls), the peak of
Python allocations during a warm call (tracemalloc) and the process's peak RSS, plus the
statuses found.
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from etl.compare import ComparableItem, match_plans
from etl.sample_site.corpus import load_corpus

PLACES = ["市南", "市北", "李沧", "崂山", "城阳", "黄岛", "即墨", "胶州", "平度", "莱西", "西海岸", "红岛"]
THEMES = ["基础设施建设", "公共服务供给", "产业转型升级", "生态环境保护", "安全生产监管", "改革创新",
          "民生保障", "党的建设"]


def _pool() -> list[str]:
    texts = []
    for doc in load_corpus():
        texts += [i.text for i in doc.items]
    return list(dict.fromkeys(texts))


def make_plans(n: int, seed: int = 7) -> tuple[list[ComparableItem], list[ComparableItem], dict[str, str]]:
    rng = random.Random(seed)
    pool = _pool()
    texts = []
    for k in range(2 * n):  # enough distinct tasks for both plans
        base = pool[k % len(pool)]
        place = PLACES[k % len(PLACES)] + PLACES[(k // len(PLACES)) % len(PLACES)]
        head, sep, rest = base.partition("。")
        texts.append(f"{head}（{place}）{sep}{rest}在{place}区域落实到位，完成{rng.randint(2, 90)}个点位。")

    def item(uid: str, text: str, section: int) -> ComparableItem:
        return ComparableItem(uid, text.partition("。")[0] + "。", text, THEMES[section - 1], section)

    previous = [item(f"p{k}", texts[k], k % 8 + 1) for k in range(n)]
    current, lineage = [], {}
    order = [(k % 8 + 3) % 8 + 1 for k in range(n)]  # sections reordered
    for k in range(n):
        if rng.random() < 0.6:
            text = texts[k]
            change = rng.random()
            if change < 0.33:
                pass  # verbatim
            elif change < 0.66:
                text = text.replace("完成", "力争完成", 1) + "年内见效。"
            else:
                head, _, rest = text.partition("。")
                text = "扎实推进" + head[-8:] + "。" + rest.split("，")[0] + "。"
            uid = f"c{k}"
            lineage[uid] = f"p{k}"
        else:
            text, uid = texts[n + k], f"c{k}"
        current.append(item(uid, text, order[k]))
    rng.shuffle(current)
    return previous, current, lineage


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)
    previous, current, lineage = make_plans(args.items)

    t0 = time.perf_counter()
    matches = match_plans(previous, current)
    first = time.perf_counter() - t0
    warm = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        match_plans(previous, current)
        warm.append(time.perf_counter() - t0)
    tracemalloc.start()
    match_plans(previous, current)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    statuses: dict[str, int] = {}
    for m in matches:
        statuses[m.status] = statuses.get(m.status, 0) + 1
    print(f"compare: two plans of {len(previous)} and {len(current)} items")
    print(f"  first call (loads jieba's dictionary): {first:.3f} s")
    print(f"  warm call: median {statistics.median(warm):.3f} s, best {min(warm):.3f} s over {len(warm)}")
    print(f"  peak Python allocations in a warm call: {peak / 2**20:.1f} MiB; process peak RSS {rss_mb:.0f} MiB")
    print(f"  statuses: {statuses}")
    print(f"  (the generator carried {len(lineage)} tasks forward; its new tasks reuse corpus wording, so this is a")
    print("   timing workload, not an accuracy measure: see tests/unit/test_compare_ground_truth.py)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
