"""IAM On-Line Handwriting Database (IAM-OnDB) reader: one ink per text line.

The database root holds::

    lineStrokes/a01/a01-000/a01-000u-01.xml   one text line of form a01-000u
    ascii/a01/a01-000/a01-000u.txt            the form's transcription
    original/a01/a01-000/strokesu.xml         (optional) the whole form, with
                                              <Form writerID="..."> in <General>
    forms.txt                                 (optional) "form-id writer-id ..." per line

A line file is a ``WhiteboardCaptureSession`` whose ``StrokeSet`` holds
``Stroke`` elements of ``Point x= y= time=``. The transcription is the part of
the ascii file after ``CSR:``; its non-empty lines label the ``-01``, ``-02``,
... line files in order. A few line files of the real database have no
transcription line (e.g. a08-551z-08 and -09); they are skipped, since an
unlabelled line is of no use to a text-conditioned model.

Coordinates are whiteboard (E-Beam) units with y growing downward. Times are
seconds from the first point of the line: the raw clock values (~1.5e7 s)
would lose their fractions in the float32 ``.inks`` container.
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from xml.parsers.expat import ErrorString

import numpy as np

from inkstroke.errors import InkstrokeError
from inkstroke.ink import Ink

LINE_FILE = re.compile(r"(?P<form>.+)-(?P<line>\d+)")


def _xml_error(path: Path, e: Exception) -> InkstrokeError:
    if isinstance(e, ET.ParseError):
        line, col = e.position
        return InkstrokeError(f"{path}:{line}: malformed XML ({ErrorString(e.code)}, column {col})")
    # LookupError, ValueError: an unknown or multi-byte declared encoding
    return InkstrokeError(f"{path}:1: unsupported XML encoding ({e})")


def _number(point: ET.Element, name: str, where: str) -> float:
    raw = point.get(name)
    try:
        value = float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InkstrokeError(f"{where}: {name}={raw!r} is not a number") from None
    if not np.isfinite(value):
        raise InkstrokeError(f"{where}: {name}={raw!r} is not finite")
    return value


def read_line_strokes(path: Path) -> tuple[list[np.ndarray], list[np.ndarray] | None]:
    """Strokes (and times, if every point has one) of one ``lineStrokes`` file."""
    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, LookupError, ValueError) as e:
        raise _xml_error(path, e) from None
    stroke_set = root.find("StrokeSet")
    if root.tag != "WhiteboardCaptureSession" or stroke_set is None:
        raise InkstrokeError(
            f"{path}: not an IAM-OnDB stroke file (no WhiteboardCaptureSession/StrokeSet)"
        )
    strokes, times = [], []
    for k, stroke in enumerate(stroke_set.iter("Stroke")):
        points = stroke.findall("Point")
        if not points:
            continue
        xy = np.empty((len(points), 2))
        t = np.empty(len(points))
        for j, p in enumerate(points):
            where = f"{path}: stroke {k}, point {j}"
            xy[j] = _number(p, "x", where), _number(p, "y", where)
            t[j] = _number(p, "time", where) if "time" in p.attrib else np.nan
        strokes.append(xy)
        times.append(t)
    if not strokes:
        raise InkstrokeError(f"{path}: no points in the StrokeSet")
    if any(np.isnan(t).any() for t in times):
        return strokes, None
    t0 = times[0][0]
    return strokes, [t - t0 for t in times]


def read_transcription(path: Path) -> list[str]:
    """The non-empty lines after ``CSR:`` of an ascii file (Latin-1, like the XML)."""
    text = path.read_bytes().decode("latin-1")
    _, sep, body = text.partition("CSR:")
    if not sep:
        raise InkstrokeError(f"{path}: no CSR: section")
    return [line.strip() for line in body.splitlines() if line.strip()]


def _forms_txt(path: Path) -> dict[str, str]:
    writers = {}
    for n, line in enumerate(path.read_bytes().decode("latin-1").splitlines(), 1):
        fields = line.split()
        if not fields or line.startswith("#"):
            continue
        if len(fields) < 2:
            raise InkstrokeError(f"{path}:{n}: expected 'form-id writer-id', got {line.strip()!r}")
        writers[fields[0]] = fields[1]
    return writers


def _original_writer(path: Path) -> str | None:
    """The first ``writerID`` attribute of an original form file (it sits in <General>)."""
    try:
        with open(path, "rb") as f:
            for _, el in ET.iterparse(f, events=("start",)):
                if "writerID" in el.attrib:
                    return el.attrib["writerID"].strip() or None
    except (ET.ParseError, LookupError, ValueError) as e:
        raise _xml_error(path, e) from None
    return None


def iter_iam(root: str | os.PathLike) -> Iterator[Ink]:
    """Labelled text-line inks of an IAM-OnDB root, in file-name order."""
    root = Path(root)
    strokes_dir, ascii_dir = root / "lineStrokes", root / "ascii"
    for d in (strokes_dir, ascii_dir):
        if not d.is_dir():
            raise InkstrokeError(f"{root}: no {d.name}/ folder; is this an IAM-OnDB root?")
    files = sorted(strokes_dir.rglob("*.xml"))
    if not files:
        raise InkstrokeError(f"{strokes_dir}: no line stroke files (*.xml)")
    forms_txt = root / "forms.txt"
    writers = _forms_txt(forms_txt) if forms_txt.is_file() else {}
    texts: dict[Path, list[str]] = {}
    for file in files:
        m = LINE_FILE.fullmatch(file.stem)
        if m is None:
            raise InkstrokeError(f"{file}: not a line file name like a01-000u-01.xml")
        form, number = m["form"], int(m["line"])
        rel = file.parent.relative_to(strokes_dir)
        ascii_file = ascii_dir / rel / f"{form}.txt"
        if ascii_file not in texts:
            texts[ascii_file] = read_transcription(ascii_file) if ascii_file.is_file() else []
        lines = texts[ascii_file]
        if not 1 <= number <= len(lines):
            continue
        if form not in writers:
            suffix = form[len(file.parent.name) :]
            original = root / "original" / rel / f"strokes{suffix}.xml"
            writers[form] = _original_writer(original) if original.is_file() else None
        strokes, times = read_line_strokes(file)
        yield Ink(
            strokes,
            times=times,
            text=lines[number - 1],
            writer=writers[form],
            source="iam",
            units="ebeam",
            y_axis="down",
            meta={"id": file.stem, "form": form, "line": number},
        )
