"""``inkstroke/BrushKnots-v0``: correct a stroke's reference motion knot by knot,
from observations that depend on the character alone.

The stroke-level form of :class:`~inkstroke.rl.env.BrushWriteEnv` that the
issue allows ("stroke parameters are an alternative"): instead of steering
the brush move by move while watching the canvas, the agent sets the
corrections of :mod:`inkstroke.rl.knots` one knot at a time. What it sees at
a knot never depends on its earlier actions, so a trained policy corrects
every knot of a character in one batched call (:class:`~inkstroke.rl.knot_agent.KnotAgent`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from inkstroke.calligraphy import brush
from inkstroke.calligraphy.metrics import soft_iou
from inkstroke.calligraphy.trajectory import Trajectory
from inkstroke.errors import InkstrokeError
from inkstroke.rl.env import (
    ACTION_TOLERANCE,
    _fine_target,
    _target,
    character_split,
    pick_character,
)
from inkstroke.rl.knots import ACTION_SIZE, FEATURES, KnotPlan, apply_corrections, knot_features

FEATURE_BOUND = 4.0


@lru_cache(maxsize=4096)
def character_knots(char: str) -> tuple[KnotPlan, np.ndarray]:
    """The character's knots and their features (cached: a training run revisits them)."""
    from inkstroke.calligraphy.profiles import default_trajectory
    from inkstroke.calligraphy.targets import start_lines
    from inkstroke.rl.knots import plan_knots

    plan = plan_knots(default_trajectory(start_lines(char), char=char))
    feats = np.clip(knot_features(plan, _fine_target(char)), -FEATURE_BOUND, FEATURE_BOUND)
    return plan, feats


class KnotWriteEnv(gym.Env):
    """Correct one stroke of a Chinese character, knot by knot.

    ## Description

    The reference motion of a character (the default brush motion along its
    hanzi-writer-data medians) is cut into knots about 40 frame units apart
    along each stroke (:func:`inkstroke.rl.knots.plan_knots`). An episode is
    one stroke; each step sets the correction at its next knot, in stroke
    order. Between knots the displacements are interpolated along the path.
    The target is the character's Kaiti glyph.

    ## Action Space

    ``Box(-1, 1, (4,), float32)``, in the knot's own frame:

    | Num | Action                           | Scaled by | Unit |
    |-----|----------------------------------|-----------|------|
    | 0   | Δ along the path                 | 32        | frame units |
    | 1   | Δ across the path (to the right of travel, y down) | 32 | frame units |
    | 2   | Δ press depth                    | 40        | frame units |
    | 3   | landing-tip turn (first knot only) | π       | radians from pointing back along the stroke |

    An action outside the space, of the wrong shape or not finite raises
    :class:`InkstrokeError`.

    ## Observation Space

    ``Box(-4, 4, (369,), float32)``: what :func:`inkstroke.rl.knots.knot_features`
    gives for the knot.

    | Index   | Content |
    |---------|---------|
    | 0–118   | the target glyph (0..1) on a 7 × 17 grid in the knot's frame: −48..48 frame units along the path, −64..64 across |
    | 119–237 | the stroke's own centre line, drawn 48 units wide, on the same grid |
    | 238–356 | the other strokes' centre lines, on the same grid |
    | 357–368 | z / 100 here and at the neighbouring knots, fraction of the stroke, stroke length / 1000, first / last knot, tangent (x, y), turn / π, stroke index / count, count / 20 |

    Nothing in it depends on ink laid or on earlier actions.

    ## Rewards

    ``reward_scale`` (100) times the change in the soft IoU
    Σ min(c, t) / Σ max(c, t) between the page and the target (``size``
    pixels) when this knot's correction is applied: the page holds this
    stroke with the corrections set so far (the knots still to come at zero)
    over the other strokes, written with the corrections ``others(char)``
    gives (default: none). An episode's return is the gain of the corrected
    stroke over the uncorrected one, in percent points. Training passes a
    frozen copy of the policy as ``others``, so that a stroke is judged
    among strokes written the way the agent will write them: beside
    uncorrected neighbours, a stroke learns to cover for their faults.

    With ``relative=True`` (and ``others``) each step also gives back an
    equal share of what ``others``' own corrections of this stroke gain, so
    the return is the gain over them: strokes differ far more in what any
    correction can gain than policies near each other do, and that spread
    would drown the difference a policy update makes.

    ## Starting State

    A random character of ``chars`` and a random stroke of it; all its knots
    at zero correction.

    ## Episodes

    Terminated after the stroke's last knot; never truncated (a stroke has at
    most a few dozen knots). ``reset(options={"char": "永", "stroke": 3})``
    picks the stroke.

    ## Arguments

    ``chars`` (default: the training split), ``size`` (128: pixels of the
    page the reward reads), ``reward_scale`` (100), ``others`` (a function
    of the character giving the corrections of all its knots, for the other
    strokes; cached per character), ``relative`` (False), ``params`` (the
    brush), ``seed`` (the bristle pattern).
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 4}

    def __init__(
        self,
        chars: Sequence[str] | str | None = None,
        size: int = 128,
        reward_scale: float = 100.0,
        others: Callable[[str], np.ndarray] | None = None,
        relative: bool = False,
        params: brush.BrushParams = brush.DEFAULT_BRUSH,
        seed: int = 0,
        render_mode: str | None = None,
    ):
        if not 32 <= size <= 512:
            raise InkstrokeError(f"size {size} is out of range [32, 512]")
        if render_mode not in (None, *self.metadata["render_modes"]):
            raise InkstrokeError(f"unknown render mode {render_mode!r}; use 'rgb_array' or None")
        self.chars = list(character_split("train") if chars is None else chars)
        if not self.chars:
            raise InkstrokeError("no characters to write")
        self.size, self.reward_scale, self.params = size, reward_scale, params
        self.bristle_seed, self.render_mode = seed, render_mode
        if relative and others is None:
            raise InkstrokeError("a relative reward needs the others' corrections to compare with")
        self.others, self.relative = others, relative
        self._others: dict[str, np.ndarray] = {}
        self.action_space = spaces.Box(-1.0, 1.0, (ACTION_SIZE,), np.float32)
        self.observation_space = spaces.Box(-FEATURE_BOUND, FEATURE_BOUND, (FEATURES,), np.float32)
        self._done = True

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        options = options or {}
        self.char = char = pick_character(self, options)
        self.plan, self.features = character_knots(char)
        n = len(self.plan.strokes)
        stroke = options.get("stroke")
        if stroke is None:
            stroke = int(self.np_random.integers(n))
        if not 0 <= stroke < n:
            raise InkstrokeError(f"stroke {stroke} is out of range for {char!r} ({n} strokes)")
        self.stroke = stroke
        self.knots = np.flatnonzero(self.plan.stroke == stroke)
        self.actions = np.zeros((len(self.plan), ACTION_SIZE))
        self.target = _target(char, self.size)
        if self.others is not None and char not in self._others:
            self._others[char] = np.asarray(self.others(char), dtype=np.float64)
        around = self._others.get(char, self.actions)
        whole = apply_corrections(self.plan, around)
        others = [s for i, s in enumerate(whole.strokes) if i != stroke]
        self.background = (
            brush.render(Trajectory(others), self.size, self.params, self.bristle_seed)
            if others
            else np.zeros((self.size, self.size), dtype=np.float32)
        )
        self.index = 0
        self.score = self._score()
        self.start_score = self.score
        self.share = 0.0  # of the others' gain on this stroke, given back at each step
        if self.relative:
            self.actions[self.knots] = around[self.knots]
            self.share = (self._score() - self.score) / len(self.knots)
            self.actions[:] = 0.0
        self._done = False
        return self._observation(), {"char": char, "stroke": stroke, "score": self.score}

    def step(self, action):
        if self._done:
            raise InkstrokeError("the stroke is written: call reset() before step()")
        a = np.asarray(action, dtype=np.float64)
        if a.shape != (ACTION_SIZE,) or not np.isfinite(a).all():
            raise InkstrokeError(
                f"action must be {ACTION_SIZE} finite numbers in [-1, 1], got {np.asarray(action)!r}"
            )
        if np.abs(a).max() > 1 + ACTION_TOLERANCE:
            raise InkstrokeError(f"action {a.tolist()} is outside the action space [-1, 1]")
        self.actions[self.knots[self.index]] = np.clip(a, -1.0, 1.0)
        self.index += 1
        score = self._score()
        reward = self.reward_scale * (score - self.score - self.share)
        self.score = score
        terminated = self.index == len(self.knots)
        self._done = terminated
        info = {"score": score, "gain": score - self.start_score}
        return self._observation(), float(reward), terminated, False, info

    def _page(self) -> np.ndarray:
        whole = apply_corrections(self.plan, self.actions)
        own = Trajectory([whole.strokes[self.stroke]])
        ink = brush.render(own, self.size, self.params, self.bristle_seed)
        return np.maximum(self.background, ink)

    def _score(self) -> float:
        return soft_iou(self._page(), self.target)

    def _observation(self) -> np.ndarray:
        i = self.knots[min(self.index, len(self.knots) - 1)]
        return self.features[i].copy()

    def render(self):
        if self.render_mode != "rgb_array":
            return None
        page = self._page()
        rgb = np.full((self.size, self.size, 3), 255.0)
        rgb[..., 1:] -= 90 * self.target[..., None]  # the target in pale red
        rgb *= 1 - page[..., None]
        return rgb.clip(0, 255).astype(np.uint8)
