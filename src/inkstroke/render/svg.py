"""SVG pictures of inks, written for pen plotters as much as for browsers.

Each stroke is one ``<path>`` of straight moves (``M x y L x y ...``) with no
fill, so plotter software (vpype, AxiDraw, Inkscape) draws exactly the pen
path in the writing order. With ``units="mm"`` the document has physical size
and one user unit is one millimetre.
"""

from __future__ import annotations

import os
from xml.sax.saxutils import escape

import numpy as np

from inkstroke.errors import InkstrokeError
from inkstroke.ink import Ink
from inkstroke.io.container import atomic_write_bytes
from inkstroke.render.layout import DEFAULT_HEIGHT, Fit, check_stroke_width, fit, mm_per_unit, rgb

PRESSURE_LEVELS = 16  # distinct widths: neighbouring segments of one level share a path
DEFAULTS = {  # per output unit; digits after the point: 1/100 px, 1/1000 mm
    "px": {"stroke_width": 2.0, "margin": 4.0, "digits": 2},
    "mm": {"stroke_width": 0.5, "margin": 2.0, "digits": 3},
}


def svg_fit(
    ink: Ink,
    width: float | None = None,
    height: float | None = None,
    units: str | None = None,
    stroke_width: float | None = None,
    margin: float | None = None,
) -> Fit:
    """Where :func:`ink_to_svg` puts the ink, in output units (px or mm)."""
    units = "px" if units is None else units
    if units not in DEFAULTS:
        raise InkstrokeError(f"SVG units must be 'px' or 'mm', got {units!r}")
    stroke_width = DEFAULTS[units]["stroke_width"] if stroke_width is None else stroke_width
    pad = (DEFAULTS[units]["margin"] if margin is None else margin) + stroke_width / 2
    if width is not None or height is not None:
        return fit(ink, width=width, height=height, margin=pad)
    if units == "mm":
        scale = mm_per_unit(ink)
        if scale is None:
            raise InkstrokeError(
                f"the ink's size is unknown (units {ink.units!r}, no device ppi); "
                "give a width or height in mm to fit it"
            )
        return fit(ink, margin=pad, scale=scale)
    return fit(ink, height=DEFAULT_HEIGHT, margin=pad)


def ink_to_svg(
    ink: Ink,
    stroke_width: float | None = None,
    color: str | tuple[int, int, int] = "black",
    width: float | None = None,
    height: float | None = None,
    units: str | None = None,
    pressure_width: bool = False,
    margin: float | None = None,
) -> str:
    """The ink as an SVG document.

    Sizes are in ``units``: ``"px"`` (default) or ``"mm"``. With no width or
    height, a px picture is 256 px tall and a mm picture has the ink's real
    size (see :func:`~inkstroke.render.layout.mm_per_unit`). ``pressure_width``
    draws each stroke as runs of segments whose width follows the pen pressure
    (up to ``stroke_width``); inks without pressure keep a constant width.
    """
    units = "px" if units is None else units
    if stroke_width is not None:
        check_stroke_width(stroke_width)
    placement = svg_fit(ink, width, height, units, stroke_width, margin)
    stroke_width = DEFAULTS[units]["stroke_width"] if stroke_width is None else stroke_width
    digits = DEFAULTS[units]["digits"]
    ink = ink.y_down()

    def num(v: float) -> str:
        text = f"{v:.{digits}f}".rstrip("0").rstrip(".")
        return "0" if text == "-0" else text

    def path(points: np.ndarray, extra: str = "") -> str:
        xy = [f"{num(x)} {num(y)}" for x, y in placement.apply(points)]
        if len(xy) == 1:  # a dot: a zero-length line that the round cap makes visible
            xy.append(xy[0])
        return f'<path d="M {xy[0]} L {" ".join(xy[1:])}"{extra}/>'

    paths = []
    peak = max((float(p.max()) for p in ink.pressures or [] if len(p)), default=0.0)
    for i, stroke in enumerate(ink.strokes):
        if len(stroke) == 0:
            continue
        if not pressure_width or peak <= 0 or len(stroke) < 2:
            paths.append(path(stroke))
            continue
        p = np.clip(ink.pressures[i] / peak, 0.0, 1.0)
        level = np.clip(np.ceil((p[:-1] + p[1:]) / 2 * PRESSURE_LEVELS), 1, PRESSURE_LEVELS)
        cuts = np.flatnonzero(np.diff(level)) + 1
        for a, b in zip(np.concatenate([[0], cuts]), np.concatenate([cuts, [len(level)]]), strict=True):
            w = stroke_width * level[a] / PRESSURE_LEVELS
            paths.append(path(stroke[a : b + 1], f' stroke-width="{num(w)}"'))

    size = (num(placement.width), num(placement.height))
    dims = (f"{size[0]}mm", f"{size[1]}mm") if units == "mm" else size
    r, g, b = rgb(color)
    title = f"<title>{escape(ink.text)}</title>\n" if ink.text else ""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{dims[0]}" height="{dims[1]}" '
        f'viewBox="0 0 {size[0]} {size[1]}">\n{title}'
        f'<g fill="none" stroke="#{r:02x}{g:02x}{b:02x}" stroke-width="{num(stroke_width)}" '
        'stroke-linecap="round" stroke-linejoin="round">\n' + "\n".join(paths) + "\n</g>\n</svg>\n"
    )


def save_svg(ink: Ink, path: str | os.PathLike, **opts) -> None:
    """Write :func:`ink_to_svg` of the ink to ``path`` atomically."""
    text = ink_to_svg(ink, **opts)
    atomic_write_bytes(path, lambda f: f.write(text.encode("utf-8")))
