"""Keep the training examples the shipped recogniser reads most surely: a
token dataset for fine-tuning the generator towards neater handwriting.

Every training example of a token dataset (``inkstroke train``'s cached
``tokens.npz``) is scored by log P(text | strokes) per character under the
recogniser (which reads the same motion tokens), and the best ``--keep``
share is written to a new dataset with the validation and test examples
unchanged, so validation losses stay comparable. The share is taken within
each band of text length, since long texts (lines) score lower per character
than words and would otherwise be dropped wholesale. With ``--by-kind`` it
is also taken apart for texts of lowercase letters only and texts with a
digit, a capital or a sign: the recogniser is less sure of those, so a share
over both drops them twice as often, and the generator fine-tuned on what is
left writes them worse.

    python scripts/legible_subset.py runs/hw/tokens.npz -o data/tokens-legible.npz --keep 0.5
    python scripts/legible_subset.py runs/hw/tokens.npz -o data/tokens-legible-kind.npz --keep 0.5 --by-kind
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch
from rich.progress import Progress

from inkstroke.recognize.api import Recognizer

LENGTH_BANDS = (4, 7, 11, 16, 24)  # text lengths (characters) that start a new band


def score_examples(data, indices: np.ndarray, texts: list[str], rec: Recognizer, batch: int = 64) -> np.ndarray:
    """log P(text | steps) per character for each example in ``indices``."""
    steps, off = data["steps"], data["step_off"]
    order = indices[np.argsort(off[indices + 1] - off[indices], kind="stable")]  # like lengths batch well
    scores = np.full(len(off) - 1, np.nan)
    with Progress() as bar:
        task = bar.add_task("scoring", total=len(order))
        for a in range(0, len(order), batch):
            part = order[a : a + batch]
            seqs = [steps[off[i] : off[i + 1]].astype(np.int64) for i in part]
            scores[part] = rec.score_steps(seqs, [texts[i] for i in part])
            bar.advance(task, len(part))
    return scores


def subset(data, keep: np.ndarray) -> dict[str, np.ndarray]:
    """The token dataset restricted to the examples ``keep`` (sorted indices)."""
    steps, off = data["steps"], data["step_off"]
    chars, coff = data["chars"], data["char_off"]
    meta = json.loads(bytes(data["meta"]))
    meta["texts"] = [meta["texts"][i] for i in keep]
    lens, clens = off[keep + 1] - off[keep], coff[keep + 1] - coff[keep]
    return {
        "steps": np.concatenate([steps[off[i] : off[i + 1]] for i in keep]),
        "step_off": np.concatenate([[0], np.cumsum(lens)]).astype(np.int64),
        "chars": np.concatenate([chars[coff[i] : coff[i + 1]] for i in keep]),
        "char_off": np.concatenate([[0], np.cumsum(clens)]).astype(np.int64),
        "x_extent": data["x_extent"][keep],
        "splits": data["splits"][keep],
        "meta": np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("-o", "--output", type=Path, required=True)
    parser.add_argument("--keep", type=float, default=0.5, help="share of training examples kept")
    parser.add_argument("--recognizer", default=None, help="checkpoint (default: the shipped one)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--by-kind", action="store_true",
                        help="take the share apart for lowercase-only texts and the rest")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    data = dict(np.load(args.data))
    texts = json.loads(bytes(data["meta"]))["texts"]
    train = np.flatnonzero(data["splits"] == "train")
    scores_path = args.output.with_suffix(".scores.npy")
    if scores_path.is_file():  # resume: scoring is the slow part
        scores = np.load(scores_path)
    else:
        scores = score_examples(data, train, texts, Recognizer.from_checkpoint(args.recognizer))
        args.output.parent.mkdir(parents=True, exist_ok=True)
        np.save(scores_path, scores)
    lengths = np.array([len(texts[i]) for i in train])
    band = np.digitize(lengths, LENGTH_BANDS)
    if args.by_kind:
        other = np.array([any(not (c.islower() or c == " ") for c in texts[i]) for i in train])
        band = band + (len(LENGTH_BANDS) + 1) * other
    kept = np.zeros(len(train), dtype=bool)
    for b in np.unique(band):
        inside = band == b
        kept |= inside & (scores[train] >= np.quantile(scores[train][inside], 1 - args.keep))
    keep = np.sort(np.concatenate([train[kept], np.flatnonzero(data["splits"] != "train")]))
    print(f"kept {int(kept.sum())} of {len(train)} training examples "
          f"(median score {np.median(scores[train][kept]):.3f} nats/char, all {np.median(scores[train]):.3f})")
    out = subset(data, keep)
    tmp = args.output.with_name(args.output.name + ".tmp.npz")
    np.savez(tmp, **out)
    tmp.replace(args.output)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
