"""The paper frame: where, in millimetres, a machine puts the ink.

Every machine output starts from the same step: an :class:`~inkstroke.ink.Ink`
in whatever units it was captured in (tablet counts, the 1024 Make Me a Hanzi
frame, normalised model output) is mapped onto a sheet of paper. The *paper
frame* has its origin at the sheet's bottom-left corner, x to the right and y
up the page, in millimetres, the convention of CNC machines and GRBL. Each
machine then adds its own pose of the sheet: a plotter an offset on its bed,
an arm a position and yaw on its table.

A brush trajectory carries its press depth in ``Ink.pressures`` with
``meta["pressure"] == "depth"``; the depth is a length in the same units as x
and y, so placing the ink scales it with the same factor.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

import numpy as np

from inkstroke.errors import InkstrokeError
from inkstroke.ink import Ink

# ISO 216 and US sizes, portrait (width, height) in mm.
PAPER_SIZES: dict[str, tuple[float, float]] = {
    "A2": (420.0, 594.0),
    "A3": (297.0, 420.0),
    "A4": (210.0, 297.0),
    "A5": (148.0, 210.0),
    "A6": (105.0, 148.0),
    "letter": (215.9, 279.4),
    "legal": (215.9, 355.6),
}

Orientation = Literal["portrait", "landscape"]
Align = Literal["center", "top-left"]


@dataclass(frozen=True)
class Paper:
    """A sheet: its size and margins in mm, and where its corner lies on a plotter bed."""

    width_mm: float
    height_mm: float
    margin_mm: float = 10.0
    origin_mm: tuple[float, float] = (0.0, 0.0)  # bottom-left corner in machine coordinates
    name: str = "custom"

    def __post_init__(self) -> None:
        if not (self.width_mm > 0 and self.height_mm > 0):
            raise InkstrokeError(
                f"paper {self.name}: size must be positive, got {self.width_mm} x {self.height_mm} mm"
            )
        if self.margin_mm < 0 or 2 * self.margin_mm >= min(self.width_mm, self.height_mm):
            raise InkstrokeError(
                f"paper {self.name}: a margin of {self.margin_mm} mm leaves nothing of "
                f"{self.width_mm:g} x {self.height_mm:g} mm to write on"
            )

    @classmethod
    def parse(
        cls,
        spec: str,
        orientation: Orientation = "portrait",
        margin_mm: float = 10.0,
        origin_mm: tuple[float, float] = (0.0, 0.0),
    ) -> Paper:
        """A paper from a name (``A4``, ``letter``) or ``WIDTHxHEIGHT`` in mm; the
        orientation decides which side is the longer one."""
        key = {k.lower(): k for k in PAPER_SIZES}.get(spec.strip().lower())
        if key is not None:
            w, h = PAPER_SIZES[key]
        else:
            m = re.fullmatch(r"\s*([0-9.]+)\s*[xX]\s*([0-9.]+)\s*(mm)?\s*", spec)
            if m is None:
                raise InkstrokeError(
                    f"paper {spec!r}: use a name ({', '.join(PAPER_SIZES)}) or WIDTHxHEIGHT in mm"
                )
            w, h, key = float(m[1]), float(m[2]), f"{m[1]}x{m[2]}mm"
        if orientation not in ("portrait", "landscape"):
            raise InkstrokeError(f"orientation must be portrait or landscape, got {orientation!r}")
        if (orientation == "landscape") != (w > h):
            w, h = h, w
        return cls(w, h, margin_mm, origin_mm, name=f"{key} {orientation}")

    @property
    def printable(self) -> tuple[float, float, float, float]:
        """(xmin, ymin, xmax, ymax) of the area inside the margins, paper frame."""
        m = self.margin_mm
        return m, m, self.width_mm - m, self.height_mm - m

    def describe(self) -> str:
        return (
            f"{self.name} ({self.width_mm:g} x {self.height_mm:g} mm, margin {self.margin_mm:g} mm)"
        )


def is_depth_ink(ink: Ink) -> bool:
    """Whether ``ink.pressures`` holds a brush press depth (a length), not a force."""
    return ink.pressures is not None and ink.meta.get("pressure") == "depth"


def place(
    ink: Ink,
    paper: Paper,
    scale: float | None = None,
    height_mm: float | None = None,
    align: Align = "center",
) -> Ink:
    """The ink on ``paper`` in millimetres, paper frame (y up), aspect ratio kept.

    By default it is scaled to fill the printable area. ``scale`` (mm per ink
    unit) or ``height_mm`` (height of the ink's bounding box) fix the size
    instead, and an ink that then does not fit raises rather than being cut.
    The scale used is kept in ``meta["mm_per_unit"]``.
    """
    if ink.num_points == 0:
        raise InkstrokeError("the ink has no points to place on the paper")
    ink.check_finite("ink")
    if scale is not None and height_mm is not None:
        raise InkstrokeError("give a scale or a height, not both")
    x0, y0, x1, y1 = ink.bounds()
    w, h = x1 - x0, y1 - y0
    px0, py0, px1, py1 = paper.printable
    pw, ph = px1 - px0, py1 - py0
    if height_mm is not None:
        if height_mm <= 0:
            raise InkstrokeError(f"height must be positive, got {height_mm} mm")
        if h == 0:
            raise InkstrokeError("the ink is flat (no height): give a scale instead of a height")
        scale = height_mm / h
    if scale is None:
        fits = [s for s in (pw / w if w > 0 else None, ph / h if h > 0 else None) if s is not None]
        scale = min(fits) if fits else 1.0
    elif scale <= 0 or not np.isfinite(scale):
        raise InkstrokeError(f"scale must be a positive number, got {scale}")
    elif w * scale > pw * (1 + 1e-9) or h * scale > ph * (1 + 1e-9):
        raise InkstrokeError(
            f"the text does not fit on the paper: it needs {w * scale:.1f} x {h * scale:.1f} mm, "
            f"and {paper.describe()} leaves {pw:g} x {ph:g} mm inside the margins"
        )
    flip = -1.0 if ink.y_axis == "down" else 1.0
    # Top of the ink (its smallest y when y grows down) lands on the top of the box.
    top = y0 if ink.y_axis == "down" else y1
    if align == "center":
        ox = px0 + (pw - w * scale) / 2 - x0 * scale
        oy = py1 - (ph - h * scale) / 2 - flip * top * scale
    elif align == "top-left":
        ox = px0 - x0 * scale
        oy = py1 - flip * top * scale
    else:
        raise InkstrokeError(f"align must be center or top-left, got {align!r}")
    placed = ink.transform(np.diag([scale, flip * scale]), (ox, oy))
    if is_depth_ink(ink):
        placed.pressures = [p * scale for p in ink.pressures]
    placed.y_axis, placed.units = "up", "mm"
    placed.meta["mm_per_unit"] = scale
    return placed
