"""Write characters in stroke order: from the glyph (the model), the data, or the skeleton.

Three ways to get strokes for a character, by ``method``:

* ``"model"`` (default): the glyph-conditioned writer shipped in the package
  (or any checkpoint of :mod:`inkstroke.hanzi.train`) writes from the font's
  glyph alone, so it writes characters that no stroke data holds, in any font.
* ``"medians"``: the hanzi-writer-data medians themselves (an error for a
  character the data lacks). They match the Kaiti glyph, not another font's.
* ``"skeleton"``: the glyph's centre lines, cut at junctions and ordered top
  to bottom, left to right (:func:`inkstroke.io.font.glyph_centerlines`). It
  needs no model and writes any glyph, Latin too, but its stroke split and
  order are a heuristic, not the rules of hanzi: a recogniser that reads stroke
  order (Zinnia) rarely recognises it.

Every ink comes back in the 1024 em frame of Make Me a Hanzi (y up, row
0 at y = 900) of the font it was written from, one ink per character.
"""

from __future__ import annotations

import functools
import unicodedata
from pathlib import Path

import numpy as np
import torch

from inkstroke.errors import InkstrokeError
from inkstroke.ink import Ink

MODEL_DIR = Path(__file__).resolve().parent.parent / "models" / "hanzi"
METHODS = ("model", "medians", "skeleton")
BEAM = 1  # default search width
VIEWS = 9  # glyph views the model writes from, the consensus of which is kept
# one-pixel shifts of the glyph image, nearest first: (0, 0), the four sides, the four corners
SHIFTS = sorted(((dx, dy) for dy in (-1, 0, 1) for dx in (-1, 0, 1)), key=lambda d: (abs(d[0]) + abs(d[1]), d[1], d[0]))
UNITS = "mmah1024"


def is_hanzi(char: str) -> bool:
    """A CJK ideograph or radical: what the writer was trained to write."""
    if len(char) != 1:
        return False
    name = unicodedata.name(char, "")
    return name.startswith(("CJK UNIFIED IDEOGRAPH", "CJK COMPATIBILITY IDEOGRAPH", "CJK RADICAL",
                             "KANGXI RADICAL")) or char == "〇"


def default_font(char: str) -> Path:
    """The Kaiti font that has ``char`` (see :func:`inkstroke.io.hanzi.kaiti_font_path`)."""
    from inkstroke.io.hanzi import kaiti_font_path

    return kaiti_font_path(char)


@functools.lru_cache(maxsize=4)
def _load(model: str | None):
    from inkstroke.hanzi.train import load_writer

    path = Path(model) if model else MODEL_DIR
    if model is None and not (path / "config.json").is_file():
        raise InkstrokeError(
            f"no hanzi model is shipped yet ({path} is empty): train one with `inkstroke train-hanzi` "
            "and pass --model, or write from the stroke data with the Python API (method='medians')"
        )
    return load_writer(path)


class HanziGenerator:
    """A loaded writer: ``HanziGenerator.load().write("永字")`` -> inks."""

    def __init__(self, model, meta: dict):
        self.model = model
        self.meta = meta
        chars = meta.get("chars", "")
        self.ids = {c: i + 1 for i, c in enumerate(chars)}

    @classmethod
    def load(cls, model: str | Path | None = None) -> HanziGenerator:
        """The shipped model, or a checkpoint folder."""
        return cls(*_load(str(model) if model else None))

    @property
    def conditioning(self) -> str:
        return self.model.cfg.conditioning

    def write(self, chars: str | list[str], font: str | Path | None = None, temperature: float = 0.0,
              seed: int = 0, beam: int = BEAM, batch: int = 64, views: int = VIEWS) -> list[Ink]:
        """One ink per character, written from its glyph in ``font`` (default: the
        Kaiti that has it). ``beam`` > 1 searches for the most likely strokes;
        ``temperature`` > 0 samples instead. ``views`` (1 to 9): how many
        one-pixel shifts of the glyph the model writes from; the consensus of
        them is kept (:func:`consensus`). A char_id model writes only the
        characters it knows, from its id (one view)."""
        from inkstroke.hanzi.data import glyph_input

        if beam < 1 or (beam > 1 and temperature > 0):
            raise InkstrokeError(f"beam must be 1 or more, and 1 when sampling (temperature > 0); got {beam}")
        if not 1 <= views <= len(SHIFTS):
            raise InkstrokeError(f"views must be between 1 and {len(SHIFTS)}, got {views}")
        chars = list(chars)
        fonts = [Path(font) if font else default_font(c) for c in chars]
        g = torch.Generator().manual_seed(seed)
        out: list[Ink] = []
        for a in range(0, len(chars), batch):
            part = chars[a : a + batch]
            glyphs = [glyph_input(c, f) for c, f in zip(part, fonts[a : a + batch])]
            if self.conditioning == "glyph":
                images = torch.from_numpy(np.stack([im for im, _ in glyphs])).float() / 255
                shifts = SHIFTS[:views]
                shifted = torch.cat([torch.roll(images, (dy, dx), dims=(2, 3)) for dx, dy in shifts])
                written = self._run(images=shifted, temperature=temperature, generator=g, beam=beam)
                k = len(part)  # view v of character i is written[v * k + i]; undo its shift
                strokes = [consensus([written[v * k + i] - torch.tensor(shifts[v]) / images.shape[-1]
                                      for v in range(len(shifts))]) for i in range(k)]
            else:
                unknown = [c for c in part if c not in self.ids]
                if unknown:
                    raise InkstrokeError(f"the char_id model never saw {''.join(unknown)!r}: "
                                         "it can only write its training characters")
                ids = torch.tensor([self.ids[c] for c in part])
                strokes = self._run(char_ids=ids, temperature=temperature, generator=g, beam=beam)
            for c, f, (_, frame), s in zip(part, fonts[a : a + batch], glyphs, strokes):
                pts = [frame.to_mmah(p.double().numpy()) for p in s]
                out.append(Ink(pts, text=c, source="inkstroke.hanzi", units=UNITS, y_axis="up",
                               meta={"font": str(f), "method": "model"}))
        return out

    def _run(self, beam: int, temperature: float, generator, **inputs) -> list[torch.Tensor]:
        if beam > 1:
            return self.model.beam_search(beam=beam, **inputs)
        return self.model.generate(temperature=temperature, generator=generator, **inputs)


def consensus(candidates: list[torch.Tensor]) -> torch.Tensor:
    """The candidate (strokes, (n, P, 2)) that lies closest to all the others:
    a candidate with another stroke count is as far as a whole frame per stroke
    of difference, one with the same count as far as its points lie apart on
    average, stroke by stroke in order.

    Why: the writer's slips (a stroke skipped, two strokes merged, a dot
    added) depend on where exactly the glyph falls on the pixel grid, so the
    same character shifted by a pixel is often written right; what most
    views agree on is the character, not the slip. On 672 held-out
    characters, nine views lift Zinnia's top-1 from 0.693 to 0.720 and the
    stroke-count agreement from 0.897 to 0.923 (docs/hanzi.md)."""
    if len(candidates) == 1:
        return candidates[0]

    def distance(a: torch.Tensor, b: torch.Tensor) -> float:
        if len(a) != len(b):
            return 1.0 + abs(len(a) - len(b))
        return float((a - b).norm(dim=-1).mean()) if len(a) else 0.0

    totals = [sum(distance(a, b) for b in candidates) for a in candidates]
    return candidates[int(np.argmin(totals))]


def write_characters(chars: str | list[str], font: str | Path | None = None, method: str = "model",
                     model: str | Path | None = None, temperature: float = 0.0, seed: int = 0,
                     beam: int = BEAM, views: int = VIEWS) -> list[Ink]:
    """One ink per character by ``method`` (see the module docstring)."""
    if method not in METHODS:
        raise InkstrokeError(f"unknown method {method!r}; use one of {', '.join(METHODS)}")
    chars = list(chars)
    if method == "model":
        return HanziGenerator.load(model).write(chars, font, temperature, seed, beam, views=views)
    if method == "medians":
        from inkstroke.io.hanzi import character_ink

        return [character_ink(c) for c in chars]
    from inkstroke.io.font import glyph_centerlines

    out = []
    for c in chars:
        ink = glyph_centerlines(c, Path(font) if font else default_font(c))  # errs on a missing glyph
        out.append(ink.copy(meta={**ink.meta, "method": "skeleton"}))
    return out
