"""Every file the CLI writes, as bytes for an HTTP response.

The renderers write files atomically; here they write into a private
temporary folder and the bytes are handed back, so the server and the CLI
share one code path per format and can never drift apart.
"""

from __future__ import annotations

import re
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from inkstroke.errors import InkstrokeError
from inkstroke.ink import Ink

MEDIA_TYPES = {
    "svg": "image/svg+xml",
    "png": "image/png",
    "gif": "image/gif",
    "pdf": "application/pdf",
    "json": "application/json",
    "inkml": "application/inkml+xml",
    "gcode": "text/x-gcode",
}
FORMATS = tuple(MEDIA_TYPES)
SUFFIX = {fmt: "nc" if fmt == "gcode" else fmt for fmt in FORMATS}
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 _.-]{0,99}")


def check_name(name: str) -> str:
    """A download name is a plain file stem: never a path, never hidden, never ``..``."""
    if not NAME.fullmatch(name) or ".." in name:
        raise InkstrokeError(
            f"download name {name[:60]!r} is not a plain file name: use up to 100 letters, "
            "digits, spaces, '_', '-' or '.', starting with a letter or digit, without '..' or '/'"
        )
    return name


def _via_file(ink: Ink, suffix: str, **opts) -> bytes:
    from inkstroke.render import save_ink

    with tempfile.TemporaryDirectory(prefix="inkstroke-studio-") as tmp:
        path = Path(tmp) / f"out.{suffix}"
        save_ink(ink, path, **opts)
        return path.read_bytes()


def gcode_text(ink: Ink, paper: str = "A4", profile: str = "grbl-servo") -> str:
    """G-code of an ink: a page in mm keeps its place on its own sheet; anything
    else is placed on ``paper`` (landscape), at its real size when it has one and
    that fits, filling the printable area otherwise."""
    from inkstroke.render.layout import mm_per_unit
    from inkstroke.robot.frame import Paper, place
    from inkstroke.robot.gcode import PlotterProfile, to_gcode
    from inkstroke.robot.order import plan_order

    machine = PlotterProfile.load(profile)
    page = ink.meta.get("page_mm")
    if ink.units == "mm" and page:
        w, h = float(page[0]), float(page[1])
        sheet = Paper(w, h, margin_mm=0.0, name="page")
        placed = ink.y_down().transform(np.diag([1.0, -1.0]), (0.0, h)).copy(y_axis="up")
    else:
        sheet = Paper.parse(paper, orientation="landscape")
        scale = mm_per_unit(ink)
        try:
            placed = place(ink, sheet, scale=scale)
        except InkstrokeError:  # too big at its real size: fill the sheet instead
            placed = place(ink, sheet)
    placed, _, _ = plan_order(placed, (0.0, 0.0))
    return to_gcode(placed, sheet, machine)


def ink_bytes(ink: Ink, fmt: str) -> bytes:
    """One ink as a file of format ``fmt`` (one of :data:`FORMATS`)."""
    if ink.num_points == 0:
        raise InkstrokeError("the ink has no points to write")
    ink.check_finite("ink")
    if fmt == "gcode":
        return gcode_text(ink).encode()
    if fmt not in MEDIA_TYPES:
        raise InkstrokeError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    opts: dict = {}
    if ink.units == "mm" and ink.meta.get("page_mm") and fmt == "svg":
        opts = {"units": "mm", "stroke_width": 0.35}
    return _via_file(ink, fmt, **opts)


def pages_bytes(pages: Sequence[Ink], fmt: str, page: int = 1) -> bytes:
    """A document of pages: a PDF holds them all, other formats show page ``page``."""
    if fmt == "pdf":
        from inkstroke.render.pdf import pdf_bytes

        w, h = pages[0].meta["page_mm"]
        return pdf_bytes(list(pages), page_size=(w, h), margin=0.0, stroke_width=0.35)
    if not 1 <= page <= len(pages):
        raise InkstrokeError(f"page {page} does not exist: the document has {len(pages)} page(s)")
    return ink_bytes(pages[page - 1], fmt)


def inks_container_bytes(inks: Sequence[Ink]) -> bytes:
    """Inks as an ``.inks`` dataset file (see :mod:`inkstroke.io.container`)."""
    from inkstroke.io.container import write_inks

    with tempfile.TemporaryDirectory(prefix="inkstroke-studio-") as tmp:
        path = Path(tmp) / "samples.inks"
        write_inks(path, inks, meta={"source": "inkstroke studio"})
        return path.read_bytes()


def _num(v: float) -> str:
    return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)  # exact round trip


def inkml_collection(inks: Sequence[Ink]) -> bytes:
    """Many inks in one InkML document: one ``traceGroup`` per ink, labelled with its
    truth and writer, which :func:`inkstroke.io.inkml.iter_inkml` reads back as
    one ink each. Channels: X, Y (CSS px), T (s) and F (pressure) where all have them."""
    from inkstroke.io.inkml import NS, XML_ID

    has_t = all(i.times is not None for i in inks)
    has_p = all(i.pressures is not None for i in inks)
    root = ET.Element("ink", xmlns=NS)
    fmt = ET.SubElement(root, "traceFormat")
    units = {i.units for i in inks}
    unit = units.pop() if len(units) == 1 else "unit"
    for name in ("X", "Y"):
        ch = ET.SubElement(fmt, "channel", name=name, type="decimal")
        if unit != "unit":
            ch.set("units", unit)
    if has_t:
        ET.SubElement(fmt, "channel", name="T", type="decimal", units="s")
    if has_p:
        ET.SubElement(fmt, "channel", name="F", type="decimal")
    trace_no = 0
    for k, ink in enumerate(inks):
        ink = ink.y_down()
        ink.check_finite(f"sample {k}")
        group = ET.SubElement(root, "traceGroup", {XML_ID: f"s{ink.meta.get('sample_id', k)}"})
        ET.SubElement(group, "annotation", type="truth").text = ink.text or ""
        if ink.writer:
            ET.SubElement(group, "annotation", type="writer").text = ink.writer
        for i, s in enumerate(ink.strokes):
            columns = [s[:, 0], s[:, 1]]
            if has_t:
                columns.append(ink.times[i])
            if has_p:
                columns.append(ink.pressures[i])
            rows = np.column_stack(columns).tolist()
            trace = ET.SubElement(group, "trace", {XML_ID: f"t{trace_no}"})
            trace.text = ", ".join(" ".join(_num(v) for v in row) for row in rows)
            trace_no += 1
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"
