"""Brush trajectories: time-stamped (x, y, z) rows per stroke, and their JSON.

The JSON is what a robot arm consumes, so its layout is fixed::

    {"format": "inkstroke-brush-trajectory", "version": 1, "frame": "mmah1024",
     "y_axis": "down", "units": "frame", "char": "永",
     "strokes": [[[t, x, y, z], ...], ...]}

x and y live in the 1024-unit Make Me a Hanzi frame turned y-down (y = 900 -
y_up), so multiplying by ``size / 1024`` gives pixel coordinates of a
``size`` x ``size`` image. z is the press depth in the same units: 0 just
touches the paper, larger presses the tuft down. t is in seconds from the
first touch and never runs backwards.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from inkstroke.errors import InkstrokeError
from inkstroke.io.container import atomic_write_bytes

FORMAT = "inkstroke-brush-trajectory"
VERSION = 1
FRAME = "mmah1024"
FRAME_SIZE = 1024.0
FRAME_TOP = 900.0  # y_up of image row 0
Z_MAX = 200.0  # deepest press a trajectory may ask for: a 240-unit-wide stroke
COORD_LIMIT = 4 * FRAME_SIZE  # |x|, |y| beyond this is a unit mistake, not a stroke


@dataclass
class Trajectory:
    """Brush motion for one character: a (n, 4) array of (t, x, y, z) per stroke."""

    strokes: list[np.ndarray]
    char: str = ""
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.strokes = [np.asarray(s, dtype=np.float64).reshape(-1, 4) for s in self.strokes]

    @property
    def duration(self) -> float:
        return float(self.strokes[-1][-1, 0]) if self.strokes else 0.0

    def validate(self, where: str = "trajectory") -> Trajectory:
        """Raise :class:`InkstrokeError` naming ``where``, the stroke and the point at fault."""
        last_t = -math.inf
        for i, s in enumerate(self.strokes):
            if len(s) == 0:
                raise InkstrokeError(f"{where}: stroke {i} has no points")
            bad = ~np.isfinite(s)
            if bad.any():
                j, k = np.argwhere(bad)[0]
                raise InkstrokeError(f"{where}: stroke {i}, point {j}: {'txyz'[k]} is {s[j, k]}")
            far = np.abs(s[:, 1:3]) > COORD_LIMIT
            if far.any():
                j = int(np.argwhere(far)[0, 0])
                raise InkstrokeError(
                    f"{where}: stroke {i}, point {j}: ({s[j, 1]:g}, {s[j, 2]:g}) lies far outside "
                    f"the {FRAME} frame (|x|, |y| <= {COORD_LIMIT:g})"
                )
            out = (s[:, 3] < 0) | (s[:, 3] > Z_MAX)
            if out.any():
                j = int(np.argmax(out))
                raise InkstrokeError(
                    f"{where}: stroke {i}, point {j}: z = {s[j, 3]:g} is out of range [0, {Z_MAX:g}]"
                )
            t = np.concatenate([[last_t], s[:, 0]])
            back = np.diff(t) < 0
            if back.any():
                j = int(np.argmax(back))
                raise InkstrokeError(
                    f"{where}: stroke {i}, point {j}: time {s[j, 0]:g} s runs backwards (from {t[j]:g} s)"
                )
            last_t = s[-1, 0]
        return self

    def to_json(self) -> dict:
        return {
            "format": FORMAT,
            "version": VERSION,
            "frame": FRAME,
            "y_axis": "down",
            "units": "frame",
            "char": self.char,
            "strokes": [[[round(float(v), 4) for v in row] for row in s] for s in self.strokes],
        }

    def xy_pixels(self, size: int) -> list[np.ndarray]:
        """The strokes' (x, y) in pixels of a ``size`` x ``size`` image."""
        return [s[:, 1:3] * (size / FRAME_SIZE) for s in self.strokes]


def save_trajectory(traj: Trajectory, path: str | os.PathLike) -> None:
    """Write the JSON atomically, after checking it (a robot must never get NaN)."""
    traj.validate(str(path))
    text = json.dumps(traj.to_json(), ensure_ascii=False, separators=(",", ":"))
    atomic_write_bytes(path, lambda f: f.write(text.encode("utf-8")))


def load_trajectory(path: str | os.PathLike) -> Trajectory:
    """Read and check a trajectory JSON; errors name the file, stroke and point."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InkstrokeError(f"{path}: no such file") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InkstrokeError(f"{path}: not JSON ({e})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise InkstrokeError(f'{path}: not an {FORMAT} file (no "format": "{FORMAT}")')
    if data.get("version") != VERSION:
        raise InkstrokeError(
            f"{path}: version {data.get('version')!r} is not supported (only {VERSION})"
        )
    for key, want in (("frame", FRAME), ("y_axis", "down"), ("units", "frame")):
        if data.get(key) != want:
            raise InkstrokeError(f"{path}: {key} must be {want!r}, got {data.get(key)!r}")
    raw = data.get("strokes")
    if not isinstance(raw, list) or not raw:
        raise InkstrokeError(f'{path}: "strokes" must be a non-empty list of strokes')
    strokes = []
    for i, s in enumerate(raw):
        try:
            # NaN is not JSON, but Python's json reads it; null would become NaN here too.
            arr = np.array(s, dtype=np.float64)
        except (TypeError, ValueError):
            raise InkstrokeError(
                f"{path}: stroke {i} is not a list of [t, x, y, z] numbers"
            ) from None
        if arr.ndim != 2 or arr.shape[1] != 4:
            raise InkstrokeError(
                f"{path}: stroke {i} must be rows of [t, x, y, z], got shape {arr.shape}"
            )
        strokes.append(arr)
    return Trajectory(strokes, char=str(data.get("char", ""))).validate(str(path))
