"""``inkstroke.write``: text in, laid-out handwritten pages out.

Each word is generated on its own, all words of a text in batches, by the
model shipped in the package (or any checkpoint of ``inkstroke train``). A
style is a primer: a real ink and its text, fed to the model before every
word, so every word and line continues the same hand. In the default hand,
a word in capitals is written letter by letter, as block capitals, and set
as one word, and a character standing alone ("I", "(", "-", "7") is set at
the size and height UNIPEN writers give it. In every hand, a sign or digit
standing alone comes from a single-stroke font instead where the readers
read the font's better than the model's draws. Words are then measured,
wrapped into lines and placed on their baselines; pages follow.

A generated word whose ink is empty, or much wider than its text allows
(trailing scribble), is drawn again with the next seed, up to ``retries``
times: a cheap guard against the two classic failures of these models.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import signal
import sys
import warnings
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from inkstroke.errors import InkstrokeError
from inkstroke.ink import Ink
from inkstroke.tokenize.text import normalise_text, transliterate
from inkstroke.write.layout import PageLayout, wrap

MODEL_DIR = Path(__file__).resolve().parent.parent / "models" / "handwriting"
STYLES_FILE = "styles.json"
WRITER_SIZES_FILE = "writer_sizes.json"  # scripts/writer_sizes.py
MAX_WORD = 30  # characters per generated piece; longer words are written in pieces
MAX_TEXT = 20_000  # characters per call
# For a model whose checkpoint records no sampling settings (as `inkstroke train`
# leaves it): chosen for phase 7 on test-split texts with scripts/tune_sampling.py.
# The shipped phase-8 model records its own (temperature 0.5, guidance 0: distilled
# in), which :func:`default_temperature` and :func:`default_guidance` read.
DEFAULT_TEMPERATURE = 0.6
DEFAULT_GUIDANCE = 1.5
# Draws per word, ranked by the readers (1: no ranking). With the shipped
# phase-10 model, Tesseract CER of 6 / 7 / 8 draws (the first N of the same
# draws of each word), averaged over the judge texts, their seed 1 and the
# test split's seeds 0 and 1: 0.300 / 0.298 / 0.291. Against eight, a
# 60-character line takes 0.81 / 0.90 of the time (two processes,
# interleaved runs); eight took up to 1.03 s in this machine's slow spells,
# so six keep the 1 s budget with a margin (docs/legibility/experiments.md,
# round 20; for the phase-7 model, round 8).
DEFAULT_CANDIDATES = 6
# The widest gap left between the letters of one word, in x-heights. The model
# leaves gaps of up to 1.4 x-heights inside words (letters written apart, a
# comma set off), which a reader takes for word breaks; a writer would close
# them up. Pulling every piece after such a gap to the left until the gap is
# 0.5 took Tesseract CER from 0.490 to 0.474 on the 100 judge texts and 0.491
# to 0.472 on 100 test-split texts (the same words, only this change; 0.4 read
# the same, 0.3, 0.6 and 0.7 gained less: docs/legibility/experiments.md). None keeps words as drawn.
MAX_INNER_GAP = 0.5
# Added to a draw's rank, times its strokes per letter (at most 1): between
# draws the recogniser reads about as well, the one with letters set apart.
# The recogniser learned from joined-up UNIPEN writing and reads a scribbled
# "the" as surely as a clear one; a reader (and Tesseract) reads letters
# written apart more easily. Tesseract CER, weights 0 / 1 / 2 / 3, on the
# judge texts 0.434 / 0.429 / 0.429 / 0.430, seed 1 0.471 / 0.455 / 0.452 /
# 0.448, test split 0.463 / 0.457 / 0.458 / 0.456, test seed 1 0.450 / 0.444 /
# 0.446 / 0.446 (docs/legibility/experiments.md, round 7).
SEPARATE_LETTERS_BONUS = 2.0
# Weight of the image reader's score (log-likelihood per letter of the word's
# picture, :mod:`inkstroke.recognize.image`) added to the stroke recogniser's
# when draws are ranked: the stroke recogniser reads the motion, so it trusts
# a draw whose letters only the pen's path tells apart; the image reader sees
# what a reader of the page sees. 0 ranks by the strokes alone. Tesseract CER
# of the same eight draws of the phase-7 model, ranked with weights 0 / 0.5 /
# 1 / 1.5 / 2, averaged over the judge texts, their seed 1 and the test
# split's seeds 0 and 1: 0.426 / 0.411 / 0.407 / 0.407 / 0.412; the image
# reader alone: 0.410 (docs/legibility/experiments.md, round 9).
IMAGE_READER_WEIGHT = 1.0


@dataclass
class Document:
    """Pages of handwriting: y-down inks in millimetres, ``meta["page_mm"]`` set."""

    pages: list[Ink]
    text: str
    settings: dict = field(default_factory=dict)
    words: list[tuple[str, Ink]] = field(default_factory=list)  # each generated word (normalised units)


@lru_cache(maxsize=4)
def load_generator(model: str | None = None):
    from inkstroke.sample.generate import Generator

    path = Path(model) if model else MODEL_DIR
    if model is None and not (path / "checkpoint.json").exists():
        raise InkstrokeError(f"the default model is missing from {path}; reinstall inkstroke")
    return Generator.from_checkpoint(path)


def default_guidance(gen) -> float:
    """The guidance ``write`` uses with ``gen`` unless told: the one its
    checkpoint records under ``sampling`` (0 for a model with guidance
    distilled into it), else :data:`DEFAULT_GUIDANCE`."""
    return float(gen.sampling.get("guidance", DEFAULT_GUIDANCE))


def default_temperature(gen) -> float:
    """The temperature ``write`` uses with ``gen`` unless told: its checkpoint's
    tuned one (``sampling``), else :data:`DEFAULT_TEMPERATURE`."""
    return float(gen.sampling.get("temperature", DEFAULT_TEMPERATURE))


def available_styles(model: str | None = None) -> list[str]:
    path = (Path(model) if model else MODEL_DIR) / STYLES_FILE
    if not path.exists():
        return []
    return sorted(json.loads(path.read_text()))


def split_words(ink: Ink, words: int) -> list[list[int]]:
    """Stroke indices of each of ``words`` words, left to right: strokes whose
    x-spans overlap stay together, and the ``words - 1`` widest gaps between
    the groups are the word breaks (a handwritten line has no other marker).
    Fewer groups than words: every group is a word."""
    spans = sorted((float(np.min(s[:, 0])), float(np.max(s[:, 0])), k) for k, s in enumerate(ink.strokes) if len(s))
    groups, gaps, end = [], [], -np.inf
    for x0, x1, k in spans:
        if groups and x0 <= end:
            groups[-1].append(k)
        else:
            if groups:
                gaps.append(x0 - end)
            groups.append([k])
        end = max(end, x1)
    breaks = set(np.argsort(gaps)[::-1][: max(words - 1, 0)].tolist())
    out = [groups[0]] if groups else []
    for i, group in enumerate(groups[1:]):
        if i in breaks:
            out.append(list(group))
        else:
            out[-1] = out[-1] + group
    return out


def last_word_primer(ink: Ink, text: str) -> tuple[Ink, str]:
    """The last word of a style sample, as the primer.

    The model writes each word from scratch near x = 0 after the primer's end;
    behind a whole line the word starts 10-30 x-heights out, where training
    words seldom go, and it read far worse (recogniser CER of single draws
    0.6-1.0 against 0.48-0.62 behind the last word; docs/legibility). One word
    still carries the hand: slant, size, letter shapes, connections."""
    words = text.split()
    if len(words) < 2:
        return ink, text
    groups = split_words(ink, len(words))
    if len(groups) != len(words):
        return ink, text
    keep = sorted(groups[-1])

    def pick(parts: list[np.ndarray] | None) -> list[np.ndarray] | None:
        return None if parts is None else [parts[k] for k in keep]

    word = ink.copy(strokes=pick(ink.strokes), times=pick(ink.times), pressures=pick(ink.pressures), text=words[-1])
    return word, words[-1]


def load_style(style: str | None, model: str | None = None, style_text: str | None = None) -> tuple[Ink, str] | None:
    """A primer (ink, text): a shipped style name, or a file any importer reads
    (JSON, InkML, ``DATASET.inks:INDEX``) whose text is known; of a sample of
    several words, its last word (:func:`last_word_primer`)."""
    if style is None or style == "none":
        return None
    shipped = (Path(model) if model else MODEL_DIR) / STYLES_FILE
    if shipped.exists():
        styles = json.loads(shipped.read_text())
        if style in styles:
            s = styles[style]
            ink = Ink([np.asarray(p) for p in s["strokes"]], text=s["text"], y_axis="down")
            return last_word_primer(ink, s["text"])
    if not (Path(style).exists() or ".inks:" in style):
        names = ", ".join(available_styles(model)) or "none shipped"
        raise InkstrokeError(f"style {style!r} is neither a shipped style ({names}) nor a file")
    from inkstroke.io import read_ink

    ink = read_ink(style)
    text = style_text or ink.text
    if not text:
        raise InkstrokeError(f"{style}: the style sample has no text; give it with --style-text")
    if ink.num_points < 2:
        raise InkstrokeError(f"{style}: the style sample holds no ink")
    return last_word_primer(ink, text)


def prepare_text(text: str, supported: set[str], unsupported: str = "error") -> str:
    """Normalise; refuse, replace ('?') or transliterate unsupported characters."""
    text = normalise_text(text).replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise InkstrokeError("the text is empty")
    if len(text) > MAX_TEXT:
        raise InkstrokeError(f"the text has {len(text)} characters; at most {MAX_TEXT} per call")
    if unsupported == "transliterate":
        text = "\n".join(transliterate(line) for line in text.split("\n"))
        if not text.strip():
            raise InkstrokeError("the text is empty once transliterated to ASCII")
    bad = sorted({c for c in text if c not in supported and c != "\n"})
    if bad and unsupported == "error":
        shown = ", ".join(f"{c!r} (U+{ord(c):04X})" for c in bad)
        raise InkstrokeError(f"unsupported characters: {shown}; use --unsupported replace or transliterate")
    if bad:
        text = "".join("?" if c not in supported and c != "\n" else c for c in text)
    if unsupported not in ("error", "replace", "transliterate"):
        raise InkstrokeError(f"unknown --unsupported mode {unsupported!r}")
    return text


def _pieces(word: str) -> list[str]:
    return [word[i : i + MAX_WORD] for i in range(0, len(word), MAX_WORD)]


# Gap between the letters of a word in block capitals, in body heights.
CAPITALS_GAP = 0.4


def block_capitals(word: str) -> list[str] | None:
    """The letters of a word of two or more capitals and no small letters, each
    with the signs after it ("DOG." gives "D", "O", "G."), or None for any
    other word. The model writes a lone capital far better than a word of
    them: UNIPEN has many isolated capitals and few words in capitals, and
    "AFTER" came out as "ArTER", "THERE" as "TYERF"
    (docs/legibility/experiments.md, round 14)."""
    letters = [c for c in word if c.isalpha()]
    if len(letters) < 2 or not all(c.isupper() for c in letters) or len(word) > MAX_WORD:
        return None
    cuts = [i for i, c in enumerate(word) if c.isupper()][1:]  # before every capital but the first
    return [word[a:b] for a, b in zip([0, *cuts], [*cuts, len(word)])]


def join_letters(inks: list[Ink], box: dict, gap: float = CAPITALS_GAP) -> Ink:
    """Letters drawn one by one, each fitted to ``box`` (the capitals of a
    writer's word: :func:`fit_to_box`) and set side by side ``gap`` apart:
    one word's ink, its baseline at y = 0."""
    strokes, x = [], 0.0
    for ink in inks:
        if ink.num_points < 2:
            continue
        ink = fit_to_box(ink, box)
        x1 = ink.bounds()[2]
        strokes.extend(s + (x, 0.0) for s in ink.strokes)
        x += x1 + gap
    return Ink(strokes, units="normalized", y_axis="down", source="inkstroke")


def _baseline(ink: Ink) -> float:
    """The baseline of a generated word (y down, body height ≈ 1): the middle of
    the body band plus half a body height. The median of densely resampled
    points sits in the x-height band whatever the ascenders and descenders do.
    An ink that records its own (a font's sign: ``meta["baseline"]``) keeps it."""
    if "baseline" in ink.meta:
        return float(ink.meta["baseline"])
    ys = ink.resampled_y(0.05)
    return float(np.median(ys)) + 0.5


@lru_cache(maxsize=1)
def writer_sizes() -> dict[str, dict]:
    """How big UNIPEN writers make a character that stands as a word of its own,
    and a word in capitals, and where they set them (:data:`WRITER_SIZES_FILE`)."""
    return json.loads((MODEL_DIR / WRITER_SIZES_FILE).read_text())["boxes"]


# Signs too rare alone in UNIPEN to measure, and the measured sign each is
# written the size of: its mirror image or its closest shape.
LIKE = {"[": "(", "]": ")", "}": "{", "\\": "/", "|": "/"}


def lone_character_box(word: str) -> dict | None:
    """The measured box of ``word`` if it is one character ("I", "a", "(", "7")
    measured often enough, or one like it (:data:`LIKE`), else None."""
    if len(word) != 1:
        return None
    sizes = writer_sizes()
    return sizes.get("digit" if word.isdigit() else word) or sizes.get(LIKE.get(word, ""))


# A box lower than this (body heights) is fitted by its width: a hyphen's
# height is mostly the wobble of the pen.
FLAT_BOX = 0.35
# A fitted ink is at most this many times its box's width: a draw that is far
# too flat for its character (a "(" drawn 1.3 wide and 0.5 tall) is not
# blown up to a giant when fitted to the height.
MAX_BOX_WIDTHS = 2.0


def fit_to_box(ink: Ink, box: dict) -> Ink:
    """The ink at the size and height a writer gives it: scaled to ``box``'s
    height (to its width if the box is flat), its middle at the box's, the
    baseline at y = 0 (y down).

    The model cannot size a lone character or a capital drawn alone itself:
    each of its training words was scaled to its own body height, so a lone
    "(" or "I" comes out an x-height tall, a lone "-" three x-heights wide and
    a lone "." as big as an "o" (docs/legibility/experiments.md, round 15)."""
    x0, y0, x1, y1 = ink.bounds()
    if box["height"] < FLAT_BOX or y1 - y0 <= 0:
        scale = box["width"] / max(x1 - x0, 1e-6)
    else:
        scale = min(box["height"] / (y1 - y0), MAX_BOX_WIDTHS * box["width"] / max(x1 - x0, 1e-6))
    middle = -(box["top"] + box["bottom"]) / 2
    return ink.translate(-x0, -(y0 + y1) / 2).scale(scale).translate(0.0, middle)


MAX_WORD_HEIGHT = 4.5  # body heights: ascender, x-height and descender with room to spare


# A draw of a word is given up after this many steps per character plus 30
# (at least WORD_MIN_STEPS), and not chosen: a draw that runs on that long is
# scribbling over its own letters, and one such draw of "liquor" kept a
# line's decoding going alone for 130 steps. Of the draws the readers chose
# in phase 10's pool (7,132 words, the cap not applied) 15 would have been
# cut, nearly all of made-up strings of "@" and "8", the slowest characters.
WORD_STEPS_PER_CHAR = 25
WORD_MIN_STEPS = 90


def _acceptable(ink: Ink, expected_width: float) -> bool:
    """Not empty, finished before its length cap, and not running on to the
    right or downward far past the word."""
    if ink.num_points < 2 or ink.meta.get("cut_at_cap"):
        return False
    x0, y0, x1, y1 = ink.bounds()
    return (x1 - x0) <= 2.2 * expected_width + 1.0 and (y1 - y0) <= MAX_WORD_HEIGHT


def _trim(ink: Ink, expected_width: float) -> Ink:
    """Drop strokes that lie wholly outside the word's plausible box: the stray
    marks a sampler can leave after the word is done (kept when nothing else is)."""
    if ink.num_points < 2:
        return ink
    mid = float(np.median(ink.resampled_y(0.05)))
    x_start = min(s[0, 0] for s in ink.strokes)
    x_end = x_start + 1.6 * expected_width + 1.0
    half = MAX_WORD_HEIGHT / 2

    def inside(s: np.ndarray) -> bool:
        return bool(((s[:, 0] <= x_end) & (np.abs(s[:, 1] - mid) <= half)).any())

    kept = [s for s in ink.strokes if inside(s)]
    return ink.copy(strokes=kept, times=None, pressures=None) if kept else ink


def close_inner_gaps(ink: Ink, max_gap: float = MAX_INNER_GAP) -> Ink:
    """The word with every horizontal gap between its strokes wider than
    ``max_gap`` narrowed to ``max_gap``: strokes are grouped by the x-span they
    cover (overlapping spans, such as a t-bar or an i-dot over its stem, stay
    together) and each group after a wide gap moves left, shapes unchanged."""
    if len(ink.strokes) < 2:
        return ink
    spans = sorted((float(s[:, 0].min()), float(s[:, 0].max()), k) for k, s in enumerate(ink.strokes))
    shift = np.zeros(len(ink.strokes))
    right, total = spans[0][1], 0.0
    for x0, x1, k in spans:
        if x0 - right > max_gap:
            total += x0 - right - max_gap
        shift[k] = total
        right = max(right, x1)
    if total == 0.0:
        return ink
    return ink.copy(strokes=[s - (shift[k], 0.0) for k, s in enumerate(ink.strokes)])


def letters_apart(inks: list[Ink], texts: list[str]) -> np.ndarray:
    """Strokes per letter of each draw, at most 1: what the letters-apart bonus
    (:data:`SEPARATE_LETTERS_BONUS`) rewards."""
    return np.array([min(len(ink.strokes) / max(len(t), 1), 1.0) for ink, t in zip(inks, texts)])


def contender_scores(scorer, inks: list[Ink], texts: list[str], others: np.ndarray, bonus: np.ndarray,
                     ok: np.ndarray, groups: list[np.ndarray]) -> np.ndarray:
    """``scorer``'s scores of the draws that can still be chosen, -inf for the
    others; ``groups`` holds the indices of each word's draws. The choice is
    the one that scoring every draw would make.

    A draw's rank is ``(score + others) + bonus``, and ``score``, a
    log-likelihood per letter, is at most 0. So a draw whose ``others + bonus``
    is already below the full rank of its word's front-runner cannot win. The
    scorer scores each word's front-runner first, then only the draws that
    could beat it: about three in ten of a line's draws. Unacceptable draws
    (``ok`` False) are never chosen, so they are not scored either."""
    bound = np.where(ok, others + bonus, -np.inf)
    out = np.full(len(inks), -np.inf)
    groups = [g for g in groups if np.isfinite(bound[g]).any()]
    front = [int(g[np.argmax(bound[g])]) for g in groups]

    def score(idx: list[int]) -> None:
        if idx:
            out[idx] = scorer.score([inks[i] for i in idx], [texts[i] for i in idx])

    score(front)
    rest = []
    for f, g in zip(front, groups):
        rank = (out[f] + others[f]) + bonus[f]
        rest += [int(j) for j in g if j != f and ok[j] and bound[j] >= rank - 1e-6]
    score(rest)
    return out


# Strokes a draw of a one-character word, or of a word ending in a sign, may
# lose from its end to become a candidate of its own. The model seldom stops
# after a lone short character: of 16 draws each, 15 of "/", 14 of "," and
# 14 of "1" went on to a second stroke (a "/" became "ll") where 39, 39 and
# 37 of 40 UNIPEN writers wrote one; and after a word's last sign it often
# adds a dot or a tick ("do:" for "do."). Ranked with the draws, the shorter
# candidates let the readers keep the sign and drop what followed it
# (docs/legibility/experiments.md, round 14).
PREFIX_STROKES = 3


def stroke_prefixes(ink: Ink, most: int = PREFIX_STROKES) -> list[Ink]:
    """The ink cut after each of its first strokes: every proper prefix of at
    least one stroke and at most ``most`` strokes shorter than the ink."""
    n = len(ink.strokes)
    return [ink.copy(strokes=ink.strokes[:k], times=None, pressures=None) for k in range(max(1, n - most), n)]


# The single-stroke font a lone sign or digit may be drawn from (Hershey,
# through inkstroke.io.hershey), as one more candidate beside the model's
# draws. The model draws most signs standing alone badly: "/" as "ll", "=" as
# a "Z", "+" as a scribble, "%" as "o."; UNIPEN holds few of them. Ranked with
# the draws, the font's sign was kept for 66 of 181 lone signs of the four
# evaluation sets and 9 of 138 lone digits, and those lines read with 62
# fewer Tesseract errors in 1,797 characters (docs/legibility/experiments.md,
# round 16).
SIGN_FONT = "futural"
# Added to the font's glyph of a lone sign (not a digit) when it is ranked.
# Both readers learned from UNIPEN, where signs are rare, so they judge a
# sign's draws poorly and kept the model's scrawled "+", "$" or "~" over the
# font's. Tesseract edits of the lines holding a lone sign, bonus 0 / 3 / 100
# (always the font): 766 / 735 / 731 on 84 lines of texts no reported figure
# uses (valid and test splits, seeds 2 and 3), 607 / 582 / 598 on the 78 of
# the four reported sets (docs/legibility/experiments.md, round 19).
FONT_SIGN_BONUS = 3.0


@lru_cache(maxsize=128)
def font_sign(char: str, font: str = SIGN_FONT) -> Ink:
    """``char`` as ``font`` draws it, at the font's size for an x-height of 1,
    its left edge at x = 0 and its baseline at y = 0 (y down), recorded in
    ``meta["baseline"]`` so that it is set on the line where the font sets it."""
    from inkstroke.io.hershey import hershey_ink

    glyph = hershey_ink(char, font)
    base = glyph.meta["base_line"]
    x_height = base - hershey_ink("x", font).bounds()[1]
    x0 = glyph.bounds()[0]
    return Ink([(s - (x0, base)) / x_height for s in glyph.strokes], text=char, units="normalized",
               y_axis="down", source=f"hershey:{font}", meta={"baseline": 0.0})


@dataclass
class Candidates:
    """The inks ranked for a batch of words: ``groups[k]`` indexes word ``k``'s
    candidates; ``draw[i]`` is the draw candidate ``i`` is (or is cut from),
    -1 for a font's sign."""

    inks: list[Ink]
    texts: list[str]
    ok: np.ndarray
    groups: list[np.ndarray]
    draw: np.ndarray


def candidate_pool(draws: list[Ink], words: list[str], n: int, ok: np.ndarray, cuts: bool = True) -> Candidates:
    """Each word's ``n`` draws (``n`` per word, in a row) and two more kinds
    of candidate:

    * with ``cuts`` (the default hand), for a word of one character or ending
      in a sign (".", ",", ")"...), the stroke prefixes of its acceptable
      draws (:func:`stroke_prefixes`): the sign is where the model goes on
      writing after it should have stopped;
    * for a lone sign or digit, the font's (:func:`font_sign`), in every hand."""
    inks, texts, good = list(draws), [w for w in words for _ in range(n)], list(ok)
    draw, groups = list(range(len(draws))), []

    def add(ink: Ink, w: str, j: int) -> None:
        group.append(len(inks))
        inks.append(ink)
        texts.append(w)
        good.append(True)
        draw.append(j)

    for k, w in enumerate(words):
        group = list(range(k * n, (k + 1) * n))
        if cuts and (len(w) == 1 or not w[-1].isalnum()):
            for j in group[:]:
                if not ok[j]:
                    continue
                for prefix in stroke_prefixes(draws[j]):
                    if prefix.num_points >= 2:
                        add(prefix, w, j)
        if len(w) == 1 and not w.isalpha():
            add(font_sign(w).copy(), w, -1)
        groups.append(np.array(group))
    return Candidates(inks, texts, np.array(good, dtype=bool), groups, np.array(draw))


def rank_candidates(c: Candidates, ranker, reader=None, reader_weight: float = IMAGE_READER_WEIGHT,
                    separate_letters: float = SEPARATE_LETTERS_BONUS) -> np.ndarray:
    """Every candidate's rank (higher reads better; -inf: never chosen): the
    ranker's log-likelihood per letter, plus ``reader_weight`` times the image
    reader's, plus ``separate_letters`` times its strokes per letter."""
    bonus = separate_letters * letters_apart(c.inks, c.texts)
    bonus += FONT_SIGN_BONUS * np.array([d == -1 and not t.isdigit() for d, t in zip(c.draw, c.texts)])
    if reader is not None and reader_weight:
        # the picture of every draw, then the strokes only of those that can still win
        image = reader_weight * reader.score(c.inks, c.texts)
        read = contender_scores(ranker, c.inks, c.texts, image, bonus, c.ok, c.groups) + image
    else:
        read = ranker.score(c.inks, c.texts)
    return np.where(c.ok, read + bonus, -np.inf)


def draw_seeds(word: str, occurrence: int, seed: int, attempt: int, n: int) -> list[int]:
    """The seed of each of ``n`` draws of ``word``'s ``occurrence``-th appearance
    (0 the first) in a text written with ``seed``, at retry ``attempt``. Each
    draw has its own noise (:class:`~inkstroke.sample.generate.RowNoise`), so a
    word is written the same whatever else the text holds and however the
    words are batched or shared out between processes."""
    key = f"{seed}\x1f{word}\x1f{occurrence}\x1f{attempt}".encode()
    digest = hashlib.blake2b(key, digest_size=8).digest()
    base = int.from_bytes(digest, "little")
    return [(base + k) & ((1 << 64) - 1) for k in range(n)]


def generate_words(words: list[str], gen, primer, temperature: float, bias: float, seed: int,
                   batch: int = 192, retries: int = 2, progress=None, guidance: float = 0.0,
                   candidates: int = 1, ranker=None,
                   separate_letters: float = SEPARATE_LETTERS_BONUS, reader=None,
                   reader_weight: float = IMAGE_READER_WEIGHT, workers: int | None = None) -> list[Ink]:
    """One ink per word (normalised units), batched by length for speed.

    With ``candidates`` > 1 and a ``ranker`` (a :class:`~inkstroke.recognize.api.Recognizer`),
    each word is drawn that many times and the draw the recogniser reads most
    surely as the word is kept (sample-and-rank), its log-likelihood per
    letter raised by ``separate_letters`` times its strokes per letter (at
    most 1: see :data:`SEPARATE_LETTERS_BONUS`) and by ``reader_weight`` times
    an image reader's (``reader``, :class:`~inkstroke.recognize.image.ImageReader`)
    log-likelihood per letter of the draw's picture. With the image reader, the
    recogniser reads only the draws that can still win (:func:`contender_scores`).
    Without a primer, a word of one character or ending in a sign also ranks
    its draws cut after their first strokes; a lone sign or digit also ranks
    the font's sign (:func:`candidate_pool`).

    Each batch of up to ``batch`` draws is shared out between ``workers``
    processes (default :func:`default_workers`), one torch thread each, so
    that the operations too small for torch to split between two threads,
    and the readers' Python, run side by side: 3-19 % faster on a line,
    14-25 % on a letter (docs/legibility/experiments.md, round 19). What a word gets
    does not depend on ``workers`` (:func:`draw_seeds`)."""
    n = max(1, candidates) if ranker is not None else 1
    seen: dict[str, int] = {}
    occurrence = []
    for w in words:
        occurrence.append(seen.get(w, 0))
        seen[w] = occurrence[-1] + 1

    def write_words(todo: list[int]) -> list[Ink]:
        """The chosen ink of each of ``todo``'s words, drawn again up to
        ``retries`` times where no draw was acceptable."""
        wanted, done = list(todo), {}
        for attempt in range(retries + 1):
            asked = [i for i in todo for _ in range(n)]
            row_seeds = [s for i in todo for s in draw_seeds(words[i], occurrence[i], seed, attempt, n)]
            inks = gen.generate([words[i] for i in asked], prime=primer, temperature=temperature,
                                bias=bias, row_seeds=tuple(row_seeds), guidance=guidance,
                                steps_per_char=WORD_STEPS_PER_CHAR, min_steps=WORD_MIN_STEPS)
            widths = [gen.text_tok.expected_width(words[i]) for i in asked]
            ok = np.array([_acceptable(ink, w) for ink, w in zip(inks, widths)])
            if n > 1:
                trimmed = [_trim(ink, w) for ink, w in zip(inks, widths)]
                c = candidate_pool(trimmed, [words[i] for i in todo], n, ok, cuts=primer is None)
                pool, good, groups = c.inks, c.ok, c.groups
                score = rank_candidates(c, ranker, reader, reader_weight, separate_letters)
            else:
                pool, good = [_trim(ink, w) for ink, w in zip(inks, widths)], ok
                score, groups = ok.astype(float), [np.array([k]) for k in range(len(todo))]
            again = []
            for k, i in enumerate(todo):
                best = int(groups[k][np.argmax(score[groups[k]])])
                if good[best] or attempt == retries:
                    done[i] = pool[best]
                else:
                    again.append(i)
            if not again:
                break
            todo = again
        return [done[i] for i in wanted]

    workers = default_workers() if workers is None else max(1, workers)
    order = sorted(range(len(words)), key=lambda i: len(words[i]))
    per_batch = max(1, batch // n)
    out: list[Ink | None] = [None] * len(words)
    for a in range(0, len(order), per_batch * workers):
        chunk = order[a : a + per_batch * workers]
        shards = [chunk[k::workers] for k in range(min(workers, len(chunk)))]
        for shard, inks in zip(shards, in_processes(write_words, shards)):
            for i, ink in zip(shard, inks):
                out[i] = ink
        if progress is not None:
            progress(len(chunk))
    return out  # type: ignore[return-value]


def default_workers() -> int:
    """Processes for :func:`generate_words`: ``INKSTROKE_WORKERS`` if set, else
    one a CPU this process may use, at most two (the only count measured: two
    cores); one where ``fork`` is missing or unsafe with the libraries loaded
    (not Linux)."""
    if not sys.platform.startswith("linux"):
        return 1
    value = os.environ.get("INKSTROKE_WORKERS", "")
    if value:
        if not value.isdigit() or int(value) < 1:
            raise InkstrokeError(f"INKSTROKE_WORKERS must be a whole number of at least 1, got {value!r}")
        return int(value)
    return max(1, min(2, len(os.sched_getaffinity(0))))


def in_processes(fn, shards: list) -> list:
    """``[fn(shard) for shard in shards]``, the first shard here and each other
    in a forked copy of this process (the models are already loaded, and
    shared until written), every process at one torch thread. A copy that
    fails to answer has its shard done here instead; an error raised in a copy
    is raised here."""
    import torch

    if len(shards) == 1:
        return [fn(shards[0])]
    children = []
    try:
        for shard in shards[1:]:
            children.append(_fork(fn, shard))
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            results = [fn(shards[0])]
            for (pid, fd), shard in zip(children, shards[1:]):
                with os.fdopen(fd, "rb") as f:
                    data = f.read()
                os.waitpid(pid, 0)
                children = [c for c in children if c[0] != pid]
                try:
                    status, value = pickle.loads(data)
                except Exception:  # the copy died (killed, out of memory): do its share here
                    status, value = "ok", fn(shard)
                if status == "error":
                    raise value
                results.append(value)
        finally:
            torch.set_num_threads(threads)
        return results
    finally:
        for pid, fd in children:  # interrupted or failed: take the copies down with us
            os.close(fd)
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass


def _fork(fn, shard) -> tuple[int, int]:
    """Start ``fn(shard)`` in a forked copy; returns its pid and the pipe its
    pickled ``("ok", result)`` or ``("error", exception)`` comes back on."""
    import torch

    r, w = os.pipe()
    with warnings.catch_warnings():  # Python 3.12 warns of fork beside threads; the copy only computes
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid:
        os.close(w)
        return pid, r
    try:  # the copy: never returns, never runs the parent's exit handlers or flushes its buffers
        os.close(r)
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C ends it at once; the parent reports
        torch.set_num_threads(1)
        try:
            answer = ("ok", fn(shard))
        except BaseException as e:  # noqa: BLE001 - handed to the parent, which raises it
            answer = ("error", e if _picklable(e) else InkstrokeError(f"{type(e).__name__}: {e}"))
        with os.fdopen(w, "wb") as f:
            pickle.dump(answer, f, protocol=pickle.HIGHEST_PROTOCOL)
    finally:
        os._exit(0)


def _picklable(e: BaseException) -> bool:
    try:
        pickle.loads(pickle.dumps(e))
        return True
    except Exception:
        return False


def write(text: str, *, model: str | None = None, style: str | None = None, style_text: str | None = None,
          temperature: float | None = None, bias: float = 0.0, seed: int = 0,
          layout: PageLayout | None = None, unsupported: str = "error", progress: bool = False,
          guidance: float | None = None, candidates: int = DEFAULT_CANDIDATES,
          recognizer: str | None = None, max_inner_gap: float | None = MAX_INNER_GAP,
          image_reader_weight: float = IMAGE_READER_WEIGHT) -> Document:
    """Write ``text`` as handwriting laid out on pages; see the module docstring.

    ``max_inner_gap`` (x-heights) closes up gaps inside a word that are wider
    (see :func:`close_inner_gaps`); None leaves every word as drawn.
    ``image_reader_weight`` is the image reader's say in ranking the draws
    (:data:`IMAGE_READER_WEIGHT`); 0 ranks by the strokes alone, a tenth faster.
    ``temperature`` and ``guidance`` None are the model's own
    (:func:`default_temperature`, :func:`default_guidance`)."""
    layout = layout or PageLayout()
    layout.check()
    gen = load_generator(model)
    guidance = default_guidance(gen) if guidance is None else guidance
    temperature = default_temperature(gen) if temperature is None else temperature
    from inkstroke.sample.generate import SampleOptions

    SampleOptions(temperature=temperature, bias=bias, guidance=guidance)  # refuses bad values before any work
    supported = set(gen.text_tok.vocab[2:])
    text = prepare_text(text, supported, unsupported)
    primer = load_style(style, model, style_text)
    if candidates < 1:
        raise InkstrokeError(f"candidates must be at least 1, got {candidates}")
    if not (image_reader_weight >= 0 and np.isfinite(image_reader_weight)):
        raise InkstrokeError(f"image_reader_weight must be a number of at least 0, got {image_reader_weight}")
    if max_inner_gap is not None and max_inner_gap < 0:
        raise InkstrokeError(f"max_inner_gap must not be negative, got {max_inner_gap:g}")
    ranker = reader = None
    if candidates > 1:
        from inkstroke.recognize.api import load_recognizer_cached
        from inkstroke.recognize.image import load_image_reader_cached

        ranker = load_recognizer_cached(recognizer)
        reader = load_image_reader_cached() if image_reader_weight else None
    paragraphs = [p.split() for p in text.split("\n")]
    # Written in a style, the cuts of a sign's draws and block capitals read a
    # little worse, not better (all six shipped styles: docs/legibility/
    # experiments.md, round 14): only the default hand uses them.
    each = [w for p in paragraphs for w in p]
    letters = [block_capitals(w) if primer is None else None for w in each]
    parts = [capitals or _pieces(w) for capitals, w in zip(letters, each)]  # what is generated for each word
    words = [part for ps in parts for part in ps]
    from rich.progress import Progress

    with Progress(disable=not progress, transient=True) as bar:
        task = bar.add_task("writing", total=len(words))
        inks = generate_words(words, gen, primer, temperature, bias, seed,
                              progress=lambda n: bar.advance(task, n), guidance=guidance,
                              candidates=candidates, ranker=ranker, reader=reader,
                              reader_weight=image_reader_weight)
    if max_inner_gap is not None:
        inks = [close_inner_gaps(ink, max_inner_gap) for ink in inks]
    # scale to millimetres and measure
    scale = layout.x_height
    placed_inks, widths, k, plan = [], [], 0, iter(zip(parts, letters))
    for p in paragraphs:
        row_inks, row_w = [], []
        for word in p:
            pieces, capitals = next(plan)
            made = inks[k : k + len(pieces)]
            k += len(pieces)
            box = lone_character_box(word) if primer is None else None
            for ink in [join_letters(made, writer_sizes()["capitals"])] if capitals else made:
                if ink.num_points == 0:
                    continue
                if capitals:
                    base = 0.0
                elif box is not None and ink.num_points > 1:
                    ink, base = fit_to_box(ink, box), 0.0
                else:
                    base = _baseline(ink)
                x0, _, x1, _ = ink.bounds()
                mm = ink.translate(-x0, -base).scale(scale)
                row_inks.append(mm)
                row_w.append((x1 - x0) * scale)
        placed_inks.append(row_inks)
        widths.append(row_w)
    positions = wrap(widths, layout)
    n_pages = 1 + max((pl.page for row in positions for pl in row), default=0)
    strokes: list[list[np.ndarray]] = [[] for _ in range(n_pages)]
    for row_inks, row_pos in zip(placed_inks, positions):
        for ink, pl in zip(row_inks, row_pos):
            strokes[pl.page].extend(s + (pl.x, pl.baseline) for s in ink.strokes)
    size = layout.size()
    pages = [Ink(s, text=None, units="mm", y_axis="down", source="inkstroke.write",
                 meta={"page_mm": list(size), "page": i + 1}) for i, s in enumerate(strokes)]
    pages[0].text = text
    settings = {"temperature": temperature, "bias": bias, "guidance": guidance, "candidates": candidates,
                "image_reader_weight": image_reader_weight, "max_inner_gap": max_inner_gap, "seed": seed, "style": style,
                "model": str(model or "default"), "x_height_mm": layout.x_height}
    return Document(pages, text, settings, list(zip(words, inks)))


def page_paths(path: Path, n: int) -> list[Path]:
    """Where each page goes: one file, or ``name-1.ext``, ``name-2.ext``, ... ."""
    if n == 1 or path.suffix.lower() == ".pdf":
        return [path]
    return [path.with_name(f"{path.stem}-{i + 1}{path.suffix}") for i in range(n)]


def check_output(path: Path) -> None:
    """Fail before any work if the output cannot be written."""
    from inkstroke.io.container import check_output_path
    from inkstroke.render import SUFFIXES

    check_output_path(path, SUFFIXES)


def save_document(doc: Document, path: str | Path, stroke_width: float | None = None,
                  color: str = "black") -> list[Path]:
    """Write every page; a PDF gets all pages, other formats one file per page."""
    from inkstroke.render import save_ink

    path = Path(path)
    check_output(path)
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        from inkstroke.io.container import atomic_write_bytes
        from inkstroke.render.pdf import pdf_bytes

        w, h = doc.pages[0].meta["page_mm"]
        data = pdf_bytes(doc.pages, page_size=(w, h), margin=0.0, stroke_width=0.35 if stroke_width is None else stroke_width,
                         color=color)
        atomic_write_bytes(path, lambda f: f.write(data))
        return [path]
    paths = page_paths(path, len(doc.pages))
    opts: dict = {}
    if suffix in (".svg", ".png", ".gif"):
        opts["color"] = color
        opts["margin"] = 0.0  # a page holds its own margins: the picture is the page
        if stroke_width is not None:
            opts["stroke_width"] = stroke_width
    if suffix == ".svg":
        opts["units"] = "mm"  # real size: prints and plots at the page's scale
        opts.setdefault("stroke_width", 0.35)
    if suffix == ".png":
        opts.setdefault("width", 1240)
    for page, p in zip(doc.pages, paths):
        save_ink(page, p, **opts)
    return paths
