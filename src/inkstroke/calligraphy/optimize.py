"""Find the brush motion that writes a target glyph.

Each stroke is a cubic B-spline of control points in (x, y, z), fitted to the
default motion of its centre line (:mod:`~inkstroke.calligraphy.profiles`),
plus the direction the tip points when the brush lands. Adam moves them all
through the differentiable brush to lower

    image loss  (pixel MSE + MSE of blurred pictures, so that a stroke far
                 from where it should be still feels the pull, + soft Dice)
  + smoothness  (second differences of the control points)
  + z bounds    (the press stays within [0, Z_MAX])

first on a coarse picture, then on a finer one. The landing direction is
written into the trajectory as a short touch-down move against it, the way
a calligrapher sets the tip (a hidden-tip entry), so the plain (t, x, y, z)
rows reproduce it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from inkstroke.calligraphy import brush, torch_brush
from inkstroke.calligraphy.metrics import compare
from inkstroke.calligraphy.profiles import STEP, with_times
from inkstroke.calligraphy.trajectory import FRAME_SIZE, Z_MAX, Trajectory
from inkstroke.errors import InkstrokeError

CONTROL_SPACING = 40.0  # frame units of stroke per control point
LAND_REACH = 16.0  # touch-down move that sets the tip: 4 relaxation lengths at z = 0


@dataclass
class Stage:
    """One resolution of the coarse-to-fine optimisation."""

    size: int
    steps: int
    lr: float  # frame units per Adam step, decayed to a tenth by a cosine
    soft: float = 1.0  # edge softness of the rendered footprints, in pixels


@dataclass
class OptimizeConfig:
    stages: tuple[Stage, ...] = (Stage(128, 80, 3.0, 1.5), Stage(256, 15, 1.0, 1.0))
    blur_sigmas: tuple[float, ...] = (1.0, 3.0)  # at 256 pixels; scaled with the stage size
    w_dice: float = 0.1
    w_smooth: float = 2e-6  # per squared frame unit of second difference
    w_bounds: float = 1e-2

    def scaled(self, factor: float) -> OptimizeConfig:
        """The same schedule with ``factor`` times the steps (at least one per stage)."""
        stages = tuple(
            Stage(s.size, max(1, round(s.steps * factor)), s.lr, s.soft) for s in self.stages
        )
        return OptimizeConfig(stages, self.blur_sigmas, self.w_dice, self.w_smooth, self.w_bounds)


@dataclass
class Motion:
    """Per stroke: spline control points (K_i, 3), landing tip direction (a row
    of ``tips``, (S, 2)) and the length of the path in frame units."""

    controls: list[np.ndarray]
    tips: np.ndarray
    lengths: list[float]


def spline_basis(count: int, u: np.ndarray) -> np.ndarray:
    """(len(u), count) basis of a clamped uniform cubic B-spline (count >= 4) at u in [0, 1]."""
    from scipy.interpolate import BSpline

    knots = np.r_[[0.0] * 3, np.linspace(0.0, 1.0, count - 2), [1.0] * 3]
    return BSpline.design_matrix(u, knots, 3).toarray()


def fit_motion(traj: Trajectory, tips: np.ndarray | None = None) -> Motion:
    """Spline control points that follow a trajectory's strokes (the landing
    rows at z = 0 left out), by least squares over chord-length parameters."""
    controls, lengths = [], []
    for s in traj.strokes:
        xyz = s[:, 1:4]
        pressed = np.flatnonzero(xyz[:, 2] > 0)
        xyz = xyz[pressed[0] :] if len(pressed) else xyz
        arc = np.concatenate(
            [[0.0], np.cumsum(np.linalg.norm(np.diff(xyz[:, :2], axis=0), axis=1))]
        )
        count = max(4, math.ceil(arc[-1] / CONTROL_SPACING) + 3)
        if arc[-1] == 0:
            controls.append(np.repeat(xyz[:1], count, axis=0))
            lengths.append(0.0)
            continue
        ctrl, *_ = np.linalg.lstsq(spline_basis(count, arc / arc[-1]), xyz, rcond=None)
        controls.append(ctrl)
        lengths.append(float(arc[-1]))
    if tips is None:
        tips = np.tile(np.asarray(brush.DEFAULT_BRUSH.entry, dtype=np.float64), (len(controls), 1))
    return Motion(controls, np.asarray(tips, dtype=np.float64), lengths)


def _bases(
    motion: Motion, lengths: Sequence[float], spacing: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Padded (S, M, K) bases sampling each stroke about ``spacing`` apart, and the (S, M) valid mask."""
    counts = [max(2, math.ceil(length / spacing) + 1) for length in lengths]
    M, K = max(counts), max(len(c) for c in motion.controls)
    bases = np.zeros((len(counts), M, K))
    valid = np.zeros((len(counts), M), dtype=bool)
    for i, (n, c) in enumerate(zip(counts, motion.controls, strict=True)):
        b = spline_basis(len(c), np.linspace(0.0, 1.0, n))
        bases[i, :n, : len(c)] = b
        bases[i, n:, : len(c)] = b[-1]  # padding repeats the last footprint
        valid[i, :n] = True
    return torch.tensor(bases, dtype=torch.float32), torch.from_numpy(valid)


def _blur(img: torch.Tensor, sigma: float) -> torch.Tensor:
    radius = max(1, int(math.ceil(3 * sigma)))
    x = torch.arange(-radius, radius + 1, dtype=img.dtype)
    k = torch.exp(-0.5 * (x / sigma) ** 2)
    k = k / k.sum()
    out = F.conv2d(img[None, None], k.view(1, 1, 1, -1), padding=(0, radius))
    return F.conv2d(out, k.view(1, 1, -1, 1), padding=(radius, 0))[0, 0]


def _downsample(target: np.ndarray, size: int) -> torch.Tensor:
    """Area-average a target picture to ``size`` pixels (anti-aliased)."""
    t = torch.from_numpy(np.asarray(target, dtype=np.float32))
    if t.shape[0] == size:
        return t
    return F.interpolate(t[None, None], size=(size, size), mode="area")[0, 0]


def optimize_motion(
    motion: Motion,
    target: np.ndarray,
    config: OptimizeConfig = OptimizeConfig(),
    params: brush.BrushParams = brush.DEFAULT_BRUSH,
    seed: int = 0,
    progress: Callable[[int, int, float], None] | None = None,
) -> Motion:
    """Adam on the control points and landing tips against ``target`` (a square
    ink-density picture in the mmah frame, any size)."""
    S = len(motion.controls)
    K = max(len(c) for c in motion.controls)
    ctrl0 = np.zeros((S, K, 3))
    for i, c in enumerate(motion.controls):
        ctrl0[i, : len(c)] = c
        ctrl0[i, len(c) :] = c[-1]
    ctrl = torch.tensor(ctrl0, dtype=torch.float32, requires_grad=True)
    angle = torch.tensor(
        np.arctan2(motion.tips[:, 1], motion.tips[:, 0]), dtype=torch.float32, requires_grad=True
    )
    real = torch.tensor([[k < len(c) for k in range(K)] for c in motion.controls])
    tables = torch_brush.bristle_tables(S, seed)
    lengths = list(motion.lengths)
    total = sum(s.steps for s in config.stages)
    done = 0
    for stage in config.stages:
        spacing = FRAME_SIZE / stage.size
        bases, valid = _bases(motion, lengths, spacing)
        goal = _downsample(target, stage.size)
        sigmas = [s * stage.size / 256 for s in config.blur_sigmas]
        goal_blur = [_blur(goal, s) for s in sigmas]
        opt = torch.optim.Adam(
            [{"params": [ctrl], "lr": stage.lr}, {"params": [angle], "lr": 0.05}]
        )
        for step in range(stage.steps):
            for g, base in zip(opt.param_groups, (stage.lr, 0.05), strict=True):
                g["lr"] = base * (0.1 + 0.45 * (1 + math.cos(math.pi * step / max(stage.steps, 1))))
            xyz = torch.bmm(bases, ctrl)
            tips = torch.stack([torch.cos(angle), torch.sin(angle)], dim=-1)
            img = torch_brush.render(xyz, valid, stage.size, tips, params, tables, soft=stage.soft)
            loss = F.mse_loss(img, goal)
            for s, gb in zip(sigmas, goal_blur, strict=True):
                loss = loss + F.mse_loss(_blur(img, s), gb)
            loss = loss + config.w_dice * (
                1 - 2 * (img * goal).sum() / (img.sum() + goal.sum() + 1e-6)
            )
            bend = ctrl[:, 2:] - 2 * ctrl[:, 1:-1] + ctrl[:, :-2]
            ok = (real[:, 2:] & real[:, :-2]).unsqueeze(-1)
            loss = loss + config.w_smooth * ((bend * ok) ** 2).sum() / (ok.sum() * 3 + 1e-9)
            z = xyz[..., 2]
            loss = (
                loss
                + config.w_bounds * ((-z).clamp_min(0) ** 2 + (z - Z_MAX).clamp_min(0) ** 2).mean()
            )
            opt.zero_grad()
            loss.backward()
            ctrl.grad[~real] = 0.0
            opt.step()
            done += 1
            if progress is not None:
                progress(done, total, loss.item())
        with torch.no_grad():
            dense = torch.bmm(bases, ctrl).numpy()
        lengths = [
            float(np.linalg.norm(np.diff(d[v, :2], axis=0), axis=1).sum())
            for d, v in zip(dense, valid.numpy(), strict=True)
        ]
    controls = [
        ctrl.detach().numpy()[i, : len(c)].astype(np.float64) for i, c in enumerate(motion.controls)
    ]
    a = angle.detach().numpy().astype(np.float64)
    return Motion(controls, np.column_stack([np.cos(a), np.sin(a)]), lengths)


def motion_to_trajectory(motion: Motion, char: str = "") -> Trajectory:
    """Rows about half a ``STEP`` apart along each spline, clamped to valid z,
    each stroke led by a touch-down move that sets its landing tip direction."""
    strokes = []
    for c, length in zip(motion.controls, motion.lengths, strict=True):
        n = max(2, math.ceil(length / (0.5 * STEP)) + 1)
        xyz = spline_basis(len(c), np.linspace(0.0, 1.0, n)) @ c
        xyz[:, 2] = np.clip(xyz[:, 2], 0.0, Z_MAX)
        strokes.append(xyz)
    return Trajectory(with_times(strokes, tips=motion.tips * LAND_REACH), char=char)


@dataclass
class CalligraphyResult:
    """What one character's optimisation produced, with before/after scores."""

    char: str
    target: np.ndarray
    raw: Trajectory
    optimised: Trajectory | None
    raw_image: np.ndarray
    image: np.ndarray
    raw_metrics: dict[str, float]
    metrics: dict[str, float]
    seconds: float


def write_character(
    char: str,
    size: int = 256,
    font=None,
    target_kind: str = "font",
    config: OptimizeConfig | None = OptimizeConfig(),
    params: brush.BrushParams = brush.DEFAULT_BRUSH,
    seed: int = 0,
    progress: Callable[[int, int, float], None] | None = None,
    agent=None,
) -> CalligraphyResult:
    """Target, default motion from the centre lines, and (unless ``config`` is
    None) the optimised motion of one character, each scored at ``size``.

    With ``agent`` (a :class:`~inkstroke.rl.knot_agent.KnotAgent`) the agent
    corrects the default motion in one policy call instead of optimising it:
    about as close as 10 optimisation steps, 30 times faster (docs/rl.md)."""
    from inkstroke.calligraphy.profiles import default_trajectory
    from inkstroke.calligraphy.targets import fit_lines_to, start_lines, target_image

    if len(char) != 1:
        raise InkstrokeError(f"one character at a time, got {char!r}")
    start = time.perf_counter()
    lines = start_lines(char, font)
    target = target_image(char, size, font, target_kind)
    if font is not None and lines.source == "hanzi-writer-data":
        lines = fit_lines_to(lines, char, target)
    raw = default_trajectory(lines, char=char)
    raw_image = brush.render(raw, size, params, seed)
    raw_metrics = compare(raw_image, target)
    traj, image, metrics = None, raw_image, raw_metrics
    if agent is not None:  # it reads the target at the 256 pixels it was trained on
        fine = target if size == 256 else target_image(char, 256, font, target_kind)
        traj = agent.correct(raw, fine)
    elif config is not None:
        fine = target if size >= 256 else target_image(char, 256, font, target_kind)
        motion = optimize_motion(fit_motion(raw), fine, config, params, seed, progress)
        traj = motion_to_trajectory(motion, char)
    if traj is not None:
        image = brush.render(traj, size, params, seed)
        metrics = compare(image, target)
    seconds = time.perf_counter() - start
    return CalligraphyResult(
        char, target, raw, traj, raw_image, image, raw_metrics, metrics, seconds
    )
