"""Which cross-attention heads walk through the text: per-head diagonality
(Spearman correlation of stroke step and attended character) of a model's
own samples, averaged over a fixed list of words.

    python scripts/attention_diagonality.py [--checkpoint DIR] [-o docs/attention-diagonality.json]
        [--figure docs/images/attention-diagonal.png --word handwriting]

The figure shows the most diagonal head on one word, with its argmax path.
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import torch

from inkstroke.io.container import atomic_write_bytes
from inkstroke.sample.generate import Generator
from inkstroke.sample.inspect import attention_maps, head_diagonality

WORDS = ["handwriting", "legibility", "inkstroke", "attention", "morning", "coffee", "language",
         "motion", "calligraphy", "plotter", "stroke", "character", "quickly", "brown", "jumps", "lazy"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default="src/inkstroke/models/handwriting")
    parser.add_argument("--temperature", type=float, default=0.6)
    parser.add_argument("-o", "--output", default=None)
    parser.add_argument("--figure", default=None, help="PNG of the most diagonal head on --word")
    parser.add_argument("--word", default="handwriting")
    args = parser.parse_args()
    torch.set_num_threads(1)
    gen = Generator.from_checkpoint(args.checkpoint)
    rho = np.array([head_diagonality(attention_maps(gen, w, seed=0, temperature=args.temperature)[0])
                    for w in WORDS])  # (words, layers, heads)
    mean, low = np.nanmean(rho, 0), np.nanmin(rho, 0)
    for i in range(mean.shape[0]):
        print(f"layer {i}: " + "  ".join(f"head {j} {m:+.2f} (min {lo:+.2f})"
                                         for j, (m, lo) in enumerate(zip(mean[i], low[i]))))
    i, j = np.unravel_index(np.nanargmax(mean), mean.shape)
    print(f"most diagonal head: layer {i} head {j}, mean {mean[i, j]:+.3f} over {len(WORDS)} words")
    if args.output:
        report = {"checkpoint": args.checkpoint, "temperature": args.temperature, "words": WORDS,
                  "mean": np.round(mean, 3).tolist(), "min": np.round(low, 3).tolist(),
                  "per_word": {w: np.round(r, 3).tolist() for w, r in zip(WORDS, rho)}}
        text = json.dumps(report, indent=1)
        atomic_write_bytes(args.output, lambda f: f.write(text.encode()))
    if args.figure:
        figure(gen, args.word, int(i), int(j), args.temperature, args.figure)


def figure(gen: Generator, word: str, layer: int, head: int, temperature: float, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    w, text = attention_maps(gen, word, seed=0, temperature=temperature)
    m = w[layer, head]
    rho = head_diagonality(w)[layer, head]
    fig, ax = plt.subplots(figsize=(6, 2.6))
    ax.imshow(m.T, aspect="auto", origin="lower", cmap="magma", interpolation="nearest")
    ax.plot(m.argmax(1), color="cyan", lw=0.8, label="most attended character")
    ax.set_yticks(range(len(text)))
    ax.set_yticklabels(list(text))
    ax.set_xlabel("stroke step")
    ax.set_title(f"cross-attention, layer {layer} head {head}: \"{text}\" (Spearman {rho:.2f})", fontsize=9)
    ax.legend(loc="lower right", fontsize=7)
    fig.tight_layout()
    atomic_write_bytes(path, lambda f: fig.savefig(f, format="png", dpi=110))


if __name__ == "__main__":
    main()
