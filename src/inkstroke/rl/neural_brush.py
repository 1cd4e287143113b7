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

from inkstroke.errors import InkstrokeError
from inkstroke.rl.env import StrokeInk

RESOLUTION = 128  # pixels per 1024 frame units: 8 units a pixel
WINDOW = 40  # pixels: 320 frame units, room for a 64-unit move at z = 80 with its tail
PARAMS = 9
MAX_MOVE = 64.0
Z_RANGE = (0.0, 80.0)  # 0: the touch-down that starts a stroke
SCALE = RESOLUTION / 1024.0
HALF = 0.5 * WINDOW / SCALE  # frame units from the window centre to its edge
DEFAULT_WEIGHTS = (
    Path(__file__).resolve().parent.parent / "models" / "rl" / "neural_brush.safetensors"
)


# ------------------------------------------------------------- simulator
def _rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(x, y, z) rows from ``a`` to ``b`` about 8 units apart, like the
    densified default motion."""
    n = max(2, math.ceil(math.hypot(*(b[:2] - a[:2])) / 8.0) + 1)
    w = np.linspace(0.0, 1.0, n)[:, None]
    return (1 - w) * a + w * b


def simulate_moves(count: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``count`` random moves, (count, 9) parameters and (count, WINDOW,
    WINDOW) simulator ink. Each move ends a random lead-in (none for a fifth
    of them: the stroke's first move), so the tuft state at its start comes
    from the simulator's own dynamics; moves run any way, up to ``MAX_MOVE``
    long, their middle within 8 units of the window centre."""
    rng = np.random.default_rng(seed)
    pad = WINDOW
    params = np.empty((count, PARAMS))
    ink = np.empty((count, WINDOW, WINDOW), dtype=np.float32)
    scratch = np.zeros((WINDOW + 2 * pad,) * 2, dtype=np.float32)
    for i in range(count):
        length = MAX_MOVE * math.sqrt(rng.random())
        angle = rng.uniform(0, 2 * math.pi)
        d = length * np.array([math.cos(angle), math.sin(angle)])
        mid = HALF + rng.uniform(-8.0, 8.0, 2)
        z0 = rng.uniform(*Z_RANGE)
        z1 = float(np.clip(z0 + rng.uniform(-20.0, 20.0), *Z_RANGE))
        a, b = np.array([*(mid - 0.5 * d), z0]), np.array([*(mid + 0.5 * d), z1])
        stroke = StrokeInk(SCALE)
        if rng.random() > 0.2:
            turn = angle + rng.uniform(-1.75, 1.75)
            lead = rng.uniform(8.0, 96.0) * np.array([math.cos(turn), math.sin(turn)])
            start = np.array([*(a[:2] - lead), float(np.clip(z0 + rng.uniform(-10, 10), *Z_RANGE))])
            stroke.add(scratch, pad, _rows(start, a))
        params[i] = [*(a[:2] - HALF), *(b[:2] - HALF), z0, z1, *stroke.tip, stroke.splay]
        canvas = np.zeros_like(scratch)
        stroke.add(canvas, pad, _rows(a, b))
        ink[i] = canvas[pad:-pad, pad:-pad]
    return params, ink


# ---------------------------------------------------------------- network
UNIT = 64.0  # frame units per unit of the network's geometric features


REACH_PER_Z = 1.35  # ink lies within belly radius + tail (0.67 z + 0.665 z) of the move ...
REACH_MARGIN = 12.0  # ... plus a pixel and a half of antialiasing, in frame units


def distance_to_move(moves: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
    """(n, 9) moves, (k, 2) points in frame units -> (n, k) distance of each
    point to each move's segment."""
    a, d = moves[:, None, 0:2], (moves[:, 2:4] - moves[:, 0:2])[:, None]
    pa = points[None] - a
    t = ((pa * d).sum(-1, keepdim=True) / ((d**2).sum(-1, keepdim=True) + 1e-9)).clamp(0.0, 1.0)
    return torch.sqrt(((pa - t * d) ** 2).sum(-1) + 1e-9)


def pixel_features(moves: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
    """(m, 9) moves, (m, 2) pixel centres in frame units -> (m, 10) features of
    each pixel seen from its move: its place along and across the move, its
    distances to the move's ends and to the move, the same in the frame of
    the tuft's tip direction, and the press depth interpolated there. Plain
    geometry, differentiable in the parameters: the network only has to learn
    the brush, not where things are."""
    m = moves / UNIT
    a, b, p = m[:, 0:2], m[:, 2:4], points / UNIT
    z0, z1 = moves[:, 4:5] / Z_RANGE[1], moves[:, 5:6] / Z_RANGE[1]
    d = b - a
    length = torch.sqrt((d**2).sum(-1, keepdim=True) + 1e-9)
    u = torch.where(length > 1e-3, d / length, torch.tensor([1.0, 0.0]))
    tip = moves[:, 6:8]
    w = tip / torch.sqrt((tip**2).sum(-1, keepdim=True) + 1e-9)
    pa, pb = p - a, p - b

    def frame(v: torch.Tensor, axis: torch.Tensor) -> list[torch.Tensor]:
        along = (v * axis).sum(-1, keepdim=True)
        across = v[:, :1] * axis[:, 1:] - v[:, 1:] * axis[:, :1]
        return [along, across.abs()]

    t = ((pa * u).sum(-1, keepdim=True) / length).clamp(0.0, 1.0)
    return torch.cat(
        [
            *frame(pa, u),
            torch.sqrt((pa**2).sum(-1, keepdim=True) + 1e-9),
            torch.sqrt((pb**2).sum(-1, keepdim=True) + 1e-9),
            torch.sqrt(((p - (a + t * d)) ** 2).sum(-1, keepdim=True) + 1e-9),
            *frame(pa, w),
            *frame(pb, w),
            z0 + t * (z1 - z0),
        ],
        dim=-1,
    )


def move_features(moves: torch.Tensor) -> torch.Tensor:
    """(n, 9) moves -> (n, 5) what every pixel of a move shares: press depths,
    length, how settled the tip is, splay."""
    d = moves[:, 2:4] - moves[:, 0:2]
    return torch.cat(
        [
            moves[:, 4:6] / Z_RANGE[1],
            torch.sqrt((d**2).sum(-1, keepdim=True) + 1e-9) / UNIT,
            torch.sqrt((moves[:, 6:8] ** 2).sum(-1, keepdim=True) + 1e-9),
            moves[:, 8:9],
        ],
        dim=-1,
    )


PIXEL_FEATURES, MOVE_FEATURES = 10, 5


class NeuralBrush(nn.Module):
    """A small MLP applied to the :func:`pixel_features` of every pixel the
    brush can reach from the move (``REACH_PER_Z`` times its deepest press,
    plus a margin: a quarter of the window for a typical move); the others
    are paper. About 0.5 M multiply-adds a move, in plain matrix products."""

    def __init__(self, width: int = 32):
        super().__init__()
        self.width = width
        self.pixel = nn.Linear(PIXEL_FEATURES, width)
        self.move = nn.Linear(MOVE_FEATURES, width, bias=False)  # a bias per move
        self.net = nn.Sequential(nn.ReLU(), nn.Linear(width, width), nn.ReLU(), nn.Linear(width, 1))
        r = ((torch.arange(WINDOW, dtype=torch.float32) + 0.5) / WINDOW * 2 - 1) * HALF
        grid = torch.stack(torch.meshgrid(r, r, indexing="ij")[::-1], dim=-1).reshape(-1, 2)
        self.register_buffer("grid", grid, persistent=False)  # pixel centres (x, y), frame units

    def forward(self, moves: torch.Tensor) -> torch.Tensor:
        """(n, 9) moves in window coordinates -> (n, WINDOW, WINDOW) ink density."""
        reach = REACH_PER_Z * moves[:, 4:6].amax(-1, keepdim=True) + REACH_MARGIN
        which, pixel = (distance_to_move(moves, self.grid) < reach).nonzero(as_tuple=True)
        h = self.pixel(pixel_features(moves[which], self.grid[pixel]))
        h = h + self.move(move_features(moves))[which]
        ink = torch.sigmoid(self.net(h)[:, 0])
        out = moves.new_zeros(len(moves), WINDOW * WINDOW).index_put((which, pixel), ink)
        return out.view(len(moves), WINDOW, WINDOW)


# ----------------------------------------------------------- train, eval
@dataclass
class NeuralBrushConfig:
    samples: int = 30_000
    steps: int = 4_000
    batch: int = 32
    lr: float = 2e-3
    width: int = 32
    seed: int = 0


def iou_batch(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    """IoU of ink above one half, per image (1.0 where both are blank)."""
    a, b = pred > 0.5, target > 0.5
    inter = (a & b).sum(axis=(-2, -1))
    union = (a | b).sum(axis=(-2, -1))
    return np.where(union == 0, 1.0, inter / np.maximum(union, 1))


def train_neural_brush(
    config: NeuralBrushConfig = NeuralBrushConfig(),
    progress: Callable[[int, int, float], None] | None = None,
) -> NeuralBrush:
    """Fit a :class:`NeuralBrush` to ``config.samples`` simulated moves: MSE
    plus a small Dice term (it keeps thin tapers from fading), Adam with a
    cosine decay."""
    torch.manual_seed(config.seed)
    moves, ink = simulate_moves(config.samples, config.seed)
    x, y = torch.tensor(moves, dtype=torch.float32), torch.from_numpy(ink)
    net = NeuralBrush(config.width)
    opt = torch.optim.Adam(net.parameters(), lr=config.lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, config.steps, eta_min=config.lr / 50)
    gen = torch.Generator().manual_seed(config.seed)
    for step in range(config.steps):
        idx = torch.randint(0, len(x), (config.batch,), generator=gen)
        pred, goal = net(x[idx]), y[idx]
        overlap = 2 * (pred * goal).sum((1, 2)) + 1
        dice = 1 - overlap / (pred.sum((1, 2)) + goal.sum((1, 2)) + 1)
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

    meta = {
        "format": "inkstroke-neural-brush",
        "version": "1",
        "width": str(net.width),
        "config": json.dumps(getattr(net, "config", {})),
    }
    data = save({k: v.contiguous() for k, v in net.state_dict().items()}, metadata=meta)
    atomic_write_bytes(path, lambda f: f.write(data))


def load_neural_brush(path: str | Path = DEFAULT_WEIGHTS) -> NeuralBrush:
    """Load weights saved by :func:`save_neural_brush`; anything else is refused."""
    from safetensors import safe_open

    path = Path(path)
    if not path.is_file():
        raise InkstrokeError(f"{path}: no such neural brush file")
    try:
        with safe_open(str(path), "pt") as f:
            meta = f.metadata() or {}
            state = {k: f.get_tensor(k) for k in f.keys()}
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


@dataclass
class StrokeMoves:
    """One stroke cut into the agent's moves, rendered by the simulator."""

    params: np.ndarray  # (m, 9) each move in its window's coordinates
    corners: np.ndarray  # (m, 2) pixel (col, row) of each window's top-left corner
    ink: np.ndarray  # (m, WINDOW, WINDOW) each move's own ink
    stroke: np.ndarray  # (RESOLUTION, RESOLUTION) the whole stroke
    seconds: float  # the simulator's CPU time for the stroke


def stroke_moves(char: str, stroke: int, spacing: float = 32.0) -> StrokeMoves:
    """A stroke's default motion in moves as the BrushWrite agent makes them,
    rendered by the simulator one move at a time at ``RESOLUTION``."""
    from inkstroke.rl.env import reference_rows, waypoints

    rows = reference_rows(char)[stroke]
    way = waypoints(rows, spacing)
    pad = WINDOW
    sim = StrokeInk(SCALE)
    whole = np.zeros((RESOLUTION + 2 * pad,) * 2, dtype=np.float32)
    params, corners, ink, seconds = [], [], [], 0.0
    for lo, hi in zip(way[:-1], way[1:], strict=True):
        a, b = rows[lo], rows[hi]
        corner = np.round(0.5 * (a[:2] + b[:2]) * SCALE).astype(np.int64) - WINDOW // 2
        centre = (corner + WINDOW // 2) / SCALE
        params.append([*(a[:2] - centre), *(b[:2] - centre), a[2], b[2], *sim.tip, sim.splay])
        move = np.zeros_like(whole)
        start = time.process_time()
        sim.add(move, pad, rows[lo : hi + 1])
        seconds += time.process_time() - start
        np.maximum(whole, move, out=whole)
        c, r = corner + pad
        ink.append(move[r : r + WINDOW, c : c + WINDOW])
        corners.append(corner)
    return StrokeMoves(
        np.asarray(params),
        np.asarray(corners),
        np.asarray(ink),
        whole[pad:-pad, pad:-pad],
        seconds,
    )


def compose(windows: np.ndarray, corners: np.ndarray, size: int = RESOLUTION) -> np.ndarray:
    """Paste move windows into a ``size`` picture, keeping the darkest ink."""
    pad = WINDOW
    canvas = np.zeros((size + 2 * pad,) * 2, dtype=np.float32)
    for w, (c, r) in zip(windows, corners + pad, strict=True):
        np.maximum(
            canvas[r : r + WINDOW, c : c + WINDOW], w, out=canvas[r : r + WINDOW, c : c + WINDOW]
        )
    return canvas[pad:-pad, pad:-pad]


def evaluate_neural_brush(net: NeuralBrush, chars: list[str], batch: int = 1024) -> dict:
    """Agreement with the simulator on the strokes of ``chars`` (held-out
    characters): IoU per move window and per whole stroke (the windows
    composed), and moves per CPU second of each, the network in batches on
    one thread."""
    from inkstroke.rl.env import reference_rows

    strokes = [stroke_moves(c, i) for c in chars for i in range(len(reference_rows(c)))]
    x = torch.tensor(np.concatenate([s.params for s in strokes]), dtype=torch.float32)
    with torch.no_grad():
        net(x[:8])  # warm up
        start = time.process_time()
        pred = torch.cat([net(x[i : i + batch]) for i in range(0, len(x), batch)]).numpy()
        net_seconds = time.process_time() - start
    truth = np.concatenate([s.ink for s in strokes])
    move_iou = iou_batch(pred, truth)
    stroke_iou, at = [], 0
    for s in strokes:
        m = len(s.params)
        stroke_iou.append(float(iou_batch(compose(pred[at : at + m], s.corners), s.stroke)))
        at += m
    sim_seconds = sum(s.seconds for s in strokes)
    return {
        "characters": len(chars),
        "strokes": len(strokes),
        "moves": len(x),
        "move_iou_mean": float(move_iou.mean()),
        "move_iou_p10": float(np.percentile(move_iou, 10)),
        "stroke_iou_mean": float(np.mean(stroke_iou)),
        "stroke_iou_min": float(np.min(stroke_iou)),
        "simulator_moves_per_s": len(x) / sim_seconds,
        "network_moves_per_s": len(x) / net_seconds,
        "speedup": sim_seconds / net_seconds,
    }
