"""Speed of the virtual brush: footprint stamps per second, and the time to
render a 10-stroke character at 256 x 256 (targets: >= 20,000 stamps/s and
<= 20 ms), with the numpy brush; then one forward + backward pass of the
differentiable torch brush, on one thread.

    nice -n 15 python benchmarks/brush_speed.py [--chars 20] [--size 256]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

from inkstroke.calligraphy import brush, torch_brush
from inkstroke.calligraphy.profiles import default_trajectory
from inkstroke.io.hanzi import available_characters, character_ink


def ten_stroke_chars(count: int) -> list[str]:
    """The first GB2312 characters of hanzi-writer-data with exactly 10 strokes."""
    found = []
    for c in available_characters():
        try:
            c.encode("gb2312")
        except UnicodeEncodeError:
            continue
        if len(character_ink(c).strokes) == 10:
            found.append(c)
            if len(found) == count:
                break
    return found


def best_of(fn, repeats: int) -> tuple[float, float]:
    """Fastest wall-clock and fastest CPU seconds of ``repeats`` calls: on a
    shared machine the CPU time is what the code itself costs."""
    walls, cpus = [], []
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        cpus.append(time.process_time() - cpu)
        walls.append(time.perf_counter() - wall)
    return min(walls), min(cpus)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chars", type=int, default=20)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(1)

    chars = ten_stroke_chars(args.chars)
    trajectories = [default_trajectory(character_ink(c)) for c in chars]
    brush.render(trajectories[0], args.size)  # warm up
    ms, cpu_ms, rates = [], [], []
    for traj in trajectories:
        stats: dict = {}
        brush.render(traj, args.size, stats=stats)
        wall, cpu = best_of(lambda traj=traj: brush.render(traj, args.size), args.repeats)
        ms.append(1e3 * wall)
        cpu_ms.append(1e3 * cpu)
        rates.append(stats["stamps"] / max(cpu, 1e-9))
    print(
        f"numpy brush, {len(chars)} ten-stroke characters ({''.join(chars)}) at {args.size}x{args.size}:"
    )
    print(
        f"  render time (wall)  median {statistics.median(ms):.1f} ms, max {max(ms):.1f} ms  (target <= 20 ms)"
    )
    print(
        f"  render time (CPU)   median {statistics.median(cpu_ms):.1f} ms, max {max(cpu_ms):.1f} ms"
    )
    print(
        f"  stamps per CPU s    median {statistics.median(rates):,.0f}, min {min(rates):,.0f}  (target >= 20,000)"
    )

    for size in (128, 256):
        xyzs = [
            brush.resample_stroke(s, brush.STAMP_SPACING * 1024 / size)
            for s in trajectories[0].strokes
        ]
        m = max(len(x) for x in xyzs)
        xyz = torch.tensor(
            np.stack([np.vstack([x, np.repeat(x[-1:], m - len(x), 0)]) for x in xyzs]),
            dtype=torch.float32,
            requires_grad=True,
        )
        valid = torch.tensor(np.stack([np.arange(m) < len(x) for x in xyzs]))

        def step(xyz=xyz, valid=valid, size=size):
            torch_brush.render(xyz, valid, size).sum().backward()

        wall, cpu = best_of(step, args.repeats)
        print(
            f"torch brush, {chars[0]} at {size}x{size}: forward + backward {1e3 * wall:.1f} ms wall,"
            f" {1e3 * cpu:.1f} ms CPU ({int(valid.sum())} stamps)"
        )


if __name__ == "__main__":
    main()
