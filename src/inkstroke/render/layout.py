"""Placing an ink on a canvas, shared by every renderer.

All renderers draw y-down inks and fit them into their canvas the same way, so
that a PNG, an SVG and a GIF frame of one ink line up pixel for pixel, and a
test can undo the placement with :meth:`Fit.invert`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import ImageColor

from inkstroke.errors import InkstrokeError
from inkstroke.ink import Ink

DEFAULT_HEIGHT = 256  # canvas units (px), when no size is asked for
# Millimetres per ink unit for the units a plotter or printer can honour.
MM_PER_UNIT = {"mm": 1.0, "cm": 10.0, "m": 1000.0, "um": 0.001, "in": 25.4, "inch": 25.4, "pt": 25.4 / 72}


@dataclass(frozen=True)
class Fit:
    """Maps y-down ink coordinates to canvas coordinates: ``p -> p * scale + offset``."""

    scale: float
    offset: tuple[float, float]
    width: float
    height: float

    def apply(self, points: np.ndarray) -> np.ndarray:
        return np.asarray(points, dtype=np.float64) * self.scale + np.asarray(self.offset)

    def invert(self, points: np.ndarray) -> np.ndarray:
        return (np.asarray(points, dtype=np.float64) - np.asarray(self.offset)) / self.scale


def mm_per_unit(ink: Ink) -> float | None:
    """Millimetres per ink unit, if the ink has a physical size.

    Either its units are a length, or (UNIPEN) its meta holds the device
    resolution ``ppi`` with the same ``ppi_y``; otherwise None.
    """
    if ink.units in MM_PER_UNIT:
        return MM_PER_UNIT[ink.units]
    ppi, ppi_y = ink.meta.get("ppi"), ink.meta.get("ppi_y", ink.meta.get("ppi"))
    if isinstance(ppi, (int, float)) and isinstance(ppi_y, (int, float)) and ppi > 0 and ppi == ppi_y:
        return 25.4 / ppi
    return None


def ink_box(ink: Ink) -> tuple[float, float, float, float]:
    """Bounds of the y-down ink; an empty ink is a point at the origin.

    A page written by :mod:`inkstroke.write` carries ``meta["page_mm"]``: its box
    is then the whole page, so margins and line positions survive rendering.
    """
    if "page_mm" in ink.meta and ink.y_axis == "down":
        w, h = ink.meta["page_mm"]
        return 0.0, 0.0, float(w), float(h)
    ink = ink.y_down()
    return ink.bounds() if ink.num_points else (0.0, 0.0, 0.0, 0.0)


def fit(
    ink: Ink,
    width: float | None = None,
    height: float | None = None,
    margin: float = 0.0,
    scale: float | None = None,
) -> Fit:
    """Scale and centre the y-down ink in a canvas, keeping its aspect ratio.

    ``scale`` fixes the size (canvas units per ink unit); otherwise the ink fills
    ``width`` and/or ``height`` less ``margin`` on each side. A side that is not
    given grows to hold the ink. A flat ink (a dash or a dot) is sized by its
    other side, so that it never divides by zero.
    """
    x0, y0, x1, y1 = ink_box(ink)
    w, h = x1 - x0, y1 - y0
    if scale is None:
        if width is None and height is None:
            raise InkstrokeError("give a width, a height or a scale to fit an ink into")
        fits = []
        if width is not None:
            fits.append((width - 2 * margin) / (w if w > 0 else h if h > 0 else 1.0))
        if height is not None:
            fits.append((height - 2 * margin) / (h if h > 0 else w if w > 0 else 1.0))
        scale = min(fits)
    if not scale > 0 or not math.isfinite(scale):
        raise InkstrokeError(f"canvas too small for a margin of {margin}: width={width}, height={height}")
    canvas_w = width if width is not None else w * scale + 2 * margin
    canvas_h = height if height is not None else h * scale + 2 * margin
    offset = (
        (canvas_w - w * scale) / 2 - x0 * scale,
        (canvas_h - h * scale) / 2 - y0 * scale,
    )
    return Fit(float(scale), (float(offset[0]), float(offset[1])), float(canvas_w), float(canvas_h))


def check_stroke_width(stroke_width: float) -> None:
    """Every renderer's one rule for the pen: a positive, finite width (NaN
    used to slip past ``<= 0`` and fail later with a message about margins)."""
    if not (math.isfinite(stroke_width) and stroke_width > 0):
        raise InkstrokeError(f"stroke width must be a positive number, got {stroke_width:g}")


def rgb(color: str | tuple[int, int, int]) -> tuple[int, int, int]:
    """A colour name, ``#rrggbb`` or an (r, g, b) tuple as three 0-255 ints."""
    if isinstance(color, str):
        try:
            value = ImageColor.getrgb(color)
        except ValueError:
            raise InkstrokeError(f"unknown colour {color!r}; use a CSS name or #rrggbb") from None
    else:
        value = tuple(color)
    if len(value) < 3 or not all(isinstance(c, (int, np.integer)) and 0 <= c <= 255 for c in value[:3]):
        raise InkstrokeError(f"a colour needs three values 0-255, got {color!r}")
    return int(value[0]), int(value[1]), int(value[2])
