"""Measure how big human writers make what the model cannot size itself, and
where they set it on the line: a character written as a word of its own
("I", "a", "( argc )", "1 2 / 2 5", "Dec . 5"), and a word in capitals.
``inkstroke.write`` fits the model's lone characters and block capitals to
this table.

The model cannot know: its training words were each scaled to their own body
height, so a lone "(" or "I" comes out an x-height tall, a lone "-" three
x-heights wide, a lone "." as big as an "o", and the capitals of a word
written letter by letter each at a size of their own. Here every
train-split UNIPEN text line with such a word and at least one lowercase
word of three letters or more is split into its words
(:func:`inkstroke.write.api.split_words`; lines that do not split into as
many stroke groups as words are skipped). The lowercase words give the
line's body height and baseline; each lone character's or capital word's
box is measured against them. Medians per character with at least
``--min-samples`` measurements, one entry for all digits together
(``"digit"``: the ten are the same height, and few lines hold any one of
them alone) and one for words in capitals (``"capitals"``). Run it again to
make ``writer_sizes.json`` anew:

    python scripts/writer_sizes.py --data data/unipen.inks \\
        -o src/inkstroke/models/handwriting/writer_sizes.json
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict

import numpy as np

from inkstroke.io.container import InkDataset, atomic_write_bytes
from inkstroke.io.unipen import is_single_line
from inkstroke.write.api import split_words


def kind(word: str) -> str | None:
    """The table entry a word is measured for: a lone character (all digits
    share one), a word of letters all in capitals, or None."""
    if len(word) == 1:
        return "digit" if word.isdigit() else word
    if word.isalpha() and word.isupper():
        return "capitals"
    return None


def measure(ink) -> list[tuple[str, tuple[float, float, float, float]]]:
    """(entry, (width, height, bottom, top)) of each lone character or word in
    capitals of a y-down line, in body heights, bottom and top above the
    baseline."""
    words = ink.text.split()
    groups = split_words(ink, len(words))
    if len(groups) != len(words):
        return []
    body = [k for w, g in zip(words, groups) if len(w) >= 3 and w.isalpha() and w.islower() for k in g]
    if not body:
        return []
    ref = ink.copy(strokes=[ink.strokes[k] for k in body], times=None, pressures=None)
    bh = ref.body_height()
    base = float(np.median(ref.resample(0.05 * bh).points()[:, 1])) + 0.5 * bh
    out = []
    for w, g in zip(words, groups):
        if kind(w):
            pts = np.concatenate([ink.strokes[k] for k in g])
            (x0, y0), (x1, y1) = pts.min(0), pts.max(0)
            out.append((kind(w), ((x1 - x0) / bh, (y1 - y0) / bh, (base - y1) / bh, (base - y0) / bh)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="UNIPEN .inks (inkstroke data import unipen)")
    ap.add_argument("-o", "--out", required=True)
    ap.add_argument("--min-samples", type=int, default=10)
    args = ap.parse_args()
    ds = InkDataset(args.data)
    rows = [i for i, r in enumerate(ds.records)
            if r.get("split") == "train" and r.get("text") and len(r["text"].split()) >= 2
            and any(kind(w) for w in r["text"].split())]
    found: dict[str, list] = defaultdict(list)
    lines = 0
    for i in rows:
        ink = ds[i].y_down()
        if ink.num_points < 2 or not is_single_line(ink):
            continue
        boxes = measure(ink)
        lines += bool(boxes)
        for c, box in boxes:
            found[c].append(box)
    table = {}
    for c, measured in sorted(found.items()):
        if len(measured) >= args.min_samples:
            w, h, bottom, top = np.median(np.array(measured), 0)
            table[c] = {"samples": len(measured), "width": round(float(w), 3), "height": round(float(h), 3),
                        "bottom": round(float(bottom), 3), "top": round(float(top), 3)}
    out = {"about": "median box of a character written as a word of its own, and of a word in "
                    "capitals, in body heights of its line, bottom and top above the baseline "
                    "(scripts/writer_sizes.py)",
           "data": f"{args.data}: train split, {lines} single text lines with lowercase words",
           "command": f"python scripts/writer_sizes.py --data {args.data} -o {args.out} "
                      f"--min-samples {args.min_samples}",
           "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "boxes": table}
    atomic_write_bytes(args.out, lambda f: f.write((json.dumps(out, indent=1) + "\n").encode()))
    for c, m in table.items():
        print(f"{c!r:8} {m}")


if __name__ == "__main__":
    main()
