"""G-code for GRBL-style pen plotters.

The program is plain: millimetres and absolute coordinates (G21, G90), rapid
G0 moves between strokes, G1 with a feed rate while drawing, and the pen
lowered and raised either by a servo (M3 S…/M5 with a dwell) or by the Z axis.
Which of those a machine wants, and its bed and speed limits, come from a
profile (see :mod:`inkstroke.robot.machine`); the ink must already be placed on
the paper (:func:`inkstroke.robot.frame.place`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from inkstroke.errors import InkstrokeError
from inkstroke.ink import Ink
from inkstroke.robot.frame import Paper, is_depth_ink
from inkstroke.robot.machine import load_profile_data, require


@dataclass(frozen=True)
class PlotterProfile:
    """A GRBL plotter: bed, pen mechanism and feed limits (mm, mm/min)."""

    name: str
    bed_mm: tuple[float, float]
    pen_mode: str  # "servo" or "z"
    pen_down: tuple[str, ...] = ()  # servo commands
    pen_up: tuple[str, ...] = ()
    z_up_mm: float = 5.0
    z_down_mm: float = 0.0
    z_feed_mm_min: float = 600.0
    max_depth_mm: float = 0.0
    draw_feed_mm_min: float = 1500.0
    max_feed_mm_min: float = 5000.0
    header: tuple[str, ...] = ("G21", "G90")
    footer: tuple[str, ...] = ()
    decimals: int = 3
    description: str = ""

    @classmethod
    def load(cls, spec: str | Path) -> PlotterProfile:
        """A shipped profile by name (``grbl-servo``, ``grbl-z``) or a JSON file."""
        data, where = load_profile_data(spec, "plotter")
        bed = require(data, "bed_mm", where, list)
        pen = data.get("pen")
        if not isinstance(pen, dict) or pen.get("mode") not in ("servo", "z"):
            raise InkstrokeError(f"{where}: 'pen' must be an object with mode 'servo' or 'z'")
        mode, pen_where = pen["mode"], f"{where}: pen"
        extra = {}
        if mode == "servo":
            extra["pen_down"] = tuple(require(pen, "down", pen_where, list))
            extra["pen_up"] = tuple(require(pen, "up", pen_where, list))
        else:
            extra["z_up_mm"] = require(pen, "up_mm", pen_where)
            extra["z_down_mm"] = require(pen, "down_mm", pen_where)
            extra["z_feed_mm_min"] = require(pen, "z_feed_mm_min", pen_where, positive=True)
            extra["max_depth_mm"] = float(pen.get("max_depth_mm", 0.0))
            if extra["z_up_mm"] <= extra["z_down_mm"]:
                raise InkstrokeError(f"{pen_where}: up_mm must lie above down_mm")
        if len(bed) != 2:
            raise InkstrokeError(f"{where}: 'bed_mm' must be [width, height]")
        decimals = data.get("decimals", 3)
        if not isinstance(decimals, int) or not 0 <= decimals <= 6:
            raise InkstrokeError(f"{where}: 'decimals' must be a whole number from 0 to 6, got {decimals!r}")
        return cls(
            name=str(data.get("name", spec)),
            bed_mm=(float(bed[0]), float(bed[1])),
            pen_mode=mode,
            draw_feed_mm_min=require(data, "draw_feed_mm_min", where, positive=True),
            max_feed_mm_min=require(data, "max_feed_mm_min", where, positive=True),
            header=tuple(data.get("header", ("G21", "G90"))),
            footer=tuple(data.get("footer", ())),
            decimals=decimals,
            description=str(data.get("description", "")),
            **extra,
        )


def to_gcode(
    ink: Ink, paper: Paper, profile: PlotterProfile, feed_mm_min: float | None = None
) -> str:
    """The G-code program that draws a placed ink (paper frame, mm) stroke by stroke.

    Everything is checked before the first line is written: the feed against
    the profile's limit, the paper against the bed, a brush depth against the
    Z travel. A depth ink on a Z machine presses below the contact height.
    """
    if ink.units != "mm":
        raise InkstrokeError(f"G-code needs an ink placed on paper in mm, got units {ink.units!r}")
    feed = profile.draw_feed_mm_min if feed_mm_min is None else float(feed_mm_min)
    if not 0 < feed <= profile.max_feed_mm_min:
        raise InkstrokeError(
            f"feed {feed:g} mm/min is beyond the limits of profile {profile.name} "
            f"(0 < feed <= {profile.max_feed_mm_min:g} mm/min)"
        )
    ox, oy = paper.origin_mm
    bw, bh = profile.bed_mm
    if ox < 0 or oy < 0 or ox + paper.width_mm > bw or oy + paper.height_mm > bh:
        raise InkstrokeError(
            f"{paper.describe()} at ({ox:g}, {oy:g}) mm does not fit on the "
            f"{bw:g} x {bh:g} mm bed of profile {profile.name}: the machine cannot reach it"
        )
    depth = is_depth_ink(ink) and profile.pen_mode == "z"
    if depth:
        deepest = max(float(p.max()) for p in ink.pressures)
        if deepest > profile.max_depth_mm:
            raise InkstrokeError(
                f"the brush presses {deepest:.2f} mm deep, more than the {profile.max_depth_mm:g} mm "
                f"profile {profile.name} allows"
            )
    d = profile.decimals

    def num(v: float) -> str:
        text = f"{v:.{d}f}".rstrip("0").rstrip(".")
        return "0" if text in ("-0", "") else text

    def pen_up() -> list[str]:
        return (
            list(profile.pen_up) if profile.pen_mode == "servo" else [f"G0 Z{num(profile.z_up_mm)}"]
        )

    def pen_down(z: float) -> list[str]:
        if profile.pen_mode == "servo":
            return list(profile.pen_down)
        return [f"G1 Z{num(z)} F{num(profile.z_feed_mm_min)}"]

    lines = [
        f"; inkstroke G-code for profile {profile.name}, paper {paper.describe()}",
        f"; {len(ink.strokes)} strokes" + (f", text: {ink.text!r}" if ink.text else ""),
        *profile.header,
        *pen_up(),
    ]
    for i, stroke in enumerate(ink.strokes):
        xy = np.round(stroke + (ox, oy), d)
        z = profile.z_down_mm - (ink.pressures[i] if depth else np.zeros(len(xy)))
        keep = np.ones(len(xy), dtype=bool)  # repeated points would be empty moves
        keep[1:] = np.any(np.diff(np.column_stack([xy, np.round(z, d)]), axis=0) != 0, axis=1)
        xy, z = xy[keep], z[keep]
        lines.append(f"G0 X{num(xy[0, 0])} Y{num(xy[0, 1])}")
        lines += pen_down(z[0])
        for k in range(1, len(xy)):
            move = f"G1 X{num(xy[k, 0])} Y{num(xy[k, 1])}"
            if depth:
                move += f" Z{num(z[k])}"
            lines.append(move + (f" F{num(feed)}" if k == 1 else ""))
        lines += pen_up()
    lines += profile.footer
    return "\n".join(lines) + "\n"
