"""Fidelity and speed of brush-trajectory optimisation over random GB2312 characters.

For each character: the target Kaiti glyph at 256 x 256, the default motion
from the hanzi-writer-data medians ("raw"), and the optimised motion, both
rendered by the numpy brush; IoU, Dice and SSIM against the target, and the
seconds per character (wall clock and this process's CPU time) on one torch
thread. Targets: mean IoU >= 0.80 after optimisation, <= 10 s per character.

    nice -n 15 python benchmarks/calligraphy_fidelity.py [--count 100] [--seed 0] [--target font]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

import torch

from inkstroke.calligraphy.optimize import write_character
from inkstroke.io.hanzi import available_characters


def gb2312_hanzi() -> list[str]:
    """The hanzi of GB2312 (lead bytes 0xB0-0xF7) that hanzi-writer-data has."""
    out = []
    for c in available_characters():
        try:
            code = c.encode("gb2312")
        except UnicodeEncodeError:
            continue
        if len(code) == 2 and 0xB0 <= code[0] <= 0xF7:
            out.append(c)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--target", default="font", choices=["font", "outlines"])
    args = parser.parse_args()
    torch.set_num_threads(1)

    pool = gb2312_hanzi()
    chars = random.Random(args.seed).sample(pool, args.count)
    print(
        f"{args.count} of {len(pool)} GB2312 hanzi (seed {args.seed}), target: {args.target}, {args.size}x{args.size}"
    )
    rows = []
    for i, c in enumerate(chars, 1):
        cpu = time.process_time()
        r = write_character(c, args.size, target_kind=args.target, seed=args.seed)
        cpu = time.process_time() - cpu
        rows.append((c, r.raw_metrics, r.metrics, r.seconds, cpu))
        print(
            f"{i:3d} {c} strokes {len(r.raw.strokes):2d}  IoU {r.raw_metrics['iou']:.3f} -> {r.metrics['iou']:.3f}"
            f"  Dice {r.metrics['dice']:.3f}  SSIM {r.raw_metrics['ssim']:.3f} -> {r.metrics['ssim']:.3f}"
            f"  {r.seconds:5.1f} s wall, {cpu:5.1f} s CPU",
            flush=True,
        )

    def mean(key, which):
        return statistics.mean(row[which][key] for row in rows)

    walls, cpus = [row[3] for row in rows], [row[4] for row in rows]
    after = [row[2]["iou"] for row in rows]
    print(f"\nmean over {len(rows)} characters")
    for key in ("iou", "dice", "ssim"):
        print(f"  {key:5s} raw medians {mean(key, 1):.3f}   optimised {mean(key, 2):.3f}")
    print(
        f"  optimised IoU: min {min(after):.3f}, {sum(a >= 0.8 for a in after)}/{len(after)} at or above 0.80"
    )
    print(
        f"  seconds per character: wall mean {statistics.mean(walls):.1f} max {max(walls):.1f};"
        f" CPU mean {statistics.mean(cpus):.1f} max {max(cpus):.1f}"
    )


if __name__ == "__main__":
    main()
