"""The shipped model's best draws: a token dataset for fine-tuning it towards
what its own ranking keeps (best-of-N self-training, "expert iteration").

``write`` draws every word eight times and keeps the draw its two readers
(the stroke recogniser and the image reader, never the Tesseract judge) read
best. Here the model draws words of the *training* writers' texts, plus a
share of made-up ones over every printable character (the distillation's
word pool, :func:`inkstroke.train.distill.word_pool`), N times each at its own
temperature; each word's draws are ranked exactly as ``write`` ranks them
(:func:`inkstroke.write.api.rank_candidates`), and the best draw's motion
tokens go into a token cache that ``inkstroke train`` reads. Character
positions are the expected ones used when sampling (``x_extent`` NaN), as in
the distillation's pool. A word none of whose draws is acceptable is left out;
so is a word whose best draw ranks below ``--min-score``.

Long: about a minute per thousand draws on two cores. Progress is saved every
``--save-every`` chunks; ``--resume`` goes on from there.

    python scripts/best_of_n_pool.py --data data/unipen.inks --words 20000 -o data/best-of-8.npz [--resume]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from inkstroke.io.container import atomic_write_bytes
from inkstroke.recognize.api import load_recognizer_cached
from inkstroke.recognize.image import load_image_reader_cached
from inkstroke.sample.generate import SampleOptions, _to_ink
from inkstroke.train.distill import sample_cache, sample_draws, step_ids, word_pool
from inkstroke.write.api import (
    DEFAULT_CANDIDATES,
    _acceptable,
    _trim,
    candidate_pool,
    default_temperature,
    load_generator,
    rank_candidates,
)


def best_draws(gen, words: list[str], n: int, temperature: float, seed: int, ranker, reader):
    """Each word's best draw of ``n`` as write ranks them: (token ids or None, rank)."""
    asked = [w for w in words for _ in range(n)]
    draws = sample_draws(gen, asked, SampleOptions(temperature=temperature, seed=seed))
    inks = [_to_ink(points, pens, w) for (points, pens), w in zip(draws, asked)]
    widths = [gen.text_tok.expected_width(w) for w in asked]
    ok = np.array([_acceptable(ink, w) for ink, w in zip(inks, widths)])
    trimmed = [_trim(ink, w) for ink, w in zip(inks, widths)]
    c = candidate_pool(trimmed, words, n, ok, cuts=False)
    score = rank_candidates(c, ranker, reader)
    out = []
    for k in range(len(words)):
        own = np.arange(k * n, (k + 1) * n)  # the model's draws only, not the font's sign
        j = int(own[np.argmax(score[own])])
        out.append((step_ids(gen, *draws[j]) if np.isfinite(score[j]) else None, float(score[j])))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True, help="an .inks dataset: the training writers' texts give the words")
    ap.add_argument("-o", "--output", type=Path, required=True)
    ap.add_argument("--model", default=None, help="checkpoint (default: the shipped model)")
    ap.add_argument("--words", type=int, default=20000)
    ap.add_argument("--valid-words", type=int, default=500, help="held out (their own words) for validation")
    ap.add_argument("--draws", type=int, default=DEFAULT_CANDIDATES)
    ap.add_argument("--made-up", type=float, default=0.15)
    ap.add_argument("--min-score", type=float, default=-np.inf, help="leave out words whose best draw ranks lower")
    ap.add_argument("--chunk", type=int, default=48, help="words drawn together")
    ap.add_argument("--save-every", type=int, default=20, help="chunks between saves of the progress")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--resume", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    gen = load_generator(args.model)
    temperature = default_temperature(gen)
    ranker, reader = load_recognizer_cached(None), load_image_reader_cached()
    rng = np.random.default_rng(args.seed)
    words = word_pool(args.data, args.words + args.valid_words, args.made_up, set(gen.text_tok.vocab[2:]), rng)
    splits = ["valid"] * args.valid_words + ["train"] * args.words
    state_path = args.output.with_suffix(".partial.json")
    state = {"args": vars(args) | {"output": str(args.output)}, "done": 0, "steps": [], "scores": []}
    if args.resume and state_path.exists():
        state = json.loads(state_path.read_text())
    t0 = time.time()
    columns = (TextColumn("best of {task.fields[n]}"), BarColumn(), TextColumn("{task.completed}/{task.total} words"),
               TimeRemainingColumn())
    with Progress(*columns) as bar:
        task = bar.add_task("pool", total=len(words), completed=state["done"], n=args.draws)
        for k, a in enumerate(range(state["done"], len(words), args.chunk)):
            chunk = words[a : a + args.chunk]
            for ids, score in best_draws(gen, chunk, args.draws, temperature, args.seed + a, ranker, reader):
                state["steps"].append(None if ids is None else ids.tolist())
                state["scores"].append(score)
            state["done"] = a + len(chunk)
            bar.update(task, completed=state["done"])
            if (k + 1) % args.save_every == 0 or state["done"] == len(words):
                atomic_write_bytes(state_path, lambda f, blob=json.dumps(state).encode(): f.write(blob))
                bar.console.log(f"{state['done']} words, saved to {state_path}")
    scores = np.array(state["scores"])
    keep = [i for i, s in enumerate(state["steps"]) if s is not None and scores[i] >= args.min_score]
    cache = sample_cache(gen, [words[i] for i in keep], [splits[i] for i in keep],
                         [np.asarray(state["steps"][i], dtype=np.int16).reshape(-1, 3) for i in keep])
    cache.save(args.output)
    finite = scores[np.isfinite(scores)]
    print(f"{args.output}: {len(cache)} of {len(words)} words ({int((cache.splits == 'valid').sum())} valid), "
          f"{len(cache.steps)} steps; best-draw rank median {np.median(finite):.3f}; "
          f"{time.time() - t0:.0f} s this run")


if __name__ == "__main__":
    main()
