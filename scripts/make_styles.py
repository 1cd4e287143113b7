"""Pick the style primers shipped with a model: real UNIPEN lines, one per writer.

Candidates are single text lines of the train split (the model has seen these
hands) of 12-30 characters. Each is rendered and read by the legibility judge;
the most legible lines of distinct writers become styles ``w1`` (most legible),
``w2``, ... and are stored, prepared exactly as the model sees ink (normalised,
resampled, simplified), in ``styles.json`` beside the model.

    python scripts/make_styles.py --data data/unipen.inks --model runs/hw -k 6
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from inkstroke.eval.legibility import levenshtein, normalise, ocr_image, read_lines
from inkstroke.io.container import InkDataset, atomic_write_bytes
from inkstroke.io.unipen import is_single_line
from inkstroke.model.checkpoint import load_checkpoint
from inkstroke.tokenize.strokes import StrokeTokenizer


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", required=True)
    ap.add_argument("--model", required=True, help="run folder; styles.json is written into it")
    ap.add_argument("-k", type=int, default=6)
    ap.add_argument("--candidates", type=int, default=300)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    _, stok, ttok, _ = load_checkpoint(args.model)
    ds = InkDataset(args.data)
    rng = np.random.default_rng(args.seed)
    pool = [i for i, r in enumerate(ds.records)
            if r.get("split") == "train" and r.get("text") and 12 <= len(r["text"]) <= 30
            and len(r["text"].split()) >= 2 and not ttok.unknown(r["text"])
            and r.get("meta", {}).get("category") == 8]
    rng.shuffle(pool)
    inks = []
    for i in pool:
        ink = ds[i]
        if ink.num_points > 1 and is_single_line(ink):
            inks.append((i, ink))
        if len(inks) == args.candidates:
            break
    reads = read_lines([ocr_image(ink) for _, ink in inks])
    scored = sorted(
        ((levenshtein(normalise(ink.text), r) / len(normalise(ink.text)), i, ink) for (i, ink), r in zip(inks, reads)),
        key=lambda t: t[0])
    styles, writers = {}, set()
    for cer, _, ink in scored:
        if ink.writer in writers:
            continue
        writers.add(ink.writer)
        prepared = StrokeTokenizer.prepare(ink, stok.step, stok.rdp)
        styles[f"w{len(styles) + 1}"] = {
            "text": normalise(ink.text), "writer": ink.writer, "source": ink.source,
            "judge_cer": round(cer, 3),
            "strokes": [np.round(s, 4).tolist() for s in prepared.strokes]}
        if len(styles) == args.k:
            break
    out = Path(args.model) / "styles.json"
    atomic_write_bytes(out, lambda f: f.write(json.dumps(styles).encode()))
    for name, s in styles.items():
        print(f"{name}: {s['text']!r} ({s['writer']}, judge CER {s['judge_cer']})")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
