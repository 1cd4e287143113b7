"""How well the recogniser (and the image reader) read real handwriting, next to
Tesseract on the same inks.

Held-out writers only (the ``test`` split by default: the recogniser chose its
checkpoint on ``valid``). Words and text lines are scored apart, since lines
carry spaces and context that words lack. Tesseract reads each ink rendered
exactly as in the legibility judge (48 px ink height, ``--psm 7``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from inkstroke.errors import InkstrokeError
from inkstroke.eval.legibility import JudgeResult, normalise, ocr_image, read_lines, reference_lines


def held_out_words(data: str | Path, n: int, split: str = "test", seed: int = 0) -> list:
    """``n`` single labelled words (no spaces) of the split's writers."""
    from inkstroke.io.container import InkDataset

    ds = InkDataset(data)
    cand = [i for i, r in enumerate(ds.records)
            if r.get("split") == split and r.get("text") and r["text"].isascii()
            and len(r["text"].split()) == 1]
    rng = np.random.default_rng(seed)
    rng.shuffle(cand)
    out = [ink for ink in (ds[i] for i in cand[: 2 * n]) if ink.num_points > 1][:n]
    if len(out) < n:
        raise InkstrokeError(f"{data}: only {len(out)} words in split {split!r} (asked for {n})")
    return out


def image_reads(inks: list) -> list[str]:
    """The shipped image reader's reading of each ink, from its picture ("" for
    an ink too wide to draw as one picture)."""
    from inkstroke.recognize.image import load_image_reader_cached

    reader = load_image_reader_cached()
    out = []
    for ink in inks:
        try:
            out.append(normalise(reader.read([ink])[0]))
        except InkstrokeError:
            out.append("")
    return out


def evaluate_recognizer(data: str | Path, n_words: int = 500, n_lines: int = 100, split: str = "test",
                        seed: int = 0, recognizer: str | None = None, tesseract: bool = True) -> dict:
    from inkstroke.eval.legibility import recogniser_reads

    report: dict = {"settings": {"split": split, "seed": seed, "words": n_words, "lines": n_lines,
                                 "recognizer": recognizer or "shipped"}}
    for kind, inks in (("words", held_out_words(data, n_words, split, seed)),
                       ("lines", reference_lines(data, n_lines, split=split, seed=seed))):
        texts = [normalise(ink.text or "") for ink in inks]
        sides = {"recogniser": recogniser_reads(inks, recognizer), "image reader": image_reads(inks)}
        if tesseract:
            sides["tesseract"] = read_lines([ocr_image(ink.y_down()) for ink in inks])
        report[kind] = {}
        for name, hyps in sides.items():
            r = JudgeResult(f"{kind} of {split} writers", texts, hyps, judge=name)
            report[kind][name] = {"cer": round(r.cer, 4), "cer_case_insensitive": round(r.cer_nocase, 4),
                                  "wer": round(r.wer, 4), **{k: round(v, 4) for k, v in r.error_kinds().items()}}
        report[kind]["examples"] = [{"text": t, **{k: v[i] for k, v in sides.items()}}
                                    for i, t in enumerate(texts[:8])]
    return report
