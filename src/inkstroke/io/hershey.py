"""Hershey vector fonts: single-line strokes for any ASCII text.

The Hershey fonts (1967) were drawn for pen plotters, so each glyph is already
a pen path, not an outline. That makes them a cheap, deterministic stand-in for
handwriting: a baseline for synthesis, a test pattern for plotters and robots.

Coordinates are the package's own: y grows downward, the baseline at y = 9 and
the cap line at y = -12 for ``futural`` (stored per ink in ``meta``).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from inkstroke.errors import InkstrokeError
from inkstroke.ink import Ink


@functools.lru_cache(maxsize=8)
def _font(name: str):
    from HersheyFonts import HersheyFonts

    font = HersheyFonts()
    if name not in font.default_font_names:
        raise InkstrokeError(
            f"unknown Hershey font {name!r}; choose one of {', '.join(font.default_font_names)}"
        )
    font.load_default_font(name)
    return font


def hershey_ink(text: str, font: str = "futural") -> Ink:
    """``text`` set in a Hershey font as one ink (y down, package units).

    A stroke that starts where the previous one ended continues it, so the
    joined letters of ``cursive`` and ``scripts`` come out as connected pen paths.
    """
    hf = _font(font)
    for i, char in enumerate(text):
        if char not in hf.all_glyphs:
            raise InkstrokeError(
                f"the Hershey font {font!r} has no glyph for {char!r} (position {i} of {text!r})"
            )
    strokes: list[np.ndarray] = []
    for stroke in hf.strokes_for_text(text):
        points = np.asarray(stroke, dtype=np.float64)
        if strokes and np.array_equal(strokes[-1][-1], points[0]):
            strokes[-1] = np.vstack([strokes[-1], points[1:]])
        else:
            strokes.append(points)
    opts = hf.render_options
    meta = {
        "font": font,
        "base_line": float(opts["base_line"]),
        "cap_line": float(opts["cap_line"]),
    }
    return Ink(strokes, text=text, source="hershey", units="hershey", y_axis="down", meta=meta)


def iter_hershey(path: str | Path, font: str = "futural") -> Iterator[Ink]:
    """One ink per non-empty line of a UTF-8 text file."""
    path = Path(path)
    if not path.is_file():
        raise InkstrokeError(f"{path}: no such file")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as e:
        raise InkstrokeError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from None
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            ink = hershey_ink(line, font)
        except InkstrokeError as e:
            raise InkstrokeError(f"{path}:{lineno}: {e}") from None
        yield ink
