"""``inkstroke.recognize``: inks in, text out, with the recogniser shipped in
the package (or any checkpoint of ``inkstroke train-recognizer``).

An ink is normalised and tokenized exactly as the generator's training data
was (body height 1, arc-length resampling), so whatever importer it came from
and whatever its units, the recogniser sees the token language it learned.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from inkstroke.errors import InkstrokeError
from inkstroke.ink import Ink
from inkstroke.recognize.checkpoint import load_recognizer
from inkstroke.recognize.decode import beam_search, greedy_decode, text_log_likelihood
from inkstroke.recognize.model import RecognizerModel, collate_steps
from inkstroke.tokenize.text import normalise_text

MODEL_DIR = Path(__file__).resolve().parent.parent / "models" / "recognizer"
MAX_STEPS = 6_000  # tokens per ink (about 400 characters): attention memory grows with its square


@dataclass
class Reading:
    """What the recogniser read: the best text and the n-best list with log-probabilities."""

    text: str
    nbest: list[tuple[str, float]]

    def to_dict(self) -> dict:
        return {"text": self.text, "nbest": [{"text": t, "logp": round(p, 4)} for t, p in self.nbest]}


class Recognizer:
    def __init__(self, model: RecognizerModel, stroke_tok, text_tok, meta: dict):
        self.model, self.stroke_tok, self.text_tok, self.meta = model, stroke_tok, text_tok, meta
        # Most training inks are single words, so the model is shy of spaces; a log-probability
        # bonus for the space, tuned on validation writers (scripts/tune_space_bonus.py), corrects
        # that prior when reading. Scoring a given text is left exact.
        self.space_bonus = float(meta.get("decode", {}).get("space_bonus", 0.0))

    @classmethod
    def from_checkpoint(cls, path: str | Path | None = None) -> Recognizer:
        path = Path(path) if path else MODEL_DIR
        if not (path / "checkpoint.json").exists() and not path.is_file():
            where = "the shipped recogniser is missing; reinstall inkstroke" if path == MODEL_DIR else "no recogniser here"
            raise InkstrokeError(f"{path}: {where}")
        return cls(*load_recognizer(path))

    def tokens(self, ink: Ink) -> np.ndarray:
        """The ink as motion tokens; one clear error for inks that cannot be read."""
        if ink.num_points == 0:
            raise InkstrokeError("cannot recognise an empty ink")
        pts = ink.points()
        if not np.isfinite(pts).all():
            raise InkstrokeError("the ink has NaN or infinite coordinates")
        if np.ptp(pts, axis=0).max() == 0:
            raise InkstrokeError("the ink is a single point: it has no size to read")
        try:
            steps = self.stroke_tok.encode(ink)
        except InkstrokeError as e:
            raise InkstrokeError(f"cannot recognise this ink: {e}") from None
        if len(steps) > MAX_STEPS:
            raise InkstrokeError(f"the ink is too long to recognise at once ({len(steps)} steps, at most "
                                 f"{MAX_STEPS}); split it into lines")
        return steps

    @torch.no_grad()
    def _logp(self, steps: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
        batch = collate_steps(steps, self.stroke_tok.y.centers)
        logp = self.model(batch["steps"], batch["height"], batch["lengths"])
        return logp, RecognizerModel.frames(batch["lengths"])

    def read(self, inks: list[Ink], nbest: int = 1, batch: int = 64) -> list[Reading]:
        """Text of each ink: greedy for ``nbest == 1``, else prefix beam search."""
        out: list[Reading] = []
        for a in range(0, len(inks), batch):
            steps = [self.tokens(ink) for ink in inks[a : a + batch]]
            logp, frames = self._logp(steps)
            if self.space_bonus:
                logp[..., self.text_tok.index[" "]] += self.space_bonus
            if nbest <= 1:
                texts = greedy_decode(logp, frames, self.text_tok)
                out.extend(Reading(t, [(t, float("nan"))]) for t in texts)
                continue
            for k, n in enumerate(frames.tolist()):
                ranked = beam_search(logp[k, :n].numpy(), self.text_tok, beam=max(8, nbest))[:nbest]
                out.append(Reading(ranked[0][0], ranked))
        return out

    def score(self, inks: list[Ink], texts: list[str]) -> np.ndarray:
        """log P(text | ink) per character of text: how well each ink reads as
        its intended text (higher is better, -inf for an empty ink)."""
        if len(inks) != len(texts):
            raise InkstrokeError("score needs one text per ink")
        scores = np.full(len(inks), -np.inf)
        ok, steps = [], []
        for i, ink in enumerate(inks):
            try:
                steps.append(self.tokens(ink))
                ok.append(i)
            except InkstrokeError:
                continue  # nothing readable: scored -inf
        if ok:
            scores[ok] = self.score_steps(steps, [texts[i] for i in ok])
        return scores

    def score_steps(self, steps: list[np.ndarray], texts: list[str], batch: int = 32) -> np.ndarray:
        """:meth:`score` of inks already turned into motion tokens (T_i, 3), such
        as the cached token datasets of ``inkstroke train``. Inks go through the
        model ``batch`` at a time in order of length, so that a batch is padded
        to about its own length rather than the longest ink's."""
        targets = [self.text_tok.encode(normalise_text(t), strict=False) for t in texts]
        out = np.empty(len(steps))
        order = np.argsort([len(s) for s in steps], kind="stable")
        for a in range(0, len(order), batch):
            part = order[a : a + batch]
            logp, frames = self._logp([steps[i] for i in part])
            out[part] = text_log_likelihood(logp, frames, [targets[i] for i in part]).numpy()
        return out / np.maximum([len(t) for t in targets], 1)


@lru_cache(maxsize=2)
def load_recognizer_cached(model: str | None = None) -> Recognizer:
    return Recognizer.from_checkpoint(model)


def recognize(ink: Ink | list[Ink], nbest: int = 1, model: str | None = None) -> str | list[str]:
    """The text of one ink (or a list of texts for a list of inks)."""
    rec = load_recognizer_cached(model)
    if isinstance(ink, Ink):
        return rec.read([ink], nbest)[0].text
    return [r.text for r in rec.read(list(ink), nbest)]
