"""Brush trajectories: the calligraphy engine's output, read for the machines.

A brush trajectory is JSON::

    {"format": "inkstroke-brush-trajectory", "version": 1, "frame": "mmah1024",
     "y_axis": "down", "units": "frame", "char": "永",
     "strokes": [[[t, x, y, z], ...], ...]}

with z the press depth of the brush in the same units as x and y (0 means the
tip just touches). It becomes an :class:`~inkstroke.ink.Ink` whose
``pressures`` are that depth, flagged by ``meta["pressure"] = "depth"``, so that
placing it on paper turns the depth into millimetres with the same scale.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from inkstroke.errors import InkstrokeError
from inkstroke.ink import Ink

BRUSH_FORMAT = "inkstroke-brush-trajectory"


def parse_brush_trajectory(data: dict, where: str = "brush trajectory") -> Ink:
    """An ink from the decoded JSON of a brush trajectory; ``where`` names it in errors."""
    if data.get("format") != BRUSH_FORMAT:
        raise InkstrokeError(
            f"{where}: format is {data.get('format')!r}, expected {BRUSH_FORMAT!r}"
        )
    if data.get("version") != 1:
        raise InkstrokeError(f"{where}: version {data.get('version')!r} is not supported (only 1)")
    y_axis = data.get("y_axis", "down")
    if y_axis not in ("up", "down"):
        raise InkstrokeError(f"{where}: y_axis must be 'up' or 'down', got {y_axis!r}")
    raw = data.get("strokes")
    if not isinstance(raw, list) or not raw:
        raise InkstrokeError(f"{where}: 'strokes' must be a non-empty list of strokes")
    strokes, times, depths = [], [], []
    for i, stroke in enumerate(raw):
        if not isinstance(stroke, list) or not stroke:
            raise InkstrokeError(
                f"{where}: stroke {i} must be a non-empty list of [t, x, y, z] points"
            )
        for j, point in enumerate(stroke):
            ok = isinstance(point, list) and len(point) == 4
            if not ok or not all(
                isinstance(v, int | float) and not isinstance(v, bool) for v in point
            ):
                raise InkstrokeError(
                    f"{where}: stroke {i} point {j} must be [t, x, y, z] numbers, got {point!r}"
                )
            if not all(math.isfinite(v) for v in point):
                raise InkstrokeError(
                    f"{where}: stroke {i} point {j} holds a NaN or infinite value: {point}"
                )
            if point[3] < 0:
                raise InkstrokeError(
                    f"{where}: stroke {i} point {j} has a negative press depth z={point[3]}"
                )
        arr = np.asarray(stroke, dtype=np.float64)
        back = np.flatnonzero(np.diff(arr[:, 0]) < 0)
        if len(back):
            raise InkstrokeError(f"{where}: stroke {i} point {back[0] + 1}: time runs backwards")
        times.append(arr[:, 0])
        strokes.append(arr[:, 1:3])
        depths.append(arr[:, 3])
    return Ink(
        strokes,
        times=times,
        pressures=depths,
        text=data.get("char"),
        source=where,
        units=str(data.get("units", "frame")),
        y_axis=y_axis,
        meta={"pressure": "depth", "format": BRUSH_FORMAT, "frame": data.get("frame")},
    )


def read_brush_trajectory(path: str | Path) -> Ink:
    return parse_brush_trajectory(_load_json(Path(path)), where=str(path))


def brush_trajectory_json(ink: Ink, frame: str = "mmah1024") -> dict:
    """The JSON form of a depth ink (inverse of :func:`parse_brush_trajectory`)."""
    if ink.pressures is None or ink.times is None:
        raise InkstrokeError("a brush trajectory needs times and press depths on every point")
    strokes = [
        np.column_stack([t, s, d]).round(4).tolist()
        for s, t, d in zip(ink.strokes, ink.times, ink.pressures, strict=True)
    ]
    return {
        "format": BRUSH_FORMAT,
        "version": 1,
        "frame": frame,
        "y_axis": ink.y_axis,
        "units": ink.units,
        "char": ink.text,
        "strokes": strokes,
    }


def read_motion(spec: str | Path) -> Ink:
    """What the robot commands take: a brush trajectory JSON, or any ink ``read_ink`` reads."""
    path = Path(str(spec))
    if path.suffix.lower() == ".json" and path.is_file():
        data = _load_json(path)
        if isinstance(data, dict) and data.get("format") == BRUSH_FORMAT:
            return parse_brush_trajectory(data, where=str(path))
    from inkstroke.io import read_ink

    return read_ink(spec)


def _load_json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InkstrokeError(f"{path}: no such file") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise InkstrokeError(f"{path}: not valid JSON ({e})") from None
