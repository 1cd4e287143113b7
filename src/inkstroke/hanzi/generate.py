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
              seed: int = 0, beam: int = BEAM, batch: int = 64) -> list[Ink]:
        """One ink per character, written from its glyph in ``font`` (default: the
        Kaiti that has it). ``beam`` > 1 searches for the most likely strokes;
        ``temperature`` > 0 samples instead. A char_id model writes only the
        characters it knows."""
        from inkstroke.hanzi.data import glyph_input

        if beam < 1 or (beam > 1 and temperature > 0):
            raise InkstrokeError(f"beam must be 1 or more, and 1 when sampling (temperature > 0); got {beam}")
        chars = list(chars)
        fonts = [Path(font) if font else default_font(c) for c in chars]
        g = torch.Generator().manual_seed(seed)
        out: list[Ink] = []
        for a in range(0, len(chars), batch):
            part = chars[a : a + batch]
            glyphs = [glyph_input(c, f) for c, f in zip(part, fonts[a : a + batch])]
            if self.conditioning == "glyph":
                images = torch.from_numpy(np.stack([im for im, _ in glyphs])).float() / 255
                strokes = self._run(images=images, temperature=temperature, generator=g, beam=beam)
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


def write_characters(chars: str | list[str], font: str | Path | None = None, method: str = "model",
                     model: str | Path | None = None, temperature: float = 0.0, seed: int = 0,
                     beam: int = BEAM) -> list[Ink]:
    """One ink per character by ``method`` (see the module docstring)."""
    if method not in METHODS:
        raise InkstrokeError(f"unknown method {method!r}; use one of {', '.join(METHODS)}")
    chars = list(chars)
    if method == "model":
        return HanziGenerator.load(model).write(chars, font, temperature, seed, beam)
    if method == "medians":
        from inkstroke.io.hanzi import character_ink

        return [character_ink(c) for c in chars]
    from inkstroke.io.font import glyph_centerlines

    out = []
    for c in chars:
        ink = glyph_centerlines(c, Path(font) if font else default_font(c))  # errs on a missing glyph
        out.append(ink.copy(meta={**ink.meta, "method": "skeleton"}))
    return out
