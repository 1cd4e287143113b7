"""A character's reference motion cut into knots, for policies that correct a
whole stroke at once.

Every stroke of the default motion (:func:`~inkstroke.calligraphy.profiles.default_trajectory`)
gets knots about ``KNOT_SPACING`` frame units apart along its path, the ends
included. A correction at a knot is (Δ along the path, Δ across it, Δ press
depth, landing-tip turn), in the knot's own frame; between knots the
displacements are interpolated along the path. The tip turn counts at a
stroke's first knot only: it sets the hidden-tip touch-down move, as
trajectory optimisation does.

What a policy sees at a knot depends on the character alone, never on ink
already laid: the target glyph, the stroke's own centre line and the other
strokes' centre lines, each sampled on a grid in the knot's frame, and a few
numbers about the stroke. So one batched call of the policy corrects a whole
character, which is what makes the stroke-level agent fast.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from inkstroke.calligraphy.optimize import LAND_REACH, Motion, spline_basis
from inkstroke.calligraphy.profiles import with_times
from inkstroke.calligraphy.trajectory import FRAME_SIZE, Z_MAX, Trajectory
from inkstroke.errors import InkstrokeError

KNOT_SPACING = 40.0  # frame units of path between knots: the optimiser's control spacing
ALONG = np.array([-48.0, -32.0, -16.0, 0.0, 16.0, 32.0, 48.0])  # grid rows, frame units
ACROSS = np.linspace(-64.0, 64.0, 17)  # grid columns: the width of the widest strokes
LINE_WIDTH = 48.0  # centre lines drawn this wide: the median Kaiti stroke
LINE_SIZE = 128  # ... on a picture this size: a blob 6 pixels wide needs no more
SCALAR_NAMES = (
    "z / 100",
    "z at the previous knot / 100",
    "z at the next knot / 100",
    "fraction of the stroke",
    "stroke length / 1000",
    "first knot",
    "last knot",
    "tangent x",
    "tangent y",
    "turn from the previous to the next knot / pi",
    "stroke index / stroke count",
    "stroke count / 20",
)
SCALARS = len(SCALAR_NAMES)
FEATURES = 3 * len(ALONG) * len(ACROSS) + SCALARS
ACTION_SIZE = 4
# what an action of 1 means: frame units along / across, press depth, tip turn in radians
ACTION_SCALE = np.array([32.0, 32.0, 40.0, math.pi])


@dataclass
class KnotPlan:
    """The reference motion of one character and its knots.

    ``strokes`` hold the pressed (x, y, z) rows of each stroke (y down),
    ``arcs`` their path lengths; per knot (N in all): ``stroke`` (its stroke),
    ``s`` (path position), ``xyz``, ``tangent`` and ``normal`` (unit, y down),
    ``first`` and ``last`` (the stroke's ends).
    """

    char: str
    strokes: list[np.ndarray]
    arcs: list[np.ndarray]
    stroke: np.ndarray
    s: np.ndarray
    xyz: np.ndarray
    tangent: np.ndarray
    normal: np.ndarray
    first: np.ndarray
    last: np.ndarray

    def __len__(self) -> int:
        return len(self.s)


def _arc(xy: np.ndarray) -> np.ndarray:
    return np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(xy, axis=0), axis=1))])


def _interp_rows(arc: np.ndarray, rows: np.ndarray, s: np.ndarray) -> np.ndarray:
    return np.column_stack([np.interp(s, arc, rows[:, k]) for k in range(rows.shape[1])])


def _tangents(rows: np.ndarray, arc: np.ndarray, s: np.ndarray, reach: float = 12.0) -> np.ndarray:
    """Unit direction of the path around each ``s`` (a chord ``2 * reach`` long,
    so a jog of one row does not turn the frame)."""
    if arc[-1] <= 1e-9:
        return np.tile([1.0, 0.0], (len(s), 1))
    a = _interp_rows(arc, rows[:, :2], np.clip(s - reach, 0, arc[-1]))
    b = _interp_rows(arc, rows[:, :2], np.clip(s + reach, 0, arc[-1]))
    d = b - a
    n = np.linalg.norm(d, axis=1, keepdims=True)
    return np.where(n > 1e-9, d / np.maximum(n, 1e-9), [1.0, 0.0])


def plan_knots(reference: Trajectory, spacing: float = KNOT_SPACING) -> KnotPlan:
    """Knots along the pressed part of each stroke of a reference motion."""
    strokes, arcs, parts = [], [], []
    for i, s in enumerate(reference.strokes):
        rows = s[:, 1:4]
        pressed = np.flatnonzero(rows[:, 2] > 0)
        rows = rows[pressed[0] :] if len(pressed) else rows
        arc = _arc(rows[:, :2])
        n = max(2, math.ceil(arc[-1] / spacing) + 1)
        at = np.linspace(0.0, arc[-1], n)
        tangent = _tangents(rows, arc, at)
        first = np.zeros(n, dtype=bool)
        first[0] = True
        parts.append((np.full(n, i), at, _interp_rows(arc, rows, at), tangent, first, first[::-1]))
        strokes.append(rows)
        arcs.append(arc)
    if not parts:
        raise InkstrokeError(f"{reference.char!r}: the reference motion has no strokes")
    stroke, s, xyz, tangent, first, last = (np.concatenate(p) for p in zip(*parts, strict=True))
    normal = np.column_stack([-tangent[:, 1], tangent[:, 0]])
    return KnotPlan(reference.char, strokes, arcs, stroke, s, xyz, tangent, normal, first, last)


def _line_layers(plan: KnotPlan, size: int) -> np.ndarray:
    """(S, size, size) pictures of each stroke's centre line drawn ``LINE_WIDTH`` wide."""
    from PIL import Image, ImageDraw

    scale = size / FRAME_SIZE
    width = max(1, round(LINE_WIDTH * scale))
    layers = np.zeros((len(plan.strokes), size, size), dtype=np.float32)
    for i, rows in enumerate(plan.strokes):
        img = Image.new("L", (size, size), 0)
        draw = ImageDraw.Draw(img)
        pts = [tuple(p) for p in (rows[:, :2] * scale).tolist()]
        if len(pts) > 1:
            draw.line(pts, fill=255, width=width, joint="curve")
        r = width / 2
        for x, y in (pts[0], pts[-1]):  # round caps
            draw.ellipse((x - r, y - r, x + r, y + r), fill=255)
        layers[i] = np.asarray(img, dtype=np.float32) / 255.0
    return layers


def knot_features(plan: KnotPlan, target: np.ndarray) -> np.ndarray:
    """(N, FEATURES) float32: per knot, the target, its own stroke's centre line
    and the other strokes' centre lines on a 7 x 17 grid in the knot's frame,
    then the scalars listed in :data:`SCALAR_NAMES`."""
    from scipy.ndimage import map_coordinates

    target = np.asarray(target, dtype=np.float32)
    size = target.shape[0]
    if target.ndim != 2 or target.shape[1] != size:
        raise InkstrokeError(f"the target must be a square picture, got shape {target.shape}")
    scale = size / FRAME_SIZE
    n = len(plan)
    pts = (
        plan.xyz[:, None, None, :2]
        + ALONG[None, :, None, None] * plan.tangent[:, None, None, :]
        + ACROSS[None, None, :, None] * plan.normal[:, None, None, :]
    ) * scale - 0.5  # pixel centres
    rows, cols = pts[..., 1].ravel(), pts[..., 0].ravel()
    ink = map_coordinates(target, [rows, cols], order=1, mode="constant").reshape(n, -1)
    layers = _line_layers(plan, LINE_SIZE)
    which = np.repeat(plan.stroke, len(ALONG) * len(ACROSS)).astype(np.float64)
    r, c = (rows + 0.5) * (LINE_SIZE / size) - 0.5, (cols + 0.5) * (LINE_SIZE / size) - 0.5
    own = map_coordinates(layers, [which, r, c], order=1, mode="constant").reshape(n, -1)
    every = map_coordinates(layers.sum(axis=0), [r, c], order=1, mode="constant")
    others = np.clip(every.reshape(n, -1) - own, 0.0, 1.0)
    length = np.array([a[-1] for a in plan.arcs])[plan.stroke]
    z = plan.xyz[:, 2]
    prev_z = np.where(plan.first, z, np.roll(z, 1))
    next_z = np.where(plan.last, z, np.roll(z, -1))
    prev_t = np.where(plan.first[:, None], plan.tangent, np.roll(plan.tangent, 1, axis=0))
    next_t = np.where(plan.last[:, None], plan.tangent, np.roll(plan.tangent, -1, axis=0))
    turn = np.arctan2(
        prev_t[:, 0] * next_t[:, 1] - prev_t[:, 1] * next_t[:, 0], (prev_t * next_t).sum(axis=1)
    )
    scalars = np.column_stack(
        [
            z / 100,
            prev_z / 100,
            next_z / 100,
            plan.s / np.maximum(length, 1e-9),
            length / 1000,
            plan.first,
            plan.last,
            plan.tangent,
            turn / math.pi,
            plan.stroke / max(len(plan.strokes), 1),
            np.full(n, len(plan.strokes) / 20),
        ]
    )
    return np.concatenate([ink, own, others, scalars], axis=1).astype(np.float32)


def apply_corrections(plan: KnotPlan, actions: np.ndarray) -> Trajectory:
    """The motion with each knot's correction (actions in [-1, 1], (N, 4)),
    displacements interpolated along each stroke between its knots."""
    actions = np.asarray(actions, dtype=np.float64)
    if actions.shape != (len(plan), ACTION_SIZE):
        raise InkstrokeError(
            f"expected ({len(plan)}, {ACTION_SIZE}) knot corrections, got {actions.shape}"
        )
    if not np.isfinite(actions).all():
        raise InkstrokeError("knot corrections must be finite")
    a = np.clip(actions, -1.0, 1.0) * ACTION_SCALE
    shift = a[:, :1] * plan.tangent + a[:, 1:2] * plan.normal
    strokes, tips = [], []
    for i, (rows, arc) in enumerate(zip(plan.strokes, plan.arcs, strict=True)):
        k = plan.stroke == i
        at = plan.s[k]
        dxy = _interp_rows(at, shift[k], arc) if len(at) > 1 and at[-1] > 0 else shift[k][:1]
        dz = np.interp(arc, at, a[k, 2]) if at[-1] > 0 else a[k, 2][:1]
        out = rows.copy()
        out[:, :2] += dxy
        out[:, 2] = np.clip(out[:, 2] + dz, 1e-3, Z_MAX)
        strokes.append(out)
        t0, turn = plan.tangent[k][0], a[k, 3][0]
        # the tip lands pointing back against the stroke's start, turned by the action
        back = -t0
        c, s = math.cos(turn), math.sin(turn)
        tips.append([c * back[0] - s * back[1], s * back[0] + c * back[1]])
    return Trajectory(
        with_times(strokes, tips=np.asarray(tips) * LAND_REACH),
        char=plan.char,
        meta={"motion": "knot corrections"},
    )


def corrections_of(plan: KnotPlan, start: Motion, optimised: Motion) -> np.ndarray:
    """The knot corrections (in action units) that move the reference where an
    optimised spline motion went: its displacement from the spline ``start``
    (fitted to the same reference) at each knot, and its landing tip."""
    out = np.zeros((len(plan), ACTION_SIZE))
    for i, (c0, c1, arc) in enumerate(
        zip(start.controls, optimised.controls, plan.arcs, strict=True)
    ):
        k = np.flatnonzero(plan.stroke == i)
        u = plan.s[k] / max(arc[-1], 1e-9)
        basis = spline_basis(len(c0), np.clip(u, 0.0, 1.0))
        d = basis @ (c1 - c0)
        out[k, 0] = (d[:, :2] * plan.tangent[k]).sum(axis=1)
        out[k, 1] = (d[:, :2] * plan.normal[k]).sum(axis=1)
        out[k, 2] = d[:, 2]
        back = -plan.tangent[k[0]]
        tip = optimised.tips[i]
        out[k[0], 3] = math.atan2(back[0] * tip[1] - back[1] * tip[0], back @ tip)
    return np.clip(out / ACTION_SCALE, -1.0, 1.0)
