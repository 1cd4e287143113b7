"""The brush of :mod:`inkstroke.calligraphy.brush`, differentiable, in PyTorch.

Same footprint, tuft state and stamping as the numpy brush, so that motion
optimised here renders the same there; the differences are what gradients
need. Strokes come as a padded batch of footprints already spaced along the
path (the caller samples its own smooth curves), each stroke's first tip
direction is an input that can be optimised, and the edges can be softened
(``soft`` pixels) to widen the band through which positions get gradients.
Each pixel keeps its darkest stamp (``scatter_reduce`` with ``amax``), whose
gradient flows to that stamp alone.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from inkstroke.calligraphy.brush import BRISTLE_TABLE, DEFAULT_BRUSH, EMA_CHUNK, BrushParams
from inkstroke.calligraphy.trajectory import FRAME_SIZE


def ema(target: torch.Tensor, alpha: torch.Tensor, init: torch.Tensor) -> torch.Tensor:
    """Batched u_k = (1 - alpha_k) u_(k-1) + alpha_k target_k along dim 1.

    ``target`` (S, M, C), ``alpha`` (S, M), ``init`` (S, C); the same chunked
    running-product form as :func:`inkstroke.calligraphy.brush.ema`, in float64.
    """
    a = alpha.double().clamp(0.0, 0.999)
    v = target.double()
    prev = init.double()
    pieces = []
    for s in range(0, a.shape[1], EMA_CHUNK):
        ak, vk = a[:, s : s + EMA_CHUNK], v[:, s : s + EMA_CHUNK]
        g = torch.cumprod(1.0 - ak, dim=1).unsqueeze(-1)
        piece = g * (prev.unsqueeze(1) + torch.cumsum(ak.unsqueeze(-1) / g * vk, dim=1))
        pieces.append(piece)
        prev = piece[:, -1]
    return torch.cat(pieces, dim=1).to(target.dtype)


def teardrop_sdf(along, across, r1, r2, h) -> torch.Tensor:
    """Signed distance to the brush's teardrop (see
    :func:`inkstroke.calligraphy.brush.teardrop_coverage`), all branches kept
    for autograd."""
    b = ((r1 - r2) / h).clamp(-0.999, 0.999)
    a = torch.sqrt(1.0 - b * b)
    k = a * along - b * across
    belly = (
        torch.sqrt(along * along + across * across + 1e-12) - r1
    )  # finite gradient at the centre
    tip = torch.sqrt((along - h) ** 2 + across * across + 1e-12) - r2
    side = a * across + b * along - r1
    return torch.where(k < 0, belly, torch.where(k > a * h, tip, side))


def tuft(xyz: torch.Tensor, tips0: torch.Tensor, ink0: torch.Tensor, params: BrushParams):
    """Tip and drag (S, M, 2), splay and ink (S, M) along padded strokes (S, M, 3)."""
    p, z = xyz[..., :2], xyz[..., 2].clamp_min(0.0)
    step = p[:, 1:] - p[:, :-1]
    ds = _ds(xyz)
    if p.shape[1] > 1:  # np.gradient: central inside, one-sided at the ends
        v = torch.cat([step[:, :1], 0.5 * (step[:, 1:] + step[:, :-1]), step[:, -1:]], dim=1)
    else:
        v = torch.zeros_like(p)
    trailing = -v / torch.sqrt((v**2).sum(-1, keepdim=True) + 1e-12)
    tip = ema(trailing, 1.0 - torch.exp(-ds / (params.lag_min + params.lag_per_z * z)), tips0)
    drag = ema(trailing, 1.0 - torch.exp(-ds / params.lag_min), tips0)
    pressure = (z / params.splay_depth).clamp_max(1.0)
    splay = ema(
        pressure.unsqueeze(-1),
        1.0 - torch.exp(-ds / params.splay_length),
        torch.zeros_like(z[:, :1]),
    )[..., 0]
    ink = (ink0.unsqueeze(1) - torch.cumsum(z * ds, dim=1) / params.ink_capacity).clamp_min(0.0)
    return tip, drag, splay, ink


def render(
    xyz: torch.Tensor,
    valid: torch.Tensor,
    size: int,
    tips0: torch.Tensor | None = None,
    params: BrushParams = DEFAULT_BRUSH,
    tables: torch.Tensor | None = None,
    soft: float = 1.0,
) -> torch.Tensor:
    """Ink density (size, size) of padded strokes ``xyz`` (S, M, 3) in frame units (y down).

    ``valid`` (S, M) marks real footprints (padding repeats a stroke's last
    one); ``tips0`` (S, 2) is each stroke's landing tip direction (default
    ``params.entry``); ``tables`` (S, 257) the bristle profiles for dry brush.
    """
    S = xyz.shape[0]
    scale = size / FRAME_SIZE
    if tips0 is None:
        tips0 = torch.tensor(params.entry, dtype=xyz.dtype).expand(S, 2)
    tips0 = tips0 / torch.sqrt((tips0**2).sum(-1, keepdim=True) + 1e-12)
    ink0 = torch.ones(S, dtype=xyz.dtype)
    if params.dip_every != 1 and S > 1:  # ink carried over between dips
        use = (
            torch.cumsum(xyz[..., 2].clamp_min(0.0) * _ds(xyz), dim=1)[:, -1] / params.ink_capacity
        )
        left, starts = torch.ones((), dtype=xyz.dtype), []
        for i in range(S):
            if i > 0 and not (params.dip_every > 0 and i % params.dip_every == 0):
                starts.append(left)
            else:
                starts.append(torch.ones((), dtype=xyz.dtype))
            left = (starts[-1] - use[i]).clamp_min(0.0)
        ink0 = torch.stack(starts)
    tip, drag, splay, ink = tuft(xyz, tips0, ink0, params)

    z = xyz[..., 2].clamp_min(0.0)
    norm = torch.sqrt((tip**2).sum(-1) + 1e-12)
    axis = tip / norm.unsqueeze(-1)
    streak = drag / torch.sqrt((drag**2).sum(-1, keepdim=True) + 1e-12)
    r1 = 0.5 * params.width_per_z * z * (1.0 + params.splay_gain * splay)
    r2 = params.tip_ratio * r1
    tail = params.drag_per_z * z * norm.clamp_max(1.0)
    h = (r1 + tail - r2).clamp_min(1e-6)
    dry = ((params.dry_below - ink) / params.dry_below).clamp(0.0, 1.0)
    tone = 1.0 - (1.0 - params.dry_tone) * dry
    dry = (dry * (1.0 + 0.5 * splay)).clamp_max(1.0)

    keep = valid & (r1 > 0)
    stroke_of = torch.arange(S).unsqueeze(1).expand_as(keep)[keep]
    centre, axis, streak = xyz[..., :2][keep] * scale, axis[keep], streak[keep]
    r1, r2, h = r1[keep] * scale, r2[keep] * scale, h[keep] * scale
    tone, dry = tone[keep], dry[keep]
    reach = 0.5 * (r1 + h + r2)
    half = int(math.ceil(float(reach.detach().max()) + 1.5)) if len(reach) else 0
    pad = half + 1
    canvas = torch.zeros((size + 2 * pad) ** 2, dtype=xyz.dtype)
    if len(reach) == 0:
        return canvas.view(size + 2 * pad, -1)[pad:-pad, pad:-pad]
    mid = centre + axis * (0.5 * (h + r2 - r1)).unsqueeze(-1)
    inside = ((mid > -half) & (mid < size + half)).all(-1)
    if not inside.all():
        stroke_of, centre, axis, streak, mid = (
            t[inside] for t in (stroke_of, centre, axis, streak, mid)
        )
        r1, r2, h, tone, dry = (t[inside] for t in (r1, r2, h, tone, dry))
    origin = torch.round(mid.detach()).long()
    offs = torch.arange(-half, half + 1)
    # window pixel (i, j) sits at (cx + o_j, cy + o_i) from the handle; rotate separably
    cx = ((origin[:, 0] + 0.5).to(xyz.dtype) - centre[:, 0]).unsqueeze(1)
    cy = ((origin[:, 1] + 0.5).to(xyz.dtype) - centre[:, 1]).unsqueeze(1)
    ax, ay = axis[:, :1], axis[:, 1:]
    o = offs.to(xyz.dtype)
    along = (cx * ax + cy * ay + o * ax)[:, None, :] + (o * ay)[:, :, None]
    signed = (cy * ax - cx * ay - o * ay)[:, None, :] + (o * ax)[:, :, None]
    r1e = r1[:, None, None]
    sdf = teardrop_sdf(along, signed.abs(), r1e, r2[:, None, None], h[:, None, None])
    alpha = (0.5 - sdf / soft).clamp(0.0, 1.0) * tone[:, None, None]
    if tables is not None and bool((dry > 0).any()):
        sx, sy = streak[:, :1], streak[:, 1:]
        across = (cy * sx - cx * sy - o * sy)[:, None, :] + (o * sx)[:, :, None]
        pos = ((across / r1e.clamp_min(1e-6) + 1.0) * (0.5 * (BRISTLE_TABLE - 1))).clamp(
            0, BRISTLE_TABLE - 1
        )
        g = tables[stroke_of[:, None, None], pos.long()]
        alpha = alpha * ((g - dry[:, None, None]) * 6.0 + 1.0).clamp(0.0, 1.0)
    stride = size + 2 * pad
    rows = (origin[:, 1] + pad)[:, None, None] + offs[None, :, None]
    cols = (origin[:, 0] + pad)[:, None, None] + offs[None, None, :]
    canvas = canvas.scatter_reduce(0, (rows * stride + cols).reshape(-1), alpha.reshape(-1), "amax")
    return canvas.view(stride, stride)[pad:-pad, pad:-pad]


def _ds(xyz: torch.Tensor) -> torch.Tensor:
    step = xyz[:, 1:, :2] - xyz[:, :-1, :2]
    return torch.cat(
        [torch.zeros_like(xyz[:, :1, 0]), torch.sqrt((step**2).sum(-1) + 1e-12)], dim=1
    )


def bristle_tables(count: int, seed: int) -> torch.Tensor:
    """The numpy brush's bristle profiles for ``count`` strokes under ``seed``."""
    from inkstroke.calligraphy.brush import bristle_table

    rng = np.random.default_rng(seed)
    return torch.from_numpy(np.stack([bristle_table(rng) for _ in range(count)]))
