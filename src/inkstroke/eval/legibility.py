"""Legibility under a fixed judge: Tesseract reading thin black strokes.

Every line, generated or human, is rendered the same way (full ink height
48 px, stroke width 2.5 px, white margin) and read by ``tesseract --psm 7``
(one text line). The reference is real UNIPEN lines of validation writers,
whose texts are the ones the generator is asked to write, so both sides read
the same words.

Besides CER and WER, two structural failure rates are measured on the
generated words themselves: *missing* (a word whose ink is empty or under a
third of its expected width) and *trailing gibberish* (ink running on past
1.8 times the expected width plus one body height).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from inkstroke.errors import InkstrokeError
from inkstroke.ink import Ink


def levenshtein(a: str | list, b: str | list) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def normalise(text: str) -> str:
    return " ".join(text.split())


def tesseract_available() -> bool:
    return shutil.which("tesseract") is not None


def read_lines(images, psm: int = 7) -> list[str]:
    """Tesseract's reading of each PIL image (one text line each)."""
    if not tesseract_available():
        raise InkstrokeError("tesseract is not installed (Debian: apt-get install tesseract-ocr)")
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for k, img in enumerate(images):
            path = Path(tmp) / f"{k}.png"
            img.save(path)
            res = subprocess.run(["tesseract", str(path), "-", "--psm", str(psm)],
                                 capture_output=True, text=True, timeout=60)
            out.append(normalise(res.stdout))
    return out


def ocr_image(ink: Ink):
    from inkstroke.render.raster import render_for_ocr

    return render_for_ocr(ink.copy(meta={}), ink_height=48, stroke_width=2.5)


@dataclass
class JudgeResult:
    name: str
    refs: list[str]
    hyps: list[str]
    extra: dict = field(default_factory=dict)
    judge: str = "tesseract"

    @property
    def cer(self) -> float:
        return sum(levenshtein(r, h) for r, h in zip(self.refs, self.hyps)) / max(sum(len(r) for r in self.refs), 1)

    @property
    def cer_nocase(self) -> float:
        return sum(levenshtein(r.lower(), h.lower()) for r, h in zip(self.refs, self.hyps)) / max(
            sum(len(r) for r in self.refs), 1)

    @property
    def wer(self) -> float:
        return sum(levenshtein(r.split(), h.split()) for r, h in zip(self.refs, self.hyps)) / max(
            sum(len(r.split()) for r in self.refs), 1)

    def error_kinds(self) -> dict:
        """Character edits split into substitutions, deletions and insertions."""
        subs = dels = ins = 0
        for r, h in zip(self.refs, self.hyps):
            s, d, i = _edit_kinds(r, h)
            subs, dels, ins = subs + s, dels + d, ins + i
        n = max(sum(len(r) for r in self.refs), 1)
        return {"substitutions": subs / n, "deletions": dels / n, "insertions": ins / n}

    def summary(self) -> dict:
        judge = "tesseract --psm 7" if self.judge == "tesseract" else "inkstroke recogniser (strokes)"
        return {"judge": judge, "set": self.name, "lines": len(self.refs),
                "cer": round(self.cer, 4), "cer_case_insensitive": round(self.cer_nocase, 4),
                "wer": round(self.wer, 4), **{k: round(v, 4) for k, v in self.error_kinds().items()},
                **self.extra}


def _edit_kinds(a: str, b: str) -> tuple[int, int, int]:
    n, m = len(a), len(b)
    d = np.zeros((n + 1, m + 1), dtype=np.int32)
    d[:, 0], d[0, :] = np.arange(n + 1), np.arange(m + 1)
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            d[i, j] = min(d[i - 1, j] + 1, d[i, j - 1] + 1, d[i - 1, j - 1] + (a[i - 1] != b[j - 1]))
    i, j, s, de, ins = n, m, 0, 0, 0
    while i > 0 or j > 0:
        if i > 0 and j > 0 and d[i, j] == d[i - 1, j - 1] + (a[i - 1] != b[j - 1]):
            s += a[i - 1] != b[j - 1]
            i, j = i - 1, j - 1
        elif i > 0 and d[i, j] == d[i - 1, j] + 1:
            de, i = de + 1, i - 1
        else:
            ins, j = ins + 1, j - 1
    return s, de, ins


def reference_lines(data: str | Path, n: int = 100, split: str = "valid", seed: int = 0,
                    min_words: int = 2, max_chars: int = 60) -> list[Ink]:
    """``n`` real single text lines of one split (writer-disjoint from training)."""
    from inkstroke.io.container import InkDataset
    from inkstroke.io.unipen import is_single_line

    ds = InkDataset(data)
    cand = [i for i, r in enumerate(ds.records)
            if r.get("split") == split and r.get("text") and len(r["text"].split()) >= min_words
            and len(r["text"]) <= max_chars and r["text"].isascii()]
    rng = np.random.default_rng(seed)
    rng.shuffle(cand)
    out = []
    for i in cand:
        ink = ds[i]
        if ink.num_points > 1 and is_single_line(ink):
            x0, y0, x1, y1 = ink.bounds()
            if (x1 - x0) > 2.5 * (y1 - y0):  # a line, not a stacked word list
                out.append(ink)
        if len(out) == n:
            break
    if len(out) < n:
        raise InkstrokeError(f"{data}: only {len(out)} single lines in split {split!r} (asked for {n})")
    return out


def structural_rates(words: list[tuple[str, Ink]], text_tok) -> dict:
    """Missing words and trailing gibberish among generated words.

    A word is missing when it has no ink or, for words of two characters or
    more, is narrower than a third of the width its text should take. A
    one-character word counts as written when it has ink: a ";", "/" or "1"
    is rightly far narrower than the average width the training data gives
    it (lone signs there were scaled to their own height)."""
    from inkstroke.write.api import _acceptable

    missing = trailing = 0
    for w, ink in words:
        exp = text_tok.expected_width(w)
        if ink.num_points < 2 or (len(w) > 1 and (ink.bounds()[2] - ink.bounds()[0]) < exp / 3):
            missing += 1
        elif not _acceptable(ink, exp):
            trailing += 1
    n = max(len(words), 1)
    return {"missing_word_rate": round(missing / n, 4), "trailing_gibberish_rate": round(trailing / n, 4)}


def generated_lines(texts: list[str], model: str | None = None, style: str | None = None,
                    temperature: float | None = None, bias: float = 0.0, seed: int = 0,
                    guidance: float | None = None, candidates: int | None = None) -> tuple[list[Ink], dict]:
    """One generated line per text (exactly as ``write`` makes it), and the
    structural failure rates: of the words as written, and of the raw model
    (one draw, no retries, no ranking, no trimming: the model's own habits)."""
    from inkstroke.write.api import (
        DEFAULT_CANDIDATES,
        default_guidance,
        default_temperature,
        load_generator,
        load_style,
        write,
    )
    from inkstroke.write.layout import PageLayout

    candidates = DEFAULT_CANDIDATES if candidates is None else candidates
    gen = load_generator(model)
    guidance = default_guidance(gen) if guidance is None else guidance
    temperature = default_temperature(gen) if temperature is None else temperature
    wide = PageLayout(page=(5000.0, 60.0), margin=5.0)
    lines, written = [], []
    for k, t in enumerate(texts):
        doc = write(t, model=model, style=style, temperature=temperature, bias=bias, seed=seed + k,
                    layout=wide, guidance=guidance, candidates=candidates)
        lines.append(doc.pages[0].copy(meta={}))
        written.extend(doc.words)
    words = [w for w, _ in written]
    primer = load_style(style, model)
    raw = [ink for a in range(0, len(words), 48)
           for ink in gen.generate(words[a : a + 48], prime=primer, temperature=temperature, bias=bias,
                                   seed=seed + a, guidance=guidance)]
    raw_rates = structural_rates([(w, ink) for w, ink in zip(words, raw)], gen.text_tok)
    return lines, {"words": len(words), **structural_rates(written, gen.text_tok),
                   "raw_model": raw_rates}


JUDGES = ("tesseract", "recogniser", "both")


def recogniser_reads(inks: list[Ink], recognizer: str | None = None) -> list[str]:
    """The shipped (or given) recogniser's reading of each ink, from the strokes."""
    from inkstroke.recognize.api import load_recognizer_cached

    return [normalise(r.text) for r in load_recognizer_cached(recognizer).read(inks)]


def evaluate(data: str | Path, n: int = 100, model: str | None = None, style: str | None = None,
             temperature: float | None = None, bias: float = 0.0, seed: int = 0,
             save_images: str | Path | None = None, guidance: float | None = None,
             split: str = "valid", judge: str = "tesseract", candidates: int | None = None,
             recognizer: str | None = None) -> dict:
    """Human and generated lines of the same texts, read by one judge or both."""
    if judge not in JUDGES:
        raise InkstrokeError(f"unknown judge {judge!r}; use one of {', '.join(JUDGES)}")
    if split not in ("valid", "test"):
        raise InkstrokeError(f"unknown split {split!r}; use valid or test")
    from inkstroke.write.api import (
        DEFAULT_CANDIDATES,
        default_guidance,
        default_temperature,
        load_generator,
    )

    gen = load_generator(model)  # the model's own defaults, resolved here so that the report records them
    temperature = default_temperature(gen) if temperature is None else temperature
    guidance = default_guidance(gen) if guidance is None else guidance
    candidates = DEFAULT_CANDIDATES if candidates is None else candidates
    humans = reference_lines(data, n, split=split, seed=seed)
    texts = [normalise(h.text or "") for h in humans]
    gen_inks, rates = generated_lines(texts, model, style, temperature, bias, seed, guidance, candidates)
    report: dict = {}
    judges = ["tesseract", "recogniser"] if judge == "both" else [judge]
    for name in judges:
        def read(inks: list[Ink], name: str = name) -> list[str]:
            if name == "tesseract":
                return read_lines([ocr_image(i.y_down()) for i in inks])
            return recogniser_reads(inks, recognizer)

        human = JudgeResult("human UNIPEN lines (held-out writers)", texts, read(humans), judge=name)
        generated = JudgeResult("generated lines, same texts", texts, read(gen_inks), rates, judge=name)
        report[name] = {"human": human.summary(), "generated": generated.summary(),
                        "examples": [{"text": t, "human_read": hr, "generated_read": gr}
                                     for t, hr, gr in list(zip(texts, human.hyps, generated.hyps))[:10]]}
    if save_images:
        folder = Path(save_images)
        folder.mkdir(parents=True, exist_ok=True)
        for k, (h, g) in enumerate(zip(humans[:10], gen_inks[:10])):
            ocr_image(h.y_down()).save(folder / f"human-{k}.png")
            ocr_image(g).save(folder / f"generated-{k}.png")
    # the first judge's figures at the top (Tesseract's with both), every judge's under "judges"
    return {**report[judges[0]], "judges": report,
            "settings": {"n": n, "split": split, "temperature": temperature, "guidance": guidance,
                         "candidates": candidates, "bias": bias, "seed": seed, "style": style,
                         "model": model or "default", "render": "ink height 48 px, stroke 2.5 px"}}
