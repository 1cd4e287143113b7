"""The JSON interchange format: one ink per file, readable by any language.

::

    {"text": "hello" | null, "strokes": [[[x, y], ...], ...],
     "y_axis": "up" | "down", "units": "mm",
     "writer": "w1", "times": [[t, ...], ...], "pressures": [[p, ...], ...],
     "source": "iam", "meta": {...}}

``strokes`` and ``y_axis`` are required; the other keys are optional. Reading
is strict, because a hand-edited file with a stray string or a missing
coordinate would otherwise turn into a silently wrong drawing: every error
names the file and the JSON path of the value at fault (``strokes[3][7]``).
Floats are written with ``repr`` precision, so a write/read round trip is exact.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np

from inkstroke.errors import InkstrokeError
from inkstroke.ink import Ink

KEYS = {"text", "strokes", "y_axis", "units", "writer", "times", "pressures", "source", "meta"}


def ink_to_dict(ink: Ink) -> dict:
    """The JSON-ready dict of an ink; optional keys appear only when set."""
    out: dict = {
        "text": ink.text,
        "strokes": [s.tolist() for s in ink.strokes],
        "y_axis": ink.y_axis,
        "units": ink.units,
    }
    if ink.writer is not None:
        out["writer"] = ink.writer
    if ink.times is not None:
        out["times"] = [t.tolist() for t in ink.times]
    if ink.pressures is not None:
        out["pressures"] = [p.tolist() for p in ink.pressures]
    if ink.source is not None:
        out["source"] = ink.source
    if ink.meta:
        out["meta"] = ink.meta
    return out


def _number(value, where: str, path: str) -> float:
    # bool is an int subclass; true/false are never coordinates.
    if type(value) not in (int, float):
        raise InkstrokeError(f"{where}: {path} must be a number, got {json.dumps(value)[:40]}")
    try:
        value = float(value)
    except OverflowError:
        value = math.inf
    if not math.isfinite(value):
        raise InkstrokeError(f"{where}: {path} is not a finite number")
    return value


def _strokes(value, where: str) -> list[np.ndarray]:
    if not isinstance(value, list):
        raise InkstrokeError(f"{where}: strokes must be a list of strokes")
    strokes = []
    for i, stroke in enumerate(value):
        if not isinstance(stroke, list) or not stroke:
            raise InkstrokeError(f"{where}: strokes[{i}] must be a non-empty list of [x, y] points")
        points = np.empty((len(stroke), 2))
        for j, p in enumerate(stroke):
            if not isinstance(p, list) or len(p) != 2:
                raise InkstrokeError(f"{where}: strokes[{i}][{j}] must be a point [x, y]")
            points[j, 0] = _number(p[0], where, f"strokes[{i}][{j}][0]")
            points[j, 1] = _number(p[1], where, f"strokes[{i}][{j}][1]")
        strokes.append(points)
    return strokes


def _channel(value, name: str, strokes: list[np.ndarray], where: str) -> list[np.ndarray]:
    if not isinstance(value, list) or len(value) != len(strokes):
        raise InkstrokeError(
            f"{where}: {name} must be a list with one list per stroke ({len(strokes)})"
        )
    out = []
    for i, (vals, s) in enumerate(zip(value, strokes, strict=True)):
        if not isinstance(vals, list) or len(vals) != len(s):
            raise InkstrokeError(f"{where}: {name}[{i}] must hold one number per point ({len(s)})")
        out.append(np.array([_number(v, where, f"{name}[{i}][{j}]") for j, v in enumerate(vals)]))
    return out


def _optional_str(d: dict, key: str, where: str) -> str | None:
    value = d.get(key)
    if value is not None and not isinstance(value, str):
        raise InkstrokeError(f"{where}: {key} must be a string or null")
    return value


def ink_from_dict(d, where: str) -> Ink:
    """Validate a decoded JSON object and build its ink; ``where`` prefixes errors."""
    if not isinstance(d, dict):
        raise InkstrokeError(f"{where}: the top level must be a JSON object")
    unknown = sorted(set(d) - KEYS)
    if unknown:
        raise InkstrokeError(
            f"{where}: unknown key {unknown[0]!r}; expected some of {sorted(KEYS)}"
        )
    for key in ("strokes", "y_axis"):
        if key not in d:
            raise InkstrokeError(f"{where}: missing required key {key!r}")
    if d["y_axis"] not in ("up", "down"):
        raise InkstrokeError(
            f'{where}: y_axis must be "up" or "down", got {json.dumps(d["y_axis"])[:40]}'
        )
    strokes = _strokes(d["strokes"], where)
    meta = d.get("meta", {})
    if not isinstance(meta, dict):
        raise InkstrokeError(f"{where}: meta must be an object")
    units = _optional_str(d, "units", where)
    return Ink(
        strokes,
        times=_channel(d["times"], "times", strokes, where) if d.get("times") is not None else None,
        pressures=(
            _channel(d["pressures"], "pressures", strokes, where)
            if d.get("pressures") is not None
            else None
        ),
        text=_optional_str(d, "text", where),
        writer=_optional_str(d, "writer", where),
        source=_optional_str(d, "source", where),
        units="unit" if units is None else units,
        y_axis=d["y_axis"],
        meta=meta,
    )


def _reject_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


def read_json(path: str | os.PathLike) -> Ink:
    """Read one ink from a UTF-8 JSON file."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InkstrokeError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InkstrokeError(f"{path}: is a folder, not a JSON file") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise InkstrokeError(f"{path}:{line}: not valid UTF-8 ({e.reason})") from None
    if not text.strip():
        raise InkstrokeError(f"{path}: empty file")
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as e:
        raise InkstrokeError(
            f"{path}:{e.lineno}: invalid JSON ({e.msg}, column {e.colno})"
        ) from None
    except (ValueError, RecursionError) as e:
        raise InkstrokeError(f"{path}: invalid JSON ({e})") from None
    return ink_from_dict(data, str(path)).check_finite(str(path))


def write_json(ink: Ink, path: str | os.PathLike) -> None:
    """Write ``ink`` to ``path`` (atomically); NaN or infinite values are refused."""
    from inkstroke.io.container import atomic_write_bytes

    ink.check_finite(str(path))
    try:
        blob = json.dumps(ink_to_dict(ink), ensure_ascii=False, allow_nan=False).encode()
    except (TypeError, ValueError) as e:
        raise InkstrokeError(f"{path}: cannot write this ink as JSON ({e})") from None
    atomic_write_bytes(path, lambda f: f.write(blob + b"\n"))
