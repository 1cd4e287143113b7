"""How fast inks come out of an ``.inks`` file through :class:`InkDataset`.

Training reads inks one at a time from the memory map, so this is the rate a
data loader can reach on one core. Without ``--data`` a synthetic dataset of
UNIPEN-like words (random-walk strokes, ~180 points each) is written to a
temporary folder first.

    python benchmarks/load_throughput.py                  # synthetic, 20,000 inks
    python benchmarks/load_throughput.py --data u.inks    # a real import
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from inkstroke.ink import Ink
from inkstroke.io.container import InkDataset, write_inks


def synthetic_inks(n: int, points: int, seed: int):
    rng = np.random.default_rng(seed)
    for i in range(n):
        sizes = rng.multinomial(points, np.full(4, 0.25)) + 1
        strokes = [np.cumsum(rng.normal(0, 5, (k, 2)), axis=0) + (60 * j, 0) for j, k in enumerate(sizes)]
        times = [np.arange(len(s)) * 10.0 for s in strokes]
        yield Ink(strokes, times=times, text=f"word{i % 997}", writer=f"w{i % 200}", y_axis="up")


def timed(label: str, count: int, points: int, fn) -> None:
    start = time.perf_counter()
    fn()
    dt = time.perf_counter() - start
    print(f"{label:<24} {count / dt:>12,.0f} inks/s {points / dt / 1e6:>8.2f} M points/s  ({dt:.2f} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, help="an .inks file to read (default: synthetic)")
    parser.add_argument("--n", type=int, default=20_000, help="synthetic inks")
    parser.add_argument("--points", type=int, default=180, help="points per synthetic ink")
    parser.add_argument("--random", type=int, default=20_000, help="random-access reads")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        path = args.data
        if path is None:
            path = Path(tmp) / "synthetic.inks"
            start = time.perf_counter()
            write_inks(path, synthetic_inks(args.n, args.points, seed=0))
            print(f"wrote {args.n:,} synthetic inks in {time.perf_counter() - start:.2f} s")
        start = time.perf_counter()
        ds = InkDataset(path)
        n, total = len(ds), int(len(ds.arrays["points"]))
        print(f"{path}: {n:,} inks, {total:,} points, {path.stat().st_size / 2**20:.1f} MiB; "
              f"opened in {(time.perf_counter() - start) * 1e3:.1f} ms")
        timed("sequential", n, total, lambda: [ds[i] for i in range(n)])
        rng = np.random.default_rng(0)
        picks = rng.integers(0, n, min(args.random, n))
        per_ink = np.diff(np.asarray(ds.arrays["stroke_offsets"])[np.asarray(ds.arrays["ink_offsets"])])
        picked = int(per_ink[picks].sum())
        timed("random access", len(picks), picked, lambda: [ds[int(i)] for i in picks])
        timed("random + to_stroke3", len(picks), picked, lambda: [ds[int(i)].to_stroke3() for i in picks])


if __name__ == "__main__":
    main()
