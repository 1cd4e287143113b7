"""``inkstroke/BrushWrite-v0``: write a character with the virtual brush, one
short move at a time, as a Gymnasium environment.

The brush follows the default motion of the character's medians
(:func:`inkstroke.calligraphy.profiles.default_trajectory`); the agent only
corrects it: a residual policy. Zero corrections reproduce the default motion,
so the medians are the baseline every policy starts from. Ink is laid with
the simulator's own teardrop footprints and tuft state
(:mod:`inkstroke.calligraphy.brush`), stamped incrementally into a small
canvas, so a step costs a fraction of a millisecond.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from inkstroke.calligraphy import brush
from inkstroke.calligraphy.profiles import default_trajectory, with_times
from inkstroke.calligraphy.trajectory import FRAME_SIZE, Z_MAX, Trajectory
from inkstroke.errors import InkstrokeError

LOOKAHEAD = 4  # reference waypoints ahead, in the state vector
REACH = 128.0  # frame units that map the look-ahead offsets to about [-1, 1]
SECTION = 17  # samples of the cross-sections through the next waypoint ...
SECTION_REACH = 64.0  # ... from -64 to +64 frame units across the path
FINE = 256  # the target the cross-sections read: 4 frame units a pixel
STATE_SIZE = 12 + 3 * LOOKAHEAD + 2 * SECTION
STATE_BOUND = 4.0  # every state entry is clipped to [-4, 4]; in practice they stay within ±2
ACTION_TOLERANCE = 1e-5  # float rounding a policy may leave outside [-1, 1]


# ------------------------------------------------------------- characters
def character_split(split: str = "train") -> list[str]:
    """GB2312 characters of hanzi-writer-data in a fixed train/test split: a
    character whose CRC-32 ends in 0 (mod 10) is held out, so the split never
    depends on the order or size of the data."""
    from inkstroke.io.hanzi import available_characters

    if split not in ("train", "test"):
        raise InkstrokeError(f"unknown character split {split!r}; use 'train' or 'test'")
    held_out = split == "test"
    chars = []
    for c in available_characters():
        try:
            c.encode("gb2312")
        except UnicodeEncodeError:
            continue
        if (zlib.crc32(c.encode("utf-8")) % 10 == 0) == held_out:
            chars.append(c)
    return chars


@lru_cache(maxsize=4096)
def _fine_target(char: str) -> np.ndarray:
    from inkstroke.calligraphy.targets import target_image

    return target_image(char, FINE)


@lru_cache(maxsize=4096)
def _target(char: str, size: int) -> np.ndarray:
    """The target at ``size``: the fine one area-averaged when the sizes divide."""
    from inkstroke.calligraphy.targets import target_image

    if FINE % size:
        return target_image(char, size)
    k = FINE // size
    return _fine_target(char).reshape(size, k, size, k).mean(axis=(1, 3))


@lru_cache(maxsize=4096)
def _reference(char: str) -> tuple[np.ndarray, ...]:
    """Each stroke's default motion as (n, 3) rows of (x, y, z), y down; row 0
    is the touch-down at z = 0."""
    from inkstroke.calligraphy.targets import start_lines

    return tuple(s[:, 1:4].copy() for s in default_trajectory(start_lines(char)).strokes)


def waypoints(rows: np.ndarray, spacing: float) -> np.ndarray:
    """Indices of the rows where the agent acts: about ``spacing`` apart along
    the path, always the first and last row."""
    arc = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(rows[:, :2], axis=0), axis=1))])
    inner = np.searchsorted(arc, np.arange(spacing, arc[-1] - 0.5 * spacing, spacing))
    return np.unique(np.concatenate([[0], inner, [len(rows) - 1]])).astype(np.int64)


@dataclass(frozen=True)
class TuftState:
    """The tuft where a move starts: tip direction (length <= 1), splay, ink load."""

    tip: np.ndarray
    splay: float
    ink: float


def lay_move(
    canvas: np.ndarray,
    pad: int,
    scale: float,
    rows: np.ndarray,
    state: TuftState,
    params: brush.BrushParams = brush.DEFAULT_BRUSH,
    table: np.ndarray | None = None,
) -> TuftState:
    """Stamp one move, rows of (x, y, z) from where the brush is, into a canvas
    padded by ``pad`` pixels (``scale`` pixels per frame unit), carrying the
    tuft on from ``state``; returns the state at the end of the move. The
    footprints, spacing and tuft dynamics are those of
    :func:`inkstroke.calligraphy.brush.render`, taken a move at a time."""
    p = params
    xyz = brush.resample_stroke(
        np.column_stack([np.zeros(len(rows)), rows]), brush.STAMP_SPACING / scale
    )
    if len(xyz) < 2:
        return state
    ds = np.linalg.norm(np.diff(xyz[:, :2], axis=0), axis=1)
    v = np.gradient(xyz[:, :2], axis=0)[1:]
    xyz = xyz[1:]  # the first footprint was laid by the previous move
    z = np.maximum(xyz[:, 2], 0.0)
    trailing = -v / np.sqrt((v**2).sum(axis=1, keepdims=True) + 1e-12)
    tip = brush.ema(trailing, 1.0 - np.exp(-ds / (p.lag_min + p.lag_per_z * z)), state.tip)
    splay = brush.ema(
        np.minimum(z / p.splay_depth, 1.0),
        1.0 - np.exp(-ds / p.splay_length),
        np.asarray(state.splay),
    )
    ink = np.maximum(state.ink - np.cumsum(z * ds) / p.ink_capacity, 0.0)
    if z.max() > 0:
        fp = brush.footprints(xyz, brush.Tuft(tip, splay, ink), p)
        half = min(brush.window_half(fp, scale), pad - 1)
        if table is None:
            table = np.ones(brush.BRISTLE_TABLE, dtype=np.float32)
        # brush._stamp is the simulator's own stamping; only its name is private
        brush._stamp(canvas, pad, fp, half, scale, table)
    return TuftState(tip[-1], float(splay[-1]), float(ink[-1]))


def _to_u8(density: np.ndarray) -> np.ndarray:
    return (np.clip(density, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def check_observation(obs: dict, space: spaces.Dict) -> None:
    """Raise :class:`InkstrokeError` naming the key and shape when ``obs`` does
    not fit ``space`` (one observation, or a batch of them)."""
    if not isinstance(obs, dict):
        raise InkstrokeError(
            f"an observation must be a dict with keys {', '.join(space.spaces)}, got {type(obs).__name__}"
        )
    missing = [k for k in space.spaces if k not in obs]
    if missing:
        raise InkstrokeError(f"observation lacks {', '.join(missing)}")
    for key, sub in space.spaces.items():
        shape = np.shape(obs[key])
        if shape != sub.shape and shape[1:] != sub.shape:
            raise InkstrokeError(
                f"observation {key!r} has shape {shape}; expected {sub.shape} (or a batch (n, *{sub.shape}))"
            )


# ------------------------------------------------------------ environment
class BrushWriteEnv(gym.Env):
    """Write a Chinese character with a simulated ink brush by correcting the
    default motion of its medians.

    ## Description

    An episode writes one character, or a run of its strokes (see *Episodes*),
    in stroke order. Each stroke's reference motion is the default brush
    motion along its hanzi-writer-data median (press depth profile included),
    cut into moves about ``spacing`` frame units long. At each step the agent
    says where the end of the next move should lie relative to the reference,
    and how much deeper or lighter to press; the brush travels there from the
    end of the previous move (the correction is interpolated along the move)
    and lays ink with the simulator's footprint and tuft model. The target is
    the character's Kaiti glyph. Frame units: the 1024-unit Make Me a Hanzi
    square, y down.

    ## Action Space

    ``Box(-1, 1, (3,), float32)``: the correction at the end of the move.

    | Num | Action | Scaled by                | Unit        |
    |-----|--------|--------------------------|-------------|
    | 0   | Δx     | ``max_offset`` (32)      | frame units |
    | 1   | Δy     | ``max_offset`` (32)      | frame units |
    | 2   | Δz     | ``max_dz`` (24)          | frame units of press depth |

    Δz applies where the reference presses (z > 0); the touch-down row stays
    at z = 0 and z is clipped to [0, Z_MAX]. An action outside the space, of
    the wrong shape or not finite raises :class:`InkstrokeError`.

    ## Observation Space

    ``Dict`` of three entries (S = ``size``, P = ``patch``):

    | Key     | Shape       | Type          | Content |
    |---------|-------------|---------------|---------|
    | image   | (3, S, S)   | uint8 0..255  | target glyph, canvas (ink density), median of the current stroke (1-pixel line) |
    | patch   | (3, P, P)   | uint8 0..255  | the same three channels in a window centred on the end of the next reference move |
    | state   | (58,)       | float32       | brush state, the reference ahead and cross-sections, below |

    ``state``:

    | Index | Content |
    |-------|---------|
    | 0–2   | brush position x / 1024, y / 1024 and press depth z / 100 |
    | 3–4   | tip direction of the tuft (its length drops while it swings round) |
    | 5     | splay of the tuft, 0..1 |
    | 6     | ink load, 1 after a dip |
    | 7–9   | the last correction, as an action (−1..1) |
    | 10    | fraction of the current stroke written |
    | 11    | fraction of the episode's strokes written |
    | 12–23 | the next 4 reference waypoints: (Δx, Δy) / 128 from the current reference point, z / 100 |
    | 24–40 | the target (at 256 pixels) across the path at the next waypoint, −64..64 frame units, 0..1 |
    | 41–57 | the canvas at the same 17 points |

    The cross-sections show at a glance how wide the target stroke is and
    where its middle lies; the patch shows the same in two dimensions.

    ## Rewards

    ``reward_scale`` (100) times the change of the IoU between the canvas and
    the target (ink above one half), so an episode's return is the final IoU
    in percent points (less the IoU of strokes written before it); minus
    ``off_paper`` (1.0) for each move that ends off the 1024 × 1024 sheet.

    ## Starting State

    The canvas holds the strokes before the episode's first stroke, written
    with the reference motion; the brush is freshly dipped, its tip pointing
    up and left (:data:`inkstroke.calligraphy.brush.BrushParams.entry`).

    ## Episodes

    ``max_strokes`` (0: the whole character) strokes, starting at a random
    stroke; the episode terminates when they are written and is never
    truncated (its length is bounded by the character). A curriculum raises
    ``max_strokes`` from 1 to 0 during training (``env.set_attr`` on vector
    envs). ``reset(options={"char": "永"})`` writes that character (whole,
    unless ``"start_stroke"`` and ``max_strokes`` say otherwise).

    ## Arguments

    ``chars`` (default: the training split of :func:`character_split`),
    ``size`` (64), ``patch`` (16), ``spacing`` (32 frame units per move),
    ``max_offset`` (32), ``max_dz`` (24), ``max_strokes`` (0),
    ``reward_scale`` (100), ``off_paper`` (1.0), ``params`` (the brush),
    ``seed`` (bristle pattern, 0 like :func:`inkstroke.calligraphy.brush.render`),
    ``render_mode`` (``"rgb_array"`` or None).
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 30}

    def __init__(
        self,
        chars: Sequence[str] | str | None = None,
        size: int = 64,
        patch: int = 16,
        spacing: float = 32.0,
        max_offset: float = 32.0,
        max_dz: float = 24.0,
        max_strokes: int = 0,
        reward_scale: float = 100.0,
        off_paper: float = 1.0,
        params: brush.BrushParams = brush.DEFAULT_BRUSH,
        seed: int = 0,
        render_mode: str | None = None,
    ):
        if not 16 <= size <= 512:
            raise InkstrokeError(f"size {size} is out of range [16, 512]")
        if not (2 <= patch <= size and patch % 2 == 0):
            raise InkstrokeError(f"patch {patch} must be even and within [2, size = {size}]")
        if spacing <= 0 or max_offset < 0 or max_dz < 0:
            raise InkstrokeError("spacing must be positive, max_offset and max_dz not negative")
        if render_mode not in (None, *self.metadata["render_modes"]):
            raise InkstrokeError(f"unknown render mode {render_mode!r}; use 'rgb_array' or None")
        self.chars = list(character_split("train") if chars is None else chars)
        if not self.chars:
            raise InkstrokeError("no characters to write")
        self.size, self.patch, self.spacing = size, patch, float(spacing)
        self.max_strokes, self.reward_scale, self.off_paper = max_strokes, reward_scale, off_paper
        self.params, self.bristle_seed, self.render_mode = params, seed, render_mode
        self.scale = size / FRAME_SIZE
        self.action_gain = np.array([max_offset, max_offset, max_dz])
        # room for stamp windows (up to two half-widths past the edge, where
        # brush._stamp still keeps footprints) and for a patch at the edge
        reach = (
            0.5 * params.width_per_z * Z_MAX * (1 + params.splay_gain)
            + 0.5 * params.drag_per_z * Z_MAX
        )
        self.pad = max(2 * int(np.ceil(reach * self.scale + 1.5)) + 2, patch // 2 + 1)
        self.section_offsets = np.linspace(-SECTION_REACH, SECTION_REACH, SECTION)
        self.action_space = spaces.Box(-1.0, 1.0, (3,), np.float32)
        self.observation_space = spaces.Dict(
            {
                "image": spaces.Box(0, 255, (3, size, size), np.uint8),
                "patch": spaces.Box(0, 255, (3, patch, patch), np.uint8),
                "state": spaces.Box(-STATE_BOUND, STATE_BOUND, (STATE_SIZE,), np.float32),
            }
        )
        self._done = True

    # ------------------------------------------------------------ episode
    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        options = options or {}
        char = options.get("char")
        if char is None:
            char = self.chars[int(self.np_random.integers(len(self.chars)))]
        self.char = char
        self.refs = _reference(char)
        n = len(self.refs)
        count = n if self.max_strokes <= 0 else min(self.max_strokes, n)
        first = options.get("start_stroke")
        if first is None:
            first = int(self.np_random.integers(n - count + 1)) if count < n else 0
        if not 0 <= first < n:
            raise InkstrokeError(f"start stroke {first} is out of range for {char!r} ({n} strokes)")
        self.first, self.last = first, min(first + count, n)
        target = _target(char, self.size)
        self.fine = _fine_target(char)
        p = self.pad
        self.target_u8 = _to_u8(np.pad(target, p))
        self.target_mask = target > 0.5
        self.canvas = np.zeros((self.size + 2 * p,) * 2, dtype=np.float32)
        rng = np.random.default_rng(self.bristle_seed)
        self.tables = [brush.bristle_table(rng) for _ in range(n)]
        self.ink_left = 1.0
        if first > 0:  # the strokes before the episode, written with the reference motion
            before = Trajectory(with_times([r[1:] for r in self.refs[:first]]))
            self.canvas[p:-p, p:-p] = brush.render(
                before, self.size, self.params, self.bristle_seed
            )
            if self.params.dip_every != 1:
                self.ink_left = self._ink_after(first)
        self.written = [r.copy() for r in self.refs]
        self.iou = self._iou()
        self._start_stroke(first)
        self._done = False
        return self._observation(), {"char": char, "strokes": (first, self.last), "iou": self.iou}

    def _ink_after(self, count: int) -> float:
        """Ink left after the first ``count`` reference strokes (for rare dips)."""
        ink = 1.0
        for i, r in enumerate(self.refs[:count]):
            if i == 0 or (self.params.dip_every > 0 and i % self.params.dip_every == 0):
                ink = 1.0
            ink = max(
                ink
                - float(np.sum(r[1:, 2] * np.linalg.norm(np.diff(r[:, :2], axis=0), axis=1)))
                / self.params.ink_capacity,
                0.0,
            )
        return ink

    def _start_stroke(self, i: int) -> None:
        self.stroke = i
        if i >= self.last:
            return
        self.way = waypoints(self.refs[i], self.spacing)
        self.k = 0  # moves done in this stroke
        self.offset = np.zeros(3)
        self.prev_action = np.zeros(3, dtype=np.float32)
        dip = i == 0 or (self.params.dip_every > 0 and i % self.params.dip_every == 0)
        self.ink = 1.0 if dip else self.ink_left
        self.tip = np.asarray(self.params.entry, dtype=np.float64)
        self.tip = self.tip / np.linalg.norm(self.tip)
        self.splay = 0.0
        self.pos = self.refs[i][0].copy()
        line = np.zeros_like(self.target_u8)
        px = np.round(self.refs[i][:, :2] * self.scale).astype(np.int64) + self.pad
        px = np.clip(px, 0, line.shape[0] - 1)
        line[px[:, 1], px[:, 0]] = 255
        self.line = line

    def step(self, action):
        if self._done:
            raise InkstrokeError("the episode is over: call reset() before step()")
        a = self._check_action(action)
        ref = self.refs[self.stroke]
        lo, hi = self.way[self.k], self.way[self.k + 1]
        new = a * self.action_gain
        old = new if self.k == 0 else self.offset
        rows = ref[lo : hi + 1]
        arc = np.concatenate(
            [[0.0], np.cumsum(np.linalg.norm(np.diff(rows[:, :2], axis=0), axis=1))]
        )
        w = (arc / arc[-1] if arc[-1] > 0 else np.ones_like(arc))[:, None]
        shift = (1.0 - w) * old + w * new
        shift[:, 2] *= rows[:, 2] > 0
        moved = rows + shift
        moved[:, 2] = np.clip(moved[:, 2], 0.0, Z_MAX)
        self.written[self.stroke][lo : hi + 1] = moved
        self._lay_ink(moved)
        self.offset, self.prev_action = new, a.astype(np.float32)
        self.pos = moved[-1]
        self.k += 1

        iou = self._iou()
        reward = self.reward_scale * (iou - self.iou)
        off = not (0.0 <= self.pos[0] <= FRAME_SIZE and 0.0 <= self.pos[1] <= FRAME_SIZE)
        reward -= self.off_paper * off
        self.iou = iou
        if self.k == len(self.way) - 1:
            self.ink_left = self.ink
            self._start_stroke(self.stroke + 1)
        terminated = self.stroke >= self.last
        self._done = terminated
        info = {"iou": iou, "off_paper": off}
        return self._observation(), float(reward), terminated, False, info

    def _check_action(self, action) -> np.ndarray:
        try:
            a = np.asarray(action, dtype=np.float64)
        except (TypeError, ValueError):
            raise InkstrokeError(
                f"an action must be 3 numbers (Δx, Δy, Δz), got {action!r}"
            ) from None
        if a.shape != (3,):
            raise InkstrokeError(
                f"an action must have shape (3,) (Δx, Δy, Δz), got shape {a.shape}"
            )
        if not np.isfinite(a).all():
            raise InkstrokeError(f"action {a.tolist()} is not finite")
        bad = np.flatnonzero(np.abs(a) > 1.0 + ACTION_TOLERANCE)
        if len(bad):
            j = int(bad[0])
            raise InkstrokeError(
                f"action {a.tolist()} is outside the action space [-1, 1]^3: {('Δx', 'Δy', 'Δz')[j]} = {a[j]:g}"
            )
        return np.clip(a, -1.0, 1.0)

    def _lay_ink(self, rows: np.ndarray) -> None:
        state = TuftState(self.tip, self.splay, self.ink)
        state = lay_move(
            self.canvas, self.pad, self.scale, rows, state, self.params, self.tables[self.stroke]
        )
        self.tip, self.splay, self.ink = state.tip, state.splay, state.ink

    def _iou(self) -> float:
        p = self.pad
        ink = self.canvas[p:-p, p:-p] > 0.5
        union = np.count_nonzero(ink | self.target_mask)
        return 1.0 if union == 0 else np.count_nonzero(ink & self.target_mask) / union

    # -------------------------------------------------------- observation
    def _observation(self) -> dict:
        p, s, h = self.pad, self.size, self.patch // 2
        live = self.stroke < self.last
        if not live:
            self.line = np.zeros_like(self.target_u8)
        state = np.zeros(STATE_SIZE, dtype=np.float32)
        if live:
            ref = self.refs[self.stroke]
            here = ref[self.way[self.k]]
            ahead = ref[self.way[np.minimum(self.k + 1 + np.arange(LOOKAHEAD), len(self.way) - 1)]]
            centre = ahead[0, :2]
            state[12:24] = np.column_stack(
                [(ahead[:, :2] - here[:2]) / REACH, ahead[:, 2] / 100.0]
            ).reshape(-1)
            state[10] = self.k / (len(self.way) - 1)
            state[3:5] = self.tip
            state[5], state[6] = self.splay, self.ink
            state[7:10] = self.prev_action
            state[24:] = self._sections(centre, ahead[0, :2] - here[:2])
        else:
            centre = self.pos[:2]
        state[0:2] = self.pos[:2] / FRAME_SIZE
        state[2] = self.pos[2] / 100.0
        state[11] = (self.stroke - self.first) / max(self.last - self.first, 1)
        c = np.clip(np.round(centre * self.scale).astype(np.int64), 0, s - 1) + p
        rows, cols = slice(c[1] - h, c[1] + h), slice(c[0] - h, c[0] + h)
        planes = (self.target_u8, None, self.line)
        image = np.empty((3, s, s), dtype=np.uint8)
        patch = np.empty((3, 2 * h, 2 * h), dtype=np.uint8)
        image[1] = _to_u8(self.canvas[p : p + s, p : p + s])
        patch[1] = _to_u8(self.canvas[rows, cols])
        for k in (0, 2):
            image[k] = planes[k][p : p + s, p : p + s]
            patch[k] = planes[k][rows, cols]
        np.clip(state, -STATE_BOUND, STATE_BOUND, out=state)
        return {"image": image, "patch": patch, "state": state}

    def _sections(self, centre: np.ndarray, heading: np.ndarray) -> np.ndarray:
        """Target (from the fine picture) and canvas sampled across the path."""
        norm = np.linalg.norm(heading)
        d = heading / norm if norm > 0 else np.array([1.0, 0.0])
        q = centre + np.outer(self.section_offsets, [-d[1], d[0]])
        t = np.clip(np.round(q * (FINE / FRAME_SIZE)).astype(np.int64), 0, FINE - 1)
        c = np.clip(
            np.round(q * self.scale).astype(np.int64) + self.pad, 0, self.canvas.shape[0] - 1
        )
        return np.concatenate([self.fine[t[:, 1], t[:, 0]], self.canvas[c[:, 1], c[:, 0]]])

    # ------------------------------------------------------------ results
    def trajectory(self) -> Trajectory:
        """The motion written so far (strokes not yet written follow the
        reference), timed like the default motion: what a robot would play."""
        return Trajectory(with_times([w[1:] for w in self.written]), char=self.char)

    def render(self):
        if self.render_mode != "rgb_array":
            return None
        p, s = self.pad, self.size
        target = self.target_u8[p : p + s, p : p + s] / 255.0
        ink = np.clip(self.canvas[p : p + s, p : p + s], 0.0, 1.0)
        rgb = np.ones((s, s, 3))
        rgb[..., 1:] -= 0.25 * target[..., None]  # the target in pale red
        rgb *= (1.0 - ink)[..., None]
        return np.round(rgb * 255).astype(np.uint8)
