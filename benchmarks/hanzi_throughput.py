"""Characters per second of the hanzi writer on the CPU, one thread.

Three stages, timed apart: rendering the glyph input (font outline -> image),
the model writing a batch of glyphs (once per glyph), and the two together as
:func:`inkstroke.hanzi.generate.write_characters` runs them, with the default
nine shifted views of each glyph and with one. Characters are
the held-out GB2312 ones (the same every run). Both wall-clock and process
CPU seconds are printed: on a shared machine the CPU time is what the code
itself costs.

    nice -n 19 python benchmarks/hanzi_throughput.py [--chars 256] [--batch 64] [--model DIR]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from inkstroke.hanzi.data import glyph_input
from inkstroke.hanzi.evaluate import character_set, spread
from inkstroke.hanzi.generate import VIEWS, HanziGenerator, default_font, write_characters


def timed(fn) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chars", type=int, default=256)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--model", default=None, help="checkpoint folder (default: the shipped model)")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    chars = spread(character_set("held-out")[0], args.chars)
    gen = HanziGenerator.load(args.model)
    write_characters(chars[:4], model=args.model)  # warm caches: fonts, weights
    glyphs: list = []
    w, c = timed(lambda: glyphs.extend(glyph_input(ch, default_font(ch)) for ch in chars))
    print(f"glyph input : {len(chars) / w:7.1f} chars/s wall, {len(chars) / c:7.1f} chars/s CPU")
    images = torch.from_numpy(np.stack([im for im, _ in glyphs])).float() / 255

    def model_only() -> None:
        for a in range(0, len(chars), args.batch):
            gen.model.generate(images=images[a : a + args.batch])

    w, c = timed(model_only)
    print(f"model       : {len(chars) / w:7.1f} chars/s wall, {len(chars) / c:7.1f} chars/s CPU "
          f"(batch {args.batch}, {args.threads} thread)")
    for views in (VIEWS, 1):
        w, c = timed(lambda views=views: write_characters(chars, model=args.model, views=views))
        print(f"end to end  : {len(chars) / w:7.1f} chars/s wall, {len(chars) / c:7.1f} chars/s CPU "
              f"({views} view{'s' if views > 1 else ''})")
    w, c = timed(lambda: [gen.model.generate(images=images[i : i + 1]) for i in range(32)])
    print(f"one at a time (model, batch 1): {32 / w:7.1f} chars/s wall, {32 / c:7.1f} chars/s CPU")


if __name__ == "__main__":
    main()
