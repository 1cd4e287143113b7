"""What to write and where to start: the target glyph and the starting centre lines.

The target is the character in a style font, Kaiti by default, rendered in the
Make Me a Hanzi frame; or the filled stroke outlines of hanzi-writer-data,
which were traced from that same Kaiti and need no font. The start is the
hanzi-writer-data medians (in stroke order), or, for a character they lack,
the skeleton of the font's glyph.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from inkstroke.errors import InkstrokeError
from inkstroke.ink import Ink

TARGETS = ("font", "outlines")


def target_image(
    char: str, size: int = 256, font: str | Path | None = None, kind: str = "font"
) -> np.ndarray:
    """The target as a ``size`` x ``size`` float image (1 = ink), row 0 at y_up = 900.

    ``kind="font"`` renders ``font`` (default: the Kaiti that has ``char``),
    falling back to the hanzi-writer-data outlines when no font was named and
    no Kaiti has the glyph; ``kind="outlines"`` fills those outlines.
    """
    from inkstroke.io import hanzi
    from inkstroke.io.font import font_has_glyph, glyph_image

    if kind not in TARGETS:
        raise InkstrokeError(f"unknown target {kind!r}; use one of {', '.join(TARGETS)}")
    if kind == "font":
        if font is not None:
            if not font_has_glyph(char, font):
                raise InkstrokeError(
                    f"{font}: the font has no glyph for {char!r} (U+{ord(char):04X})"
                )
            return glyph_image(char, font, size).astype(np.float32)
        try:
            return glyph_image(char, hanzi.kaiti_font_path(char), size).astype(np.float32)
        except InkstrokeError as font_error:
            try:
                return hanzi.outline_image(char, size).astype(np.float32)
            except InkstrokeError as data_error:
                raise InkstrokeError(
                    f"{char!r} has neither a glyph ({font_error}) nor stroke data ({data_error})"
                ) from None
    return hanzi.outline_image(char, size).astype(np.float32)


def start_lines(char: str, font: str | Path | None = None) -> Ink:
    """Centre lines to start from, in the raw mmah frame (y up): the medians,
    else the skeleton of the glyph in ``font`` (default: a Kaiti that has it)."""
    from inkstroke.io import hanzi
    from inkstroke.io.font import glyph_centerlines

    try:
        return hanzi.character_ink(char)
    except InkstrokeError as data_error:
        missing = data_error
    try:
        path = font if font is not None else hanzi.kaiti_font_path(char)
        lines = glyph_centerlines(char, path, size=256)
    except InkstrokeError as font_error:
        raise InkstrokeError(
            f"{char!r} has neither stroke data ({missing}) nor a glyph ({font_error})"
        ) from None
    if not lines.strokes:
        raise InkstrokeError(f"{char!r} has no stroke data and its glyph in {path} is blank")
    return lines


def _ink_box(image: np.ndarray) -> np.ndarray | None:
    """(x0, y0_up, x1, y1_up) of the inked pixels of an mmah-frame picture, in frame units."""
    rows, cols = np.nonzero(image > 0.5)
    if len(rows) == 0:
        return None
    per = 1024.0 / image.shape[0]
    return np.array(
        [
            cols.min() * per,
            900 - (rows.max() + 1) * per,
            (cols.max() + 1) * per,
            900 - rows.min() * per,
        ]
    )


def fit_lines_to(lines: Ink, char: str, target: np.ndarray) -> Ink:
    """Medians moved and stretched so that the Kaiti they were traced from
    covers the same box as ``target``: another font places and proportions
    its glyphs differently, and a start that misses the target strokes
    would be pulled onto the wrong ones."""
    from inkstroke.io import hanzi

    have, want = _ink_box(hanzi.outline_image(char, target.shape[0])), _ink_box(target)
    if have is None or want is None:
        return lines
    scale = (want[2:] - want[:2]) / np.maximum(have[2:] - have[:2], 1e-9)
    return lines.copy(strokes=[(s - have[:2]) * scale + want[:2] for s in lines.strokes])
