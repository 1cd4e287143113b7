"""Speed of the shipped recogniser: words and text lines read per second from
the strokes (greedy decoding, batches of 64), on real UNIPEN inks of held-out
writers, and the time of 4-best beam search.

    python benchmarks/recognize_speed.py --data data/unipen.inks [--threads 2]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from inkstroke.io.container import InkDataset
from inkstroke.recognize.api import Recognizer


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("-n", type=int, default=512)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    rec = Recognizer.from_checkpoint()
    ds = InkDataset(args.data)
    rng = np.random.default_rng(0)
    test = [i for i, r in enumerate(ds.records) if r.get("split") == "test" and r.get("text")]
    rng.shuffle(test)
    words = [ds[i] for i in test if " " not in ds.records[i]["text"].strip()][: args.n]
    lines = [ds[i] for i in test if len(ds.records[i]["text"].split()) >= 4][: args.n // 8]
    rec.read(words[:8])  # warm up
    for name, inks in (("words", words), ("lines", lines)):
        t0 = time.perf_counter()
        rec.read(inks)
        dt = time.perf_counter() - t0
        print(f"{name}: {len(inks)} read in {dt:.2f} s = {len(inks) / dt:.1f} {name}/s (greedy, threads {args.threads})")
    t0 = time.perf_counter()
    rec.read(words[:64], nbest=4)
    print(f"4-best beam search: {64 / (time.perf_counter() - t0):.1f} words/s")


if __name__ == "__main__":
    main()
