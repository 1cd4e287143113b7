"""A virtual ink brush: (x, y, z) motion in, ink on paper out (numpy).

Drawing component. A brush pressed to depth z leaves a teardrop: a round belly
of width ``1.19 z`` under the handle and a tapered tip trailing ``0.665 z``
behind it, the widths and drag measured on a real brush by Wang et al.,
"Robot calligraphy using pseudospectral optimal control in conjunction with a
novel dynamic brush model", IROS 2020. The tip points where the tuft trails,
which lags the direction of motion: the stroke ends and corners of brush
writing come from that lag, not from the path.

Dynamic component. A tuft state is carried along each stroke:

* tip direction: an exponential moving average, over travelled distance, of
  the direction opposite to the motion, relaxing over about ``lag_per_z * z``;
  its length (below 1 while the tip swings round) shortens the drag;
* splay: a slower average of the pressure that widens the belly a little and
  opens gaps between the bristles when the brush runs dry;
* ink load: drops with pressure times distance; below ``dry_below`` the tone
  pales and the bristles leave streaks along the motion (dry brush, "flying
  white"), parallel to the direction of drag over the last few units so that
  they stay parallel while the tip swings; a dip (every ``dip_every``
  strokes) refills it.

Everything is in frame units (1024 per em, y down), so one trajectory renders
at any size; each footprint is stamped in its own small window of the
picture, and the picture keeps the darkest stamp at each pixel. The only
randomness, the bristle pattern (and the paper fibres of ``bleed``), comes
from ``seed``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from inkstroke.calligraphy.trajectory import FRAME_SIZE, Trajectory
from inkstroke.errors import InkstrokeError

MAX_SIZE = 8192
STAMP_SPACING = 1.0  # pixels between footprints along a stroke
CHUNK_ELEMENTS = 1 << 21  # window pixels stamped in one vectorised batch
BRISTLE_TABLE = 257  # samples of a bristle profile across the tuft
EMA_CHUNK = 64  # with alpha <= 0.999, 0.001**64 still fits a float64


@dataclass(frozen=True)
class BrushParams:
    """Shape and ink behaviour of the brush; lengths are in frame units."""

    width_per_z: float = 1.19  # belly width / press depth (Wang et al. 2020)
    drag_per_z: float = 0.665  # tip length behind the belly / press depth
    tip_ratio: float = 0.12  # radius of the rounded tip point / belly radius
    lag_per_z: float = 1.2  # the tip turns after about lag_per_z * z of travel ...
    lag_min: float = 4.0  # ... but at least this far
    entry: tuple[float, float] = (-0.6, -0.8)  # tip direction on landing: up and left
    splay_length: float = 300.0  # distance over which the tuft spreads under pressure
    splay_depth: float = 100.0  # press depth at which the tuft is fully spread
    splay_gain: float = 0.12  # belly widening of a fully spread tuft
    ink_capacity: float = 150_000.0  # integral of z ds one dip can lay down
    dry_below: float = 0.3  # ink load where streaks begin
    dry_tone: float = 0.7  # darkness of the last of the ink, a full brush being 1
    dip_every: int = 1  # dip before every n-th stroke; 0: only before the first
    bleed: float = 0.0  # spread of ink into the paper fibres (Gaussian sigma)


DEFAULT_BRUSH = BrushParams()


# ----------------------------------------------------------------- geometry
def resample_stroke(stroke: np.ndarray, step: float) -> np.ndarray:
    """(t, x, y, z) rows -> (x, y, z) footprints about ``step`` apart.

    Distance counts z too, so a press made in place still lays several stamps.
    """
    xyz = stroke[:, 1:4]
    if len(xyz) < 2:
        return xyz.copy()
    arc = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(xyz, axis=0), axis=1))])
    if arc[-1] == 0:
        return xyz[:1].copy()
    s = np.linspace(0.0, arc[-1], max(2, math.ceil(arc[-1] / step) + 1))
    return np.column_stack([np.interp(s, arc, xyz[:, k]) for k in range(3)])


def ema(target: np.ndarray, alpha: np.ndarray, init: np.ndarray) -> np.ndarray:
    """u_k = (1 - alpha_k) u_(k-1) + alpha_k target_k, starting from ``init``.

    Vectorised in chunks: u_k = g_k (u_start + sum_j alpha_j target_j / g_j)
    with g the running product of (1 - alpha), which stays representable
    within a chunk.
    """
    a = np.clip(alpha, 0.0, 0.999)
    out = np.empty_like(target, dtype=np.float64)
    prev = np.asarray(init, dtype=np.float64)
    for s in range(0, len(a), EMA_CHUNK):
        ak, vk = a[s : s + EMA_CHUNK], target[s : s + EMA_CHUNK]
        g = np.cumprod(1.0 - ak)
        w = (ak / g).reshape((-1,) + (1,) * (vk.ndim - 1))
        g = g.reshape(w.shape)
        out[s : s + len(ak)] = g * (prev + np.cumsum(w * vk, axis=0))
        prev = out[s + len(ak) - 1]
    return out


@dataclass
class Tuft:
    """State of the tuft at each footprint of a stroke."""

    tip: np.ndarray  # (m, 2) averaged trailing direction, length <= 1
    drag: np.ndarray  # (m, 2) the same over the last few units: dry bristles streak along it
    splay: np.ndarray  # (m,) in [0, 1]
    ink: np.ndarray  # (m,) load, 1 after a dip


def tuft_along(xyz: np.ndarray, params: BrushParams, ink0: float) -> Tuft:
    """Carry the tuft state along one stroke's footprints."""
    p, z = xyz[:, :2], np.maximum(xyz[:, 2], 0.0)
    ds = np.concatenate([[0.0], np.linalg.norm(np.diff(p, axis=0), axis=1)])
    v = np.gradient(p, axis=0) if len(p) > 1 else np.zeros_like(p)
    trailing = -v / np.sqrt((v**2).sum(axis=1, keepdims=True) + 1e-12)
    u0 = np.asarray(params.entry, dtype=np.float64)
    u0 = u0 / max(np.linalg.norm(u0), 1e-12)
    tip = ema(trailing, 1.0 - np.exp(-ds / (params.lag_min + params.lag_per_z * z)), u0)
    drag = ema(trailing, 1.0 - np.exp(-ds / params.lag_min), u0)
    pressure = np.minimum(z / params.splay_depth, 1.0)
    splay = ema(pressure, 1.0 - np.exp(-ds / params.splay_length), np.zeros(()))
    ink = np.maximum(ink0 - np.cumsum(z * ds) / params.ink_capacity, 0.0)
    return Tuft(tip, drag, splay, ink)


def footprints(xyz: np.ndarray, tuft: Tuft, params: BrushParams) -> dict[str, np.ndarray]:
    """Teardrop of every footprint (belly and tip radii, axis, length), the
    direction of its dry streaks, its tone and dryness."""
    z = np.maximum(xyz[:, 2], 0.0)
    norm = np.linalg.norm(tuft.tip, axis=1)
    axis = tuft.tip / np.maximum(norm, 1e-9)[:, None]
    r1 = 0.5 * params.width_per_z * z * (1.0 + params.splay_gain * tuft.splay)
    r2 = params.tip_ratio * r1
    tail = params.drag_per_z * z * np.minimum(norm, 1.0)
    streak = tuft.drag / np.maximum(np.linalg.norm(tuft.drag, axis=1), 1e-9)[:, None]
    dry = np.clip((params.dry_below - tuft.ink) / params.dry_below, 0.0, 1.0)
    return {
        "centre": xyz[:, :2],
        "axis": axis,
        "streak": streak,
        "r1": r1,
        "r2": r2,
        "h": np.maximum(r1 + tail - r2, 1e-6),
        "tone": 1.0 - (1.0 - params.dry_tone) * dry,
        "dry": np.minimum(dry * (1.0 + 0.5 * tuft.splay), 1.0),
    }


def teardrop_coverage(along, across, r1, r2, h) -> np.ndarray:
    """Coverage (0..1, box-filtered over a pixel) of a teardrop: a circle of
    radius r1 at the origin joined by tangents to one of radius r2 at distance
    h along the axis (an uneven capsule). Coordinates in pixels, ``across`` the
    absolute distance from the axis; float32 arrays, computed in place."""
    b = np.clip((r1 - r2) / h, -0.999, 0.999)
    a = np.sqrt(1.0 - b * b)
    across2 = across * across
    belly = along * along
    belly += across2
    np.sqrt(belly, out=belly)
    belly -= r1
    tip = along - h
    tip *= tip
    tip += across2
    np.sqrt(tip, out=tip)
    tip -= r2
    sdf = a * across
    sdf += b * along
    sdf -= r1
    k = a * along
    k -= b * across
    np.copyto(sdf, belly, where=k < 0)
    np.copyto(sdf, tip, where=k > a * h)
    np.subtract(0.5, sdf, out=sdf)
    return np.clip(sdf, 0.0, 1.0, out=sdf)


def bristle_table(rng: np.random.Generator) -> np.ndarray:
    """A bristle profile across the tuft, sampled on [-1, 1]: where it is low,
    the bristles run dry first. Sums of random ripples, scaled into [0, 1]."""
    t = np.linspace(-1.0, 1.0, BRISTLE_TABLE)
    freq = rng.uniform(6.0, 30.0, 8)
    phase = rng.uniform(0.0, 2 * np.pi, 8)
    amp = 1.0 / np.sqrt(freq)
    g = (amp * np.cos(np.outer(t, freq) + phase)).sum(axis=1)
    return ((g - g.min()) / max(float(np.ptp(g)), 1e-9)).astype(np.float32)


def _stamp_group(flat, stride, pad, fp, k, half, scale, tables, stroke_of) -> None:
    """Stamp footprints ``k``, all in windows of ``2 * half + 1`` pixels, into the
    flattened padded canvas, keeping the darkest ink at each pixel."""
    offs = np.arange(-half, half + 1, dtype=np.float32)
    grid = (np.arange(-half, half + 1)[:, None] * stride + np.arange(-half, half + 1)[None, :])[
        None
    ]
    mid_px = fp["mid"][k] * scale
    col0 = np.round(mid_px[:, 0]).astype(np.int64)
    row0 = np.round(mid_px[:, 1]).astype(np.int64)
    # window pixel (i, j) sits at (cx + offs[j], cy + offs[i]) from the handle, in
    # pixels; rotate into the tip's frame one axis at a time (separable sums)
    cx = ((col0 + 0.5) - fp["centre"][k, 0] * scale).astype(np.float32)[:, None]
    cy = ((row0 + 0.5) - fp["centre"][k, 1] * scale).astype(np.float32)[:, None]
    ax, ay = fp["axis"][k].astype(np.float32).T[:, :, None]
    along = (cx * ax + cy * ay + offs * ax)[:, None, :] + (offs * ay)[:, :, None]
    signed = (cy * ax - cx * ay - offs * ay)[:, None, :] + (offs * ax)[:, :, None]
    r1, r2, h = (
        (fp[key][k] * scale).astype(np.float32)[:, None, None] for key in ("r1", "r2", "h")
    )
    alpha = teardrop_coverage(along, np.abs(signed), r1, r2, h)
    alpha *= fp["tone"][k].astype(np.float32)[:, None, None]
    dry = fp["dry"][k]
    if dry.max() > 0:
        # bristles lie across the direction of drag: streaks stay parallel while the tip swings
        sx, sy = fp["streak"][k].astype(np.float32).T[:, :, None]
        across = (cy * sx - cx * sy - offs * sy)[:, None, :] + (offs * sx)[:, :, None]
        pos = np.clip(
            (across / np.maximum(r1, 1e-6) + 1.0) * (0.5 * (BRISTLE_TABLE - 1)),
            0,
            BRISTLE_TABLE - 1,
        )
        g = tables[stroke_of[k][:, None, None], pos.astype(np.int64)]
        alpha *= np.clip((g - dry.astype(np.float32)[:, None, None]) * 6.0 + 1.0, 0.0, 1.0)
    base = (row0 + pad) * stride + (col0 + pad)
    np.maximum.at(flat, (base[:, None, None] + grid).reshape(-1), alpha.reshape(-1))


def stamp(
    size: int, fp: dict[str, np.ndarray], scale: float, tables: np.ndarray, stroke_of: np.ndarray
) -> tuple[np.ndarray, int]:
    """Ink of all footprints on a ``size`` x ``size`` sheet, and how many were laid.

    Footprints are grouped by window size, so a thin taper does not pay for
    the window of a heavy press; each group is stamped in vectorised chunks.
    """
    # window centre: midway between the back of the belly and the point of the tip
    fp["mid"] = fp["centre"] + fp["axis"] * (0.5 * (fp["h"] + fp["r2"] - fp["r1"]))[:, None]
    halves = np.ceil(0.5 * (fp["r1"] + fp["h"] + fp["r2"]) * scale + 1.5).astype(np.int64)
    mid_px = fp["mid"] * scale
    keep = (fp["r1"] > 0) & np.all(
        (mid_px > -halves[:, None]) & (mid_px < size + halves[:, None]), axis=1
    )
    pad = int(halves[keep].max(initial=0)) + 1
    canvas = np.zeros((size + 2 * pad, size + 2 * pad), dtype=np.float32)
    flat = canvas.reshape(-1)
    for half in np.unique(halves[keep]):
        group = np.flatnonzero(keep & (halves == half))
        per_chunk = max(1, CHUNK_ELEMENTS // (2 * int(half) + 1) ** 2)
        for s in range(0, len(group), per_chunk):
            _stamp_group(
                flat,
                canvas.shape[1],
                pad,
                fp,
                group[s : s + per_chunk],
                int(half),
                scale,
                tables,
                stroke_of,
            )
    return canvas[pad : pad + size, pad : pad + size], int(keep.sum())


def _strokes_of(trajectory) -> list[np.ndarray]:
    if isinstance(trajectory, Trajectory):
        return trajectory.validate().strokes
    strokes = [np.asarray(s, dtype=np.float64).reshape(-1, 4) for s in trajectory]
    Trajectory(strokes).validate()
    return strokes


def render(
    trajectory: Trajectory | Sequence[np.ndarray],
    size: int = 256,
    params: BrushParams = DEFAULT_BRUSH,
    seed: int = 0,
    stats: dict | None = None,
) -> np.ndarray:
    """Ink density (0 paper .. 1 black) of a trajectory on a ``size`` x ``size`` sheet.

    Each stroke lands with its tip pointing ``params.entry``, until a move
    turns it. ``stats``, if given, receives the number of stamps laid.
    """
    if not 1 <= size <= MAX_SIZE:
        raise InkstrokeError(f"image size {size} is out of range [1, {MAX_SIZE}]")
    strokes = _strokes_of(trajectory)
    if stats is not None:
        stats["stamps"] = 0
    if not strokes:
        return np.zeros((size, size), dtype=np.float32)
    scale = size / FRAME_SIZE
    rng = np.random.default_rng(seed)
    ink = 1.0
    prints = []
    for i, stroke in enumerate(strokes):
        if i == 0 or (params.dip_every > 0 and i % params.dip_every == 0):
            ink = 1.0
        xyz = resample_stroke(stroke, STAMP_SPACING / scale)
        tuft = tuft_along(xyz, params, ink)
        ink = float(tuft.ink[-1])
        prints.append(footprints(xyz, tuft, params))
    tables = np.stack([bristle_table(rng) for _ in prints])
    fp = {key: np.concatenate([p[key] for p in prints]) for key in prints[0]}
    stroke_of = np.repeat(np.arange(len(prints)), [len(p["r1"]) for p in prints])
    out, count = stamp(size, fp, scale, tables, stroke_of)
    if stats is not None:
        stats["stamps"] = count
    if params.bleed > 0:
        out = bleed(out, params.bleed * scale, rng)
    return np.ascontiguousarray(out)


def bleed(ink: np.ndarray, sigma_px: float, rng: np.random.Generator) -> np.ndarray:
    """Ink wicking into paper: a blurred halo, broken up by random fibres."""
    from scipy.ndimage import gaussian_filter

    fibres = gaussian_filter(rng.random(ink.shape, dtype=np.float32), 1.0)
    fibres = np.clip((fibres - fibres.mean()) / (fibres.std() + 1e-9) * 0.25 + 0.75, 0.0, 1.0)
    return np.maximum(ink, gaussian_filter(ink, sigma_px) * fibres).astype(np.float32)


def to_image(ink: np.ndarray) -> np.ndarray:
    """Ink density -> 8-bit grey picture, black ink on white paper."""
    return np.round(255.0 * (1.0 - np.clip(ink, 0.0, 1.0))).astype(np.uint8)
