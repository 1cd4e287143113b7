"""InkML (W3C Ink Markup Language, 2011) reader and writer.

What is read:

* ``<traceFormat>`` channel lists: X and Y are required, T (time) and F (pen
  force, i.e. pressure) are kept, any other channel (and intermittent
  channels) is parsed and ignored. A trace uses the format of its
  ``contextRef`` (on the trace or an enclosing group) or else the first
  ``<traceFormat>`` of the document; without any, a trace is ``X Y``.
* Trace values as plain decimals (``10 0, 9 14, ...``) and with the InkML
  difference prefixes ``!`` (explicit), ``'`` (first difference) and ``"``
  (second difference). A prefix stays in force for its channel until another
  one appears, as in the specification's ``1125 18432'23'43"7"-8 3-5+7``;
  values may run together when a sign separates them, and when a trace has
  no commas its values are split into points by the channel count.
* ``<annotation type="truth">`` (the label) and ``type="writer"``, on the
  document or on a trace group; nested ``<traceGroup>`` elements whose
  traces are given inline or through ``<traceView traceDataRef="#id">``.

InkML y grows downward, so every ink read here has ``y_axis="down"``. Times
are converted to seconds when the T channel declares ``units`` ``s``, ``ms``
or ``us``, and kept as written otherwise.
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from xml.parsers.expat import ErrorString

import numpy as np

from inkstroke.errors import InkstrokeError
from inkstroke.ink import Ink

NS = "http://www.w3.org/2003/InkML"
XML_ID = "{http://www.w3.org/XML/1998/namespace}id"
MAX_DEPTH = 64  # of nested elements and trace views; deeper is a cycle or an attack
TIME_SCALE = {"s": 1.0, "sec": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6}
# One value: an optional difference prefix, then a decimal or a T/F boolean; or a comma.
TOKEN = re.compile(r"""\s*(?:(,)|([!'"]?)\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[TF]))""")


def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _id(el: ET.Element) -> str | None:
    return el.get(XML_ID) or el.get("id")


def _ref(value: str | None) -> str | None:
    return value.strip().lstrip("#") if value else None


@dataclass
class _Format:
    channels: list[str]  # regular channel names, in order
    n_intermittent: int
    time_scale: float
    units: str | None


XY = _Format(["X", "Y"], 0, 1.0, None)


def _read_format(el: ET.Element, where: str) -> _Format:
    channels, n_inter, scale, units = [], 0, 1.0, None
    for child in el:
        tag = _local(child.tag)
        if tag == "channel":
            name = (child.get("name") or "").strip()
            channels.append(name)
            if name == "T":
                scale = TIME_SCALE.get((child.get("units") or "").strip(), 1.0)
            elif name == "X":
                units = child.get("units")
        elif tag == "intermittentChannels":
            n_inter += sum(1 for c in child if _local(c.tag) == "channel")
    for required in ("X", "Y"):
        if required not in channels:
            raise InkstrokeError(f"{where}: <traceFormat> has no {required} channel")
    return _Format(channels, n_inter, scale, units)


def _parse(path: Path) -> ET.Element:
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as e:
        line, col = e.position
        raise InkstrokeError(
            f"{path}:{line}: malformed XML ({ErrorString(e.code)}, column {col})"
        ) from None
    except (LookupError, ValueError) as e:  # an unknown or multi-byte declared encoding
        raise InkstrokeError(f"{path}:1: unsupported XML encoding ({e})") from None
    except FileNotFoundError:
        raise InkstrokeError(f"{path}: no such file") from None
    if _local(root.tag) != "ink":
        raise InkstrokeError(f"{path}: not an InkML document (root element <{_local(root.tag)}>)")
    return root


def _values(text: str, n: int, n_max: int, where: str) -> list[list[tuple[str, float]]]:
    """Points of (prefix, value) pairs; the general path behind :func:`_trace_array`."""
    points: list[list[tuple[str, float]]] = [[]]
    pos, commas = 0, False
    while pos < len(text):
        m = TOKEN.match(text, pos)
        if m is None:
            if text[pos:].strip():
                raise InkstrokeError(
                    f"{where}: cannot read a value at {text[pos : pos + 20].strip()!r}"
                )
            break
        pos = m.end()
        if m.group(1):
            commas = True
            points.append([])
        else:
            raw = m.group(3)
            value = 1.0 if raw == "T" else 0.0 if raw == "F" else float(raw)
            if not np.isfinite(value):
                raise InkstrokeError(f"{where}: a value is NaN or infinite")
            points[-1].append((m.group(2), value))
    if not commas:
        flat = points[0]
        if len(flat) % n:
            raise InkstrokeError(
                f"{where}: {len(flat)} values do not split into points of {n} channels"
            )
        return [flat[i : i + n] for i in range(0, len(flat), n)]
    for i, p in enumerate(points):
        if not n <= len(p) <= n_max:
            raise InkstrokeError(f"{where}: point {i} has {len(p)} values, expected {n}")
    return points


def _trace_array(text: str, fmt: _Format, where: str) -> np.ndarray:
    """The trace's values as an (points, channels) array, differences resolved."""
    n = len(fmt.channels)
    rows = [p.split() for p in text.split(",")] if text.strip() else []
    if rows and all(len(r) == n for r in rows):  # the common case: plain decimals
        try:
            out = np.array(rows, dtype=np.float64)
        except ValueError:
            pass
        else:
            if not np.isfinite(out).all():
                raise InkstrokeError(f"{where}: a value is NaN or infinite")
            return out
    points = _values(text, n, n + fmt.n_intermittent, where)
    out = np.empty((len(points), n))
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is caught below
        _resolve(points, out, where)
    if not np.isfinite(out).all():
        raise InkstrokeError(f"{where}: a value is NaN or infinite")
    return out


def _resolve(points: list, out: np.ndarray, where: str) -> None:
    """Fill ``out`` from prefixed values; a prefix stays in force for its channel."""
    n = out.shape[1]
    mode = ["!"] * n
    for i, point in enumerate(points):
        for c, (prefix, value) in enumerate(point[:n]):
            mode[c] = prefix or mode[c]
            if mode[c] == "!":
                out[i, c] = value
            elif mode[c] == "'":
                if i < 1:
                    raise InkstrokeError(f"{where}: point 0 holds a difference, not a value")
                out[i, c] = out[i - 1, c] + value
            else:
                if i < 2:
                    raise InkstrokeError(f"{where}: point {i} holds a second difference too early")
                out[i, c] = 2 * out[i - 1, c] - out[i - 2, c] + value


class _Document:
    """One parsed InkML file: its formats, traces by id, and how to read them."""

    def __init__(self, path: Path):
        self.path = path
        self.root = _parse(path)
        self.by_id: dict[str, ET.Element] = {}
        self.formats: dict[str, _Format] = {}
        self.default: _Format | None = None
        self.trace_no: dict[int, int] = {}
        for el in self.root.iter():
            tag = _local(el.tag)
            if (key := _id(el)) is not None:
                self.by_id[key] = el
            if tag == "trace":
                self.trace_no[id(el)] = len(self.trace_no)
            elif tag == "traceFormat":
                fmt = _read_format(el, str(path))
                self.default = self.default or fmt
                if key is not None:
                    self.formats[key] = fmt
        # Contexts name their format inline (possibly inside an <inkSource>) or by
        # reference; ink sources first, since contexts may point at them.
        for kind in ("inkSource", "context"):
            for el in self.root.iter():
                if _local(el.tag) != kind or (key := _id(el)) is None:
                    continue
                inner = next((c for c in el.iter() if _local(c.tag) == "traceFormat"), None)
                if inner is not None:
                    self.formats[key] = _read_format(inner, str(path))
                for attr in ("traceFormatRef", "inkSourceRef"):
                    ref = _ref(el.get(attr))
                    if inner is None and ref in self.formats:
                        self.formats[key] = self.formats[ref]

    def _format(self, context: str | None) -> _Format:
        if context is not None:
            if context not in self.formats:
                raise InkstrokeError(f"{self.path}: unknown context or trace format #{context}")
            return self.formats[context]
        return self.default or XY

    def traces(
        self, el: ET.Element, context: str | None, out: list, seen: set, depth: int = 0
    ) -> None:
        """Append (trace, context) pairs under ``el`` in document order, each once."""
        if depth > MAX_DEPTH:
            raise InkstrokeError(f"{self.path}: trace groups or views nest too deep (a cycle?)")
        tag = _local(el.tag)
        context = _ref(el.get("contextRef")) or context
        if tag == "trace":
            if id(el) not in seen:
                seen.add(id(el))
                out.append((el, context))
            return
        if tag == "definitions":
            return
        if tag == "traceView":
            if el.get("from") or el.get("to"):
                raise InkstrokeError(
                    f"{self.path}: <traceView> with from/to ranges is not supported"
                )
            ref = _ref(el.get("traceDataRef"))
            if ref is not None:
                if ref not in self.by_id:
                    raise InkstrokeError(f"{self.path}: <traceView> refers to unknown #{ref}")
                target = self.by_id[ref]
                if _local(target.tag) == "definitions":
                    return
                self.traces(target, context, out, seen, depth + 1)
                return
        for child in el:
            self.traces(child, context, out, seen, depth + 1)

    def ink(self, el: ET.Element, text: str | None, writer: str | None, meta: dict) -> Ink:
        pairs: list = []
        self.traces(el, None, pairs, set())
        strokes, times, pressures = [], [], []
        units = None
        for trace, context in pairs:
            if trace.get("type") == "penUp":
                continue
            fmt = self._format(context)
            where = f"{self.path}: trace {self.trace_no[id(trace)]}"
            if (key := _id(trace)) is not None:
                where += f" (id {key!r})"
            data = _trace_array(trace.text or "", fmt, where)
            if not len(data):
                continue
            ch = fmt.channels
            strokes.append(data[:, [ch.index("X"), ch.index("Y")]])
            times.append(data[:, ch.index("T")] * fmt.time_scale if "T" in ch else None)
            pressures.append(data[:, ch.index("F")] if "F" in ch else None)
            units = units or fmt.units
        return Ink(
            strokes,
            times=times if strokes and all(t is not None for t in times) else None,
            pressures=pressures if strokes and all(p is not None for p in pressures) else None,
            text=text,
            writer=writer,
            source="inkml",
            units=units or "unit",
            y_axis="down",
            meta=meta,
        )


def _annotation(el: ET.Element, kind: str) -> str | None:
    for child in el:
        if _local(child.tag) == "annotation" and child.get("type") == kind:
            return (child.text or "").strip()
    return None


def _truth_groups(el: ET.Element, depth: int = 0) -> Iterator[ET.Element]:
    """The innermost trace groups that carry a truth annotation, in document order.

    Innermost, because CROHME wraps its labelled symbols in a group whose truth
    is the word "Segmentation".
    """
    if depth > MAX_DEPTH:  # reading the traces reports it
        return
    for child in el:
        if _local(child.tag) in ("definitions", "annotationXML"):
            continue
        inner = list(_truth_groups(child, depth + 1))
        if inner:
            yield from inner
        elif _local(child.tag) == "traceGroup" and _annotation(child, "truth") is not None:
            yield child


def _files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.suffix.lower() == ".inkml" and p.is_file())
        if not files:
            raise InkstrokeError(f"{path}: no .inkml files in this folder")
        return files
    if not path.exists():
        raise InkstrokeError(f"{path}: no such file or folder")
    return [path]


def read_inkml(path: str | os.PathLike) -> Ink:
    """The whole document as one ink, labelled by its document-level truth."""
    doc = _Document(Path(path))
    root = doc.root
    return doc.ink(
        root, _annotation(root, "truth"), _annotation(root, "writer"), {"file": doc.path.name}
    )


def iter_inkml(path: str | os.PathLike) -> Iterator[Ink]:
    """Inks of an InkML file or of every ``.inkml`` file under a folder.

    A file whose trace groups carry truth annotations (symbols of a CROHME
    expression, words of a line) gives one ink per innermost such group; a
    file without them gives one ink for the whole document.
    """
    for file in _files(Path(path)):
        doc = _Document(file)
        root = doc.root
        writer = _annotation(root, "writer")
        groups = list(_truth_groups(root))
        if not groups:
            yield doc.ink(root, _annotation(root, "truth"), writer, {"file": file.name})
            continue
        for i, group in enumerate(groups):
            meta = {"file": file.name, "group": _id(group) or i}
            yield doc.ink(
                group, _annotation(group, "truth"), _annotation(group, "writer") or writer, meta
            )


def _fmt(v: float) -> str:
    return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)


def write_inkml(ink: Ink, path: str | os.PathLike) -> None:
    """Write ``ink`` as one InkML document (y down; T in seconds; F as pressure)."""
    from inkstroke.io.container import atomic_write_bytes

    ink = ink.y_down()
    ink.check_finite(str(path))
    # A plain xmlns attribute, not ET.register_namespace, which is global state.
    root = ET.Element("ink", xmlns=NS)
    fmt = ET.SubElement(root, "traceFormat")
    for name in ("X", "Y"):
        ch = ET.SubElement(fmt, "channel", name=name, type="decimal")
        if ink.units != "unit":
            ch.set("units", ink.units)
    if ink.times is not None:
        ET.SubElement(fmt, "channel", name="T", type="decimal", units="s")
    if ink.pressures is not None:
        ET.SubElement(fmt, "channel", name="F", type="decimal")
    for kind, value in (("truth", ink.text), ("writer", ink.writer)):
        if value is not None:
            ET.SubElement(root, "annotation", type=kind).text = value
    for i, s in enumerate(ink.strokes):
        columns = [s[:, 0], s[:, 1]]
        if ink.times is not None:
            columns.append(ink.times[i])
        if ink.pressures is not None:
            columns.append(ink.pressures[i])
        rows = np.column_stack(columns).tolist()
        trace = ET.SubElement(root, "trace", {XML_ID: f"t{i}"})
        trace.text = ", ".join(" ".join(_fmt(v) for v in row) for row in rows)
    ET.indent(root)
    blob = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    atomic_write_bytes(path, lambda f: f.write(blob + b"\n"))
