"""Anti-aliased raster pictures of inks (PNG), also used by the GIF writer and
by the legibility judge (``render_for_ocr``).

Pillow draws aliased lines only, so strokes are drawn as a coverage mask on a
canvas ``supersample`` times larger and box-averaged down: each output pixel
gets the fraction of it the pen covered, which then blends the stroke colour
over the background.
"""

from __future__ import annotations

import math
import os
from typing import Literal

import numpy as np
from PIL import Image, ImageDraw

from inkstroke.errors import InkstrokeError
from inkstroke.ink import Ink
from inkstroke.io.container import atomic_write_bytes
from inkstroke.render.layout import DEFAULT_HEIGHT, Fit, check_stroke_width, fit, rgb

Color = str | tuple[int, int, int]
MAX_PIXELS = 64_000_000  # of the output picture; a mistaken scale should fail, not swap


def raster_fit(
    ink: Ink,
    height: float | None = None,
    width: float | None = None,
    ink_height: float | None = None,
    ink_height_of: Literal["bbox", "body"] = "bbox",
    stroke_width: float = 2.0,
    margin: float = 4.0,
) -> Fit:
    """Where the ink lands on a whole-pixel canvas.

    ``ink_height`` fixes the scale: the ink's bounding-box height (or its
    :meth:`~inkstroke.ink.Ink.body_height`, for ``ink_height_of="body"``) becomes
    that many pixels. Otherwise the ink fills ``height``/``width``. Half the pen
    width is added to ``margin`` so that no stroke is clipped at the border.
    """
    pad = margin + stroke_width / 2
    scale = None
    if ink_height is not None:
        if not (math.isfinite(ink_height) and ink_height > 0):
            raise InkstrokeError(f"ink height must be a positive number of pixels, got {ink_height:g}")
        ink = ink.y_down()
        if ink_height_of == "body":
            extent = ink.body_height() if ink.num_points else 1.0
        elif ink_height_of == "bbox":
            x0, y0, x1, y1 = ink.bounds() if ink.num_points else (0, 0, 0, 0)
            extent = (y1 - y0) or (x1 - x0) or 1.0
        else:
            raise InkstrokeError(f"ink_height_of must be 'bbox' or 'body', got {ink_height_of!r}")
        scale = ink_height / extent
    elif height is None and width is None:
        height = DEFAULT_HEIGHT
    placed = fit(ink, width=width, height=height, margin=pad, scale=scale)
    w, h = max(1, math.ceil(placed.width - 1e-9)), max(1, math.ceil(placed.height - 1e-9))
    if w * h > MAX_PIXELS:
        raise InkstrokeError(f"a {w}x{h} px picture is too large; ask for a smaller size")
    return fit(ink, width=w, height=h, margin=pad, scale=placed.scale)


class Canvas:
    """A supersampled coverage mask on which y-down ink polylines are drawn with a
    round pen; :meth:`to_array` reads it back anti-aliased at the fitted size."""

    def __init__(self, placement: Fit, stroke_width: float, supersample: int = 4):
        self.fit = placement
        self.size = (int(placement.width), int(placement.height))
        ss = max(1, supersample)
        while ss > 1 and self.size[0] * self.size[1] * ss * ss > 4 * MAX_PIXELS:
            ss -= 1
        self.ss = ss
        self.pen = max(1, round(stroke_width * ss))
        self.mask = Image.new("L", (self.size[0] * ss, self.size[1] * ss), 0)
        self.draw = ImageDraw.Draw(self.mask)

    def polyline(self, points: np.ndarray) -> None:
        """Draw one pen-down trace given in y-down ink coordinates."""
        if len(points) == 0:
            return
        px = self.fit.apply(points) * self.ss
        keep = np.concatenate([[True], np.any(np.diff(px, axis=0) != 0, axis=1)])
        px = px[keep]
        if len(px) > 1:
            self.draw.line([tuple(p) for p in px.tolist()], fill=255, width=self.pen, joint="curve")
        r = self.pen / 2
        for x, y in (px[0], px[-1]):
            self.draw.ellipse([x - r, y - r, x + r, y + r], fill=255)

    def coverage(self) -> np.ndarray:
        """Fraction of each output pixel under the pen, float32 in [0, 1]."""
        small = self.mask.reduce(self.ss) if self.ss > 1 else self.mask
        return np.asarray(small, dtype=np.float32) / 255.0

    def to_array(self, color: Color = (0, 0, 0), background: Color = (255, 255, 255)) -> np.ndarray:
        a = self.coverage()[..., None]
        fg = np.asarray(rgb(color), dtype=np.float32)
        bg = np.asarray(rgb(background), dtype=np.float32)
        return np.rint(bg + (fg - bg) * a).astype(np.uint8)


def render_png_array(
    ink: Ink,
    height: float | None = None,
    width: float | None = None,
    ink_height: float | None = None,
    stroke_width: float = 2.0,
    color: Color = (0, 0, 0),
    background: Color = (255, 255, 255),
    margin: float = 4.0,
    ink_height_of: Literal["bbox", "body"] = "bbox",
) -> np.ndarray:
    """The ink as an anti-aliased (H, W, 3) uint8 picture; sizes in pixels.

    With no size at all the picture is :data:`~inkstroke.render.layout.DEFAULT_HEIGHT` px tall.
    """
    check_stroke_width(stroke_width)
    ink = ink.y_down()
    canvas = Canvas(
        raster_fit(ink, height, width, ink_height, ink_height_of, stroke_width, margin), stroke_width
    )
    for stroke in ink.strokes:
        canvas.polyline(stroke)
    return canvas.to_array(color, background)


def render_for_ocr(
    ink: Ink, ink_height: float = 48, stroke_width: float = 2.5, margin: float = 12.0
) -> Image.Image:
    """Thin black strokes on white, the full ink height scaled to ``ink_height`` px.

    This is the one rendering the legibility judge reads with OCR, so that
    human lines and model samples are compared under the same conditions.
    """
    array = render_png_array(ink, ink_height=ink_height, stroke_width=stroke_width, margin=margin)
    return Image.fromarray(np.ascontiguousarray(array[..., 0]))


def save_png(ink: Ink, path: str | os.PathLike, **opts) -> None:
    """Write :func:`render_png_array` of the ink to ``path`` atomically."""
    picture = Image.fromarray(render_png_array(ink, **opts))
    atomic_write_bytes(path, lambda f: picture.save(f, format="PNG"))
