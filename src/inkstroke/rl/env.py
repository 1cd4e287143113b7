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
from dataclasses import fields
from functools import lru_cache

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from inkstroke.calligraphy import brush
from inkstroke.calligraphy.metrics import soft_iou
from inkstroke.calligraphy.profiles import default_trajectory, with_times
from inkstroke.calligraphy.trajectory import FRAME_SIZE, Z_MAX, Trajectory
from inkstroke.errors import InkstrokeError

LOOKAHEAD = 4  # reference waypoints ahead, in the state vector
REACH = 128.0  # frame units that map the look-ahead offsets to about [-1, 1]
SECTION = 17  # samples of the cross-sections through the next waypoint ...
SECTION_REACH = 64.0  # ... from -64 to +64 frame units across the path
FINE = 256  # the target the cross-sections read: 4 frame units a pixel
STATE_SIZE = 12 + 3 * LOOKAHEAD + 2 * SECTION + 2
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
def reference_rows(char: str) -> tuple[np.ndarray, ...]:
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


class StrokeInk:
    """One stroke written a move at a time with the simulator's own dynamics.

    :func:`inkstroke.calligraphy.brush.tuft_along` is rerun over the stroke's
    footprints so far (a few dozen at the env's sizes), so the tuft state is
    exactly the simulator's; only the new footprints are stamped.
    """

    def __init__(
        self,
        scale: float,
        params: brush.BrushParams = brush.DEFAULT_BRUSH,
        ink0: float = 1.0,
        table: np.ndarray | None = None,
    ):
        self.scale, self.params, self.ink0 = scale, params, ink0
        self.table = np.ones(brush.BRISTLE_TABLE, np.float32) if table is None else table
        self.xyz = np.zeros((0, 3))
        self.tuft: brush.Tuft | None = None

    def add(self, canvas: np.ndarray, pad: int, rows: np.ndarray) -> None:
        """Stamp a move, (x, y, z) rows from where the brush is, into ``canvas``
        (a sheet padded by ``pad`` pixels, ``scale`` pixels per frame unit)."""
        rows = np.column_stack([np.zeros(len(rows)), rows])
        xyz = brush.resample_stroke(rows, brush.STAMP_SPACING / self.scale)
        if len(self.xyz):
            xyz = xyz[1:]  # the previous move laid the first footprint
        if not len(xyz):
            return
        self.xyz = np.concatenate([self.xyz, xyz])
        self.tuft = brush.tuft_along(self.xyz, self.params, self.ink0)
        new = slice(len(self.xyz) - len(xyz), None)
        part = brush.Tuft(**{f.name: getattr(self.tuft, f.name)[new] for f in fields(self.tuft)})
        fp = brush.footprints(self.xyz[new], part, self.params)
        if fp["r1"].max() > 0:
            sheet = canvas[pad : canvas.shape[0] - pad, pad : canvas.shape[1] - pad]
            ink, _ = brush.stamp(
                sheet.shape[0], fp, self.scale, self.table[None], np.zeros(len(xyz), np.int64)
            )
            np.maximum(sheet, ink, out=sheet)

    @property
    def tip(self) -> np.ndarray:
        if self.tuft is None:
            entry = np.asarray(self.params.entry, dtype=np.float64)
            return entry / np.linalg.norm(entry)
        return self.tuft.tip[-1]

    @property
    def splay(self) -> float:
        return 0.0 if self.tuft is None else float(self.tuft.splay[-1])

    @property
    def ink(self) -> float:
        return self.ink0 if self.tuft is None else float(self.tuft.ink[-1])


def stroke_run(section: np.ndarray) -> tuple[float, float]:
    """Width / 100 and middle / 64 (frame units across the path) of the run
    of target ink through the middle of a cross-section, or the run nearest
    to it; (0, 0) where the section is blank."""
    ink = section > 0.5
    if not ink.any():
        return 0.0, 0.0
    middle = len(section) // 2
    inked = np.flatnonzero(ink)
    c = inked[np.argmin(np.abs(inked - middle))]
    gaps = np.flatnonzero(~ink)
    lo = gaps[gaps < c].max(initial=-1) + 1
    hi = gaps[gaps > c].min(initial=len(section)) - 1
    step = 2 * SECTION_REACH / (len(section) - 1)
    return (hi - lo + 1) * step / 100.0, (0.5 * (lo + hi) - middle) * step / 64.0


def pick_character(env: gym.Env, options: dict) -> str:
    """``options["char"]``, else one of ``env.chars`` drawn with the env's seeded generator."""
    char = options.get("char")
    if char is None:
        char = env.chars[int(env.np_random.integers(len(env.chars)))]
    return char


def _to_u8(density: np.ndarray) -> np.ndarray:
    """Ink density (never negative) to 0..255; ufuncs, not np.clip: this runs every step."""
    return (np.minimum(density, 1.0) * 255.0 + 0.5).astype(np.uint8)


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
    | state   | (60,)       | float32       | brush state, the reference ahead and cross-sections, below |

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
    | 58–59 | width / 100 and middle / 64 of the target's run of ink across the path there |

    The cross-sections show how wide the target stroke is and where its
    middle lies (58–59 say it in two numbers); the patch shows the same in
    two dimensions.

    ## Rewards

    ``reward_scale`` (100) times the change, over the move, of the agreement
    between canvas and target: by default the soft IoU Σ min(c, t) / Σ max(c, t)
    of the ink densities (both anti-aliased, so it answers to sub-pixel
    changes); with ``reward="iou"`` the IoU of the pixels inked above one half.
    An episode's return is then the final agreement in percent points, less
    that of the strokes written before it. A move that ends off the
    1024 × 1024 sheet costs ``off_paper`` (1.0) more. With ``baseline=True``
    each reward is less what the same move of the reference motion gained when
    the reference wrote the whole character: the return becomes the gain
    over the medians (exactly so for whole characters), and most of the
    spread between characters and strokes leaves the rewards. The baseline
    depends on the character and the move only, never on the agent, so it
    changes no policy's ranking. It costs one reference episode per new
    character (cached). ``info`` has ``iou`` (pixels above one
    half, at ``size``), ``score`` (the agreement the reward counts) and
    ``off_paper``.

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
    ``reward`` ("soft_iou"), ``baseline`` (False), ``reward_scale`` (100),
    ``off_paper`` (1.0), ``params`` (the brush),
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
        reward: str = "soft_iou",
        baseline: bool = False,
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
        if reward not in ("soft_iou", "iou"):
            raise InkstrokeError(f"unknown reward {reward!r}; use 'soft_iou' or 'iou'")
        if render_mode not in (None, *self.metadata["render_modes"]):
            raise InkstrokeError(f"unknown render mode {render_mode!r}; use 'rgb_array' or None")
        self.chars = list(character_split("train") if chars is None else chars)
        if not self.chars:
            raise InkstrokeError("no characters to write")
        self.size, self.patch, self.spacing = size, patch, float(spacing)
        self.max_strokes, self.reward_scale, self.off_paper = max_strokes, reward_scale, off_paper
        self.reward, self.baseline = reward, baseline
        self.settings = {
            "size": size,
            "patch": patch,
            "spacing": spacing,
            "max_offset": max_offset,
            "max_dz": max_dz,
            "reward": reward,
            "reward_scale": reward_scale,
            "params": params,
            "seed": seed,
        }
        self._gains: dict[str, list[np.ndarray]] = {}  # reference gains, for the baseline
        self.params, self.bristle_seed, self.render_mode = params, seed, render_mode
        self.scale = size / FRAME_SIZE
        self.action_gain = np.array([max_offset, max_offset, max_dz])
        # room for a patch, and the cross-sections, at the edge of the sheet
        self.pad = max(patch // 2 + 1, int(np.ceil(SECTION_REACH * self.scale)) + 1)
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
        self.char = char = pick_character(self, options)
        self.refs = reference_rows(char)
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
        self.target_density = target.astype(np.float32)
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
        self.score = self._score(self.canvas)
        self._start_stroke(first)
        self._done = False
        info = {
            "char": char,
            "strokes": (first, self.last),
            "iou": self._iou(),
            "score": self.score,
        }
        return self._observation(), info

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
        steps = np.linalg.norm(np.diff(self.refs[i][:, :2], axis=0), axis=1)
        self.arc = np.concatenate([[0.0], np.cumsum(steps)])  # arc length at each row
        self.k = 0  # moves done in this stroke
        self.offset = np.zeros(3)
        self.prev_action = np.zeros(3, dtype=np.float32)
        dip = i == 0 or (self.params.dip_every > 0 and i % self.params.dip_every == 0)
        ink0 = 1.0 if dip else self.ink_left
        self.ink = StrokeInk(self.scale, self.params, ink0, self.tables[i])
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
        new = a * self.action_gain
        old = new if self.k == 0 else self.offset
        moved = self._move(old, new)
        self.written[self.stroke][self.way[self.k] : self.way[self.k + 1] + 1] = moved
        self.ink.add(self.canvas, self.pad, moved)
        self.offset, self.prev_action = new, a.astype(np.float32)
        self.pos = moved[-1]
        self.k += 1

        score = self._score(self.canvas)
        gain = score - self.score
        if self.baseline:
            gain -= self._reference_gains(self.char)[self.stroke][self.k - 1]
        reward = self.reward_scale * gain
        self.score = score
        off = not (0.0 <= self.pos[0] <= FRAME_SIZE and 0.0 <= self.pos[1] <= FRAME_SIZE)
        reward -= self.off_paper * off
        if self.k == len(self.way) - 1:
            self.ink_left = self.ink.ink
            self._start_stroke(self.stroke + 1)
        terminated = self.stroke >= self.last
        self._done = terminated
        info = {"iou": self._iou(), "score": score, "off_paper": off}
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

    def _reference_gains(self, char: str) -> list[np.ndarray]:
        """What each move of the reference motion gains, writing the whole
        character from a blank sheet (computed once per character)."""
        if char not in self._gains:
            settings = {**self.settings, "baseline": False, "max_strokes": 0, "off_paper": 0.0}
            env = BrushWriteEnv(chars=[char], **settings)
            env.reset(options={"char": char})
            gains = [[] for _ in env.refs]
            done = False
            while not done:
                stroke = env.stroke
                _, reward, done, _, _ = env.step(np.zeros(3))
                gains[stroke].append(reward / self.reward_scale)
            self._gains[char] = [np.asarray(g) for g in gains]
        return self._gains[char]

    def _move(self, old: np.ndarray, new: np.ndarray) -> np.ndarray:
        """The rows of the next move, its correction going from ``old`` to ``new``."""
        lo, hi = self.way[self.k], self.way[self.k + 1]
        rows = self.refs[self.stroke][lo : hi + 1]
        w = self.arc[lo : hi + 1]
        w = ((w - w[0]) / (w[-1] - w[0]) if w[-1] > w[0] else np.ones_like(w))[:, None]
        shift = (1.0 - w) * old + w * new
        shift[:, 2] *= rows[:, 2] > 0
        moved = rows + shift
        np.minimum(np.maximum(moved[:, 2], 0.0, out=moved[:, 2]), Z_MAX, out=moved[:, 2])
        return moved

    def _score(self, canvas: np.ndarray) -> float:
        """The agreement the reward counts: soft IoU of the densities (smooth
        under sub-pixel changes), or the IoU of the inked pixels."""
        p = self.pad
        ink = canvas[p:-p, p:-p]
        if self.reward == "iou":
            union = np.count_nonzero((ink > 0.5) | self.target_mask)
            return 1.0 if union == 0 else np.count_nonzero((ink > 0.5) & self.target_mask) / union
        return soft_iou(np.minimum(ink, 1.0), self.target_density)

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
            state[3:5] = self.ink.tip
            state[5], state[6] = self.ink.splay, self.ink.ink
            state[7:10] = self.prev_action
            state[24:58] = self._sections(centre, ahead[0, :2] - here[:2])
            state[58], state[59] = stroke_run(state[24 : 24 + SECTION])
        else:
            centre = self.pos[:2]
        state[0:2] = self.pos[:2] / FRAME_SIZE
        state[2] = self.pos[2] / 100.0
        state[11] = (self.stroke - self.first) / max(self.last - self.first, 1)
        cx, cy = (min(max(round(float(v) * self.scale), 0), s - 1) + p for v in centre)
        rows, cols = slice(cy - h, cy + h), slice(cx - h, cx + h)
        planes = (self.target_u8, None, self.line)
        image = np.empty((3, s, s), dtype=np.uint8)
        patch = np.empty((3, 2 * h, 2 * h), dtype=np.uint8)
        image[1] = _to_u8(self.canvas[p : p + s, p : p + s])
        patch[1] = _to_u8(self.canvas[rows, cols])
        for k in (0, 2):
            image[k] = planes[k][p : p + s, p : p + s]
            patch[k] = planes[k][rows, cols]
        np.minimum(np.maximum(state, -STATE_BOUND, out=state), STATE_BOUND, out=state)
        return {"image": image, "patch": patch, "state": state}

    def _sections(self, centre: np.ndarray, heading: np.ndarray) -> np.ndarray:
        """Target (from the fine picture) and canvas sampled across the path."""
        norm = np.linalg.norm(heading)
        d = heading / norm if norm > 0 else np.array([1.0, 0.0])
        q = centre + np.outer(self.section_offsets, [-d[1], d[0]])
        t = np.minimum(np.maximum(np.round(q * (FINE / FRAME_SIZE)).astype(np.int64), 0), FINE - 1)
        c = np.round(q * self.scale).astype(np.int64) + self.pad  # within the padding
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
