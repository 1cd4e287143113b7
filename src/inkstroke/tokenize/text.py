"""Character-level text tokens, and the expected width of each character.

The vocabulary is printable ASCII plus ``[PAD]`` and ``[UNK]``; other scripts
extend it with :meth:`TextTokenizer.extend`. Typographic quotes, dashes and
spaces are normalised first; anything still unknown is *reported* (the
caller decides to refuse it or map it to ``[UNK]``), never dropped silently.

Each character also has an expected width in body heights, fitted by
non-negative least squares on word inks (word width ≈ sum of its characters'
widths). The model positions characters at their expected x-offset, which
gives cross-attention a monotonic prior: the pen at x attends to the
character expected at x.
"""

from __future__ import annotations

import re
import string
import unicodedata
from dataclasses import dataclass, field

import numpy as np

from inkstroke.errors import InkstrokeError

PAD, UNK = 0, 1
SPECIALS = ["[PAD]", "[UNK]"]
PRINTABLE = [chr(c) for c in range(32, 127)]

NORMALISE = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2033": '"', "\u00ab": '"', "\u00bb": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-",
    "\u2212": "-", "\u2026": "...", "\u00a0": " ", "\u2009": " ", "\u202f": " ", "\t": " ",
}


def normalise_text(text: str) -> str:
    """Typographic punctuation to ASCII, NFC, runs of whitespace to one space."""
    text = unicodedata.normalize("NFC", text)
    text = "".join(NORMALISE.get(c, c) for c in text)
    return re.sub(" {2,}", " ", text).strip("\n")


def transliterate(text: str) -> str:
    """Best-effort ASCII: accents stripped (é→e, ﬁ→fi); a character with no
    ASCII form becomes "?", so nothing disappears silently."""
    out = []
    for ch in normalise_text(text):
        if ch in string.printable and ch not in "\r\x0b\x0c":
            out.append(ch)
            continue
        ascii_part = "".join(c for c in unicodedata.normalize("NFKD", ch) if c in string.printable and not c.isspace())
        out.append(ascii_part or "?")
    return "".join(out)


def typographic_widths() -> dict[str, float]:
    """Advance widths of printable ASCII in the Hershey *futural* font, relative
    units: the prior proportions of characters (m wide, i narrow)."""
    from HersheyFonts import HersheyFonts

    font = HersheyFonts()
    font.load_default_font("futural")

    def bar_x(text: str) -> float:  # x of the final "|", drawn last
        return float(list(font.lines_for_text(text))[-1][0][0])

    bar = bar_x("|")
    return {c: max(bar_x(c + "|") - bar, 1.0) for c in PRINTABLE}


@dataclass
class TextTokenizer:
    vocab: list[str] = field(default_factory=lambda: SPECIALS + PRINTABLE)
    widths: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.index = {c: i for i, c in enumerate(self.vocab)}

    def __len__(self) -> int:
        return len(self.vocab)

    def extend(self, chars) -> None:
        for c in chars:
            if c not in self.index:
                self.index[c] = len(self.vocab)
                self.vocab.append(c)

    def unknown(self, text: str) -> list[str]:
        """Characters of ``text`` (after normalisation) outside the vocabulary."""
        return sorted({c for c in normalise_text(text) if c not in self.index})

    def encode(self, text: str, strict: bool = True) -> np.ndarray:
        text = normalise_text(text)
        if strict:
            bad = self.unknown(text)
            if bad:
                shown = ", ".join(repr(c) for c in bad)
                raise InkstrokeError(f"unsupported characters in text: {shown}")
        return np.asarray([self.index.get(c, UNK) for c in text], dtype=np.int64)

    def decode(self, ids) -> str:
        return "".join(self.vocab[i] for i in ids if i != PAD)

    # ---------------------------------------------------------- char widths
    def fit_widths(self, texts: list[str], widths: list[float], ridge: float = 30.0) -> None:
        """Character widths (body heights) such that a word's width ≈ the sum of
        its characters'.

        Handwritten word widths are noisy (writers, slant, mislabelled ink), and
        a free least-squares fit gives rare or correlated characters absurd,
        even negative, widths. So the fit is pulled toward a typographic prior,
        the advance widths of the Hershey *futural* font scaled to the data, and
        outliers are down-weighted (Huber, three rounds).
        """
        prior_raw = typographic_widths()
        chars = sorted({c for t in texts for c in t} | set(self.vocab[len(SPECIALS):]))
        col = {c: i for i, c in enumerate(chars)}
        a = np.zeros((len(texts), len(chars)))
        for r, t in enumerate(texts):
            for c in t:
                a[r, col[c]] += 1
        w = np.asarray(widths, dtype=np.float64)
        median_prior = float(np.median(list(prior_raw.values())))
        p = np.asarray([prior_raw.get(c, median_prior) for c in chars])
        prior = p * (w.sum() / max(float((a @ p).sum()), 1e-9))
        weight = np.ones(len(w))
        for _ in range(3):
            aw = a * weight[:, None]
            sol = np.linalg.solve(a.T @ aw + ridge * np.eye(len(chars)), aw.T @ w + ridge * prior)
            res = np.abs(a @ sol - w)
            k = 1.5 * float(np.median(res)) + 1e-9
            weight = np.minimum(1.0, k / np.maximum(res, 1e-12))
        self.widths = {c: float(max(sol[col[c]], 0.4 * prior[col[c]])) for c in chars}

    def char_width(self, c: str) -> float:
        if not self.widths:
            return 0.6
        if c in self.widths:
            return self.widths[c]
        return float(np.median(list(self.widths.values())))

    def x_centers(self, text: str) -> np.ndarray:
        """Expected x of the middle of each character, starting at x = 0."""
        w = np.asarray([self.char_width(c) for c in normalise_text(text)])
        return np.cumsum(w) - w / 2

    def expected_width(self, text: str) -> float:
        return float(sum(self.char_width(c) for c in normalise_text(text)))

    # ------------------------------------------------------------------ I/O
    def to_dict(self) -> dict:
        return {"kind": "inkstroke-text-tokenizer", "version": 1, "vocab": self.vocab,
                "widths": self.widths}

    @classmethod
    def from_dict(cls, d: dict, where: str = "text tokenizer") -> TextTokenizer:
        try:
            if d.get("kind") != "inkstroke-text-tokenizer" or not isinstance(d.get("vocab"), list):
                raise ValueError("kind or vocab")
            return cls(list(d["vocab"]), {k: float(v) for k, v in d.get("widths", {}).items()})
        except (AttributeError, TypeError, ValueError) as e:
            raise InkstrokeError(f"{where}: not a valid text tokenizer ({e})") from None
