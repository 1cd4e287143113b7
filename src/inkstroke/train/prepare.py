"""From an ``.inks`` dataset to a token cache: fit both tokenizers, tokenize.

Only labelled single-line inks are used (multi-line blocks would teach the
model to jump lines mid-text). The stroke tokenizer is fitted on the train
split; the character widths come from the train split's words.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from inkstroke.errors import InkstrokeError
from inkstroke.io.container import InkDataset
from inkstroke.tokenize.strokes import StrokeTokenizer
from inkstroke.tokenize.text import TextTokenizer, normalise_text
from inkstroke.train.data import TokenCache, build_cache


def is_single_line(ink, max_rows: float = 1.6) -> bool:
    """False for inks that stack several lines: too tall for their length."""
    try:
        x0, y0, x1, y1 = ink.bounds()
    except InkstrokeError:
        return False
    h = ink.body_height()
    return (y1 - y0) <= max_rows * 2.5 * h or (x1 - x0) > 6 * (y1 - y0)


def prepare_tokens(data: str | Path, out: str | Path, n_bins: int = 24, step: float = 0.12,
                   rdp: float = 0.02, max_steps: int = 400, max_chars: int = 40,
                   limit: int | None = None, seed: int = 0, progress: bool = True,
                   stroke_tok: StrokeTokenizer | None = None) -> TokenCache:
    """Tokenize ``data``; with ``stroke_tok`` given (a generator's), its bins are
    reused instead of fitted, so another model can speak the same token language."""
    ds = InkDataset(data)
    rng = np.random.default_rng(seed)
    chosen = [i for i, r in enumerate(ds.records)
              if r.get("text") and 0 < len(normalise_text(r["text"])) <= max_chars]
    if limit is not None:
        chosen = sorted(rng.choice(chosen, size=min(limit, len(chosen)), replace=False).tolist())
    if not chosen:
        raise InkstrokeError(f"{data}: no labelled inks to train on")
    train_ids = [i for i in chosen if ds.records[i].get("split") == "train"] or chosen
    if stroke_tok is None:
        fit_ids = rng.choice(train_ids, size=min(3000, len(train_ids)), replace=False)
        fit_inks = [ink for ink in (ds[int(i)] for i in fit_ids) if ink.num_points > 1 and is_single_line(ink)]
        stroke_tok = StrokeTokenizer.fit(fit_inks, n_bins, step, rdp)

    text_tok = TextTokenizer()

    from rich.progress import Progress

    with Progress(disable=not progress) as bar:
        task = bar.add_task("tokenize", total=len(chosen))
        inks, splits = [], []
        for i in chosen:
            ink = ds[i]
            if ink.num_points > 1 and is_single_line(ink):
                inks.append(ink)
                splits.append(ds.records[i].get("split", "train"))
            else:
                bar.advance(task)
        cache = build_cache(inks, splits, stroke_tok, text_tok, max_steps,
                            progress=lambda: bar.advance(task))
    train_rows = cache.indices("train")
    cache.text_tok.fit_widths([cache.texts[i] for i in train_rows],
                              (cache.x_extent[train_rows, 1] - cache.x_extent[train_rows, 0]).tolist())
    cache.save(out)
    return cache
