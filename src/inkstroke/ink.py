"""The one data type of inkstroke: an :class:`Ink` is a list of pen-down strokes.

Conventions
-----------
* A stroke is a float64 array of shape ``(n, 2)`` holding absolute ``(x, y)``
  points, written while the pen touches the surface. Between two strokes the
  pen is lifted.
* ``y_axis`` says which way y grows. Devices such as UNIPEN tablets and the
  Make Me a Hanzi frame grow y *upward*; images, SVG and InkML viewers grow it
  *downward*. :meth:`Ink.y_down` converts, and every model in inkstroke works
  on y-down inks so that rendered pictures and data agree.
* ``times`` and ``pressures`` are optional per-point channels, one array per
  stroke, aligned with the points.

Stroke-3 (``dx, dy, pen_lift``) and stroke-5 (sketch-rnn) arrays are the
lingua franca for models. They give integer (device) coordinates back
exactly and float ones to within rounding, since summing rounded differences
need not give back the last bit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np

from inkstroke.errors import InkstrokeError

YAxis = Literal["up", "down"]


# The largest coordinate an ink may hold, in any unit: no writing surface is near
# it (a UNIPEN tablet counts to 1e5), and squares of larger values overflow.
MAX_COORDINATE = 1e9


class InkError(InkstrokeError):
    """An ink (or a file that should hold one) is malformed."""


def _as_points(stroke: Iterable) -> np.ndarray:
    points = np.asarray(stroke, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != 2:
        raise InkError(f"a stroke must be an (n, 2) array of points, got shape {points.shape}")
    return points


@dataclass
class Ink:
    """Strokes of points, with optional time/pressure channels and labels."""

    strokes: list[np.ndarray]
    times: list[np.ndarray] | None = None
    pressures: list[np.ndarray] | None = None
    text: str | None = None
    writer: str | None = None
    source: str | None = None
    units: str = "unit"
    y_axis: YAxis = "down"
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.strokes = [_as_points(s) for s in self.strokes]
        for name in ("times", "pressures"):
            channel = getattr(self, name)
            if channel is None:
                continue
            channel = [np.asarray(c, dtype=np.float64).reshape(-1) for c in channel]
            if len(channel) != len(self.strokes) or any(
                len(c) != len(s) for c, s in zip(channel, self.strokes)
            ):
                raise InkError(f"{name} must have one value per point of every stroke")
            setattr(self, name, channel)
        if self.y_axis not in ("up", "down"):
            raise InkError(f"y_axis must be 'up' or 'down', got {self.y_axis!r}")

    # ------------------------------------------------------------------ basics
    @property
    def num_points(self) -> int:
        return sum(len(s) for s in self.strokes)

    def __len__(self) -> int:
        return len(self.strokes)

    def points(self) -> np.ndarray:
        """All points, concatenated, shape (N, 2)."""
        if not self.strokes:
            return np.zeros((0, 2))
        return np.concatenate(self.strokes)

    def bounds(self) -> tuple[float, float, float, float]:
        """(xmin, ymin, xmax, ymax); raises on an empty ink."""
        pts = self.points()
        if len(pts) == 0:
            raise InkError("an empty ink has no bounds")
        lo, hi = pts.min(axis=0), pts.max(axis=0)
        return float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1])

    def copy(self, **changes) -> Ink:
        """A deep copy, with some fields replaced (those are taken as given)."""
        for name in ("strokes", "times", "pressures"):
            if name not in changes:
                channel = getattr(self, name)
                changes[name] = None if channel is None else [c.copy() for c in channel]
        changes.setdefault("meta", dict(self.meta))
        return replace(self, **changes)

    def check_finite(self, where: str = "ink") -> Ink:
        """Raise :class:`InkError` naming ``where`` if any value is NaN or
        infinite, or a coordinate lies beyond ±:data:`MAX_COORDINATE` (finite
        still, but its squares overflow in any arithmetic on the ink)."""
        for i, s in enumerate(self.strokes):
            if not np.isfinite(s).all():
                raise InkError(f"{where}: stroke {i} holds a NaN or infinite coordinate")
            if len(s) and np.abs(s).max() > MAX_COORDINATE:
                raise InkError(f"{where}: stroke {i} holds a coordinate beyond ±{MAX_COORDINATE:g} "
                               f"({np.abs(s).max():g})")
        for name in ("times", "pressures"):
            for i, c in enumerate(getattr(self, name) or []):
                if not np.isfinite(c).all():
                    raise InkError(f"{where}: stroke {i} holds a NaN or infinite {name[:-1]}")
        return self

    # ------------------------------------------------------------ conversions
    def to_stroke3(self) -> np.ndarray:
        """Rows of (dx, dy, pen_lift); pen_lift=1 marks the last point of a stroke.

        The first row is the first point itself (its offset from the origin), so
        the conversion keeps absolute position and is invertible (exactly so on
        integer coordinates).
        """
        rows = []
        prev = np.zeros(2)
        for s in self.strokes:
            if len(s) == 0:
                continue
            d = np.diff(np.vstack([prev, s]), axis=0)
            pen = np.zeros((len(s), 1))
            pen[-1] = 1
            rows.append(np.hstack([d, pen]))
            prev = s[-1]
        return np.vstack(rows) if rows else np.zeros((0, 3))

    @classmethod
    def from_stroke3(cls, array: np.ndarray, **kwargs) -> Ink:
        """Inverse of :meth:`to_stroke3`; a trailing stroke without a lift is kept."""
        array = np.asarray(array, dtype=np.float64)
        if array.ndim != 2 or array.shape[1] != 3:
            raise InkError(f"stroke-3 must have shape (n, 3), got {array.shape}")
        absolute = np.cumsum(array[:, :2], axis=0)
        ends = np.flatnonzero(array[:, 2] > 0.5) + 1
        strokes = [s for s in np.split(absolute, ends) if len(s)]
        return cls(strokes, **kwargs)

    def to_stroke5(self) -> np.ndarray:
        """sketch-rnn's stroke-5: (dx, dy, p_down, p_up, p_end), ending in an end row."""
        s3 = self.to_stroke3()
        out = np.zeros((len(s3) + 1, 5))
        out[:-1, :2] = s3[:, :2]
        out[:-1, 2] = 1 - s3[:, 2]
        out[:-1, 3] = s3[:, 2]
        out[-1, 4] = 1
        return out

    @classmethod
    def from_stroke5(cls, array: np.ndarray, **kwargs) -> Ink:
        array = np.asarray(array, dtype=np.float64)
        if array.ndim != 2 or array.shape[1] != 5:
            raise InkError(f"stroke-5 must have shape (n, 5), got {array.shape}")
        end = np.flatnonzero(array[:, 4] > 0.5)
        body = array[: end[0]] if len(end) else array
        return cls.from_stroke3(np.column_stack([body[:, :2], body[:, 3]]), **kwargs)

    def to_polylines(self) -> list[np.ndarray]:
        return [s.copy() for s in self.strokes]

    @classmethod
    def from_polylines(cls, polylines: Sequence, **kwargs) -> Ink:
        return cls([_as_points(p) for p in polylines if len(p)], **kwargs)

    # ------------------------------------------------------------- geometry
    def y_down(self) -> Ink:
        """The same ink with y growing downward (mirrored about y=0 if needed)."""
        if self.y_axis == "down":
            return self
        return self.transform(np.diag([1.0, -1.0]))._with(y_axis="down")

    def _with(self, **changes) -> Ink:
        return replace(self, **changes)

    def transform(self, matrix: np.ndarray, offset: Sequence[float] = (0.0, 0.0)) -> Ink:
        """Apply ``p -> matrix @ p + offset`` to every point (2x2 matrix, or 2x3 affine)."""
        matrix = np.asarray(matrix, dtype=np.float64)
        if matrix.shape == (2, 3):
            matrix, offset = matrix[:, :2], matrix[:, 2]
        if matrix.shape != (2, 2):
            raise InkError(f"an affine transform is 2x2 or 2x3, got {matrix.shape}")
        off = np.asarray(offset, dtype=np.float64)
        return self.copy(strokes=[s @ matrix.T + off for s in self.strokes])

    def translate(self, dx: float, dy: float) -> Ink:
        return self.transform(np.eye(2), (dx, dy))

    def scale(self, sx: float, sy: float | None = None) -> Ink:
        return self.transform(np.diag([sx, sx if sy is None else sy]))

    def body_height(self) -> float:
        """A device-independent size: about the x-height of handwriting.

        Twice the interquartile span of y over arc-length-resampled points. The
        central half of the ink lies in the body band of the letters, so this
        hardly moves when a word has ascenders or descenders (the 10-90 span
        grows by half for "glyph" against "ocean"), and unlike the median step
        length it does not depend on the sampling rate of the device.
        """
        arc = sum(float(np.linalg.norm(np.diff(st, axis=0), axis=1).sum()) for st in self.strokes)
        extent = self._extent()
        # ~4,000 points along the pen path however long the ink is: a step set by the
        # extent alone would leave a long line of small letters a few points per letter
        ys = self.resampled_y(step=max(arc / 4000.0, extent / 4000.0, 1e-9))
        if len(ys) < 2:
            return 1.0
        q75, q25 = np.percentile(ys, [75, 25])
        span = 2.0 * float(q75 - q25)
        return span if span > 0 else max(extent, 1.0)

    def _extent(self) -> float:
        x0, y0, x1, y1 = self.bounds()
        return max(x1 - x0, y1 - y0)

    def normalized(self, height: float = 1.0) -> Ink:
        """y-down ink scaled so that :meth:`body_height` is ``height``, its first
        point at the origin."""
        ink = self.y_down()
        s = height / ink.body_height()
        ink = ink.scale(s)
        x0, y0 = ink.strokes[0][0]
        out = ink.translate(-x0, -y0)
        out.units = "normalized"
        return out

    def resample(self, step: float) -> Ink:
        """Points every ``step`` units of arc length within each stroke (ends kept):
        each stroke's arc length split into equal pieces of at most ``step``.

        Times and pressures are interpolated along the same arc length. All
        strokes are interpolated in one pass, laid end to end along one axis
        with a gap between them, rather than one stroke at a time (a word's
        strokes are many and short, and per-stroke calls cost more than the
        arithmetic)."""
        grid = self._arc_grid(step)
        if grid is None:
            return self.copy()
        where, axis, keep, cuts = grid

        def along(values: np.ndarray) -> list[np.ndarray]:
            return np.split(np.interp(where, axis, values[keep]), cuts)

        pts = np.concatenate(self.strokes)
        out = np.column_stack([np.interp(where, axis, pts[keep, 0]), np.interp(where, axis, pts[keep, 1])])
        return self.copy(
            strokes=np.split(out, cuts),
            times=along(np.concatenate(self.times)) if self.times is not None else None,
            pressures=along(np.concatenate(self.pressures)) if self.pressures is not None else None,
        )

    def resampled_y(self, step: float) -> np.ndarray:
        """The y of every point of :meth:`resample` ``(step)``, in order, the same
        numbers without building the strokes: the median and percentiles of y
        along the pen path are taken of every draw of every word."""
        grid = self._arc_grid(step)
        if grid is None:
            return np.zeros(0)
        where, axis, keep, _ = grid
        return np.interp(where, axis, np.concatenate(self.strokes)[keep, 1])

    def _arc_grid(self, step: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
        """Where :meth:`resample` interpolates: the targets and the points' arc
        length on one axis (strokes laid end to end, a gap apart), which points
        take part, and where the output splits into strokes; None for no strokes."""
        if step <= 0:
            raise InkError(f"resampling step must be positive, got {step}")
        if not self.strokes:
            return None
        if any(len(s) == 0 for s in self.strokes):
            raise InkError("cannot resample a stroke with no points")
        lens = np.fromiter((len(s) for s in self.strokes), int, len(self.strokes))
        first = np.concatenate([[0], np.cumsum(lens)[:-1]])
        pts = np.concatenate(self.strokes)
        d = np.diff(pts, axis=0)
        seg = np.concatenate([[0.0], np.sqrt(d[:, 0] * d[:, 0] + d[:, 1] * d[:, 1])])
        seg[first] = 0.0  # no length from one stroke's end to the next one's start
        stroke = np.repeat(np.arange(len(lens)), lens)
        run = np.cumsum(seg)
        arc = run - run[first][stroke]  # arc length within each stroke
        total = arc[first + lens - 1]
        n = np.where(total > 0, np.maximum(np.ceil(total / step), 1) + 1, 1).astype(int)
        at = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)  # index of each target in its stroke
        piece = np.divide(total, n - 1, out=np.zeros_like(total), where=n > 1)
        targets = at * np.repeat(piece, n)
        ends = np.cumsum(n) - 1
        targets[ends] = total  # each stroke ends on its last point
        gap = float(total.max()) + 1.0
        keep = seg > 0  # repeated points dropped: the arc must grow strictly
        keep[first] = True
        axis = (arc + stroke * gap)[keep]
        where = targets + np.repeat(np.arange(len(lens)), n) * gap
        return where, axis, keep, ends[:-1] + 1

    def resample_time(self, dt: float) -> Ink:
        """Points every ``dt`` units of time within each stroke (needs ``times``)."""
        if self.times is None:
            raise InkError("resampling by time needs an ink with times")
        if dt <= 0:
            raise InkError(f"time step must be positive, got {dt}")
        strokes, times, pressures = [], [], []
        for i, (s, t) in enumerate(zip(self.strokes, self.times)):
            t = np.maximum.accumulate(t)  # time that runs backwards is held still
            grid = np.arange(t[0], t[-1] + dt * 0.5, dt) if t[-1] > t[0] else t[:1]
            strokes.append(np.column_stack([np.interp(grid, t, s[:, k]) for k in range(2)]))
            times.append(grid)
            if self.pressures is not None:
                pressures.append(np.interp(grid, t, self.pressures[i]))
        return self.copy(
            strokes=strokes, times=times, pressures=pressures if self.pressures else None
        )

    def simplify(self, epsilon: float) -> Ink:
        """Ramer-Douglas-Peucker on each stroke: drop points within ``epsilon``."""
        keep = [_rdp_mask(s, epsilon) for s in self.strokes]
        pick = lambda chan: None if chan is None else [c[k] for c, k in zip(chan, keep)]  # noqa: E731
        return self.copy(
            strokes=[s[k] for s, k in zip(self.strokes, keep)],
            times=pick(self.times),
            pressures=pick(self.pressures),
        )

    def smooth(self, window: int = 7, order: int = 2) -> Ink:
        """Savitzky-Golay smoothing per stroke, end points kept. A stroke shorter
        than the window gets the largest odd window that fits it; one of at most
        ``order + 1`` points is kept as it is."""
        from scipy.signal import savgol_filter

        out = []
        for s in self.strokes:
            w = min(window, len(s) if len(s) % 2 else len(s) - 1)
            if w <= order:
                out.append(s.copy())
                continue
            sm = savgol_filter(s, w, order, axis=0, mode="interp")
            sm[0], sm[-1] = s[0], s[-1]
            out.append(sm)
        return self.copy(strokes=out)

    # ----------------------------------------------------------- combining
    @staticmethod
    def concat(inks: Sequence[Ink], text_sep: str = "") -> Ink:
        """Strokes of all inks in order; texts joined with ``text_sep``."""
        if not inks:
            raise InkError("nothing to concatenate")
        axes = {i.y_axis for i in inks}
        if len(axes) != 1:
            inks = [i.y_down() for i in inks]
        first = inks[0]
        has_t = all(i.times is not None for i in inks)
        has_p = all(i.pressures is not None for i in inks)
        texts = [i.text for i in inks if i.text is not None]
        return Ink(
            [s for i in inks for s in i.strokes],
            times=[t for i in inks for t in i.times] if has_t else None,
            pressures=[p for i in inks for p in i.pressures] if has_p else None,
            text=text_sep.join(texts) if texts else None,
            writer=first.writer,
            source=first.source,
            units=first.units,
            y_axis=inks[0].y_axis,
        )

    @staticmethod
    def place_on_line(inks: Sequence[Ink], gap: float, baseline: float = 0.0) -> Ink:
        """Set inks side by side, left to right, ``gap`` apart, each shifted so its
        own baseline estimate (the 80th percentile of y, y-down) sits on ``baseline``."""
        placed, x = [], 0.0
        for ink in inks:
            ink = ink.y_down()
            if ink.num_points == 0:
                continue
            x0, _, x1, _ = ink.bounds()
            base = float(np.percentile(ink.resampled_y(max(ink._extent() / 200, 1e-9)), 80))
            placed.append(ink.translate(x - x0, baseline - base))
            x += (x1 - x0) + gap
        return Ink.concat(placed, text_sep=" ")


def _rdp_mask(points: np.ndarray, epsilon: float) -> np.ndarray:
    """Boolean mask of the points kept by Ramer-Douglas-Peucker (iterative).

    Plain Python floats, not numpy: a split looks at a few dozen points, where
    numpy's cost per call outweighs its speed per point (four times faster on
    handwriting, and still faster on strokes of thousands of points)."""
    n = len(points)
    keep = [False] * n
    if n == 0:
        return np.zeros(0, dtype=bool)
    keep[0] = keep[-1] = True
    xs, ys = points[:, 0].tolist(), points[:, 1].tolist()
    stack = [(0, n - 1)]
    while stack:
        a, b = stack.pop()
        if b - a < 2:
            continue
        ax, ay = xs[a], ys[a]
        sx, sy = xs[b] - ax, ys[b] - ay
        norm = float(np.hypot(sx, sy))
        best, m = -1.0, a + 1
        for i in range(a + 1, b):
            rx, ry = xs[i] - ax, ys[i] - ay
            d = abs(sx * ry - sy * rx) / norm if norm else float(np.hypot(rx, ry))
            if d > best:  # the first of equal distances, as numpy's argmax
                best, m = d, i
        if best > epsilon:
            keep[m] = True
            stack += [(a, m), (m, b)]
    return np.array(keep, dtype=bool)
