"""A neural brush: a network that predicts the ink of one brush move from its
parameters and the tuft state, trained on the simulator, in the manner of the
neural renderers of Learning to Paint (Huang et al. 2019) and Stylized Neural
Painting (Zou et al. 2021).

A move is a straight segment of a stroke, the unit the BrushWrite agent
acts in. Its parameters, in frame units (1024 per em, y down) relative to the
centre of a ``WINDOW``-pixel window at ``RESOLUTION`` pixels per em:

    x0, y0, x1, y1   start and end of the move
    z0, z1           press depth at either end
    tx, ty           tip direction of the tuft where the move starts (length <= 1)
    splay            splay of the tuft there, 0..1

The brush is wet (no dry streaks: those depend on the random bristle pattern,
not on the parameters). Once trained, one batched forward pass renders
thousands of moves, and being differentiable it can serve a planner; the
weights ship in ``inkstroke/models/rl/neural_brush.safetensors``.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from inkstroke.calligraphy import brush
from inkstroke.errors import InkstrokeError
from inkstroke.rl.env import TuftState, lay_move

RESOLUTION = 128  # pixels per 1024 frame units: 8 units a pixel
WINDOW = 32  # pixels: 256 frame units, room for a 64-unit move at z = 70
PARAMS = 9
MAX_MOVE = 64.0
Z_RANGE = (4.0, 70.0)
SCALE = RESOLUTION / 1024.0
HALF = 0.5 * WINDOW / SCALE  # frame units from the window centre to its edge
DEFAULT_WEIGHTS = Path(__file__).resolve().parent.parent / "models" / "rl" / "neural_brush.safetensors"


# ------------------------------------------------------------- simulator
def sample_moves(count: int, rng: np.random.Generator) -> np.ndarray:
    """(count, 9) random moves: any direction, up to ``MAX_MOVE`` long, press
    depths that change by at most 20 units, any tip direction and splay; the
    middle of the move lies within 8 units of the window centre."""
    length = MAX_MOVE * np.sqrt(rng.random(count))
    angle = rng.uniform(0, 2 * np.pi, count)
    d = np.column_stack([np.cos(angle), np.sin(angle)]) * length[:, None]
    mid = rng.uniform(-8.0, 8.0, (count, 2))
    z0 = rng.uniform(*Z_RANGE, count)
    z1 = np.clip(z0 + rng.uniform(-20.0, 20.0, count), *Z_RANGE)
    tip_angle = rng.uniform(0, 2 * np.pi, count)
    tip = np.column_stack([np.cos(tip_angle), np.sin(tip_angle)]) * rng.uniform(0.3, 1.0, (count, 1))
    splay = rng.uniform(0.0, 0.7, count)
    return np.column_stack(
        [mid - 0.5 * d, mid + 0.5 * d, z0, z1, tip, splay]
    ).astype(np.float64)


def simulate(moves: np.ndarray, params: brush.BrushParams = brush.DEFAULT_BRUSH) -> np.ndarray:
    """The simulator's ink (n, WINDOW, WINDOW) for each move, wet brush."""
    pad = WINDOW
    out = np.empty((len(moves), WINDOW, WINDOW), dtype=np.float32)
    step = 8.0  # rows along the move like the densified default motion
    for i, m in enumerate(moves):
        canvas = np.zeros((WINDOW + 2 * pad,) * 2, dtype=np.float32)
        n = max(2, math.ceil(math.hypot(m[2] - m[0], m[3] - m[1]) / step) + 1)
        w = np.linspace(0.0, 1.0, n)[:, None]
        rows = (1 - w) * m[[0, 1, 4]] + w * m[[2, 3, 5]]
        rows[:, :2] += HALF  # window coordinates
        lay_move(canvas, pad, SCALE, rows, TuftState(m[6:8], float(m[8]), 1.0), params)
        out[i] = canvas[pad:-pad, pad:-pad]
    return out


# ---------------------------------------------------------------- network
def normalise(moves: torch.Tensor) -> torch.Tensor:
    """Parameters to roughly [-1, 1]."""
    scale = torch.tensor(
        [HALF / 2] * 4 + [Z_RANGE[1] / 2] * 2 + [1.0, 1.0, 0.5], dtype=moves.dtype
    )
    shift = torch.tensor([0.0] * 4 + [Z_RANGE[1] / 2] * 2 + [0.0, 0.0, 0.5], dtype=moves.dtype)
    return (moves - shift) / scale


class NeuralBrush(nn.Module):
    """Parameters -> a coarse feature map -> three pixel-shuffle upsamplings to
    the window; the last layer sees pixel coordinates (CoordConv) so that the
    edges land where the parameters say."""

    def __init__(self, width: int = 32):
        super().__init__()
        self.width = width
        self.fc = nn.Sequential(
            nn.Linear(PARAMS, 256),
            nn.ReLU(),
            nn.Linear(256, 512),
            nn.ReLU(),
            nn.Linear(512, width * 4 * 4),
            nn.ReLU(),
        )

        def up(cin: int, cout: int) -> nn.Sequential:
            return nn.Sequential(
                nn.Conv2d(cin, cout * 4, 3, padding=1), nn.PixelShuffle(2), nn.ReLU()
            )

        self.up = nn.Sequential(up(width, width), up(width, width), up(width, width))
        self.head = nn.Sequential(
            nn.Conv2d(width + 2 + PARAMS, width, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(width, 1, 3, padding=1),
        )
        r = (torch.arange(WINDOW, dtype=torch.float32) + 0.5) / WINDOW * 2 - 1
        grid = torch.stack(torch.meshgrid(r, r, indexing="ij")[::-1])  # (x, y)
        self.register_buffer("grid", grid, persistent=False)

    def forward(self, moves: torch.Tensor) -> torch.Tensor:
        """(n, 9) moves in frame units -> (n, WINDOW, WINDOW) ink density."""
        p = normalise(moves)
        h = self.fc(p).view(-1, self.width, 4, 4)
        h = self.up(h)
        n = len(p)
        extra = [self.grid.expand(n, -1, -1, -1), p[:, :, None, None].expand(-1, -1, WINDOW, WINDOW)]
        return torch.sigmoid(self.head(torch.cat([h, *extra], dim=1))[:, 0])


# ----------------------------------------------------------- train, eval
@dataclass
class NeuralBrushConfig:
    samples: int = 40_000
    steps: int = 4_000
    batch: int = 64
    lr: float = 2e-3
    width: int = 32
    seed: int = 0


def iou_batch(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    """IoU of ink above one half, per image (1.0 where both are blank)."""
    a, b = pred > 0.5, target > 0.5
    inter = (a & b).sum(axis=(1, 2))
    union = (a | b).sum(axis=(1, 2))
    return np.where(union == 0, 1.0, inter / np.maximum(union, 1))


def train_neural_brush(
    config: NeuralBrushConfig = NeuralBrushConfig(),
    progress: Callable[[int, int, float], None] | None = None,
) -> NeuralBrush:
    """Fit a :class:`NeuralBrush` to ``config.samples`` simulated moves (MSE
    plus a Dice term that weighs the thin tips, Adam with a cosine decay)."""
    rng = np.random.default_rng(config.seed)
    torch.manual_seed(config.seed)
    moves = sample_moves(config.samples, rng)
    x = torch.tensor(moves, dtype=torch.float32)
    y = torch.from_numpy(simulate(moves))
    net = NeuralBrush(config.width)
    opt = torch.optim.Adam(net.parameters(), lr=config.lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, config.steps, eta_min=config.lr / 50)
    for step in range(config.steps):
        idx = torch.from_numpy(rng.integers(0, len(x), config.batch))
        pred = net(x[idx])
        goal = y[idx]
        dice = 1 - (2 * (pred * goal).sum((1, 2)) + 1) / (pred.sum((1, 2)) + goal.sum((1, 2)) + 1)
        loss = nn.functional.mse_loss(pred, goal) + 0.05 * dice.mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if progress is not None:
            progress(step + 1, config.steps, loss.item())
    net.config = asdict(config)
    return net.eval()


def save_neural_brush(net: NeuralBrush, path: str | Path) -> None:
    from safetensors.torch import save

    from inkstroke.io.container import atomic_write_bytes

    meta = {"format": "inkstroke-neural-brush", "version": "1", "width": str(net.width)}
    meta["config"] = json.dumps(getattr(net, "config", {}))
    data = save({k: v.contiguous() for k, v in net.state_dict().items()}, metadata=meta)
    atomic_write_bytes(path, lambda f: f.write(data))


def load_neural_brush(path: str | Path = DEFAULT_WEIGHTS) -> NeuralBrush:
    """Load weights saved by :func:`save_neural_brush`; anything else is refused."""
    from safetensors import safe_open
    from safetensors.torch import load_file

    path = Path(path)
    if not path.is_file():
        raise InkstrokeError(f"{path}: no such neural brush file")
    try:
        with safe_open(str(path), "pt") as f:
            meta = f.metadata() or {}
        state = load_file(str(path))
    except Exception as e:  # safetensors raises its own error types
        raise InkstrokeError(f"{path}: not a safetensors file ({e})") from None
    if meta.get("format") != "inkstroke-neural-brush":
        raise InkstrokeError(f"{path}: not an inkstroke neural brush (no format metadata)")
    net = NeuralBrush(int(meta.get("width", 32)))
    try:
        net.load_state_dict(state)
    except RuntimeError as e:
        raise InkstrokeError(f"{path}: the weights do not fit the network ({e})") from None
    return net.eval()


def stroke_moves(char: str, stroke: int, spacing: float = 32.0) -> tuple[np.ndarray, np.ndarray]:
    """The moves of one stroke's default motion as the agent makes them, and
    the window centres they are drawn around (frame units): parameters in
    window coordinates, the tuft state carried along by the simulator."""
    from inkstroke.rl.env import _reference, waypoints

    rows = _reference(char)[stroke]
    way = waypoints(rows, spacing)
    state = TuftState(np.asarray(brush.DEFAULT_BRUSH.entry) / np.linalg.norm(brush.DEFAULT_BRUSH.entry), 0.0, 1.0)
    moves, centres = [], []
    scratch = np.zeros((WINDOW * 3,) * 2, dtype=np.float32)
    for lo, hi in zip(way[:-1], way[1:], strict=True):
        a, b = rows[lo], rows[hi]
        centre = np.round(0.5 * (a[:2] + b[:2]) * SCALE) / SCALE
        moves.append([*(a[:2] - centre), *(b[:2] - centre), a[2], b[2], *state.tip, state.splay])
        centres.append(centre)
        # the tuft state at the end of the move, as the simulator carries it
        local = rows[lo : hi + 1].copy()
        local[:, :2] += HALF - centre
        state = lay_move(scratch, WINDOW, SCALE, local, TuftState(state.tip, state.splay, 1.0))
    return np.asarray(moves, dtype=np.float64), np.asarray(centres)


def evaluate_neural_brush(
    net: NeuralBrush, moves: np.ndarray, batch: int = 512
) -> dict[str, float]:
    """IoU of the network against the simulator on ``moves``, and the time
    each takes to render them all (the network batched, on one thread)."""
    start = time.perf_counter()
    truth = simulate(moves)
    sim_seconds = time.perf_counter() - start
    x = torch.tensor(moves, dtype=torch.float32)
    with torch.no_grad():
        net(x[:8])  # warm up
        start = time.perf_counter()
        pred = torch.cat([net(x[i : i + batch]) for i in range(0, len(x), batch)]).numpy()
        net_seconds = time.perf_counter() - start
    ious = iou_batch(pred, truth)
    return {
        "moves": len(moves),
        "iou_mean": float(ious.mean()),
        "iou_median": float(np.median(ious)),
        "iou_p10": float(np.percentile(ious, 10)),
        "simulator_moves_per_s": len(moves) / sim_seconds,
        "network_moves_per_s": len(moves) / net_seconds,
        "speedup": sim_seconds / net_seconds,
    }
