"""Full UNIPEN import (categories 6, 7, 8): time, inks, writers, points, problems.

Usage: python benchmarks/unipen_import.py [ROOT]   (default: the extracted cache)
"""

import sys
import time
from collections import Counter
from pathlib import Path

from inkstroke.io.unipen import is_single_line, iter_unipen

root = (
    Path(sys.argv[1])
    if len(sys.argv) > 1
    else Path.home() / ".cache/inkstroke/unipen/train_r01_v07"
)
report: list[str] = []
inks = 0
points = 0
writers: set[str] = set()
sites: set[str] = set()
per_category: Counter = Counter()
text_lines = []
start = time.perf_counter()
for ink in iter_unipen(root, categories=(6, 7, 8), report=report):
    inks += 1
    points += ink.num_points
    writers.add(ink.writer)
    sites.add(ink.meta["site"])
    per_category[ink.meta["category"]] += 1
    if ink.meta["category"] == 8:
        text_lines.append(ink)
elapsed = time.perf_counter() - start
print(f"import: {elapsed:.1f} s for {inks} inks ({inks / elapsed:.0f}/s)")
print(f"inks per category (after dedup): {dict(sorted(per_category.items()))}")
print(f"writers: {len(writers)}  sites: {len(sites)}  pen-down points: {points}")
print(f"report entries: {len(report)}")
for line in report[:10]:
    print(f"  {line}")
start = time.perf_counter()
single = sum(is_single_line(ink) for ink in text_lines)
print(
    f"is_single_line: {single} of {len(text_lines)} category-8 inks "
    f"({time.perf_counter() - start:.1f} s)"
)
