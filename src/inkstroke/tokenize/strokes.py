"""Motion tokens: Δx and Δy in adaptive bins, plus a pen channel and an end event.

An ink becomes a sequence of *steps*. Step ``t`` is a move ``(dx, dy)`` to the
next point, made with the pen down (drawing) or up (travelling to the start
of a new stroke). Each step is three integers: the Δx bin, the Δy bin and the
pen bit (1 = this move is in the air). Moves longer than the largest bin are
split into several steps of the same pen state.

Bins are fitted on data: uniform and fine near zero where most movement is,
log-spaced tails for rare large jumps, sparse bins merged, and the densest
bins split until there are ``n_bins``. Each bin decodes to the mean of the
training values that fell into it.

Encoding carries the quantisation residual forward: each step aims at the
*true* next point from the *decoded* current point, so errors never
accumulate and every decoded point stays within one bin width of the original.
"""

from __future__ import annotations

import bisect
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from inkstroke.errors import InkstrokeError
from inkstroke.ink import Ink


@dataclass
class AxisBins:
    """Bins of one axis: sorted ``centers`` and the ``edges`` between them."""

    centers: np.ndarray

    @property
    def edges(self) -> np.ndarray:
        return (self.centers[1:] + self.centers[:-1]) / 2

    def quantize(self, values: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.edges, values)

    def widths(self) -> np.ndarray:
        """Width of each bin (outer bins: twice the distance to their inner edge)."""
        e = self.edges
        lo = np.concatenate([[self.centers[0] - (e[0] - self.centers[0])], e])
        hi = np.concatenate([e, [self.centers[-1] + (self.centers[-1] - e[-1])]])
        return hi - lo


def fit_axis(values: np.ndarray, n_bins: int = 24, core_fraction: float = 0.5,
             min_fraction: float = 0.002) -> AxisBins:
    """Fit ``n_bins`` centres to 1-D deltas.

    Half the bins (``core_fraction``) are uniform over the central 90% of the
    data; the rest are log-spaced out to the 99.9th percentile on each side.
    Bins holding less than ``min_fraction`` of the data are merged into a
    neighbour, and the fullest bin is split until the count is back at
    ``n_bins``. Centres are the means of their members.
    """
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values)]
    if len(values) < n_bins * 10:
        raise InkstrokeError(f"too little data to fit {n_bins} bins ({len(values)} values)")
    lo, hi = np.percentile(values, [5, 95])
    c = max(abs(lo), abs(hi), 1e-6)
    top = max(np.percentile(np.abs(values), 99.9), c * 1.5)
    n_core = max(int(n_bins * core_fraction) | 1, 3)  # odd: a bin centred on zero
    n_tail = max((n_bins - n_core) // 2, 1)
    core = np.linspace(-c, c, n_core + 1)
    tail = np.geomspace(c, top, n_tail + 1)[1:]
    edges = np.concatenate([-tail[::-1], core, tail])
    edges = np.unique(edges)
    # merge sparse bins, then split the fullest, keeping edges sorted
    for _ in range(4 * n_bins):
        counts = np.histogram(values, bins=np.concatenate([[-np.inf], edges[1:-1], [np.inf]]))[0]
        n = len(counts)
        sparse = np.flatnonzero(counts < min_fraction * len(values))
        if len(sparse) and n > 3:
            i = sparse[np.argmin(counts[sparse])]
            # drop the inner edge shared with the smaller neighbour
            j = i if i == n - 1 or (i > 0 and counts[i - 1] <= counts[i + 1]) else i + 1
            edges = np.delete(edges, j)
            continue
        if n < n_bins:
            i = int(np.argmax(counts))
            inside = values[(values >= edges[i]) & (values < edges[i + 1])]
            mid = float(np.median(inside)) if len(inside) else (edges[i] + edges[i + 1]) / 2
            if not edges[i] < mid < edges[i + 1]:
                mid = (edges[i] + edges[i + 1]) / 2
            edges = np.insert(edges, i + 1, mid)
            continue
        break
    # the loop can stop short when merging and splitting keep undoing each other:
    # split the widest bins, or merge the narrowest neighbours, to land on n_bins exactly
    while len(edges) - 1 < n_bins:
        i = int(np.argmax(np.diff(edges)))
        edges = np.insert(edges, i + 1, (edges[i] + edges[i + 1]) / 2)
    while len(edges) - 1 > n_bins:
        edges = np.delete(edges, 1 + int(np.argmin(np.diff(edges)[1:-1] + np.diff(edges)[:-2])))
    inner = edges[1:-1]
    which = np.searchsorted(inner, values)
    centers = np.empty(len(inner) + 1)
    for k in range(len(centers)):
        members = values[which == k]
        centers[k] = members.mean() if len(members) else (edges[k] + edges[k + 1]) / 2
    # the largest moves must be reachable exactly: outer centres at the data's extremes
    centers[0] = min(centers[0], -top)
    centers[-1] = max(centers[-1], top)
    return AxisBins(np.sort(centers))


@dataclass
class StrokeTokenizer:
    """Ink ⇄ integer steps ``(dx_bin, dy_bin, pen_up)``; see the module docstring."""

    x: AxisBins
    y: AxisBins
    step: float = 0.12  # arc-length resampling step in body heights
    rdp: float = 0.02  # simplification tolerance in body heights

    @property
    def n_bins(self) -> int:
        return len(self.x.centers)

    # ------------------------------------------------------------------ fit
    @classmethod
    def fit(cls, inks: list[Ink], n_bins: int = 24, step: float = 0.12, rdp: float = 0.02,
            **kwargs) -> StrokeTokenizer:
        """Fit bins to the moves of normalised, resampled inks."""
        deltas = np.concatenate([cls.moves(ink, step, rdp)[:, :2] for ink in inks])
        return cls(fit_axis(deltas[:, 0], n_bins, **kwargs),
                   fit_axis(deltas[:, 1], n_bins, **kwargs), step, rdp)

    @staticmethod
    def prepare(ink: Ink, step: float, rdp: float) -> Ink:
        """Normalise (y down, body height 1), resample and simplify an ink."""
        ink = ink.normalized(1.0)
        arc = sum(float(np.linalg.norm(np.diff(s, axis=0), axis=1).sum()) for s in ink.strokes)
        if arc / step > 1_000_000:
            raise InkstrokeError(f"ink too long to tokenize ({arc:.0f} body heights of pen path)")
        ink = ink.resample(step)
        ink = ink.simplify(rdp) if rdp > 0 else ink
        # a dot becomes a zero-length drawn move, unlike the waypoints of a split jump
        return ink.copy(strokes=[s if len(s) > 1 else np.vstack([s, s]) for s in ink.strokes],
                        times=None, pressures=None)

    @classmethod
    def moves(cls, ink: Ink, step: float = 0.12, rdp: float = 0.02) -> np.ndarray:
        """Rows ``(dx, dy, pen_up)`` of a prepared ink, before quantisation."""
        s3 = cls.prepare(ink, step, rdp).to_stroke3()
        pen_up = np.concatenate([[1.0], s3[:-1, 2]])  # the move into a stroke's first point is in the air
        return np.column_stack([s3[:, :2], pen_up])

    # -------------------------------------------------------------- encode
    def encode(self, ink: Ink, prepared: bool = False, reached: list | None = None) -> np.ndarray:
        """Integer steps (T, 3); residual carried forward, long moves split.

        With ``reached`` given, the decoded position at which each original point
        was reached is appended to it (for measuring the round-trip error)."""
        if ink.num_points == 0:
            raise InkstrokeError("cannot tokenize an empty ink")
        if prepared:
            s3 = ink.copy(strokes=[s if len(s) > 1 else np.vstack([s, s]) for s in ink.strokes],
                          times=None, pressures=None).to_stroke3()
            moves = np.column_stack([s3[:, :2], np.concatenate([[1.0], s3[:-1, 2]])])
        else:
            moves = self.moves(ink, self.step, self.rdp)
        targets = np.cumsum(moves[:, :2], axis=0)
        (ex, cx, rx), (ey, cy, ry) = self._lookup(self.x), self._lookup(self.y)
        out = []
        px = py = 0.0
        for tx, ty, pen in zip(targets[:, 0].tolist(), targets[:, 1].tolist(), moves[:, 2].tolist()):
            while True:
                ix, iy = bisect.bisect_left(ex, tx - px), bisect.bisect_left(ey, ty - py)
                px, py = px + cx[ix], py + cy[iy]
                out.append((ix, iy, int(pen)))
                # done when what is left is within the reach of the bin just used
                if abs(tx - px) <= rx[ix] and abs(ty - py) <= ry[iy]:
                    if reached is not None:
                        reached.append((px, py))
                    break
                if len(out) > 100_000:
                    raise InkstrokeError("ink too long to tokenize (over 100,000 steps)")
        return np.asarray(out, dtype=np.int64)

    @staticmethod
    def _lookup(axis: AxisBins) -> tuple[list[float], list[float], list[float]]:
        """Edges, centres and reach (half a bin width). The outer bins reach no
        further than the others: a longer move takes another step, so that the
        decoded point stays within one bin width of the original."""
        half = axis.widths() / 2 + 1e-9
        return axis.edges.tolist(), axis.centers.tolist(), half.tolist()

    # -------------------------------------------------------------- decode
    def decode(self, tokens: np.ndarray, **ink_kwargs) -> Ink:
        """Steps (T, 3) back to a y-down ink in body-height units."""
        tokens = np.asarray(tokens, dtype=np.int64).reshape(-1, 3)
        if len(tokens) == 0:
            return Ink([], units="normalized", **ink_kwargs)
        if tokens[:, :2].min() < 0 or tokens[:, :2].max() >= self.n_bins:
            raise InkstrokeError(f"token bin out of range 0..{self.n_bins - 1}")
        d = np.column_stack([self.x.centers[tokens[:, 0]], self.y.centers[tokens[:, 1]]])
        pos = np.cumsum(d, axis=0)
        starts = np.flatnonzero(tokens[:, 2] == 1)
        if len(starts) == 0 or starts[0] != 0:
            starts = np.concatenate([[0], starts])
        # one-point pieces are the waypoints of a split jump (dots are encoded as two points)
        ends = np.concatenate([starts[1:], [len(pos)]])
        strokes = [pos[a:b] for a, b in zip(starts, ends) if b - a > 1]
        return Ink(strokes, units="normalized", y_axis="down", **ink_kwargs)

    # ------------------------------------------------------------------ I/O
    def to_dict(self) -> dict:
        return {"kind": "inkstroke-stroke-tokenizer", "version": 1, "step": self.step,
                "rdp": self.rdp, "x_centers": self.x.centers.tolist(),
                "y_centers": self.y.centers.tolist()}

    @classmethod
    def from_dict(cls, d: dict, where: str = "tokenizer") -> StrokeTokenizer:
        try:
            if d.get("kind") != "inkstroke-stroke-tokenizer":
                raise KeyError("kind")
            x = np.asarray(d["x_centers"], dtype=np.float64)
            y = np.asarray(d["y_centers"], dtype=np.float64)
            if len(x) < 3 or len(x) != len(y) or not (np.diff(x) > 0).all() or not (np.diff(y) > 0).all():
                raise ValueError("bin centres must be increasing and of equal count")
            return cls(AxisBins(x), AxisBins(y), float(d["step"]), float(d["rdp"]))
        except (AttributeError, KeyError, TypeError, ValueError) as e:
            raise InkstrokeError(f"{where}: not a valid stroke tokenizer ({e})") from None

    def save(self, path: str | Path) -> None:
        from inkstroke.io.container import atomic_write_bytes

        atomic_write_bytes(path, lambda f: f.write(json.dumps(self.to_dict(), indent=1).encode()))

    @classmethod
    def load(cls, path: str | Path) -> StrokeTokenizer:
        try:
            return cls.from_dict(json.loads(Path(path).read_text()), str(path))
        except (OSError, json.JSONDecodeError, UnicodeDecodeError) as e:
            raise InkstrokeError(f"{path}: cannot read tokenizer ({e})") from None
