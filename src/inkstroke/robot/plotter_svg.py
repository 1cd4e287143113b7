"""SVG for plotter tool chains (vpype, the AxiDraw Inkscape extension, saxi).

Those tools read geometry, not pictures: the document is sized in mm with a
viewBox of the same numbers, so one user unit is one millimetre, and every
stroke is one unfilled ``<polyline>`` inside an Inkscape layer (vpype and
AxiDraw map layers to pens). Points are in the paper frame turned into SVG's
y-down convention; the plotter's own bed offset is not part of the file.
"""

from __future__ import annotations

import math
from xml.sax.saxutils import escape

from inkstroke.errors import InkstrokeError
from inkstroke.ink import Ink
from inkstroke.robot.frame import Paper


def plotter_svg(ink: Ink, paper: Paper, pen_width_mm: float = 0.3, decimals: int = 3) -> str:
    """The SVG document of a placed ink (paper frame, mm)."""
    if not (math.isfinite(pen_width_mm) and pen_width_mm > 0):
        raise InkstrokeError(f"pen width must be a positive number of mm, got {pen_width_mm:g}")
    if ink.units != "mm":
        raise InkstrokeError(
            f"plotter SVG needs an ink placed on paper in mm, got units {ink.units!r}"
        )
    w, h = paper.width_mm, paper.height_mm
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" '
        f'xmlns:inkscape="http://www.inkscape.org/namespaces/inkscape" '
        f'width="{w:g}mm" height="{h:g}mm" viewBox="0 0 {w:g} {h:g}">',
        f"<title>{escape(ink.text or 'inkstroke')}</title>",
        f'<g inkscape:groupmode="layer" inkscape:label="1" fill="none" stroke="black" '
        f'stroke-width="{pen_width_mm:g}" stroke-linecap="round" stroke-linejoin="round">',
    ]
    for stroke in ink.strokes:
        if len(stroke) == 1:  # a dot: a zero-length line that a plotter still lowers the pen for
            stroke = stroke.repeat(2, axis=0)
        pts = " ".join(f"{x:.{decimals}f},{h - y:.{decimals}f}" for x, y in stroke)
        out.append(f'<polyline points="{pts}"/>')
    out += ["</g>", "</svg>"]
    return "\n".join(out) + "\n"
