"""From CTC frame log-probabilities to text: greedy, prefix beam search (n-best),
and the exact log-likelihood of a given text (for ranking candidates)."""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np
import torch
import torch.nn.functional as F

from inkstroke.recognize.model import BLANK
from inkstroke.tokenize.text import TextTokenizer


def cer(hyp: str, ref: str) -> float:
    """Character error rate: Levenshtein distance over the reference length."""
    from inkstroke.eval.legibility import levenshtein

    return levenshtein(ref, hyp) / len(ref) if ref else float(len(hyp) > 0)


def greedy_decode(logp: torch.Tensor, frames: torch.Tensor, text_tok: TextTokenizer) -> list[str]:
    """Best label per frame, repeats merged, blanks dropped."""
    best = logp.argmax(-1).cpu().numpy()
    out = []
    for k, n in enumerate(frames.tolist()):
        path = best[k, :n]
        keep = path[(path != BLANK) & np.concatenate([[True], path[1:] != path[:-1]])]
        out.append(text_tok.decode(keep.tolist()))
    return out


def _logaddexp(a: float, b: float) -> float:
    if a == -math.inf:
        return b
    if b == -math.inf:
        return a
    m = max(a, b)
    return m + math.log1p(math.exp(-abs(a - b)))


def beam_search(logp: np.ndarray, text_tok: TextTokenizer, beam: int = 8, prune: float = -8.0) -> list[tuple[str, float]]:
    """CTC prefix beam search over one ink's frames (F, V): the ``beam`` best
    texts with their log-probabilities, best first. Characters far below the
    frame's best (``prune``, in log-probability) are not expanded."""
    beams: dict[tuple, tuple[float, float]] = {(): (0.0, -math.inf)}  # prefix -> (p_blank, p_char)
    for frame in logp:
        cand = np.flatnonzero(frame >= frame.max() + prune)
        nxt: dict[tuple, list[float]] = defaultdict(lambda: [-math.inf, -math.inf])
        for prefix, (pb, pc) in beams.items():
            total = _logaddexp(pb, pc)
            for c in cand.tolist():
                p = float(frame[c])
                if c == BLANK:
                    e = nxt[prefix]
                    e[0] = _logaddexp(e[0], total + p)
                    continue
                ext = prefix + (c,)
                e = nxt[ext]
                if prefix and prefix[-1] == c:
                    e[1] = _logaddexp(e[1], pb + p)  # a doubled letter needs a blank between
                    same = nxt[prefix]
                    same[1] = _logaddexp(same[1], pc + p)
                else:
                    e[1] = _logaddexp(e[1], total + p)
        ranked = sorted(nxt.items(), key=lambda kv: -_logaddexp(*kv[1]))[:beam]
        beams = {k: (v[0], v[1]) for k, v in ranked}
    ranked = sorted(beams.items(), key=lambda kv: -_logaddexp(*kv[1]))
    return [(text_tok.decode(list(k)), _logaddexp(*v)) for k, v in ranked]


def text_log_likelihood(logp: torch.Tensor, frames: torch.Tensor, targets: list[np.ndarray]) -> torch.Tensor:
    """log P(text | ink) per ink under CTC (B,); -inf where the ink has too few frames."""
    flat = torch.from_numpy(np.concatenate(targets).astype(np.int64))
    lengths = torch.tensor([len(t) for t in targets], dtype=torch.long)
    return -F.ctc_loss(logp.transpose(0, 1), flat, frames, lengths, blank=BLANK, reduction="none")
