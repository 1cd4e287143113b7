"""Default brush motion for a centre line: where to press, lift and pause.

A median (or a skeleton line) says where the brush goes, not how hard it
presses. Kaiti strokes follow a few habits, and the default z profile copies
them: the brush lands lightly and presses in (the pointed or knotted entry),
travels at an even depth, presses again at a corner, and leaves in one of
three ways, read from the direction of the last segment:

* ``taper``: left-falling strokes, rising strokes and hooks lift gradually to
  a point;
* ``sweep``: the long right-falling stroke swells, then lifts quickly;
* ``blunt``: the others press and stop, with a rounded end.

Times follow a bell-shaped speed: slow at the entry, the exit and at corners,
which also get a short pause, and the brush travels in the air between strokes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from inkstroke.calligraphy.trajectory import FRAME_TOP, Z_MAX, Trajectory
from inkstroke.errors import InkstrokeError
from inkstroke.ink import Ink

DEFAULT_Z = 40.0  # a 48-unit-wide stroke: the median Kaiti stroke of hanzi-writer-data
STEP = 8.0  # frame units between trajectory rows
SPEED = 400.0  # frame units per second at full speed
AIR_SPEED = 800.0  # between strokes
LANDING = 0.12  # seconds to press in after touching
CORNER_PAUSE = 0.1  # seconds
CORNER_DEG = 50.0  # a turn sharper than this is a corner


def densify(points: np.ndarray, step: float = STEP) -> tuple[np.ndarray, np.ndarray]:
    """Points about ``step`` apart along a polyline, keeping its vertices.

    Returns the points and, for each vertex of the input, its index in them.
    """
    out, at = [points[:1]], [0]
    for a, b in zip(points[:-1], points[1:], strict=True):
        n = max(1, int(np.ceil(np.linalg.norm(b - a) / step)))
        out.append(a + (b - a) * (np.arange(1, n + 1) / n)[:, None])
        at.append(at[-1] + n)
    return np.concatenate(out), np.asarray(at)


def turn_angles(points: np.ndarray) -> np.ndarray:
    """Turning angle in degrees at each interior vertex of a polyline."""
    d = np.diff(points, axis=0)
    d = d / np.maximum(np.linalg.norm(d, axis=1, keepdims=True), 1e-9)
    cos = np.clip((d[:-1] * d[1:]).sum(axis=1), -1.0, 1.0)
    return np.degrees(np.arccos(cos))


def _merge_close(points: np.ndarray, min_gap: float = 15.0) -> np.ndarray:
    """Drop vertices closer than ``min_gap`` to the last one kept (the end
    point replaces its close neighbour): medians often end in a tiny jog."""
    kept = [points[0]]
    for i in range(1, len(points)):
        if np.linalg.norm(points[i] - kept[-1]) >= min_gap:
            kept.append(points[i])
        elif len(kept) > 1 and i == len(points) - 1:
            kept[-1] = points[i]
    if len(kept) == 1 and len(points) > 1:
        kept.append(points[-1])
    return np.asarray(kept)


def exit_kind(points: np.ndarray) -> str:
    """``taper``, ``sweep`` or ``blunt`` for a polyline (x, y down), from its
    last stretch of about a stroke and a half, its last turn and its heading."""
    p = _merge_close(points)
    if len(p) < 2:
        return "blunt"
    seg = np.linalg.norm(np.diff(p, axis=0), axis=1)
    arc = np.concatenate([[0.0], np.cumsum(seg)])
    length = arc[-1]
    back = length - min(1.5 * DEFAULT_Z, length / 3)
    d = p[-1] - np.array([np.interp(back, arc, p[:, k]) for k in range(2)])
    if len(p) > 2 and turn_angles(p)[-1] > 60 and seg[-1] < 0.35 * length:
        return "taper"  # a hook
    if d[1] < -0.2 * abs(d[0]) or (d[0] < 0 and d[1] > 0 and -d[0] > 0.3 * d[1]):
        return "taper"  # rising, or falling to the left
    whole = p[-1] - p[0]
    if whole[0] > 0 and whole[1] > 0.2 * whole[0] and length > 4 * DEFAULT_Z:
        return "sweep"  # a long fall to the right
    return "blunt"


def z_profile(points: np.ndarray, corners: Sequence[int], z0: float = DEFAULT_Z) -> np.ndarray:
    """Press depth at each point of a densified stroke (x, y down)."""
    arc = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(points, axis=0), axis=1))])
    length = arc[-1]
    if length < 1.5 * z0:  # a dot: light entry, heavy end
        return z0 * np.interp(arc, [0.0, max(length, 1e-9)], [0.4, 1.2])
    entry = min(1.0 * z0, 0.3 * length)
    z = np.interp(arc, [0.0, entry, 2 * entry], [0.35, 1.1, 1.0])
    for c in corners:
        z += 0.2 * np.exp(-0.5 * ((arc - arc[c]) / (0.5 * z0)) ** 2)
    kind = exit_kind(points)
    s = length - arc
    if kind == "taper":
        reach = min(0.5 * length, 3.0 * z0)
        z *= np.interp(s, [0.0, reach], [0.1, 1.0])
    elif kind == "sweep":
        z *= np.interp(s, [0.0, 0.4 * z0, 1.2 * z0, 3.0 * z0], [0.25, 1.5, 1.5, 1.0])
    else:
        z *= np.interp(s, [0.0, 0.3 * z0, 0.8 * z0], [0.7, 1.15, 1.0])
    return np.clip(z0 * z, 0.0, Z_MAX)


def stroke_times(points: np.ndarray, pauses: Sequence[int] = ()) -> np.ndarray:
    """Seconds from the first row: bell-shaped speed, pauses at ``pauses`` rows."""
    ds = np.linalg.norm(np.diff(points, axis=0), axis=1)
    if len(ds) == 0:
        return np.zeros(len(points))
    u = (np.arange(len(ds)) + 0.5) / len(ds)
    dt = ds / (SPEED * (0.3 + 0.7 * np.sin(np.pi * u)))
    for k in pauses:
        if 0 < k <= len(dt):
            dt[k - 1] += CORNER_PAUSE
    return np.concatenate([[0.0], np.cumsum(dt)])


def with_times(
    strokes: Sequence[np.ndarray],
    pauses: Sequence[Sequence[int]] | None = None,
    tips: np.ndarray | None = None,
) -> list[np.ndarray]:
    """(x, y, z) strokes -> (t, x, y, z) rows: a landing row at z = 0 before
    each stroke, bell-shaped speed along it and a flight in the air between.

    ``tips`` (one (dx, dy) per stroke) adds a touch-down move at z = 0 from
    the first point plus (dx, dy) to it: the tuft then trails that way when
    the brush presses in, which is how a hidden-tip entry is made.
    """
    out, t = [], 0.0
    prev_end = None
    for i, xyz in enumerate(strokes):
        first = np.array([*xyz[0, :2], 0.0])
        lead = [first] if tips is None else [first + [*tips[i], 0.0], first]
        if prev_end is not None:
            t += 0.25 + np.linalg.norm(lead[0][:2] - prev_end) / AIR_SPEED
        ts = stroke_times(xyz[:, :2], () if pauses is None else pauses[i])
        lead_t = t + LANDING * np.arange(len(lead)) / len(lead)
        rows = np.column_stack(
            [np.concatenate([lead_t, t + LANDING + ts]), np.vstack([*lead, xyz])]
        )
        out.append(rows)
        t, prev_end = float(rows[-1, 0]), xyz[-1, :2]
    return out


def y_down(points_up: np.ndarray) -> np.ndarray:
    """Raw mmah (y up) -> trajectory frame (y down, row 0 at y_up = 900)."""
    p = np.asarray(points_up, dtype=np.float64)
    return np.column_stack([p[:, 0], FRAME_TOP - p[:, 1]])


def default_trajectory(
    centerlines: Ink | Sequence[np.ndarray], z0: float = DEFAULT_Z, char: str = ""
) -> Trajectory:
    """Writing motion for centre lines in the raw mmah frame (y up), e.g. the
    hanzi-writer-data medians: densified, with the default z and time profiles."""
    if isinstance(centerlines, Ink):
        if centerlines.y_axis != "up":
            raise InkstrokeError("centre lines must be in the raw mmah frame with y up")
        char = char or (centerlines.text or "")
        centerlines = centerlines.strokes
    if not 0 < z0 <= Z_MAX:
        raise InkstrokeError(f"press depth z0 = {z0:g} is out of range (0, {Z_MAX:g}]")
    strokes, pauses = [], []
    for i, line in enumerate(centerlines):
        pts = y_down(line)
        if len(pts) == 0 or not np.isfinite(pts).all():
            raise InkstrokeError(f"centre line {i} of {char!r} is empty or not finite")
        dense, at = densify(pts)
        corners = [int(at[j + 1]) for j, a in enumerate(turn_angles(pts)) if a > CORNER_DEG]
        strokes.append(np.column_stack([dense, z_profile(dense, corners, z0)]))
        pauses.append(corners)
    return Trajectory(with_times(strokes, pauses), char=char, meta={"z0": z0})
