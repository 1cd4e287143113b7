"""Vector PDF pages of inks (reportlab), one ink per page.

An ink of known physical size (units such as ``mm``, or a UNIPEN device
resolution; see :func:`~inkstroke.render.layout.mm_per_unit`) is printed at its real
size, so a page of handwriting comes out as large as it was written; other
inks, and real-size inks too large for the page, are scaled to fill the area
inside the margins. Either way the ink is centred.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence

from reportlab.lib import pagesizes
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas

from inkstroke.errors import InkstrokeError
from inkstroke.ink import Ink
from inkstroke.io.container import atomic_write_bytes
from inkstroke.render.layout import check_stroke_width, fit, ink_box, mm_per_unit, rgb


def page_size_mm(page_size: str | tuple[float, float], landscape: bool = False) -> tuple[float, float]:
    """(width, height) in mm of a named paper size (A4, A3, letter, ...) or a (w, h) in mm."""
    if isinstance(page_size, str):
        size = getattr(pagesizes, page_size.upper(), None)
        if not (isinstance(size, tuple) and len(size) == 2):
            raise InkstrokeError(f"unknown page size {page_size!r}; use e.g. A4, A3, A5, letter or legal")
        w, h = size[0] / mm, size[1] / mm
    else:
        w, h = (float(v) for v in page_size)
    if not (w > 0 and h > 0):
        raise InkstrokeError(f"a page needs a positive size, got {page_size!r}")
    return (max(w, h), min(w, h)) if landscape else (min(w, h), max(w, h))


def pdf_bytes(
    inks: Sequence[Ink],
    page_size: str | tuple[float, float] = "A4",
    landscape: bool = False,
    margin: float = 15.0,
    stroke_width: float = 0.5,
    color: str | tuple[int, int, int] = "black",
) -> bytes:
    """A PDF document with one page per ink; lengths (margin, pen width) in mm."""
    if not inks:
        raise InkstrokeError("a PDF needs at least one ink")
    check_stroke_width(stroke_width)
    page_w, page_h = page_size_mm(page_size, landscape)
    area = (page_w - 2 * margin, page_h - 2 * margin)
    if min(area) <= 0:
        raise InkstrokeError(f"a margin of {margin} mm leaves no room on a {page_w:.0f}x{page_h:.0f} mm page")
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=(page_w * mm, page_h * mm), invariant=1)
    pdf.setCreator("inkstroke")
    if inks[0].text:
        pdf.setTitle(inks[0].text)
    r, g, b = rgb(color)
    for ink in inks:
        ink = ink.y_down()
        x0, y0, x1, y1 = ink_box(ink)
        scale = mm_per_unit(ink)
        if scale is None or (x1 - x0) * scale > area[0] or (y1 - y0) * scale > area[1]:
            scale = fit(ink, width=area[0], height=area[1]).scale
        placement = fit(ink, width=page_w, height=page_h, scale=scale)
        pdf.setLineWidth(stroke_width * mm)
        pdf.setLineCap(1)  # round caps also make one-point strokes visible dots
        pdf.setLineJoin(1)
        pdf.setStrokeColorRGB(r / 255, g / 255, b / 255)
        for stroke in ink.strokes:
            if len(stroke) == 0:
                continue
            pts = placement.apply(stroke)
            path = pdf.beginPath()
            path.moveTo(pts[0, 0] * mm, (page_h - pts[0, 1]) * mm)
            for x, y in pts[1:] if len(pts) > 1 else pts:
                path.lineTo(x * mm, (page_h - y) * mm)
            pdf.drawPath(path, stroke=1, fill=0)
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def save_pdf(inks_pages: Sequence[Ink] | Ink, path: str | os.PathLike, **opts) -> None:
    """Write :func:`pdf_bytes` of the inks (or of one ink) to ``path`` atomically."""
    pages = [inks_pages] if isinstance(inks_pages, Ink) else list(inks_pages)
    data = pdf_bytes(pages, **opts)
    atomic_write_bytes(path, lambda f: f.write(data))
